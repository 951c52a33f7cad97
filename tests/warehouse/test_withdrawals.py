"""The withdrawal function, Directive 2011/83/EU as amended by Directive (EU) 2023/2673: the
notice (Art. 11a), its acknowledgment with date and time (Art. 11a(3)), the clocks it starts
(Art. 13(1) refund, Art. 14(1) goods back) and the withdrawal period it is open for (Art. 9,
Art. 10(1))."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import factories
from tests.helpers import row_counts
from warehouse import deadlines, withdrawals
from warehouse.db import db
from warehouse.errors import InvalidInput
from warehouse.events import Actor
from warehouse.models import Event, Outbox, ReturnRequest, Withdrawal

ACTOR = Actor(label="customer:test")
NOW = dt.datetime(2026, 11, 20, 10, 30, tzinfo=dt.UTC)


def _label(rma: str) -> str:
    return f"http://x/label/{rma}"


def _order(delivered_days_ago: int, *, quantity=2, informed=True, window_days=14):
    seller = factories.partner(window_days=window_days)
    item = factories.product(seller, title="Wool coat")
    order = factories.order(
        [(item, quantity)], delivered_days_ago=None, withdrawal_informed=informed
    )
    order.shipments[0].delivered_at = NOW - dt.timedelta(days=delivered_days_ago)
    db.session.commit()
    return order


def test_a_withdrawal_announces_the_return_and_acknowledges_with_date_and_time(app):
    """Art. 11a(3): the acknowledgment on a durable medium, with content, date and time."""
    order = _order(3)
    row, returns = withdrawals.withdraw(
        db.session,
        order,
        None,
        actor=ACTOR,
        channel="customer_page",
        label_url=_label,
        statement="The coat is too warm",
        now=NOW,
    )
    db.session.commit()
    assert row.notified_on == dt.date(2026, 11, 20)
    [rma] = returns
    assert (rma.withdrawal_id, rma.announced_on, rma.source) == (
        row.id,
        row.notified_on,
        "withdrawal",
    )
    assert rma.lines[0].quantity == 2
    [ack] = factories.mails("withdrawal_ack")
    context = ack.payload["context"]
    assert context["notified_at"] == "2026-11-20 11:30:00 CET"  # the site's local time
    assert context["lines"] == [
        {"product": "Wool coat", "sku": rma.lines[0].order_line.product.sku, "quantity": 2}
    ]
    assert context["goods_back_by"] == "2026-12-04"  # Art. 14(1)
    assert context["refund_by"] == "2026-12-04"  # Art. 13(1)
    assert context["returns"][0]["label_url"] == _label(rma.rma)
    assert factories.mails("return_announced") == []  # one mail, the acknowledgment


@pytest.mark.parametrize(
    ("delivered_days_ago", "informed", "window_days", "open_"),
    [
        (14, True, 14, True),  # Art. 9(2)(b): 14 days from delivery, the last day counts
        (15, True, 14, False),
        (25, True, 30, True),  # a partner may give longer
        (200, False, 14, True),  # Art. 10(1): 12 months more when not informed
        (400, False, 14, False),
    ],
)
def test_the_function_is_open_for_the_whole_withdrawal_period_only(
    app, delivered_days_ago, informed, window_days, open_
):
    """Art. 11a(1): available throughout the withdrawal period (Art. 9, Art. 10(1))."""
    order = _order(delivered_days_ago, informed=informed, window_days=window_days)
    assert bool(withdrawals.withdrawable(db.session, order, now=NOW)) is open_


def test_a_withdrawal_after_the_period_or_for_too_much_is_refused_and_changes_nothing(app):
    """Art. 11a(1): outside the period the function refuses, naming why."""
    late = _order(20)
    fresh = _order(2, quantity=1)
    before = row_counts(Withdrawal, ReturnRequest, Event, Outbox)
    with pytest.raises(InvalidInput, match="withdrawal period is over"):
        withdrawals.withdraw(
            db.session, late, None, actor=ACTOR, channel="x", label_url=_label, now=NOW
        )
    with pytest.raises(InvalidInput, match="1 to 1 units"):
        withdrawals.withdraw(
            db.session,
            fresh,
            {fresh.lines[0].id: 5},
            actor=ACTOR,
            channel="x",
            label_url=_label,
            now=NOW,
        )
    db.session.rollback()
    assert row_counts(Withdrawal, ReturnRequest, Event, Outbox) == before


@settings(max_examples=40, deadline=None)
@given(days_after_notice=st.integers(min_value=0, max_value=60), grace=st.integers(0, 5))
def test_goods_are_late_only_after_14_days_and_the_site_grace(days_after_notice, grace):
    """Art. 14(1): the goods go back within 14 days of the notice (plus the site's grace)."""

    class _Site:
        transit_grace_days = grace

    class _Withdrawal:
        notified_on = dt.date(2026, 11, 20)

    class _Return:
        withdrawal_id = 1
        withdrawal = _Withdrawal()
        site = _Site()

    arrived = dt.date(2026, 11, 20) + dt.timedelta(days=days_after_notice)
    found = withdrawals.goods_back(_Return(), arrived)
    assert found.due_on == dt.date(2026, 12, 4) + dt.timedelta(days=grace)
    assert (found.days_late > 0) is (days_after_notice > 14 + grace)
    assert found.days_late == max(0, days_after_notice - 14 - grace)


_DAYS = st.one_of(st.none(), st.integers(min_value=0, max_value=90))


@settings(max_examples=300, deadline=None)
@given(goods_after=_DAYS, proof_after=_DAYS)
def test_the_refund_waits_only_until_the_goods_or_a_proof_of_dispatch(goods_after, proof_after):
    """Art. 13(1) and 13(3): the refund is due 14 days from the notice; the trader may withhold
    it until the goods are back or the consumer proved they sent them, whichever is first —
    never longer, and the proof never makes it due later than the goods alone would."""
    notice = dt.date(2026, 11, 20)
    goods = notice + dt.timedelta(days=goods_after) if goods_after is not None else None
    proof = notice + dt.timedelta(days=proof_after) if proof_after is not None else None
    due = deadlines.refund_due_on(notice, goods, proof)
    withheld = deadlines.refund_may_be_withheld(goods, proof)
    assert withheld is (goods is None and proof is None)
    assert due >= notice + dt.timedelta(days=14)
    firsts = [day for day in (goods, proof) if day is not None]
    if firsts:
        assert due == max(notice + dt.timedelta(days=14), min(firsts))
    else:
        assert due == notice + dt.timedelta(days=14)
    if goods is not None:
        assert due <= deadlines.refund_due_on(notice, goods)


def test_a_proof_of_dispatch_before_arrival_fixes_the_refund_date_at_receiving(app):
    """Art. 13(3): with the carrier's first scan on day 20 and the goods on day 25, the refund
    is due from day 20, not from the day the goods arrived."""
    from warehouse.announcements import set_return_tracking
    from warehouse.receiving import refund_due_of

    order = _order(3)
    _, returns = withdrawals.withdraw(
        db.session, order, None, actor=ACTOR, channel="customer_page", label_url=_label, now=NOW
    )
    rma = returns[0]
    notice = rma.announced_on
    scanned = dt.datetime.combine(notice + dt.timedelta(days=20), dt.time(9), tzinfo=dt.UTC)
    set_return_tracking(
        db.session, rma.rma, "3SPROOF0001", ACTOR, first_scan_at=scanned, now=scanned
    )
    rma.received_on = notice + dt.timedelta(days=25)
    assert refund_due_of(rma) == notice + dt.timedelta(days=20)
    kinds = [event.kind for event in db.session.query(Event).filter_by(subject_id=rma.id)]
    assert "return.dispatch_proved" in kinds


def test_a_return_sent_with_a_proof_of_dispatch_is_on_the_refund_due_list(app):
    """Art. 13(3): with the carrier's first scan the refund may no longer wait for the goods,
    so the return is on the refund-due list before it arrives."""
    from warehouse import figures
    from warehouse.announcements import set_return_tracking

    order = _order(3)
    order.placed_at = NOW - dt.timedelta(days=10)
    _, returns = withdrawals.withdraw(
        db.session, order, None, actor=ACTOR, channel="customer_page", label_url=_label, now=NOW
    )
    rma = returns[0]
    day = rma.announced_on + dt.timedelta(days=13)
    assert figures.refund_due_risk(db.session, site_id=None, today=day) == []
    scanned = NOW + dt.timedelta(days=1)
    set_return_tracking(
        db.session, rma.rma, "3SPROOF0002", ACTOR, first_scan_at=scanned, now=scanned
    )
    [row] = figures.refund_due_risk(db.session, site_id=None, today=day)
    assert (row.rma, row.stage, row.refund_due_on) == (
        rma.rma,
        "dispatched_not_received",
        rma.announced_on + dt.timedelta(days=14),
    )
