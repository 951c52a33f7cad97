"""The deadline engine: table tests for each rule (issue 4 adds property-based tests)."""

from __future__ import annotations

import datetime as dt

import pytest

from warehouse.deadlines import Verdict, add_months, assess, local_date, refund_due_on
from warehouse.models import Reason

D = dt.date


@pytest.mark.parametrize(
    ("notice", "window", "grace", "verdict", "left", "over"),
    [
        (D(2026, 3, 1), 14, 0, Verdict.IN_TIME, 14, 0),  # same day as delivery
        (D(2026, 3, 15), 14, 0, Verdict.IN_TIME, 0, 0),  # the last day counts in full
        (D(2026, 3, 16), 14, 0, Verdict.OUT_OF_WINDOW, 0, 1),
        (D(2026, 3, 16), 14, 3, Verdict.GRACE, 0, 1),
        (D(2026, 3, 18), 14, 3, Verdict.GRACE, 0, 3),  # last grace day
        (D(2026, 3, 19), 14, 3, Verdict.OUT_OF_WINDOW, 0, 4),
        (D(2026, 3, 31), 30, 0, Verdict.IN_TIME, 0, 0),  # partner extension to 30 days
    ],
)
def test_withdrawal_window(notice, window, grace, verdict, left, over):
    result = assess(
        reason=Reason.CHANGED_MIND,
        delivered_on=D(2026, 3, 1),
        notice_on=notice,
        window_days=window,
        grace_days=grace,
    )
    assert (result.verdict, result.days_left, result.days_over) == (verdict, left, over)


def test_a_partner_cannot_shorten_the_window():
    with pytest.raises(ValueError, match="shorter"):
        assess(
            reason=Reason.WRONG_SIZE,
            delivered_on=D(2026, 1, 1),
            notice_on=D(2026, 1, 2),
            window_days=7,
        )


def test_uninformed_customer_gets_twelve_months_more():
    result = assess(
        reason=Reason.CHANGED_MIND,
        delivered_on=D(2026, 1, 10),
        notice_on=D(2027, 1, 24),
        informed=False,
    )
    assert result.window_ends_on == D(2027, 1, 24)
    assert result.verdict == Verdict.IN_TIME


@pytest.mark.parametrize(
    "reason",
    [Reason.DEFECTIVE, Reason.NOT_AS_DESCRIBED, Reason.WRONG_ITEM_SENT, Reason.DAMAGED_ON_ARRIVAL],
)
def test_guarantee_reasons_are_covered_for_two_years(reason):
    inside = assess(reason=reason, delivered_on=D(2024, 2, 29), notice_on=D(2026, 2, 28))
    outside = assess(reason=reason, delivered_on=D(2024, 2, 29), notice_on=D(2026, 3, 1))
    assert inside.verdict == Verdict.GUARANTEE
    assert inside.eligible
    assert outside.verdict == Verdict.OUT_OF_WINDOW
    assert not outside.eligible


def test_refund_due_is_the_later_of_notice_plus_14_and_receipt():
    assert refund_due_on(D(2026, 5, 1), D(2026, 5, 3)) == D(2026, 5, 15)
    assert refund_due_on(D(2026, 5, 1), D(2026, 5, 20)) == D(2026, 5, 20)
    assert refund_due_on(D(2026, 5, 1), None) == D(2026, 5, 15)


def test_month_arithmetic_clamps_to_month_end():
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)
    assert add_months(D(2026, 11, 30), 3) == D(2027, 2, 28)


def test_local_date_uses_the_site_time_zone():
    late_evening_utc = dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC)
    assert local_date(late_evening_utc, "Europe/Amsterdam") == D(2026, 3, 29)
    assert local_date(late_evening_utc, "Europe/London") == D(2026, 3, 28)


def test_undelivered_shipment_has_not_started_its_window():
    result = assess(reason=Reason.CHANGED_MIND, delivered_on=None, notice_on=D(2026, 4, 1))
    assert result.verdict == Verdict.IN_TIME
    assert result.window_ends_on is None
