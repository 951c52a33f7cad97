"""The transactional outbox: jobs and messages written with the state change that causes them.

`enqueue` only adds a row to the caller's session; nothing reaches Redis until the caller's
transaction commits and the relay picks the row up. A rollback therefore sends nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
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


def cancel(session: Session, idempotency_key: str, *, held_only: bool = False) -> bool:
    """Withdraw a message that has not left for the relay yet; True if it was withdrawn, False
    if there was none or it is on its way already. `held_only` withdraws it only while it is
    still held back (`available_at` in the future)."""
    for pending in list(session.new):
        if isinstance(pending, Outbox) and pending.idempotency_key == idempotency_key:
            session.expunge(pending)
            return True
    # One conditional statement: a relay that claimed the row meanwhile wins (on PostgreSQL the
    # DELETE waits for its lock, then sees it dispatched and deletes nothing).
    conditions = [Outbox.idempotency_key == idempotency_key, Outbox.dispatched_at.is_(None)]
    if held_only:
        conditions.append(Outbox.available_at > utcnow())
    deleted = session.execute(
        sa.delete(Outbox).where(*conditions).execution_options(synchronize_session="fetch")
    ).rowcount
    return deleted == 1


def is_on_its_way(session: Session, idempotency_key: str) -> bool:
    """True when the message with this key was handed to the relay already."""
    row = session.query(Outbox).filter_by(idempotency_key=idempotency_key).one_or_none()
    return row is not None and row.dispatched_at is not None
