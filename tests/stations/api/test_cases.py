"""Refund cases through the API: decisions by a partner system's token, the return's refund."""

from __future__ import annotations

from tests import factories
from tests.helpers import row_counts
from warehouse.db import db
from warehouse.models import Case, CaseStatus, Event, LedgerEntry, Outbox, Role


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_partner_system_decides_its_case(client):
    case = factories.open_case()
    token = factories.token(Role.PARTNER, case.partner)
    db.session.commit()
    listed = client.get("/api/v1/cases?status=open", headers=auth(token)).get_json()
    assert [c["id"] for c in listed["cases"]] == [case.id]
    response = client.post(
        f"/api/v1/cases/{case.id}/decision",
        headers=auth(token),
        json={"action": "adjust", "amount_minor": 4000, "reason": "box torn"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["status"], body["approved_minor"], body["decided_via"]) == (
        "adjusted",
        4000,
        "api",
    )
    again = client.post(
        f"/api/v1/cases/{case.id}/decision", headers=auth(token), json={"action": "approve"}
    )
    assert again.status_code == 409


def test_another_partners_token_gets_404_and_changes_nothing(client):
    case = factories.open_case()
    other = factories.partner()
    token = factories.token(Role.PARTNER, other)
    db.session.commit()
    before = row_counts(Case, Event, LedgerEntry, Outbox)
    assert client.get(f"/api/v1/cases/{case.id}", headers=auth(token)).status_code == 404
    response = client.post(
        f"/api/v1/cases/{case.id}/decision", headers=auth(token), json={"action": "approve"}
    )
    assert response.status_code == 404
    assert (
        client.get(f"/api/v1/returns/{case.return_request.rma}", headers=auth(token)).status_code
        == 404
    )
    assert client.get("/api/v1/cases", headers=auth(token)).get_json() == {"cases": []}
    assert row_counts(Case, Event, LedgerEntry, Outbox) == before


def test_bad_decisions_are_refused_with_the_field(client):
    case = factories.open_case()
    token = factories.token(Role.PARTNER, case.partner)
    db.session.commit()
    before = row_counts(Case, Event, LedgerEntry, Outbox)
    for body, field, status in (
        ({"action": "adjust", "amount_minor": 5000, "reason": "x"}, "amount", 400),
        ({"action": "adjust", "amount_minor": -1, "reason": "x"}, "amount", 400),
        ({"action": "adjust", "amount_minor": "12.00", "reason": "x"}, "amount_minor", 400),
        ({"action": "adjust", "amount_minor": True, "reason": "x"}, "amount_minor", 400),
        ({"action": "reject"}, "reason", 400),
        ({"action": 3}, "action", 400),
        ({"action": "sure"}, "action", 400),
    ):
        response = client.post(f"/api/v1/cases/{case.id}/decision", headers=auth(token), json=body)
        assert response.status_code == status, body
        assert response.get_json()["field"] == field, body
    assert row_counts(Case, Event, LedgerEntry, Outbox) == before
    assert db.session.get(Case, case.id).status == CaseStatus.OPEN


def test_return_status_shows_the_refund_decision(client):
    case = factories.open_case()
    token = factories.token(Role.PARTNER, case.partner)
    db.session.commit()
    body = client.get(f"/api/v1/returns/{case.return_request.rma}", headers=auth(token)).get_json()
    [unit] = body["units"]
    assert unit["refund"]["state"] == "open"
    assert unit["refund"]["amount_minor"] is None
    assert unit["refund"]["case"]["proposed_minor"] == 4499
    client.post(
        f"/api/v1/cases/{case.id}/decision", headers=auth(token), json={"action": "approve"}
    )
    body = client.get(f"/api/v1/returns/{case.return_request.rma}", headers=auth(token)).get_json()
    refund = body["units"][0]["refund"]
    assert (refund["state"], refund["amount_minor"], refund["currency"]) == (
        "approved",
        4499,
        "EUR",
    )
    assert refund["case"]["status"] == "approved"


def test_operator_tokens_cannot_decide(client):
    case = factories.open_case()
    token = factories.token(Role.OPERATOR)
    db.session.commit()
    response = client.post(
        f"/api/v1/cases/{case.id}/decision", headers=auth(token), json={"action": "approve"}
    )
    assert response.status_code == 403
