"""The transactional outbox: jobs and messages written with the state change that causes them.

`enqueue` only adds a row to the caller's session; nothing reaches Redis until the caller's
transaction commits and the relay picks the row up. A rollback therefore sends nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from warehouse.db import utcnow
from warehouse.models import Outbox


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str,
    *,
    available_at: dt.datetime | None = None,
) -> Outbox:
    """Add an outbox row for job `kind` with a JSON `payload` to the current transaction.

    The idempotency key names the effect (e.g. ``mail:received:RMA-123``); enqueueing the same
    key twice in a transaction returns the existing row instead of a second message.
    """
    for pending in session.new:
        if isinstance(pending, Outbox) and pending.idempotency_key == idempotency_key:
            return pending
    existing = session.query(Outbox).filter_by(idempotency_key=idempotency_key).one_or_none()
    if existing is not None:
        return existing
    row = Outbox(
        kind=kind,
        payload=payload,
        idempotency_key=idempotency_key,
        available_at=available_at or utcnow(),
    )
    session.add(row)
    return row
