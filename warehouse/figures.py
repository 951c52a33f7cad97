"""The figures the supervisor's overview, the dashboards and the partner scorecard show.

Two kinds, each computed in one place:

- **Live figures** (`backlog`, `refund_due_risk`, `throughput_today`): what waits now, read
  from the records with indexed queries on the open part of the flow.
- **Monthly figures** (everything over a period): a roll-up table (`Figure`), one row per site,
  partner, category (and product, where the figure is per product), metric and key, rebuilt a
  month at a time from the records by `refresh_month`. The worker refreshes the current and
  the previous month every ten minutes (and the delivery months of units received since), and
  the last three months nightly; `flask --app wsgi refresh-figures` rebuilds any range. The
  dashboards read only the roll-up, so they answer in the same time at any size, and say how
  fresh they are.

Months and hours are calendar months and clock hours in the site's time zone. Durations are
counted in whole hours up to two days, then in whole days (the histogram's buckets): p50 and
p90 are the nearest-rank percentiles of those buckets.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse.db import bulk_insert, utcnow
from warehouse.deadlines import local_date
from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.jobs import periodic
from warehouse.models import (
    ANNOUNCED_RETURN,
    DISPATCHED_RETURN,
    NO_REFUND_FLAGS,
    OPEN_UNIT,
    PARTNER_PORTAL_STATION,
    RECEIVED_RETURN,
    UNPAID_REFUND,
    Case,
    CaseStatus,
    Category,
    Country,
    Event,
    Figure,
    FigureRefresh,
    Grade,
    Listing,
    Order,
    OrderLine,
    Partner,
    Product,
    Reason,
    RefundState,
    ReturnLine,
    ReturnRequest,
    Shipment,
    Site,
    Unit,
    UnitStatus,
)
from warehouse.money import MINOR_DIGITS

RISK_DAYS = 3  # a refund due within this many days (or past) is at risk
RISK_CHUNK = 5000  # returns due whose units one statement of the risk list reads

# --- live: what waits now --------------------------------------------------------------------

STAGES = (
    ("announced", _l("Announced, not arrived")),
    ("received", _l("Received, not graded")),
    ("graded", _l("Graded, not routed")),
    ("routed", _l("Routed, not closed")),
    ("cases", _l("Refund cases open")),
)


@dataclass(frozen=True)
class Waiting:
    """One stage of the backlog: how many wait and since when the oldest does."""

    stage: str
    label: str
    count: int
    oldest_at: dt.datetime | None

    def oldest_hours(self, now: dt.datetime) -> int | None:
        """Whole hours the oldest one has waited."""
        if self.oldest_at is None:
            return None
        return int((now - self.oldest_at).total_seconds() // 3600)


def _scoped(query, column_site, column_partner, site_id, partner_id, *, after_index=False):
    """`query` narrowed to a site and a partner. `after_index`: the narrowing is written so no
    index can take it (`site_id + 0`), for a query that reads a partial index of the open part
    of the flow: offered an index on the site or the partner, SQLite's planner takes it and
    reads every row of the site (or the partner) ever, not the few open ones."""
    if after_index:
        column_site, column_partner = column_site + 0, column_partner + 0
    if site_id is not None:
        query = query.where(column_site == site_id)
    if partner_id is not None:
        query = query.where(column_partner == partner_id)
    return query


def backlog(
    session: Session, *, site_id: int | None, partner_id: int | None = None
) -> list[Waiting]:
    """Per stage of the flow: how many parcels, units or cases wait, and the oldest's start."""
    rows: list[Waiting] = []
    labels = dict(STAGES)
    announced = _scoped(
        sa.select(sa.func.count(), sa.func.min(ReturnRequest.announced_at)).where(ANNOUNCED_RETURN),
        ReturnRequest.site_id,
        ReturnRequest.partner_id,
        site_id,
        partner_id,
        after_index=True,
    )
    count, oldest = session.execute(announced).one()
    rows.append(Waiting("announced", labels["announced"], count, oldest))
    for stage, status, since in (
        ("received", UnitStatus.RECEIVED, Unit.received_at),
        ("graded", UnitStatus.GRADED, Unit.graded_at),
        ("routed", UnitStatus.ROUTED, Unit.routed_at),
    ):
        query = _scoped(
            sa.select(sa.func.count(), sa.func.min(since)).where(Unit.status == status, OPEN_UNIT),
            Unit.site_id,
            Unit.partner_id,
            site_id,
            partner_id,
        )
        count, oldest = session.execute(query).one()
        rows.append(Waiting(stage, labels[stage], count, oldest))
    cases = _scoped(
        sa.select(sa.func.count(), sa.func.min(Case.opened_at))
        .join(Unit, Unit.id == Case.unit_id)
        .where(Case.status == CaseStatus.OPEN),
        Unit.site_id,
        Case.partner_id,
        site_id,
        partner_id,
    )
    count, oldest = session.execute(cases).one()
    rows.append(Waiting("cases", labels["cases"], count, oldest))
    return rows


def backlog_units(
    session: Session,
    stage: str,
    *,
    site_id: int | None,
    partner_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list, int]:
    """The list behind a backlog figure, oldest first: returns (announced) or units."""
    if stage == "announced":
        query = _scoped(
            sa.select(ReturnRequest).where(ANNOUNCED_RETURN),
            ReturnRequest.site_id,
            ReturnRequest.partner_id,
            site_id,
            partner_id,
        ).order_by(ReturnRequest.announced_at, ReturnRequest.id)
    elif stage == "cases":
        query = _scoped(
            sa.select(Case)
            .join(Unit, Unit.id == Case.unit_id)
            .where(Case.status == CaseStatus.OPEN),
            Unit.site_id,
            Case.partner_id,
            site_id,
            partner_id,
        ).order_by(Case.opened_at, Case.id)
    else:
        status, since = {
            "received": (UnitStatus.RECEIVED, Unit.received_at),
            "graded": (UnitStatus.GRADED, Unit.graded_at),
            "routed": (UnitStatus.ROUTED, Unit.routed_at),
        }.get(stage, (None, None))
        if status is None:
            choices = ", ".join(name for name, _ in STAGES)
            raise InvalidInput(
                _(
                    "%(stage)s is not a stage; choose one of: %(choices)s",
                    stage=repr(stage),
                    choices=choices,
                ),
                field="stage",
            )
        query = _scoped(
            sa.select(Unit).where(Unit.status == status, OPEN_UNIT),
            Unit.site_id,
            Unit.partner_id,
            site_id,
            partner_id,
        ).order_by(since, Unit.id)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    return session.scalars(query.limit(limit).offset(offset)).all(), total or 0


@dataclass(frozen=True)
class AtRisk:
    """A unit whose refund is due within `RISK_DAYS` days or overdue, with no refund decided."""

    rma: str
    lpn: str
    refund_due_on: dt.date
    stage: str  # received_not_graded | case_open | case_escalated
    return_id: int
    unit_id: int
    partner_id: int


def refund_due_risk(
    session: Session,
    *,
    site_id: int | None,
    partner_id: int | None = None,
    today: dt.date,
    within_days: int = RISK_DAYS,
    limit: int | None = None,
) -> list[AtRisk]:
    """Every unit of a received return due for its refund by `today + within_days` (or past)
    whose refund is not decided (still ungraded, or its case open) or approved and not paid out
    yet. Soonest due first.

    The returns due by then are read first, from the received ones not closed yet (on
    PostgreSQL from the ix_return_request_received_due partial index alone; SQLite, which keeps
    no statistics, reads the received returns through their status), then the undecided units
    of just those returns by their return. Two statements, so no planner can turn it round:
    the work grows with the returns due soon, not with the open backlog (most of
    it not due for days) nor with the returns closed long ago. Asked as one join, a planner
    guesses from the due-date statistics of every return ever that nearly all received returns
    are due, and walks every open unit."""
    until = today + dt.timedelta(days=within_days)
    due = {
        return_id: (rma, due_on)
        for return_id, rma, due_on in session.execute(
            sa.select(ReturnRequest.id, ReturnRequest.rma, ReturnRequest.refund_due_on).where(
                RECEIVED_RETURN, ReturnRequest.refund_due_on <= until
            )
        )
    }
    rows = []
    ids = sorted(due)
    for start in range(0, max(len(ids), 1), RISK_CHUNK):  # one statement unless thousands due
        query = (
            sa.select(
                Unit.return_id,
                Unit.lpn,
                Unit.refund_state,
                Case.escalated_at,
                Unit.id,
                Unit.partner_id,
            )
            .outerjoin(Case, Case.unit_id == Unit.id)
            .where(
                Unit.return_id.in_(ids[start : start + RISK_CHUNK]),
                OPEN_UNIT,
                Unit.return_line_id.is_not(None),
                sa.or_(Unit.exception.is_(None), Unit.exception.not_in(NO_REFUND_FLAGS)),
                sa.or_(Unit.refund_state.is_(None), Unit.refund_state == RefundState.OPEN),
            )
        )
        # The unit's site and partner narrowed after its return's index (their own indexes would
        # read every unit of the site ever).
        query = _scoped(query, Unit.site_id, Unit.partner_id, site_id, partner_id, after_index=True)
        for return_id, lpn, state, escalated, unit_id, partner in session.execute(query):
            if state is None:
                stage = "received_not_graded"
            else:
                stage = "case_escalated" if escalated is not None else "case_open"
            rma, due_on = due[return_id]
            rows.append(AtRisk(rma, lpn, due_on, stage, return_id, unit_id, partner))
    # Approved and not paid out yet: the clock runs until the customer has the money (through
    # the ix_unit_refund_unpaid partial index: the few refunds waiting, not every one paid).
    unpaid = (
        sa.select(
            ReturnRequest.rma,
            Unit.lpn,
            ReturnRequest.refund_due_on,
            ReturnRequest.id,
            Unit.id,
            Unit.partner_id,
        )
        .join(ReturnRequest, ReturnRequest.id == Unit.return_id)
        .where(
            UNPAID_REFUND,
            Unit.refund_minor > 0,
            ReturnRequest.refund_due_on <= until,
        )
        .order_by(ReturnRequest.refund_due_on, Unit.id)
    )
    unpaid = _scoped(unpaid, Unit.site_id, Unit.partner_id, site_id, partner_id, after_index=True)
    if limit is not None:
        unpaid = unpaid.limit(limit)
    rows += [
        AtRisk(rma, lpn, due, "approved_not_paid", return_id, unit_id, partner)
        for rma, lpn, due, return_id, unit_id, partner in session.execute(unpaid)
    ]
    # Sent back with a proof of dispatch, not arrived: the refund may no longer wait for the
    # goods (Directive 2011/83/EU Art. 13(3)), from the ix_return_request_dispatched partial
    # index alone (not every parcel on its way).
    dispatched = (
        sa.select(
            ReturnRequest.rma,
            ReturnRequest.refund_due_on,
            ReturnRequest.id,
            ReturnRequest.partner_id,
        )
        .where(
            DISPATCHED_RETURN,
            ReturnRequest.refund_due_on <= until,
        )
        .order_by(ReturnRequest.refund_due_on, ReturnRequest.id)
    )
    dispatched = _scoped(
        dispatched,
        ReturnRequest.site_id,
        ReturnRequest.partner_id,
        site_id,
        partner_id,
        after_index=True,
    )
    if limit is not None:
        dispatched = dispatched.limit(limit)
    rows += [
        AtRisk(rma, "", due, "dispatched_not_received", return_id, 0, partner)
        for rma, due, return_id, partner in session.execute(dispatched)
    ]
    rows.sort(key=lambda row: (row.refund_due_on, row.unit_id))
    return rows[:limit] if limit is not None else rows


STATION_OF = {
    "unit.received": "receive",
    "unit.graded": "grade",
    "unit.regraded": "grade",
    "unit.routed": "route",
    "unit.sent_to_refurbish": "route",
}


def throughput_today(
    session: Session, *, site_id: int, timezone: str, now: dt.datetime
) -> dict[str, int]:
    """Units received, graded and routed at the site since local midnight, per station."""
    zone = ZoneInfo(timezone)
    midnight = dt.datetime.combine(local_date(now, timezone), dt.time(), zone).astimezone(dt.UTC)
    # Every kind of today's events is counted and the stations' kinds kept here: a filter on
    # the kind in the query would tempt a planner into the kind index (all of history).
    rows = session.execute(
        sa.select(Event.kind, Event.station, sa.func.count())
        .where(Event.site_id == site_id, Event.at >= midnight)
        .group_by(Event.kind, Event.station)
    )
    counts = Counter()
    for kind, station, count in rows:
        if kind not in STATION_OF or station == PARTNER_PORTAL_STATION:
            continue
        counts[STATION_OF[kind]] += count
    return {station: counts.get(station, 0) for station in ("receive", "grade", "route")}


# --- the monthly roll-up ---------------------------------------------------------------------

# Duration buckets: whole hours below two days, whole days up to sixty, then "sixty or more".
HOUR_CAP = 60 * 24


def bucket(seconds: float) -> int:
    """The histogram bucket (in hours) of a duration."""
    hours = max(0, int(seconds // 3600))
    if hours < 48:
        return hours
    return min(hours - hours % 24, HOUR_CAP)


def percentile(histogram: dict[int, int], share: float) -> int | None:
    """Nearest-rank percentile of a {bucket: count} histogram (None when empty)."""
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None  # pragma: no cover - the loop always reaches `total`


DURATIONS = {
    # name: (what, end column, start column); the month is the one the end falls in
    "transit": "announced → received",
    "grading": "received → graded",
    "routing": "graded → routed",
    "closing": "routed → closed",
    "total": "received → closed",
}
CONSULT_VIA = ("link", "portal", "api")  # a case decided by the partner (not on its behalf)


def month_key(day: dt.date) -> str:
    """'YYYY-MM' of a date."""
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(text: str, field_name: str) -> str:
    """A 'YYYY-MM' (or a date 'YYYY-MM-DD', whose month it names) from a person or a URL."""
    text = (text or "").strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
        elif len(text) == 7:
            day = dt.date.fromisoformat(text + "-01")
        else:
            raise ValueError
    except ValueError:
        raise InvalidInput(
            _("%(text)s is not a month: use YYYY-MM (or a date YYYY-MM-DD)", text=repr(text)),
            field=field_name,
        ) from None
    return month_key(day)


def shift_month(month: str, by: int) -> str:
    """The month `by` months after 'YYYY-MM' (before, when negative)."""
    year, number = int(month[:4]), int(month[5:7])
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = shift_month(month, 1)
    return months


def _bounds(month: str, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(timezone)
    start = dt.datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=zone)
    after = shift_month(month, 1)
    end = dt.datetime(int(after[:4]), int(after[5:7]), 1, tzinfo=zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass
class _Cells:
    """Figure rows being built for one site and month."""

    month: str
    site_id: int
    cells: dict[tuple, list[int]] = field(default_factory=dict)

    def add(
        self,
        metric,
        partner_id,
        *,
        category="",
        product_id=None,
        key="",
        count=1,
        amount=0,
        currency="",
    ):
        category = category or ""
        # The cell itself, and its sums over all categories, all partners, and both.
        levels = {
            (partner_id, category, product_id),
            (partner_id, "", None),
            (None, category, None),
            (None, "", None),
        }
        for partner, cat, product in levels:
            cell = self.cells.setdefault(
                (metric, partner, cat, product, str(key), currency), [0, 0]
            )
            cell[0] += count
            cell[1] += amount

    def rows(self) -> list[dict]:
        return [
            {
                "month": self.month,
                "site_id": self.site_id,
                "partner_id": partner_id,
                "category": category,
                "product_id": product_id,
                "metric": metric,
                "key": key,
                "count": count,
                "amount_minor": amount,
                "currency": currency,
            }
            for (metric, partner_id, category, product_id, key, currency), (count, amount) in (
                self.cells.items()
            )
        ]


def refresh_month(session: Session, site: Site, month: str, *, now: dt.datetime | None = None):
    """Rebuild one site's figures of one month from the records (replacing what was there)."""
    start, end = _bounds(month, site.timezone)
    zone = ZoneInfo(site.timezone)
    cells = _Cells(month, site.id)
    category_of = Product.category

    # Sold units and revenue, by the month their shipment was delivered (orders of the
    # countries this site serves).
    sold = session.execute(
        sa.select(
            Shipment.partner_id,
            category_of,
            OrderLine.product_id,
            Order.currency,
            sa.func.sum(OrderLine.quantity),
            sa.func.sum(OrderLine.quantity * OrderLine.unit_price_minor),
        )
        .join(Order, Order.id == Shipment.order_id)
        .join(Country, Country.code == Order.country_code)
        .join(OrderLine, OrderLine.shipment_id == Shipment.id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(
            Country.site_id == site.id,
            Shipment.delivered_at >= start,
            Shipment.delivered_at < end,
        )
        .group_by(Shipment.partner_id, category_of, OrderLine.product_id, Order.currency)
    )
    for partner_id, category, product_id, currency, units, revenue in sold:
        cells.add(
            "sold",
            partner_id,
            category=category,
            product_id=product_id,
            count=int(units or 0),
            amount=int(revenue or 0),
            currency=currency,
        )

    # Returned units, by the month their shipment was delivered (what the return rate divides).
    returned = session.execute(
        sa.select(Unit.partner_id, category_of, Unit.product_id, sa.func.count())
        .join(ReturnRequest, ReturnRequest.id == Unit.return_id)
        .join(Shipment, Shipment.id == ReturnRequest.shipment_id)
        .join(Product, Product.id == Unit.product_id)
        .where(
            ReturnRequest.site_id == site.id,
            Shipment.delivered_at >= start,
            Shipment.delivered_at < end,
            *_REFUNDABLE,
        )
        .group_by(Unit.partner_id, category_of, Unit.product_id)
    )
    for partner_id, category, product_id, count in returned:
        cells.add("returned", partner_id, category=category, product_id=product_id, count=count)

    # Why units came back and how they were graded, by the month they were received / graded.
    reasons = session.execute(
        sa.select(Unit.partner_id, category_of, ReturnLine.reason, sa.func.count())
        .join(ReturnLine, ReturnLine.id == Unit.return_line_id)
        .outerjoin(Product, Product.id == Unit.product_id)
        .where(Unit.site_id == site.id, Unit.received_at >= start, Unit.received_at < end)
        .where(*_REFUNDABLE)
        .group_by(Unit.partner_id, category_of, ReturnLine.reason)
    )
    for partner_id, category, reason, count in reasons:
        cells.add("reason", partner_id, category=category, key=reason.value, count=count)
    grades = session.execute(
        sa.select(Unit.partner_id, category_of, Unit.grade, sa.func.count())
        .outerjoin(Product, Product.id == Unit.product_id)
        .where(
            Unit.site_id == site.id,
            Unit.graded_at >= start,
            Unit.graded_at < end,
            Unit.grade.is_not(None),
        )
        .group_by(Unit.partner_id, category_of, Unit.grade)
    )
    for partner_id, category, grade, count in grades:
        cells.add("grade", partner_id, category=category, key=grade.value, count=count)

    # Time per stage, in the month the stage ended.
    spans = (
        ("transit", ReturnRequest.announced_at, Unit.received_at),
        ("grading", Unit.received_at, Unit.graded_at),
        ("routing", Unit.graded_at, Unit.routed_at),
        ("closing", Unit.routed_at, Unit.closed_at),
        ("total", Unit.received_at, Unit.closed_at),
    )
    for name, began, ended in spans:
        rows = session.execute(
            sa.select(Unit.partner_id, category_of, began, ended)
            .join(ReturnRequest, ReturnRequest.id == Unit.return_id)
            .outerjoin(Product, Product.id == Unit.product_id)
            .where(
                Unit.site_id == site.id,
                ended >= start,
                ended < end,
                began.is_not(None),
                *([ReturnRequest.unannounced.is_(False)] if name == "transit" else []),
            )
        )
        for partner_id, category, first, last in rows:
            cells.add(
                f"h_{name}",
                partner_id,
                category=category,
                key=bucket((last - first).total_seconds()),
            )

    # Throughput: units received, graded, routed per station and local hour, and per operator.
    events = session.execute(
        sa.select(
            Event.kind, Event.at, Event.actor_id, Event.actor_label, Event.partner_id, Event.station
        ).where(
            Event.site_id == site.id,
            Event.at >= start,
            Event.at < end,
            Event.partner_id.is_not(None),
        )
    )  # the kinds are picked here, not in the query (see throughput_today)
    active: dict[tuple[str, str, int], set] = defaultdict(set)
    for kind, at, actor_id, label, partner_id, where in events:
        if kind not in STATION_OF or where == PARTNER_PORTAL_STATION:
            continue
        station = STATION_OF[kind]
        local = at.astimezone(zone)
        cells.add("scans", partner_id, key=f"{station}|{local.hour:02d}")
        who = f"{actor_id or 0}|{label[:30]}"
        cells.add("scans_by", partner_id, key=f"{station}|{who}")
        active[(station, who, partner_id)].add((local.date(), local.hour))
    for (station, who, partner_id), hours in active.items():
        cells.add("hours_by", partner_id, key=f"{station}|{who}", count=len(hours))

    # Refunds decided, on time or late against the refund-due date, with the amount.
    refunds = session.execute(
        sa.select(
            Unit.partner_id,
            category_of,
            Unit.refund_decided_at,
            ReturnRequest.refund_due_on,
            Unit.refund_state,
            Unit.refund_minor,
            Order.currency,
        )
        .join(ReturnRequest, ReturnRequest.id == Unit.return_id)
        .join(Order, Order.id == ReturnRequest.order_id)
        .outerjoin(Product, Product.id == Unit.product_id)
        .where(
            Unit.site_id == site.id,
            Unit.refund_decided_at >= start,
            Unit.refund_decided_at < end,
            *_REFUNDABLE,
        )
    )
    for partner_id, category, decided_at, due_on, state, amount, currency in refunds:
        late = due_on is not None and decided_at.astimezone(zone).date() > due_on
        paid = amount or 0 if state == RefundState.APPROVED else 0
        cells.add(
            "refund",
            partner_id,
            category=category,
            key="late" if late else "on_time",
            amount=paid,
            currency=currency,
        )

    # Resale: listed and sold value per currency.
    for metric, column, amount in (
        ("listed", Listing.created_at, Listing.price_minor),
        ("resold", Listing.sold_at, Listing.sold_minor),
    ):
        rows = session.execute(
            sa.select(
                Listing.partner_id,
                category_of,
                Listing.currency,
                sa.func.count(),
                sa.func.sum(amount),
            )
            .join(Unit, Unit.id == Listing.unit_id)
            .outerjoin(Product, Product.id == Unit.product_id)
            .where(Unit.site_id == site.id, column >= start, column < end)
            .group_by(Listing.partner_id, category_of, Listing.currency)
        )
        for partner_id, category, currency, count, total in rows:
            cells.add(
                metric,
                partner_id,
                category=category,
                count=count,
                amount=int(total or 0),
                currency=currency,
            )

    # Partner cases: how fast partners answered, within their escalation time or not, and
    # the cases that had to be escalated.
    decided = session.execute(
        sa.select(
            Case.partner_id,
            category_of,
            Case.opened_at,
            Case.decided_at,
            Partner.consult_escalate_days,
        )
        .join(Unit, Unit.id == Case.unit_id)
        .join(Partner, Partner.id == Case.partner_id)
        .outerjoin(Product, Product.id == Unit.product_id)
        .where(
            Unit.site_id == site.id,
            Case.decided_at >= start,
            Case.decided_at < end,
            Case.decided_via.in_(CONSULT_VIA),
        )
    )
    for partner_id, category, opened, closed, sla_days in decided:
        seconds = (closed - opened).total_seconds()
        cells.add("case_hours", partner_id, category=category, key=bucket(seconds))
        within = seconds <= sla_days * 86400
        cells.add("case_sla", partner_id, category=category, key="within" if within else "late")
    escalated = session.execute(
        sa.select(Case.partner_id, category_of, sa.func.count())
        .join(Unit, Unit.id == Case.unit_id)
        .outerjoin(Product, Product.id == Unit.product_id)
        .where(Unit.site_id == site.id, Case.escalated_at >= start, Case.escalated_at < end)
        .group_by(Case.partner_id, category_of)
    )
    for partner_id, category, count in escalated:
        cells.add("case_escalated", partner_id, category=category, count=count)

    session.execute(sa.delete(Figure).where(Figure.site_id == site.id, Figure.month == month))
    rows = cells.rows()
    bulk_insert(session, Figure.__table__, rows)
    stamp = session.get(FigureRefresh, (site.id, month))
    if stamp is None:
        session.add(FigureRefresh(site_id=site.id, month=month, refreshed_at=now or utcnow()))
    else:
        stamp.refreshed_at = now or utcnow()
    session.flush()
    return len(rows)


# Units counted as returned: part of what was bought (not an extra, wrong or foreign unit).
_REFUNDABLE = (
    Unit.return_line_id.is_not(None),
    sa.or_(Unit.exception.is_(None), Unit.exception.not_in(NO_REFUND_FLAGS)),
)


def months_touched(session: Session, site: Site, *, since: dt.datetime) -> set[str]:
    """Delivery months of the units received at `site` since `since` (their returns count
    in those months' return rate)."""
    delivered = session.scalars(
        sa.select(Shipment.delivered_at)
        .join(ReturnRequest, ReturnRequest.shipment_id == Shipment.id)
        .join(Unit, Unit.return_id == ReturnRequest.id)
        .where(
            Unit.site_id == site.id,
            Unit.received_at >= since,
            Shipment.delivered_at.is_not(None),
        )
        .distinct()
    )
    return {month_key(local_date(at, site.timezone)) for at in delivered}


def refresh_recent(session: Session, *, now: dt.datetime, months_back: int = 1) -> int:
    """Refresh each site's current month and the `months_back` before it, plus the delivery
    months of units received in the last two days."""
    total = 0
    for site in session.scalars(sa.select(Site).order_by(Site.id)).all():
        current = month_key(local_date(now, site.timezone))
        months = {shift_month(current, -n) for n in range(months_back + 1)}
        months |= months_touched(session, site, since=now - dt.timedelta(days=2))
        for month in sorted(months):
            total += refresh_month(session, site, month, now=now)
    return total


@periodic("refresh_figures", every=dt.timedelta(minutes=10))
def refresh_figures_job(job, payload: dict) -> str:
    """Every ten minutes: this month's and last month's figures."""
    return f"{refresh_recent(job.session, now=job.now)} figure rows"


@periodic("refresh_figures_nightly", every=dt.timedelta(days=1), timeout=3600)
def refresh_figures_nightly(job, payload: dict) -> str:
    """Daily: the last three months again (late re-grades and decisions land in them)."""
    return f"{refresh_recent(job.session, now=job.now, months_back=3)} figure rows"


# --- reading the roll-up ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Which figures: one site or all, one partner or all, one category or all, a month range."""

    first: str
    last: str
    site_id: int | None = None
    partner_id: int | None = None
    category: Category | None = None

    @classmethod
    def parse(
        cls,
        *,
        today: dt.date,
        first: str = "",
        last: str = "",
        category: str = "",
        site_id: int | None = None,
        partner_id: int | None = None,
    ) -> Scope:
        """From request values: months default to the last twelve, up to this one."""
        last_month = parse_month(last, "to") if last else month_key(today)
        first_month = parse_month(first, "from") if first else shift_month(last_month, -11)
        if first_month > last_month:
            raise InvalidInput(_("the period starts after it ends"), field="from")
        if len(months_between(first_month, last_month)) > 60:
            raise InvalidInput(_("choose at most 60 months"), field="from")
        chosen = None
        if category:
            try:
                chosen = Category(category)
            except ValueError:
                choices = ", ".join(c.value for c in Category)
                raise InvalidInput(
                    _(
                        "%(category)s is not a category; choose one of: %(choices)s",
                        category=repr(category),
                        choices=choices,
                    ),
                    field="category",
                ) from None
        return cls(first_month, last_month, site_id, partner_id, chosen)


def _figures(
    session: Session,
    scope: Scope,
    metrics: Iterable[str],
    *columns,
    by_partner: bool = False,
    by_category: bool = False,
    by_product: bool = False,
):
    """A query of the roll-up at the level the scope and the grouping need: one partner's
    cells or the sum over partners, one category's or the sum over categories."""
    query = sa.select(*columns).where(
        Figure.metric.in_(list(metrics)), Figure.month >= scope.first, Figure.month <= scope.last
    )
    if scope.site_id is not None:
        query = query.where(Figure.site_id == scope.site_id)
    if scope.partner_id is not None:
        query = query.where(Figure.partner_id == scope.partner_id)
    elif by_partner or by_product:
        query = query.where(Figure.partner_id.is_not(None))
    else:
        query = query.where(Figure.partner_id.is_(None))
    if scope.category is not None:
        query = query.where(Figure.category == scope.category.value)
    elif by_category or by_product:
        query = query.where(Figure.category != "")
    else:
        query = query.where(Figure.category == "")
    if by_product:
        query = query.where(Figure.product_id.is_not(None))
    return query


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def return_rates(session: Session, scope: Scope) -> dict:
    """Returned units / sold units per partner, per product (top 50 by returned units), per
    category and per delivery month."""
    sold, returned = (
        sa.func.sum(sa.case((Figure.metric == metric, Figure.count), else_=0))
        for metric in ("sold", "returned")
    )
    result = {}
    for name, column in (
        ("by_partner", Figure.partner_id),
        ("by_category", Figure.category),
        ("by_month", Figure.month),
        ("by_product", Figure.product_id),
    ):
        query = _figures(
            session,
            scope,
            ("sold", "returned"),
            column,
            sold,
            returned,
            by_partner=name == "by_partner",
            by_category=name == "by_category",
            by_product=name == "by_product",
        ).group_by(column)
        if name == "by_product":
            # Only the top 50 leave the database: a large catalogue has every product's cells
            # in the period, and summing them in Python took longer than reading them.
            query = query.order_by(returned.desc(), sold.desc(), column).limit(50)
        table = [
            {"key": key, "sold": int(s or 0), "returned": int(r or 0)}
            for key, s, r in session.execute(query)
        ]
        if name != "by_product":
            table.sort(key=lambda row: str(row["key"]))
        for row in table:
            row["rate"] = _rate(row["returned"], row["sold"])
        result[name] = table
    _name_keys(session, result)
    return result


def _name_keys(session: Session, result: dict) -> None:
    """Partner codes and product SKUs instead of ids, for people and CSV files."""
    partners = dict(session.execute(sa.select(Partner.id, Partner.code)).all())
    for row in result["by_partner"]:
        row["partner_id"], row["key"] = row["key"], partners.get(row["key"], str(row["key"]))
    product_ids = [row["key"] for row in result["by_product"]]
    product_rows = session.execute(
        sa.select(Product.id, Product.sku, Product.title, Partner.code)
        .join(Partner, Partner.id == Product.partner_id)
        .where(Product.id.in_(product_ids or [0]))
    ).all()
    products = {pid: (sku, title, code) for pid, sku, title, code in product_rows}
    for row in result["by_product"]:
        sku, title, code = products.get(row["key"], ("?", "?", "?"))
        row.update(product_id=row["key"], key=sku, title=title, partner=code)


def counted(session: Session, scope: Scope, metric: str, choices: Iterable[str]) -> list[dict]:
    """Counts of one keyed metric (reasons, grades) with each key's share, every key listed."""
    rows = dict(
        session.execute(
            _figures(session, scope, (metric,), Figure.key, sa.func.sum(Figure.count)).group_by(
                Figure.key
            )
        ).all()
    )
    total = sum(int(v or 0) for v in rows.values())
    return [
        {
            "key": key,
            "count": int(rows.get(key) or 0),
            "share": _rate(int(rows.get(key) or 0), total),
        }
        for key in choices
    ]


def counted_by_month(
    session: Session, scope: Scope, metric: str, choices: Iterable[str]
) -> list[dict]:
    """Per month of the scope: the count of each key of one metric (reasons over time)."""
    rows = session.execute(
        _figures(
            session, scope, (metric,), Figure.month, Figure.key, sa.func.sum(Figure.count)
        ).group_by(Figure.month, Figure.key)
    )
    keys = list(choices)
    table = {
        month: {"month": month, **dict.fromkeys(keys, 0)}
        for month in months_between(scope.first, scope.last)
    }
    for month, key, count in rows:
        if key in table[month]:
            table[month][key] += int(count or 0)
    return list(table.values())


def histograms(session: Session, scope: Scope, metrics: Iterable[str]) -> dict[str, dict]:
    """{metric: {bucket: count}} for duration metrics."""
    found: dict[str, dict[int, int]] = {metric: {} for metric in metrics}
    rows = session.execute(
        _figures(
            session, scope, found, Figure.metric, Figure.key, sa.func.sum(Figure.count)
        ).group_by(Figure.metric, Figure.key)
    )
    for metric, key, count in rows:
        found[metric][int(key)] = found[metric].get(int(key), 0) + int(count or 0)
    return found


def stage_hours(session: Session, scope: Scope) -> dict[str, dict]:
    """p50 and p90 hours per stage (and how many units each rests on)."""
    found = histograms(session, scope, [f"h_{name}" for name in DURATIONS])
    return {
        name: {
            "label": label,
            "p50": percentile(found[f"h_{name}"], 0.5),
            "p90": percentile(found[f"h_{name}"], 0.9),
            "count": sum(found[f"h_{name}"].values()),
        }
        for name, label in DURATIONS.items()
    }


def throughput(session: Session, scope: Scope) -> dict:
    """Units per station and local hour of day; per operator: units, active hours, per hour."""
    total = sa.func.sum(Figure.count)
    per_hour = []
    for key, count in session.execute(
        _figures(session, scope, ("scans",), Figure.key, total).group_by(Figure.key)
    ):
        station, hour = key.split("|")
        per_hour.append({"station": station, "hour": int(hour), "count": int(count)})
    per_hour.sort(key=lambda row: (row["station"], row["hour"]))
    operators: dict[str, dict] = {}
    for metric, key, count in session.execute(
        _figures(
            session, scope, ("scans_by", "hours_by"), Figure.metric, Figure.key, total
        ).group_by(Figure.metric, Figure.key)
    ):
        station, _actor_id, label = key.split("|", 2)
        row = operators.setdefault(
            f"{station}|{label}", {"station": station, "operator": label, "units": 0, "hours": 0}
        )
        row["units" if metric == "scans_by" else "hours"] += int(count)
    table = sorted(operators.values(), key=lambda row: (row["station"], -row["units"]))
    for row in table:
        row["per_hour"] = round(row["units"] / row["hours"], 1) if row["hours"] else None
    return {"per_hour": per_hour, "operators": table}


def refund_timeliness(session: Session, scope: Scope) -> list[dict]:
    """Per month: refunds decided on time and late (past the refund-due date)."""
    rows = session.execute(
        _figures(
            session, scope, ("refund",), Figure.month, Figure.key, sa.func.sum(Figure.count)
        ).group_by(Figure.month, Figure.key)
    )
    months = {
        month: {"month": month, "on_time": 0, "late": 0}
        for month in months_between(scope.first, scope.last)
    }
    for month, key, count in rows:
        months[month][key] += int(count)
    return list(months.values())


def money(session: Session, scope: Scope) -> dict:
    """Per currency: resale listed and sold value, refunds paid, revenue of delivered orders."""
    rows = session.execute(
        _figures(
            session,
            scope,
            ("listed", "resold", "refund", "sold"),
            Figure.metric,
            Figure.currency,
            sa.func.sum(Figure.count),
            sa.func.sum(Figure.amount_minor),
        ).group_by(Figure.metric, Figure.currency)
    )
    resale: dict[str, dict] = {}
    refunded: dict[str, int] = {}
    revenue: dict[str, int] = {}
    for metric, currency, count, amount in rows:
        amount = int(amount or 0)
        if metric in ("listed", "resold"):
            row = resale.setdefault(
                currency,
                {"listed_count": 0, "listed_minor": 0, "sold_count": 0, "sold_minor": 0},
            )
            prefix = "listed" if metric == "listed" else "sold"
            row[f"{prefix}_count"] += int(count)
            row[f"{prefix}_minor"] += amount
        elif metric == "refund":
            refunded[currency] = refunded.get(currency, 0) + amount
        else:
            revenue[currency] = revenue.get(currency, 0) + amount
    return {"resale": resale, "refunded": refunded, "revenue": revenue}


def revenue_by_month(session: Session, scope: Scope) -> list[dict]:
    """Per month and currency: revenue of delivered orders and refunds approved (portal)."""
    rows = session.execute(
        _figures(
            session,
            scope,
            ("sold", "refund"),
            Figure.month,
            Figure.metric,
            Figure.currency,
            sa.func.sum(Figure.amount_minor),
        ).group_by(Figure.month, Figure.metric, Figure.currency)
    )
    table: dict[tuple[str, str], dict] = {}
    for month, metric, currency, amount in rows:
        row = table.setdefault(
            (month, currency),
            {"month": month, "currency": currency, "revenue_minor": 0, "refunded_minor": 0},
        )
        row["revenue_minor" if metric == "sold" else "refunded_minor"] += int(amount or 0)
    return [table[key] for key in sorted(table)]


# --- the partner quality scorecard -----------------------------------------------------------


def scorecard(session: Session, scope: Scope) -> dict:
    """Per partner and for the marketplace as a whole: return rate, not-as-described and
    defective rates (of returned units), consult response time (p50 hours) and the share
    answered within the partner's escalation time, cases escalated, refunds decided late."""
    everyone = Scope(scope.first, scope.last, scope.site_id, None, scope.category)
    metrics = ("sold", "returned", "reason", "case_hours", "case_sla", "case_escalated", "refund")
    rows = session.execute(
        _figures(
            session,
            everyone,
            metrics,
            Figure.partner_id,
            Figure.metric,
            Figure.key,
            sa.func.sum(Figure.count),
            by_partner=True,
        ).group_by(Figure.partner_id, Figure.metric, Figure.key)
    )
    tallies: dict[int, dict] = defaultdict(_tally)
    for partner_id, metric, key, count in rows:
        count = int(count or 0)
        for tally in (tallies[partner_id], tallies[0]):  # 0: the marketplace
            if metric == "case_hours":
                tally["case_hours"][int(key)] = tally["case_hours"].get(int(key), 0) + count
            else:
                tally[metric][key] = tally[metric].get(key, 0) + count
    partners = dict(session.execute(sa.select(Partner.id, Partner.code)).all())
    shown = (
        [scope.partner_id]
        if scope.partner_id is not None
        else sorted((pid for pid in tallies if pid), key=lambda pid: partners.get(pid, ""))
    )
    return {
        "partners": [
            {"partner": partners.get(pid, str(pid)), "partner_id": pid, **_score(tallies[pid])}
            for pid in shown
        ],
        "marketplace": _score(tallies[0]),
    }


def _tally() -> dict:
    tally: dict = defaultdict(dict)
    tally["case_hours"] = {}
    return tally


def _score(tally: dict) -> dict:
    sold = sum(tally["sold"].values())
    returned = sum(tally["returned"].values())
    reasons = tally["reason"]
    reason_total = sum(reasons.values())
    sla = tally["case_sla"]
    answered = sla.get("within", 0) + sla.get("late", 0)
    return {
        "sold": sold,
        "returned": returned,
        "return_rate": _rate(returned, sold),
        "not_as_described_rate": _rate(reasons.get(Reason.NOT_AS_DESCRIBED.value, 0), reason_total),
        "defective_rate": _rate(reasons.get(Reason.DEFECTIVE.value, 0), reason_total),
        "consult_response_hours_p50": percentile(tally["case_hours"], 0.5),
        "within_sla_share": _rate(sla.get("within", 0), answered),
        "cases_answered": answered,
        "cases_escalated": sum(tally["case_escalated"].values()),
        "refunds_late": tally["refund"].get("late", 0),
    }


def freshness(session: Session, scope: Scope) -> dt.datetime | None:
    """When the oldest month in the scope was last rebuilt (None: never)."""
    query = sa.select(sa.func.min(FigureRefresh.refreshed_at)).where(
        FigureRefresh.month >= scope.first, FigureRefresh.month <= scope.last
    )
    if scope.site_id is not None:
        query = query.where(FigureRefresh.site_id == scope.site_id)
    return session.scalar(query)


def _throughput_for(session: Session, scope: Scope, staff: bool) -> dict:
    found = throughput(session, scope)
    if not staff:
        found["operators"] = []
    return found


def partner_view(session: Session, scope: Scope, *, today: dt.date, now: dt.datetime) -> dict:
    """The partner's dashboard: the dashboard without staff names, plus returns and reasons
    per month and the revenue of its delivered orders per month."""
    data = dashboard(session, scope, today=today, now=now, staff=False)
    data["returns_by_month"] = data["return_rate"]["by_month"]
    data["reasons_by_month"] = counted_by_month(session, scope, "reason", [r.value for r in Reason])
    data["revenue_by_month"] = revenue_by_month(session, scope)
    return data


def today_at(session: Session, site_id: int | None, now: dt.datetime) -> dt.date:
    """Today in the site's time zone (the first site's, for all sites together)."""
    query = sa.select(Site.timezone).order_by(Site.id).limit(1)
    if site_id is not None:
        query = sa.select(Site.timezone).where(Site.id == site_id)
    return local_date(now, session.scalar(query) or "Europe/Amsterdam")


# --- everything together: the dashboard's contract ------------------------------------------


def dashboard(
    session: Session, scope: Scope, *, today: dt.date, now: dt.datetime, staff: bool = True
) -> dict:
    """The dashboard as the API answers it (and the screen draws it). Without `staff` (a
    partner looking), operators are not named."""
    waiting = backlog(session, site_id=scope.site_id, partner_id=scope.partner_id)
    risk = refund_due_risk(
        session, site_id=scope.site_id, partner_id=scope.partner_id, today=today, limit=500
    )
    resale_money = money(session, scope)
    refreshed = freshness(session, scope)
    return {
        "scope": {
            "from": scope.first,
            "to": scope.last,
            "site_id": scope.site_id,
            "partner_id": scope.partner_id,
            "category": scope.category.value if scope.category else None,
            "figures_refreshed_at": refreshed.isoformat() if refreshed else None,
        },
        "backlog": {
            row.stage: {"count": row.count, "oldest_hours": row.oldest_hours(now)}
            for row in waiting
        },
        "refund_due_risk": [
            {
                "rma": row.rma,
                "lpn": row.lpn,
                "refund_due_on": row.refund_due_on.isoformat(),
                "stage": row.stage,
            }
            for row in risk
        ],
        "return_rate": return_rates(session, scope),
        "reasons": counted(session, scope, "reason", [r.value for r in Reason]),
        "grades": counted(session, scope, "grade", [g.value for g in Grade]),
        "stage_hours": stage_hours(session, scope),
        "throughput": _throughput_for(session, scope, staff),
        "refund_timeliness": refund_timeliness(session, scope),
        "scorecard": scorecard(session, scope),
        "resale": resale_money["resale"],
        "refunded": resale_money["refunded"],
        "revenue": resale_money["revenue"],
        # For charts drawn in the browser: how many decimals each currency's minor unit has.
        "minor_digits": dict(MINOR_DIGITS),
    }
