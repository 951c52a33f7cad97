"""A partner that takes its own returns receives and grades them in the portal, under the
stations' rules, and they close like the warehouse's; another partner sees none of it."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import csrf_from, login_as, row_counts
from warehouse.db import db
from warehouse.models import (
    Case,
    Destination,
    Event,
    Grade,
    Reason,
    RefundState,
    ReturnRequest,
    ReturnStatus,
    Role,
    Unit,
    UnitStatus,
)

CHECKS = ["accessories_complete", "cleaned", "repackaged"]


def _own_return(quantity=2):
    partner = factories.partner(
        "SELF", destination=Destination.PARTNER, address="Self Returns\nDock 1\nUtrecht"
    )
    shoe = factories.product(partner, sku="SH-1")
    order = factories.order([(shoe, quantity)], delivered_days_ago=3)
    rma = factories.return_request(order, [(order.lines[0], quantity, Reason.CHANGED_MIND)])
    db.session.commit()
    return partner, rma


def test_a_partner_receives_and_grades_its_own_return_which_closes(app, client):
    partner, rma = _own_return()
    login_as(client, factories.user(Role.PARTNER, partner))
    listed = client.get("/portal/receiving").get_data(as_text=True)
    assert rma.rma in listed
    page = client.get(f"/portal/receiving/{rma.rma}").get_data(as_text=True)
    token = csrf_from(page)
    line = rma.lines[0]
    done = client.post(
        f"/portal/receiving/{rma.rma}/receive", data={"csrf_token": token, f"line_{line.id}": "2"}
    )
    assert done.status_code == 303
    units = db.session.query(Unit).filter_by(return_id=rma.id).order_by(Unit.id).all()
    assert [u.status for u in units] == [UnitStatus.RECEIVED, UnitStatus.RECEIVED]
    assert db.session.get(ReturnRequest, rma.id).status == ReturnStatus.RECEIVED
    for unit in units:
        response = client.post(
            f"/portal/receiving/units/{unit.id}/grade",
            data={"csrf_token": token, "rma": rma.rma, "grade": "new", "check": CHECKS},
        )
        assert response.status_code == 303
    db.session.expire_all()
    units = db.session.query(Unit).filter_by(return_id=rma.id).all()
    assert {(u.status, u.disposition, u.refund_state) for u in units} == {
        (UnitStatus.CLOSED, "partner", RefundState.APPROVED)
    }
    assert db.session.get(ReturnRequest, rma.id).status == ReturnStatus.CLOSED


def test_a_used_unit_opens_a_case_the_partner_decides(app, client):
    partner, rma = _own_return(quantity=1)
    partner.approval_mode = "consult"
    db.session.commit()
    login_as(client, factories.user(Role.PARTNER, partner))
    token = csrf_from(client.get(f"/portal/receiving/{rma.rma}").get_data(as_text=True))
    client.post(
        f"/portal/receiving/{rma.rma}/receive",
        data={"csrf_token": token, f"line_{rma.lines[0].id}": "1"},
    )
    unit = db.session.query(Unit).filter_by(return_id=rma.id).one()
    client.post(
        f"/portal/receiving/units/{unit.id}/grade",
        data={"csrf_token": token, "rma": rma.rma, "grade": Grade.USED.value, "check": CHECKS},
    )
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert (unit.status, unit.refund_state) == (UnitStatus.ROUTED, RefundState.OPEN)
    case = db.session.query(Case).filter_by(unit_id=unit.id).one()
    decided = client.post(
        f"/portal/cases/{case.id}", data={"csrf_token": token, "action": "approve"}
    )
    assert decided.status_code in (200, 303)
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).status == UnitStatus.CLOSED


def test_another_partner_and_the_warehouse_path_stay_apart(app, client):
    _partner, rma = _own_return(quantity=1)
    stranger = factories.partner("STRANGER", destination=Destination.PARTNER, address="x")
    login_as(client, factories.user(Role.PARTNER, stranger))
    token = csrf_from(client.get("/portal/receiving").get_data(as_text=True))
    assert rma.rma not in client.get("/portal/receiving").get_data(as_text=True)
    assert client.get(f"/portal/receiving/{rma.rma}").status_code == 404
    before = row_counts(Unit, Event)
    response = client.post(
        f"/portal/receiving/{rma.rma}/receive",
        data={"csrf_token": token, f"line_{rma.lines[0].id}": "1"},
    )
    assert response.status_code in (303, 404)
    assert row_counts(Unit, Event) == before
    warehouse_partner = factories.partner("WH")
    login_as(client, factories.user(Role.PARTNER, warehouse_partner))
    page = client.get("/portal/receiving").get_data(as_text=True)
    assert "go to the marketplace warehouse" in page


def test_a_bad_count_changes_nothing(app, client):
    partner, rma = _own_return(quantity=1)
    login_as(client, factories.user(Role.PARTNER, partner))
    token = csrf_from(client.get(f"/portal/receiving/{rma.rma}").get_data(as_text=True))
    before = row_counts(Unit, Event)
    for value in ("-1", "lots", "0", "101"):
        client.post(
            f"/portal/receiving/{rma.rma}/receive",
            data={"csrf_token": token, f"line_{rma.lines[0].id}": value},
        )
    assert row_counts(Unit, Event) == before


def test_what_the_partner_keeps_stays_out_of_the_warehouse(app, client):
    """A unit received at the partner is not the warehouse's to grade or route."""
    from warehouse import grading, routing
    from warehouse.errors import Conflict

    partner, rma = _own_return(quantity=1)
    login_as(client, factories.user(Role.PARTNER, partner))
    token = csrf_from(client.get(f"/portal/receiving/{rma.rma}").get_data(as_text=True))
    client.post(
        f"/portal/receiving/{rma.rma}/receive",
        data={"csrf_token": token, f"line_{rma.lines[0].id}": "1"},
    )
    unit = db.session.query(Unit).filter_by(return_id=rma.id).one()
    assert unit not in grading.waiting_for_grading(db.session)
    operator = factories.operator_actor()
    with pytest.raises(Conflict, match="keeps and grades it"):
        factories.grade(unit, Grade.NEW)
    with pytest.raises(Conflict, match="stays there"):
        routing.plan(db.session, unit.lpn, operator)
    huge = client.post(
        f"/portal/receiving/{rma.rma}/receive",
        data={"csrf_token": token, "line_" + "9" * 5000: "1" * 5000},
    )
    assert huge.status_code == 303


def test_a_policy_change_moves_no_parcel_already_sent(app, client):
    """The label's destination is kept on the return: switching to 'partner' later does not
    let the partner receive a parcel on its way to the warehouse."""
    partner = factories.partner("LATE")
    shoe = factories.product(partner)
    order = factories.order([(shoe, 1)], delivered_days_ago=3)
    rma = factories.return_request(order)
    partner.destination = Destination.PARTNER
    partner.address = "Somewhere 1"
    db.session.commit()
    login_as(client, factories.user(Role.PARTNER, partner))
    assert rma.rma not in client.get("/portal/receiving").get_data(as_text=True)
    token = csrf_from(client.get("/portal/receiving").get_data(as_text=True))
    before = row_counts(Unit, Event)
    client.post(
        f"/portal/receiving/{rma.rma}/receive",
        data={"csrf_token": token, f"line_{rma.lines[0].id}": "1"},
    )
    assert row_counts(Unit, Event) == before
