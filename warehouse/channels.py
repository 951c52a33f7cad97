"""Sales channels as data: where returned units are listed for resale (the default channel) and
which channels may report sales back. Admins add channels and choose the resale default."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import events
from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _
from warehouse.models import SalesChannel

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
# What a new warehouse starts with (migration 0015 writes the same rows).
STARTERS = (
    ("ebay", "eBay", True),
    ("own_shop", "Own shop", False),
    ("b2b_outlet", "B2B outlet", False),
)


def ensure_channels(session: Session) -> None:
    """The starter channels, when there are none at all."""
    if session.scalar(sa.select(sa.func.count()).select_from(SalesChannel)):
        return
    for code, name, default in STARTERS:
        session.add(SalesChannel(code=code, name=name, active=True, resale_default=default))
    session.flush()


def all_channels(session: Session) -> list[SalesChannel]:
    """Every channel, the resale default first."""
    ensure_channels(session)
    return list(
        session.scalars(
            sa.select(SalesChannel).order_by(SalesChannel.resale_default.desc(), SalesChannel.code)
        )
    )


def resale_channel(session: Session) -> str:
    """The code of the channel returned units are listed on (one indexed look-up)."""
    query = (
        sa.select(SalesChannel.code)
        .where(SalesChannel.active.is_(True))
        .order_by(SalesChannel.resale_default.desc(), SalesChannel.code)
        .limit(1)
    )
    found = session.scalar(query)
    if found is None:  # a new database without its starter channels
        ensure_channels(session)
        found = session.scalar(query)
    if found is None:
        raise InvalidInput(_("no sales channel is active: an admin adds one"), field="channel")
    return found


def check_channel(session: Session, code: str, field: str = "channel") -> str:
    """An active channel's code, or a refusal naming the known ones."""
    ensure_channels(session)
    wanted = (code or "").strip().lower()
    channel = session.get(SalesChannel, wanted) if wanted else None
    if channel is None or not channel.active:
        known = ", ".join(c.code for c in all_channels(session) if c.active)
        raise InvalidInput(
            _(
                "%(code)s is not a sales channel here; the channels: %(known)s",
                code=repr(code),
                known=known,
            ),
            field=field,
        )
    return channel.code


def add_channel(
    session: Session, actor: events.Actor, code: str, name: str, *, resale_default: bool = False
) -> SalesChannel:
    """Add a channel (code: lower-case letters, digits, - or _)."""
    code, name = (code or "").strip().lower(), (name or "").strip()
    if not CODE.match(code):
        raise InvalidInput(
            _("the code is 2 to 40 lower-case letters, digits, - or _ (e.g. own_shop)"),
            field="code",
        )
    if not name or len(name) > 80:
        raise InvalidInput(_("name the channel (1 to 80 characters)"), field="name")
    ensure_channels(session)
    if session.get(SalesChannel, code) is not None:
        raise InvalidInput(_("there is a channel %(code)s already", code=repr(code)), field="code")
    channel = SalesChannel(code=code, name=name, active=True, resale_default=False)
    session.add(channel)
    session.flush()
    events.record(session, actor, "channel.added", _Subject(code), after=name, code=code)
    if resale_default:
        make_resale_default(session, actor, code)
    return channel


def make_resale_default(session: Session, actor: events.Actor, code: str) -> None:
    """List returned units on this channel from now on."""
    code = check_channel(session, code)
    before = resale_channel(session)
    session.execute(sa.update(SalesChannel).values(resale_default=SalesChannel.code == code))
    events.record(
        session, actor, "channel.resale_default", _Subject(code), before=before, after=code
    )


class _Subject:
    """A channel as an event's subject: channels are keyed by code, events by number, so the
    event carries subject id 0 and the code in its data."""

    __tablename__ = "sales_channel"
    id = 0

    def __init__(self, code: str) -> None:
        self.code = code
