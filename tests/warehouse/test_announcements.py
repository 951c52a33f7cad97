"""Announcing returns: one RMA per partner shipment, quantities checked, events and mail."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import announcements, codes
from warehouse.announcements import LineRequest
from warehouse.db import db
from warehouse.errors import InvalidInput, NotFound
from warehouse.events import Actor, history
from warehouse.models import Event, Outbox, Reason, ReturnLine, ReturnRequest, ReturnStatus

CUSTOMER = Actor(label="customer")


def _label(rma: str) -> str:
    return f"http://localhost/returns/label/{rma}.pdf"


def _two_partner_order():
    first, second = factories.partner(), factories.partner()
    shoe, tent = factories.product(first), factories.product(second)
    order = factories.order(
        [(shoe, 2), (tent, 1)],
        customer_email="Sam.Customer@Example.org",
        customer_postcode="1011 AB",
    )
    return order, shoe, tent


@pytest.mark.parametrize(
    "secret", ["sam.customer@example.org", " SAM.CUSTOMER@EXAMPLE.ORG ", "1011ab", "1011 AB"]
)
def test_find_order_by_email_or_postcode_ignoring_case_and_spaces(app, secret):
    order, *_ = _two_partner_order()
    assert announcements.find_order(db.session, order.number.lower(), secret) == order


@pytest.mark.parametrize("secret", ["someone@example.org", "1011 AC", ""])
def test_find_order_refuses_without_saying_which_half_was_wrong(app, secret):
    order, *_ = _two_partner_order()
    with pytest.raises(NotFound, match="could not find an order") as refused:
        announcements.find_order(db.session, order.number, secret)
    with pytest.raises(NotFound) as unknown:
        announcements.find_order(db.session, "MP-999999", "sam.customer@example.org")
    assert refused.value.message == unknown.value.message


def test_a_two_partner_order_gets_one_rma_per_shipment_with_events_and_one_mail(app):
    order, shoe, tent = _two_partner_order()
    lines = [
        LineRequest(order.lines[0].id, 2, Reason.WRONG_SIZE, "too small"),
        LineRequest(order.lines[1].id, 1, Reason.DEFECTIVE),
    ]
    done = announcements.announce(
        db.session, order, lines, actor=CUSTOMER, label_url=_label, comment="thanks"
    )
    db.session.commit()
    first, second = done.returns
    assert {first.partner_id, second.partner_id} == {shoe.partner_id, tent.partner_id}
    for rma in done.returns:
        assert codes.rma_status(rma.rma) is True
        assert rma.status == ReturnStatus.ANNOUNCED
        assert rma.site_id == order.country.site_id
        assert rma.customer_comment == "thanks"
        [event] = history(db.session, rma)
        assert event.kind == "return.announced"
        assert event.after == "announced"
    assert first.lines[0].comment == "too small"
    [mail] = db.session.query(Outbox).all()
    assert mail.kind == "send_email"
    assert mail.payload["template"] == "return_announced"
    assert mail.payload["to"] == "Sam.Customer@Example.org"
    assert [r["rma"] for r in mail.payload["context"]["returns"]] == [first.rma, second.rma]
    assert mail.payload["context"]["returns"][0]["label_url"] == _label(first.rma)


def test_quantities_above_ordered_minus_announced_are_refused_and_nothing_written(app):
    order, *_ = _two_partner_order()
    line = order.lines[0]
    announcements.announce(
        db.session, order, [LineRequest(line.id, 1, Reason.OTHER)], actor=CUSTOMER, label_url=_label
    )
    db.session.commit()
    before = row_counts(ReturnRequest, ReturnLine, Event, Outbox)
    with pytest.raises(InvalidInput, match="you ordered 2, 1 already announced; at most 1"):
        announcements.announce(
            db.session,
            order,
            [LineRequest(line.id, 2, Reason.OTHER)],
            actor=CUSTOMER,
            label_url=_label,
        )
    db.session.rollback()
    # The same line twice in one request counts together.
    with pytest.raises(InvalidInput, match="at most 1"):
        announcements.announce(
            db.session,
            order,
            [LineRequest(line.id, 1, Reason.OTHER), LineRequest(line.id, 1, Reason.OTHER)],
            actor=CUSTOMER,
            label_url=_label,
        )
    db.session.rollback()
    assert row_counts(ReturnRequest, ReturnLine, Event, Outbox) == before
    assert announcements.returnable(db.session, order)[line.id] == 1


def test_units_declared_missing_can_be_announced_again(app):
    order, *_ = _two_partner_order()
    line = order.lines[0]
    rma = factories.return_request(order, [(line, 2, Reason.OTHER)])
    rma.lines[0].missing_quantity = 1
    db.session.flush()
    assert announcements.returnable(db.session, order)[line.id] == 1


@pytest.mark.parametrize(("quantity", "message"), [(0, "at least 1"), (-1, "at least 1")])
def test_bad_quantities_are_refused(app, quantity, message):
    order, *_ = _two_partner_order()
    with pytest.raises(InvalidInput, match=message):
        announcements.announce(
            db.session,
            order,
            [LineRequest(order.lines[0].id, quantity, Reason.OTHER)],
            actor=CUSTOMER,
            label_url=_label,
        )


def test_an_undelivered_shipment_cannot_be_announced_yet(app):
    partner = factories.partner()
    order = factories.order([(factories.product(partner), 1)], delivered_days_ago=None)
    with pytest.raises(InvalidInput, match="has not been delivered yet"):
        announcements.announce(
            db.session,
            order,
            [LineRequest(order.lines[0].id, 1, Reason.OTHER)],
            actor=CUSTOMER,
            label_url=_label,
        )
    assert announcements.returnable(db.session, order) == {order.lines[0].id: 0}


def test_a_line_of_another_order_or_partner_is_unknown(app):
    order, shoe, _tent = _two_partner_order()
    other, *_ = _two_partner_order()
    with pytest.raises(NotFound):
        announcements.announce(
            db.session,
            order,
            [LineRequest(other.lines[0].id, 1, Reason.OTHER)],
            actor=CUSTOMER,
            label_url=_label,
        )
    with pytest.raises(NotFound):
        announcements.announce(
            db.session,
            order,
            [LineRequest(order.lines[1].id, 1, Reason.OTHER)],
            actor=CUSTOMER,
            label_url=_label,
            partner_id=shoe.partner_id,
        )


def test_bad_reasons_name_the_choices():
    with pytest.raises(InvalidInput, match="changed_mind, wrong_size"):
        announcements.parse_reason("bored")


def test_return_by_rma_hides_other_partners(app):
    order, shoe, tent = _two_partner_order()
    done = announcements.announce(
        db.session,
        order,
        [LineRequest(order.lines[0].id, 1, Reason.OTHER)],
        actor=CUSTOMER,
        label_url=_label,
    )
    rma = done.returns[0].rma
    assert announcements.return_by_rma(db.session, rma.lower().replace("-", "")).rma == rma
    assert announcements.return_by_rma(db.session, rma, partner_id=shoe.partner_id).rma == rma
    with pytest.raises(NotFound):
        announcements.return_by_rma(db.session, rma, partner_id=tent.partner_id)
