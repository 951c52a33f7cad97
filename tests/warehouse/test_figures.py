"""Figures: the live overview and the monthly roll-up, checked against counts made by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from warehouse import figures
from warehouse.db import db, utcnow
from warehouse.errors import InvalidInput
from warehouse.models import (
    Case,
    CaseStatus,
    Category,
    Event,
    Figure,
    Grade,
    Listing,
    Reason,
    RefundState,
    Role,
    UnitStatus,
)

UTC = dt.UTC


def at(day: int, hour: int = 12, month: int = 10) -> dt.datetime:
    """A moment of 2026 in UTC (Amsterdam is UTC+2 until 25 October, UTC+1 after)."""
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


def sold(product, quantity=1, *, delivered: dt.datetime):
    order = factories.order([(product, quantity)])
    order.shipments[0].delivered_at = delivered
    return order


def returned(
    order, reason, *, received: dt.datetime, graded: dt.datetime | None = None, grade=None
):
    rma = factories.return_request(order, [(order.lines[0], 1, reason)])
    rma.announced_at = received - dt.timedelta(days=2)
    unit = factories.received_unit(rma.lines[0], received_at=received)
    if graded is not None:
        unit.status = UnitStatus.GRADED
        unit.graded_at = graded
        unit.grade = grade
    return unit


def _case(unit, *, opened, decided, via):
    return Case(
        unit=unit,
        partner_id=unit.partner_id,
        return_id=unit.return_id,
        status=CaseStatus.APPROVED,
        grounds=["test"],
        currency="EUR",
        original_minor=unit.return_line.order_line.unit_price_minor,
        proposed_minor=unit.return_line.order_line.unit_price_minor,
        refund_due_on=dt.date(2026, 10, 30),
        opened_at=opened,
        decided_at=decided,
        decided_via=via,
    )


@pytest.fixture
def october(app):
    """Two partners' October 2026 at the test site, small enough to count by hand.

    - PA sells 5 fashion units (EUR 49.99 each, 3 orders of 1 and one of 2); two come back:
      not as described (graded used 3 h after arrival), changed mind (graded new after 24 h).
      One extra unit arrives in a parcel too: it is no return and counts nowhere.
    - PB sells 2 electronics units (EUR 100.00); one comes back defective, graded after 72 h.
    """
    site = factories.site()
    pa = factories.partner("PA")
    pb = factories.partner("PB")
    shirt = factories.product(pa, prices={"EUR": 4999})
    radio = factories.product(pb, category=Category.ELECTRONICS, prices={"EUR": 10000})
    pa_orders = [sold(shirt, delivered=at(2)) for _ in range(3)]
    pa_orders.append(sold(shirt, 2, delivered=at(3)))
    pb_orders = [sold(radio, delivered=at(4)) for _ in range(2)]
    first = returned(
        pa_orders[0], Reason.NOT_AS_DESCRIBED, received=at(8, 8), graded=at(8, 11), grade=Grade.USED
    )
    second = returned(
        pa_orders[1], Reason.CHANGED_MIND, received=at(9, 8), graded=at(10, 8), grade=Grade.NEW
    )
    extra = factories.received_unit(
        first.return_line, slot=2, received_at=at(8, 8), return_line_id=None, exception="extra"
    )
    extra.return_line = None
    radio_back = returned(
        pb_orders[0], Reason.DEFECTIVE, received=at(12, 9), graded=at(15, 9), grade=Grade.DEFECTIVE
    )
    # Refunds: the changed-mind unit decided in time, the defective one after its due date.
    second.refund_state, second.refund_minor = RefundState.APPROVED, 4999
    second.refund_decided_at = at(10, 9)
    second.return_request.refund_due_on = dt.date(2026, 10, 20)
    radio_back.refund_state, radio_back.refund_minor = RefundState.APPROVED, 10000
    radio_back.refund_decided_at = at(20, 9)
    radio_back.return_request.refund_due_on = dt.date(2026, 10, 18)
    # PA answered its case in 5 h (within its escalation time), PB's was escalated.
    case = _case(first, opened=at(8, 11), decided=at(8, 16), via="portal")
    late = _case(radio_back, opened=at(15, 9), decided=at(20, 9), via="supervisor")
    late.escalated_at = at(19, 9)
    db.session.add_all([case, late])
    # The grading station's events: two scans by one operator in one local hour (13:00 CEST).
    operator = factories.user(Role.OPERATOR)
    for unit, minute in ((first, 5), (second, 40)):
        db.session.add(
            Event(
                kind="unit.graded",
                at=at(8, 11) + dt.timedelta(minutes=minute),
                actor_id=operator.id,
                actor_label=operator.email,
                station="grade",
                subject_type="unit",
                subject_id=unit.id,
                site_id=site.id,
                partner_id=pa.id,
            )
        )
    db.session.add(
        Listing(
            unit=second,
            partner_id=pa.id,
            channel="ebay",
            title="Shirt",
            condition_id=3000,
            condition_description="worn once",
            original_minor=4999,
            discount_bp=1000,
            price_minor=4499,
            currency="EUR",
            created_at=at(11),
            sold_at=at(14),
            sold_minor=4299,
        )
    )
    db.session.commit()
    figures.refresh_month(db.session, site, "2026-10", now=at(31))
    db.session.commit()
    return {"site": site, "pa": pa, "pb": pb, "operator": operator, "shirt": shirt}


def scope(data, **fields):
    return figures.Scope("2026-10", "2026-10", site_id=data["site"].id, **fields)


def test_return_rates_divide_returned_by_sold_units(october):
    rates = figures.return_rates(db.session, scope(october))
    by_partner = {row["key"]: row for row in rates["by_partner"]}
    assert by_partner["PA"] == {
        "key": "PA",
        "partner_id": october["pa"].id,
        "sold": 5,
        "returned": 2,
        "rate": 0.4,
    }
    assert (by_partner["PB"]["sold"], by_partner["PB"]["returned"], by_partner["PB"]["rate"]) == (
        2,
        1,
        0.5,
    )
    by_category = {row["key"]: row["rate"] for row in rates["by_category"]}
    assert by_category == {"fashion": 0.4, "electronics": 0.5}
    assert rates["by_month"] == [{"key": "2026-10", "sold": 7, "returned": 3, "rate": 0.4286}]


def test_reasons_and_grades_are_counted_once_per_returned_unit(october):
    reasons = {
        row["key"]: row["count"]
        for row in figures.counted(db.session, scope(october), "reason", [r.value for r in Reason])
    }
    assert reasons["not_as_described"] == reasons["changed_mind"] == reasons["defective"] == 1
    assert sum(reasons.values()) == 3  # the extra unit is no return
    grades = {
        row["key"]: row["share"]
        for row in figures.counted(db.session, scope(october), "grade", [g.value for g in Grade])
    }
    assert (grades["new"], grades["used"], grades["defective"]) == (0.3333, 0.3333, 0.3333)


def test_stage_hours_are_nearest_rank_percentiles(october):
    hours = figures.stage_hours(db.session, scope(october))
    # grading took 3 h, 24 h and 72 h: p50 is the second, p90 the third
    assert hours["grading"]["count"] == 3
    assert (hours["grading"]["p50"], hours["grading"]["p90"]) == (24, 72)
    assert hours["transit"]["p50"] == 48  # announced two days before arrival


def test_percentiles_and_buckets_by_hand():
    assert figures.bucket(59 * 60) == 0
    assert figures.bucket(47.9 * 3600) == 47
    assert figures.bucket(50 * 3600) == 48  # whole days from two days on
    assert figures.bucket(100 * 86400) == figures.HOUR_CAP
    histogram = {1: 4, 5: 5, 30: 1}  # ten values
    assert figures.percentile(histogram, 0.5) == 5  # rank 5
    assert figures.percentile(histogram, 0.4) == 1  # rank 4
    assert figures.percentile(histogram, 0.9) == 5  # rank 9
    assert figures.percentile(histogram, 0.95) == 30  # rank 10
    assert figures.percentile({}, 0.5) is None


def test_refund_timeliness_and_money(october):
    assert figures.refund_timeliness(db.session, scope(october)) == [
        {"month": "2026-10", "on_time": 1, "late": 1}
    ]
    money = figures.money(db.session, scope(october))
    assert money["refunded"] == {"EUR": 14999}
    assert money["revenue"] == {"EUR": 5 * 4999 + 2 * 10000}
    assert money["resale"] == {
        "EUR": {"listed_count": 1, "listed_minor": 4499, "sold_count": 1, "sold_minor": 4299}
    }


def test_scorecard_per_partner_and_for_the_marketplace(october):
    card = figures.scorecard(db.session, scope(october))
    by_code = {row["partner"]: row for row in card["partners"]}
    assert by_code["PA"]["return_rate"] == 0.4
    assert by_code["PA"]["not_as_described_rate"] == 0.5
    assert by_code["PA"]["consult_response_hours_p50"] == 5
    assert by_code["PA"]["within_sla_share"] == 1.0
    assert by_code["PB"]["defective_rate"] == 1.0
    assert by_code["PB"]["cases_answered"] == 0  # decided by a supervisor, not by PB
    assert by_code["PB"]["cases_escalated"] == 1
    assert by_code["PB"]["refunds_late"] == 1
    assert card["marketplace"]["return_rate"] == 0.4286
    assert card["marketplace"]["sold"] == 7


def test_throughput_per_station_hour_and_operator(october):
    found = figures.throughput(db.session, scope(october))
    assert found["per_hour"] == [{"station": "grade", "hour": 13, "count": 2}]  # local time
    [operator] = found["operators"]
    assert (operator["units"], operator["hours"], operator["per_hour"]) == (2, 1, 2.0)
    assert operator["operator"] == october["operator"].email


def test_a_partner_scope_sees_only_its_own_figures(october):
    mine = scope(october, partner_id=october["pa"].id)
    rates = figures.return_rates(db.session, mine)
    assert [row["key"] for row in rates["by_partner"]] == ["PA"]
    assert rates["by_month"][0]["sold"] == 5
    assert figures.money(db.session, mine)["revenue"] == {"EUR": 5 * 4999}
    view = figures.partner_view(db.session, mine, today=dt.date(2026, 10, 31), now=at(31))
    assert [row["partner"] for row in view["scorecard"]["partners"]] == ["PA"]
    assert view["throughput"]["operators"] == []  # staff names are not a partner's business
    assert [row["key"] for row in view["return_rate"]["by_product"]] == [october["shirt"].sku]
    assert view["refunded"] == {"EUR": 4999}


def test_refreshing_a_month_again_replaces_it(october):
    rows = db.session.query(Figure).filter_by(month="2026-10").count()
    figures.refresh_month(db.session, october["site"], "2026-10", now=at(31))
    db.session.commit()
    assert db.session.query(Figure).filter_by(month="2026-10").count() == rows
    assert figures.freshness(db.session, scope(october)) == at(31)


def test_the_scope_refuses_bad_periods_and_categories(app):
    today = dt.date(2026, 12, 1)
    assert figures.Scope.parse(today=today).first == "2026-01"
    with pytest.raises(InvalidInput, match="not a month"):
        figures.Scope.parse(today=today, first="2026-13")
    with pytest.raises(InvalidInput, match="starts after it ends"):
        figures.Scope.parse(today=today, first="2026-11", last="2026-10")
    with pytest.raises(InvalidInput, match="at most 60 months"):
        figures.Scope.parse(today=today, first="2010-01")
    with pytest.raises(InvalidInput, match="not a category"):
        figures.Scope.parse(today=today, category="cars")


# --- live figures ------------------------------------------------------------------------------


def test_backlog_counts_each_stage_with_its_oldest(app):
    seller = factories.partner()
    item = factories.product(seller)
    waiting = factories.return_request(factories.order([(item, 1)]))
    older = factories.received(seller)
    older.received_at = utcnow() - dt.timedelta(hours=30)
    factories.received(seller)
    db.session.commit()
    rows = {row.stage: row for row in figures.backlog(db.session, site_id=waiting.site_id)}
    assert rows["announced"].count == 1
    assert rows["received"].count == 2
    assert rows["received"].oldest_hours(utcnow()) == 30
    assert rows["graded"].count == rows["routed"].count == rows["cases"].count == 0
    listed, total = figures.backlog_units(db.session, "received", site_id=waiting.site_id)
    assert total == 2
    assert listed[0].id == older.id
    with pytest.raises(InvalidInput, match="not a stage"):
        figures.backlog_units(db.session, "lost", site_id=waiting.site_id)
    other = factories.partner()
    assert figures.backlog(db.session, site_id=waiting.site_id, partner_id=other.id)[1].count == 0


def test_refund_due_risk_includes_ungraded_units_and_open_cases(app):
    today = utcnow().date()
    ungraded = factories.received()
    ungraded.return_request.refund_due_on = today + dt.timedelta(days=2)
    later = factories.received()
    later.return_request.refund_due_on = today + dt.timedelta(days=10)
    case = factories.open_case()
    case.unit.return_request.refund_due_on = today - dt.timedelta(days=1)
    decided = factories.received()
    decided.return_request.refund_due_on = today
    decided.refund_state = RefundState.APPROVED
    db.session.commit()
    rows = figures.refund_due_risk(db.session, site_id=ungraded.site_id, today=today)
    assert [(row.lpn, row.stage) for row in rows] == [
        (case.unit.lpn, "case_open"),
        (ungraded.lpn, "received_not_graded"),
    ]


def test_refund_due_risk_reads_the_due_returns_in_chunks_and_keeps_the_order(app, monkeypatch):
    """Read a few returns at a time, the list is the same: every undecided unit of a received
    return due by then, soonest first and by unit within a day, the limit taken after sorting;
    returns not due yet and units already decided stay off it."""
    today = utcnow().date()
    units = []
    for days in (2, -5, 0, 2, 9, -5, 1):
        unit = factories.received()
        unit.return_request.refund_due_on = today + dt.timedelta(days=days)
        units.append(unit)
    units[3].refund_state = RefundState.REJECTED  # decided: off the list although due
    db.session.commit()
    site_id = units[0].site_id
    expected = sorted(
        (
            (unit.return_request.refund_due_on, unit.id)
            for unit in units
            if unit is not units[3] and unit.return_request.refund_due_on <= today + dt.timedelta(3)
        ),
    )
    whole = figures.refund_due_risk(db.session, site_id=site_id, today=today)
    assert [(row.refund_due_on, row.unit_id) for row in whole] == expected
    monkeypatch.setattr(figures, "RISK_CHUNK", 2)
    chunked = figures.refund_due_risk(db.session, site_id=site_id, today=today)
    assert chunked == whole
    first = figures.refund_due_risk(db.session, site_id=site_id, today=today, limit=3)
    assert first == whole[:3]
    assert figures.refund_due_risk(db.session, site_id=site_id + 1, today=today) == []


def test_return_rates_by_product_are_the_50_most_returned_over_the_period(app):
    """Summed over the period's months, most returned first, then most sold, then by id;
    cells of other months, other sites and the sums over products are left out."""
    site, elsewhere = factories.site(), factories.site("TIL")
    partner = factories.partner()
    products = [factories.product(partner) for _ in range(55)]  # the cut falls in a tie
    db.session.flush()

    def cell(month, where, metric, count, product_id):
        db.session.add(
            Figure(
                month=month,
                site_id=where.id,
                partner_id=partner.id,
                category="fashion",
                product_id=product_id,
                metric=metric,
                count=count,
            )
        )

    expected = {}
    for n, product in enumerate(products):
        # ties on returned units (1 + n // 3), broken by sold units, then by id
        returned_units, sold_units = 1 + n // 3, 10 + n % 2
        expected[product.id] = (sold_units, returned_units)
        for month, back, out in (("2026-09", 1, 0), ("2026-10", returned_units - 1, sold_units)):
            cell(month, site, "returned", back, product.id)
            cell(month, site, "sold", out, product.id)
        for month, where in (("2026-08", site), ("2026-10", elsewhere)):  # outside the scope
            cell(month, where, "returned", 1000 - n, product.id)
    cell("2026-10", site, "returned", 900, None)  # a category's sum over products: not one
    db.session.flush()
    rates = figures.return_rates(db.session, figures.Scope("2026-09", "2026-10", site_id=site.id))
    ranked = sorted(expected, key=lambda id_: (-expected[id_][1], -expected[id_][0], id_))[:50]
    skus = {p.id: p.sku for p in products}
    assert [row["key"] for row in rates["by_product"]] == [skus[id_] for id_ in ranked]
    first = rates["by_product"][0]
    assert (first["sold"], first["returned"]) == expected[ranked[0]]
    assert first["rate"] == round(expected[ranked[0]][1] / expected[ranked[0]][0], 4)
