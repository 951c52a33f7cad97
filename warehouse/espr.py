"""The ban on destroying unsold apparel and footwear: Regulation (EU) 2024/1781 (ESPR) Art. 25.

- Art. 25(1) with Annex VII: an economic operator shall not destroy unsold apparel, clothing
  accessories and footwear. Returned goods are unsold consumer products in the Regulation's
  sense (Art. 2(47): products not sold, or returned by the consumer under the right of
  withdrawal). Here that is the marketplace's `fashion` category.
- Art. 25(1) and 25(3): it applies from 19 July 2026 to large enterprises and from 19 July 2030
  to medium-sized ones; Art. 25(4): micro and small enterprises are exempt. The enterprise's
  size is a setting (`ESPR_ENTERPRISE_SIZE`: large, medium or small).
- Art. 25(5): the delegated act lists when destruction is allowed after all (`Derogation`); the
  case is recorded, with evidence, before the unit goes to destruction.
- Art. 24(1): the yearly disclosure of the number and weight of products discarded, by
  category, reason and route (destroyed, recycled, donated): `disclosure`.

The routing stage asks `destroy_refused` before a unit is routed to destruction, and the rules
editor asks `rule_refused` before it saves a rule that would destroy such units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import events
from warehouse.db import utcnow
from warehouse.deadlines import local_date
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import (
    Category,
    Derogation,
    DestructionException,
    Disposition,
    Grade,
    Product,
    Site,
    Unit,
    UnitPhoto,
    UnitStatus,
)

BANNED_CATEGORIES = frozenset({Category.FASHION})  # Annex VII: apparel, accessories, footwear
BAN_FROM = {  # Art. 25(1) and 25(3); small and micro enterprises: never (Art. 25(4))
    "large": dt.date(2026, 7, 19),
    "medium": dt.date(2030, 7, 19),
}
SIZES = ("large", "medium", "small")
NOTE_MIN = 10
NOTE_MAX = 2000

DEROGATION_LABELS = {
    Derogation.SAFETY: _l("Health, hygiene or safety risk"),
    Derogation.DAMAGED: _l("Damaged beyond reasonable repair"),
    Derogation.UNFIT: _l("Unfit for its purpose, even repaired"),
    Derogation.DONATION_REFUSED: _l("Offered for donation, refused"),
    Derogation.NOT_REUSABLE: _l("Unsuitable for reuse or remanufacturing"),
    Derogation.INFRINGING: _l("Counterfeit or infringing"),
    Derogation.LEAST_IMPACT: _l("Destruction has the least environmental impact"),
}

# The enterprise's size, set from the app's settings when it starts (`configure`).
_size = "large"


def configure(size: str) -> None:
    """Set the marketplace's enterprise size (large, medium or small)."""
    global _size
    if size not in SIZES:
        raise ValueError(f"ESPR_ENTERPRISE_SIZE must be one of {', '.join(SIZES)}, not {size!r}")
    _size = size


def enterprise_size() -> str:
    """The enterprise size the ban is judged for."""
    return _size


def ban_in_force(category: Category | None, today: dt.date) -> bool:
    """Whether destroying a unit of `category` is banned on `today` for this enterprise."""
    start = BAN_FROM.get(_size)
    return category in BANNED_CATEGORIES and start is not None and today >= start


def exception_for(session: Session, unit: Unit) -> DestructionException | None:
    """The recorded derogation of a unit, if any."""
    return session.scalar(
        sa.select(DestructionException).where(DestructionException.unit_id == unit.id)
    )


def destroy_refused(session: Session, unit: Unit, now: dt.datetime) -> str | None:
    """Why the unit may not be destroyed at `now` (None: it may), the ban judged by the calendar
    day at the unit's site."""
    category = unit.product.category if unit.product else None
    today = local_date(now, unit.site.timezone)
    if not ban_in_force(category, today) or exception_for(session, unit) is not None:
        return None
    return _(
        "Destroying returned apparel, clothing accessories and footwear is banned (Regulation "
        "(EU) 2024/1781 Art. 25): %(lpn)s is %(category)s. A supervisor records a derogation "
        "with evidence (look-up), or the partner's rule sends it to donation or recycling.",
        lpn=unit.lpn,
        category=category.value,
    )


def rule_refused(outcome: Disposition, category: Category | None, today: dt.date) -> str | None:
    """Why a rule may not be saved (None: it may). A rule for every category stays allowed:
    the apparel units it meets are stopped at routing."""
    if outcome == Disposition.DESTROY and ban_in_force(category, today):
        return _(
            "Destroying returned apparel, clothing accessories and footwear is banned "
            "(Regulation (EU) 2024/1781 Art. 25): a rule may not destroy %(category)s units.",
            category=category.value,
        )
    return None


def record_exception(
    session: Session,
    actor: events.Actor,
    unit: Unit,
    *,
    derogation: str,
    note: str,
    photo_id: int | None = None,
) -> DestructionException:
    """Record why this unit may be destroyed, with evidence (a photo of it and/or a note of at
    least 10 characters). Once recorded it stands; a closed unit is left as it is."""
    try:
        chosen = Derogation(derogation)
    except ValueError:
        choices = ", ".join(d.value for d in Derogation)
        raise InvalidInput(
            _(
                "%(derogation)s is not a derogation; choose one of: %(choices)s",
                derogation=repr(derogation),
                choices=choices,
            ),
            field="derogation",
        ) from None
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(
            _("the note is limited to %(most)s characters", most=NOTE_MAX), field="note"
        )
    photo = None
    if photo_id is not None:
        photo = session.get(UnitPhoto, photo_id)
        if photo is None or photo.unit_id != unit.id:
            raise NotFound(
                _("unit %(lpn)s has no photo #%(photo_id)s", lpn=unit.lpn, photo_id=photo_id),
                field="photo",
            )
    if photo is None and len(note) < NOTE_MIN:
        raise InvalidInput(
            _(
                "give the evidence: a photo of the unit, or a note of at least %(least)s "
                "characters",
                least=NOTE_MIN,
            ),
            field="note",
        )
    if unit.status == UnitStatus.CLOSED:
        raise Conflict(_("%(lpn)s is closed already", lpn=unit.lpn), field="unit")
    if exception_for(session, unit) is not None:
        raise Conflict(_("%(lpn)s has a derogation recorded already", lpn=unit.lpn), field="unit")
    row = DestructionException(
        unit_id=unit.id,
        partner_id=unit.partner_id,
        derogation=chosen,
        note=note,
        photo_id=photo.id if photo else None,
        recorded_at=utcnow(),
        recorded_by=actor.label[:120],
        recorded_by_id=actor.user_id,
    )
    session.add(row)
    session.flush()
    events.record(
        session,
        actor,
        "unit.destruction_exception",
        unit,
        after=chosen.value,
        site_id=unit.site_id,
        lpn=unit.lpn,
        note=note,
        photo_id=row.photo_id,
    )
    return row


# --- the yearly disclosure (Art. 24) -----------------------------------------------------------

DISCARDED = (Disposition.DESTROY, Disposition.RECYCLE, Disposition.DONATE)
ROUTE_WORDS = {
    Disposition.DESTROY: "destroyed",
    Disposition.RECYCLE: "recycled",
    Disposition.DONATE: "donated",
}


@dataclass(frozen=True)
class Discarded:
    """One line of the disclosure: how many units (and how heavy) went one route for one
    reason, in one category."""

    category: str
    reason: str
    route: str
    units: int
    weight_grams: int
    units_without_weight: int


def disclosure(session: Session, year: int, *, site_id: int | None = None) -> list[Discarded]:
    """The units routed to destruction, recycling or donation in `year` (the site's calendar
    year), by category, reason (the recorded derogation, else the grade) and route."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(_("%(year)s is not a year to report on", year=year), field="year")
    query = (
        sa.select(
            Product.category,
            DestructionException.derogation,
            Unit.grade,
            Unit.disposition,
            Product.weight_grams,
            Unit.routed_at,
            Site.timezone,
        )
        .join(Product, Product.id == Unit.product_id, isouter=True)
        .join(DestructionException, DestructionException.unit_id == Unit.id, isouter=True)
        .join(Site, Site.id == Unit.site_id)
        .where(
            Unit.disposition.in_([d.value for d in DISCARDED]),
            Unit.routed_at >= dt.datetime(year - 1, 12, 31, tzinfo=dt.UTC),
            Unit.routed_at < dt.datetime(year + 1, 1, 2, tzinfo=dt.UTC),
        )
    )
    if site_id is not None:
        query = query.where(Unit.site_id == site_id)
    lines: dict[tuple[str, str, str], list[int]] = {}
    for category, derogation, grade, disposition, weight, routed_at, zone in session.execute(query):
        if routed_at.astimezone(ZoneInfo(zone)).year != year:
            continue  # the day around New Year belongs to the site's own calendar
        reason = derogation.value if derogation else (Grade(grade).value if grade else "unknown")
        key = (
            category.value if category else "unknown",
            reason,
            ROUTE_WORDS[Disposition(disposition)],
        )
        line = lines.setdefault(key, [0, 0, 0])
        line[0] += 1
        if weight is None:
            line[2] += 1
        else:
            line[1] += weight
    return [
        Discarded(category, reason, route, units, weight, unweighed)
        for (category, reason, route), (units, weight, unweighed) in sorted(lines.items())
    ]
