"""The append-only event log: every scan and state change, with who, when, where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from warehouse.models import Event


@dataclass(frozen=True)
class Actor:
    """Who did something and where: a user at a station, an API token, or the system."""

    label: str = "system"
    user_id: int | None = None
    station: str | None = None
    site_id: int | None = None
    partner_id: int | None = None


SYSTEM = Actor()


def record(
    session: Session,
    actor: Actor,
    kind: str,
    subject: Any,
    *,
    before: str | None = None,
    after: str | None = None,
    partner_id: int | None = None,
    site_id: int | None = None,
    **data: Any,
) -> Event:
    """Append one event about `subject` (any model with an `id`) to the session."""
    if subject.id is None:
        session.flush()
    event = Event(
        kind=kind,
        subject_type=type(subject).__tablename__,
        subject_id=subject.id,
        actor_id=actor.user_id,
        actor_label=actor.label,
        station=actor.station,
        site_id=site_id if site_id is not None else actor.site_id,
        partner_id=partner_id if partner_id is not None else getattr(subject, "partner_id", None),
        before=None if before is None else str(before),
        after=None if after is None else str(after),
        data=data,
    )
    session.add(event)
    return event


def history(session: Session, subject: Any) -> list[Event]:
    """All events about one subject, oldest first."""
    return list(
        session.query(Event)
        .filter_by(subject_type=type(subject).__tablename__, subject_id=subject.id)
        .order_by(Event.id)
    )
