"""The partner portal: own data only (404 for every id of another partner), filters, case
decisions, the policy form and the monthly statement."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests import factories
from tests.helpers import csrf_from, login_as, row_counts
from warehouse import photos
from warehouse.db import db
from warehouse.events import Actor
from warehouse.models import Case, CaseStatus, Event, LedgerEntry, Outbox, Partner, Role


@pytest.fixture
def two_partners(app, session_tmp):
    """Partner A with an open case (and a photo), partner B with its own; B's user logs in."""
    a, b = factories.partner(name="Alpha"), factories.partner(name="Bravo")
    case_a, case_b = factories.open_case(a), factories.open_case(b)
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50), "red").save(buffer, "PNG")
    photo_a = photos.store_photo(
        db.session,
        Actor(),
        case_a.unit,
        buffer.getvalue(),
        directory=session_tmp / "instance" / "photos",
    )
    db.session.commit()
    return {"a": a, "b": b, "case_a": case_a, "case_b": case_b, "photo_a": photo_a}


def test_partner_b_gets_404_for_every_id_of_partner_a(client, two_partners):
    data = two_partners
    login_as(client, factories.user(Role.PARTNER, data["b"]))
    case_a, unit_a = data["case_a"], data["case_a"].unit
    for url in (
        f"/portal/cases/{case_a.id}",
        f"/portal/units/{unit_a.id}",
        f"/portal/returns/{case_a.return_request.rma}",
        f"/photos/{data['photo_a'].id}",
        f"/photos/{data['photo_a'].id}/thumb",
    ):
        assert client.get(url).status_code == 404, url
    before = row_counts(Case, Event, LedgerEntry, Outbox)
    page = client.get(f"/portal/cases/{data['case_b'].id}").get_data(as_text=True)
    response = client.post(
        f"/portal/cases/{case_a.id}", data={"action": "approve", "csrf_token": csrf_from(page)}
    )
    assert response.status_code == 404
    assert row_counts(Case, Event, LedgerEntry, Outbox) == before
    # Lists show only B's own records.
    for url in ("/portal/cases", "/portal/units", "/portal/returns"):
        html = client.get(url).get_data(as_text=True)
        assert unit_a.lpn not in html, url
        assert case_a.return_request.rma not in html, url
        assert data["case_b"].return_request.rma in html, url


def test_partner_a_sees_and_decides_its_own_case(client, two_partners):
    data = two_partners
    login_as(client, factories.user(Role.PARTNER, data["a"]))
    case = data["case_a"]
    page = client.get(f"/portal/cases/{case.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/photos/{data['photo_a'].id}/thumb" in html
    assert client.get(f"/photos/{data['photo_a'].id}").status_code == 200
    response = client.post(
        f"/portal/cases/{case.id}",
        data={"action": "adjust", "amount": "99.00", "reason": "x", "csrf_token": csrf_from(html)},
    )
    assert response.status_code == 400
    assert "cannot be more than the price paid" in response.get_data(as_text=True)
    response = client.post(
        f"/portal/cases/{case.id}",
        data={
            "action": "adjust",
            "amount": "40.00",
            "reason": "box dented",
            "csrf_token": csrf_from(html),
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.status, case.approved_minor, case.decided_via) == (
        CaseStatus.ADJUSTED,
        4000,
        "portal",
    )
    again = client.post(
        f"/portal/cases/{case.id}", data={"action": "approve", "csrf_token": csrf_from(html)}
    )
    assert again.status_code == 409
    statement = client.get("/portal/statement").get_data(as_text=True)
    assert "€40.00" in statement
    assert "€4.00" in statement


def test_staff_and_other_roles_cannot_open_the_portal(client, app):
    login_as(client, factories.user(Role.OPERATOR))
    assert client.get("/portal/cases").status_code == 403


def test_unit_filters(client, app):
    partner = factories.partner()
    used = factories.open_case(partner)
    fresh = factories.received(partner)
    db.session.commit()
    login_as(client, factories.user(Role.PARTNER, partner))
    html = client.get("/portal/units?grade=used").get_data(as_text=True)
    assert used.unit.lpn in html
    assert fresh.lpn not in html
    html = client.get("/portal/units?stage=received").get_data(as_text=True)
    assert fresh.lpn in html
    assert used.unit.lpn not in html
    html = client.get("/portal/units?reason=defective").get_data(as_text=True)
    assert fresh.lpn not in html
    assert used.unit.lpn not in html
    html = client.get("/portal/units?grade=mint&from=yesterday").get_data(as_text=True)
    assert "“mint” is not a grade" in html
    assert "“yesterday” is not a date" in html
    assert fresh.lpn in html  # a bad filter is ignored, with a message
    html = client.get("/portal/cases?status=open").get_data(as_text=True)
    assert f"#{used.id}" in html


def test_policy_form_saves_valid_values_and_explains_bad_ones(client, app):
    partner = factories.partner()
    login_as(client, factories.user(Role.PARTNER, partner))
    page = client.get("/portal/policy").get_data(as_text=True)
    assert 'name="window_days" inputmode="numeric" value="14"' in page
    form = {
        "csrf_token": csrf_from(page),
        "window_days": "10",
        "grace_days": "-1",
        "consult_escalate_days": "3",
        "approval_mode": "auto",
        "out_of_window": "consult",
        "rejected_returns": "send_back",
        "defective_handling": "destroy",
        "destination": "warehouse",
        "deduction_used": "150",
        "deduction_light_damage": "30",
        "deduction_heavy_damage": "50",
        "deduction_missing_parts": "",
    }
    response = client.post("/portal/policy", data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "cannot be shorter than the legal 14 days" in html
    assert "Grace must be a whole number of days" in html
    assert "between 0 and 100 %" in html
    db.session.expire_all()
    assert db.session.get(Partner, partner.id).window_days == 14
    form.update(window_days="30", grace_days="2", deduction_used="10")
    assert client.post("/portal/policy", data=form).status_code == 303
    db.session.expire_all()
    saved = db.session.get(Partner, partner.id)
    assert (saved.window_days, saved.grace_days, saved.refund_deduction_bp["used"]) == (30, 2, 1000)


def test_statement_month_parameter(client, app):
    partner = factories.partner()
    login_as(client, factories.user(Role.PARTNER, partner))
    assert "Statement 2026-02" in client.get("/portal/statement?month=2026-02").get_data(
        as_text=True
    )
    assert "is not a month" in client.get("/portal/statement?month=2026-13").get_data(as_text=True)
    overflow = client.get("/portal/statement?month=99999999999999999999-1")
    assert overflow.status_code == 200  # this month's statement, saying what was wrong
    assert "is not a month" in overflow.get_data(as_text=True)
