"""Emails to customers and partners, always sent through the outbox.

Caller contract (every stage uses it): `queue_mail(session, template=..., to=..., language=...,
context=..., key=...)` inside the transaction of the state change that causes the mail.

Templates are `templates/email/<template>.txt` and `templates/email/<template>.html`. Each
defines `{% block subject %}` (in the .txt) and gets `lang` (en, nl, de, fr) plus the `context`
values, which must be JSON-serialisable (ids, strings, integers: never ORM objects).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from warehouse.errors import InvalidInput
from warehouse.models import Outbox
from warehouse.outbox import enqueue

LANGUAGES = ("en", "nl", "de", "fr")
SEND_EMAIL = "send_email"


def queue_mail(
    session: Session,
    *,
    template: str,
    to: str,
    language: str,
    context: dict[str, Any],
    key: str,
    available_at: dt.datetime | None = None,
) -> Outbox:
    """Queue one email; `key` names the effect so it is sent once (e.g. 'received:RMA-1')."""
    if "@" not in to:
        raise InvalidInput(f"{to!r} is not an email address", field="to")
    return enqueue(
        session,
        SEND_EMAIL,
        {
            "template": template,
            "to": to,
            "language": language if language in LANGUAGES else "en",
            "context": context,
        },
        f"mail:{key}",
        available_at=available_at,
    )
