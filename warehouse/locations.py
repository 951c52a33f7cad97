"""Bins, shelves and pallets: adding them, their occupancy, and their printable labels."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from labels.bins import BinLabel
from warehouse import codes
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.models import Location, LocationKind, Partner, Site
from warehouse.routing import occupancy

CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")


MAX_CAPACITY = 100_000  # units in one bin or pallet location


def add_location(
    session: Session,
    *,
    site_id: int,
    code: str,
    kind: str,
    capacity: int | str,
    partner_code: str | None = None,
    name: str = "",
    actor: Actor,
) -> Location:
    """A new bin / pallet; its code is the barcode (capitals, digits and dashes)."""
    code = (code or "").strip().upper()
    if not CODE.match(code):
        raise InvalidInput(
            _("A bin code is 3 to 32 capitals, digits or dashes, e.g. BIN-RS-01."), field="code"
        )
    if codes.is_station_code(code):
        raise InvalidInput(
            _(
                "%(code)s would read as a station command; CMD-, CHECK- and GRADE- are taken.",
                code=code,
            ),
            field="code",
        )
    try:
        kind = LocationKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in LocationKind)
        raise InvalidInput(
            _("Unknown kind %(kind)s: choose %(choices)s.", kind=repr(kind), choices=choices),
            field="kind",
        ) from None
    text = str(capacity).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise InvalidInput(_("Capacity is a whole number of units."), field="capacity")
    capacity = int(text)
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(
            _(
                "Capacity must be at least 1 and at most %(most)s units.",
                most=MAX_CAPACITY,
            ),
            field="capacity",
        )
    partner = None
    if partner_code:
        partner = session.scalars(sa.select(Partner).where(Partner.code == partner_code)).first()
        if partner is None:
            raise InvalidInput(
                _("No partner %(partner_code)s.", partner_code=repr(partner_code)), field="partner"
            )
        if kind != LocationKind.RTV:
            raise InvalidInput(_("Only RTV pallets belong to a partner."), field="partner")
    if session.scalars(sa.select(Location.id).where(Location.code == code)).first():
        raise Conflict(_("A location %(code)s exists already.", code=code), field="code")
    location = Location(
        site_id=site_id, code=code, kind=kind, capacity=capacity, partner=partner, name=name
    )
    session.add(location)
    session.flush()
    record(session, actor, "location.added", location, after=kind.value, site_id=site_id, code=code)
    return location


def site_locations(session: Session, site_id: int) -> list[tuple[Location, int]]:
    """A site's locations by kind and code, each with how many units it holds now."""
    rows = list(
        session.scalars(
            sa.select(Location)
            .where(Location.site_id == site_id)
            .order_by(Location.kind, Location.code)
        )
    )
    used = occupancy(session, [row.id for row in rows])
    return [(row, used.get(row.id, 0)) for row in rows]


def get_location(session: Session, location_id: int, site_id: int | None) -> Location:
    """A location by id (of the user's site, when the user has one)."""
    location = session.get(Location, location_id)
    if location is None or (site_id is not None and location.site_id != site_id):
        raise NotFound(_("No such location."))
    return location


def label_of(session: Session, location: Location) -> BinLabel:
    """What a location's label says."""
    site = session.get(Site, location.site_id)
    partner = session.get(Partner, location.partner_id) if location.partner_id else None
    return BinLabel(
        code=location.code,
        kind=location.kind.value,
        site=site.code,
        name=location.name,
        partner=partner.name if partner else "",
    )
