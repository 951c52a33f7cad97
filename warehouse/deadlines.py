"""Return deadlines and eligibility (SPEC section 4): pure functions, no database, no Flask.

Days are calendar dates in the site's time zone, and the last day of a period counts in full.
Periods in months or years end on the same day-of-month, or on the last day of the month when
that month is shorter (31 January + 1 month = 28/29 February), as EU Regulation 1182/71 counts.
Not modelled: moving a deadline off a weekend or public holiday.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from warehouse.guarantees import EU_FLOOR, GuaranteeRule
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import GUARANTEE_REASONS, Reason

WITHDRAWAL_DAYS = 14
REFUND_DAYS = 14
UNINFORMED_EXTENSION_MONTHS = 12


class Verdict(enum.StrEnum):
    """Where a return stands against its deadlines (SPEC 4)."""

    IN_TIME = "in_time"
    GRACE = "grace"
    OUT_OF_WINDOW = "out_of_window"
    GUARANTEE = "guarantee"


VERDICT_LABELS = {
    Verdict.IN_TIME: _l("In time"),
    Verdict.GRACE: _l("Late, within grace"),
    Verdict.OUT_OF_WINDOW: _l("Out of window"),
    Verdict.GUARANTEE: _l("Legal guarantee"),
}


@dataclass(frozen=True)
class Assessment:
    """The deadline verdict for one return line, with the dates that explain it."""

    verdict: Verdict
    notice_on: dt.date
    delivered_on: dt.date | None
    window_ends_on: dt.date | None
    grace_ends_on: dt.date | None
    guarantee_ends_on: dt.date | None
    days_left: int | None  # days from notice to the end of the applicable period (>= 0)
    days_over: int  # days past the window end (0 when in time or under guarantee)
    refund_due_on: dt.date
    # The guarantee that applied (the order's country's), and until when a defect is presumed
    # to have been there at delivery (the seller must prove otherwise).
    guarantee_source: str = ""
    presumption_ends_on: dt.date | None = None

    @property
    def eligible(self) -> bool:
        """In time, in grace, or covered by the guarantee: no policy decision needed."""
        return self.verdict != Verdict.OUT_OF_WINDOW

    @property
    def label(self) -> str:
        """The verdict in words, for the receiving card."""
        return VERDICT_LABELS[self.verdict]

    @property
    def colour(self) -> str:
        """green, amber or red, as the receiving card shows it."""
        return {"in_time": "green", "guarantee": "green", "grace": "amber"}.get(self.verdict, "red")


def local_date(instant: dt.datetime, timezone: str) -> dt.date:
    """The calendar date of an instant in the site's time zone."""
    if instant.tzinfo is None:
        raise ValueError("local_date needs a timezone-aware instant")
    return instant.astimezone(ZoneInfo(timezone)).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day-of-month `months` later, clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def refund_due_on(
    announced_on: dt.date, received_on: dt.date | None, dispatch_proof_on: dt.date | None = None
) -> dt.date:
    """The day the refund is due: 14 days from the notice (Directive 2011/83/EU Art. 13(1)),
    later only while the refund may be withheld, i.e. until the goods are back or the customer
    proved they sent them, whichever comes first (Art. 13(3))."""
    due = announced_on + dt.timedelta(days=REFUND_DAYS)
    back = [day for day in (received_on, dispatch_proof_on) if day is not None]
    return max(due, min(back)) if back else due


def refund_may_be_withheld(received_on: dt.date | None, dispatch_proof_on: dt.date | None) -> bool:
    """Whether the trader may still hold the refund back: neither the goods nor a proof of their
    dispatch (a carrier's first scan) has arrived (Directive 2011/83/EU Art. 13(3))."""
    return received_on is None and dispatch_proof_on is None


def assess(
    *,
    reason: Reason,
    delivered_on: dt.date | None,
    notice_on: dt.date,
    received_on: dt.date | None = None,
    announced_on: dt.date | None = None,
    window_days: int = WITHDRAWAL_DAYS,
    grace_days: int = 0,
    informed: bool = True,
    guarantee: GuaranteeRule = EU_FLOOR,
    extended_months: int = 0,
    dispatch_proof_on: dt.date | None = None,
) -> Assessment:
    """Judge one return: `notice_on` is the day the customer told us (announcement, or the day
    an unannounced parcel arrived); windows run from the delivery date of the shipment.

    A partner may lengthen the 14-day window, never shorten it. A customer never told of the
    right of withdrawal gets 12 months more. Guarantee reasons are covered for the order's
    country's guarantee (`warehouse.guarantees`; 2 years at least), plus `extended_months`
    after a repair (Directive (EU) 2019/771 Art. 10(1a)).
    """
    if window_days < WITHDRAWAL_DAYS:
        raise ValueError(f"a return window cannot be shorter than {WITHDRAWAL_DAYS} days")
    if grace_days < 0:
        raise ValueError("grace days cannot be negative")
    if extended_months < 0:
        raise ValueError("a guarantee extension cannot be negative")
    due = refund_due_on(announced_on or notice_on, received_on, dispatch_proof_on)

    if delivered_on is None:
        # The carrier has not confirmed delivery: no period has started running yet.
        verdict = Verdict.GUARANTEE if reason in GUARANTEE_REASONS else Verdict.IN_TIME
        return Assessment(verdict, notice_on, None, None, None, None, None, 0, due)

    window_end = delivered_on + dt.timedelta(days=window_days)
    if not informed:
        window_end = add_months(window_end, UNINFORMED_EXTENSION_MONTHS)
    grace_end = window_end + dt.timedelta(days=grace_days)
    guarantee_end = add_months(delivered_on, 12 * guarantee.years + extended_months)
    presumption_end = add_months(delivered_on, round(12 * guarantee.presumption_years))

    if reason in GUARANTEE_REASONS and notice_on <= guarantee_end:
        verdict, days_left, days_over = Verdict.GUARANTEE, (guarantee_end - notice_on).days, 0
    elif notice_on <= window_end:
        verdict, days_left, days_over = Verdict.IN_TIME, (window_end - notice_on).days, 0
    elif notice_on <= grace_end:
        verdict, days_left, days_over = Verdict.GRACE, 0, (notice_on - window_end).days
    else:
        verdict, days_left, days_over = Verdict.OUT_OF_WINDOW, 0, (notice_on - window_end).days
    return Assessment(
        verdict=verdict,
        notice_on=notice_on,
        delivered_on=delivered_on,
        window_ends_on=window_end,
        grace_ends_on=grace_end,
        guarantee_ends_on=guarantee_end,
        days_left=days_left,
        days_over=days_over,
        refund_due_on=due,
        guarantee_source=guarantee.source,
        presumption_ends_on=presumption_end,
    )
