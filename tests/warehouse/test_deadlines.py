"""The deadline engine: table tests for each rule, and properties over any dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

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


# --- Property-based tests: the rules hold for every date, month end, leap day and DST change.


WITHDRAWAL = [Reason.CHANGED_MIND, Reason.WRONG_SIZE, Reason.OTHER]
GUARANTEE = [
    Reason.DEFECTIVE,
    Reason.NOT_AS_DESCRIBED,
    Reason.WRONG_ITEM_SENT,
    Reason.DAMAGED_ON_ARRIVAL,
]
SITE_ZONES = ["Europe/Amsterdam", "Europe/London", "Europe/Stockholm", "Europe/Madrid"]
days = st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31))
# Days on which the clocks change in Europe, and leap days: the edges most likely to break.
edges = st.sampled_from(
    [
        D(2026, 3, 29),
        D(2026, 10, 25),
        D(2027, 3, 28),
        D(2027, 10, 31),
        D(2024, 2, 29),
        D(2028, 2, 29),
        D(2026, 1, 31),
        D(2026, 12, 31),
    ]
)
any_day = st.one_of(days, edges)


@given(
    delivered=any_day,
    offset=st.integers(min_value=-5, max_value=800),
    window=st.integers(min_value=14, max_value=90),
    grace=st.integers(min_value=0, max_value=30),
    informed=st.booleans(),
    reason=st.sampled_from(WITHDRAWAL),
)
def test_withdrawal_verdict_follows_the_calendar(
    delivered, offset, window, grace, informed, reason
):
    notice = delivered + dt.timedelta(days=offset)
    result = assess(
        reason=reason,
        delivered_on=delivered,
        notice_on=notice,
        window_days=window,
        grace_days=grace,
        informed=informed,
    )
    end = delivered + dt.timedelta(days=window)
    if not informed:
        end = add_months(end, 12)
    assert result.window_ends_on == end
    if notice <= end:
        assert result.verdict == Verdict.IN_TIME
        assert notice + dt.timedelta(days=result.days_left) == end
        assert result.days_over == 0
    else:
        assert result.verdict == (
            Verdict.GRACE if notice <= end + dt.timedelta(days=grace) else Verdict.OUT_OF_WINDOW
        )
        assert end + dt.timedelta(days=result.days_over) == notice
        assert result.days_left == 0
    assert result.eligible == (result.verdict != Verdict.OUT_OF_WINDOW)


@given(delivered=any_day, window=st.integers(14, 60), grace=st.integers(0, 10))
def test_the_last_day_counts_and_the_next_does_not(delivered, window, grace):
    end = delivered + dt.timedelta(days=window)
    last = assess(
        reason=Reason.CHANGED_MIND,
        delivered_on=delivered,
        notice_on=end,
        window_days=window,
        grace_days=grace,
    )
    after = assess(
        reason=Reason.CHANGED_MIND,
        delivered_on=delivered,
        notice_on=end + dt.timedelta(days=1),
        window_days=window,
        grace_days=grace,
    )
    assert (last.verdict, last.days_left) == (Verdict.IN_TIME, 0)
    assert after.verdict == (Verdict.GRACE if grace else Verdict.OUT_OF_WINDOW)
    assert after.days_over == 1


@given(
    delivered=any_day,
    earlier=st.integers(0, 400),
    later=st.integers(0, 400),
    window=st.integers(14, 60),
    grace=st.integers(0, 10),
)
def test_a_later_notice_is_never_judged_better(delivered, earlier, later, window, grace):
    rank = {Verdict.IN_TIME: 0, Verdict.GRACE: 1, Verdict.OUT_OF_WINDOW: 2}
    first, second = sorted([earlier, later])
    verdicts = [
        assess(
            reason=Reason.WRONG_SIZE,
            delivered_on=delivered,
            notice_on=delivered + dt.timedelta(days=n),
            window_days=window,
            grace_days=grace,
        ).verdict
        for n in (first, second)
    ]
    assert rank[verdicts[0]] <= rank[verdicts[1]]


@given(delivered=any_day, offset=st.integers(0, 1000), reason=st.sampled_from(GUARANTEE))
@example(delivered=D(2024, 2, 29), offset=730, reason=Reason.DEFECTIVE)  # 2026-02-28: last day
@example(delivered=D(2024, 2, 29), offset=731, reason=Reason.DEFECTIVE)
def test_guarantee_lasts_two_calendar_years(delivered, offset, reason):
    notice = delivered + dt.timedelta(days=offset)
    result = assess(reason=reason, delivered_on=delivered, notice_on=notice)
    end = result.guarantee_ends_on
    assert end.year == delivered.year + 2
    assert end.month == delivered.month
    # Same day of the month, or the month's last day when it is shorter (29 Feb → 28 Feb).
    assert end.day == delivered.day or (end + dt.timedelta(days=1)).month != end.month
    if notice <= end:
        assert result.verdict == Verdict.GUARANTEE
        assert notice + dt.timedelta(days=result.days_left) == end
    else:
        assert result.verdict != Verdict.GUARANTEE


@given(day=any_day, months=st.integers(0, 36))
def test_add_months_keeps_the_day_or_clamps_to_month_end(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day <= day.day
    if result.day < day.day:
        assert (result + dt.timedelta(days=1)).day == 1  # clamped to the last day


@given(announced=any_day, received_after=st.one_of(st.none(), st.integers(-3, 60)))
def test_refund_due_is_never_before_either_date(announced, received_after):
    received = None if received_after is None else announced + dt.timedelta(days=received_after)
    due = refund_due_on(announced, received)
    assert due >= announced + dt.timedelta(days=14)
    if received is not None:
        assert due >= received
    assert due in {announced + dt.timedelta(days=14), received}


@given(
    day=any_day,
    at=st.times(),
    zone=st.sampled_from(SITE_ZONES),
)
@example(day=D(2026, 3, 29), at=dt.time(2, 30), zone="Europe/Amsterdam")  # in the spring gap
@example(day=D(2026, 10, 25), at=dt.time(2, 30), zone="Europe/Amsterdam")  # the hour twice
@example(day=D(2026, 10, 25), at=dt.time(23, 59, 59), zone="Europe/London")
def test_a_wall_clock_time_keeps_its_calendar_day(day, at, zone):
    for fold in (0, 1):
        local = dt.datetime.combine(day, at, tzinfo=ZoneInfo(zone)).replace(fold=fold)
        assert local_date(local.astimezone(dt.UTC), zone) == day


@given(
    delivered=st.one_of(edges, days),
    delivered_at=st.times(),
    notice_at=st.times(),
    extra=st.integers(0, 1),
    zone=st.sampled_from(SITE_ZONES),
)
@example(
    delivered=D(2026, 3, 15),
    delivered_at=dt.time(0, 5),
    notice_at=dt.time(23, 55),
    extra=0,
    zone="Europe/Amsterdam",
)
@example(
    delivered=D(2026, 10, 11),
    delivered_at=dt.time(23, 55),
    notice_at=dt.time(0, 5),
    extra=1,
    zone="Europe/Amsterdam",
)
def test_the_window_counts_days_not_hours_across_clock_changes(
    delivered, delivered_at, notice_at, extra, zone
):
    """Delivery and notice are instants; a 14-day window is 14 calendar days in the site's zone
    whatever the hour of either, even when the clocks change in between (23 or 25 hour days)."""
    tz = ZoneInfo(zone)
    delivered_instant = dt.datetime.combine(delivered, delivered_at, tzinfo=tz).astimezone(dt.UTC)
    notice_day = delivered + dt.timedelta(days=14 + extra)
    notice_instant = dt.datetime.combine(notice_day, notice_at, tzinfo=tz).astimezone(dt.UTC)
    result = assess(
        reason=Reason.CHANGED_MIND,
        delivered_on=local_date(delivered_instant, zone),
        notice_on=local_date(notice_instant, zone),
    )
    assert result.verdict == (Verdict.IN_TIME if extra == 0 else Verdict.OUT_OF_WINDOW)
