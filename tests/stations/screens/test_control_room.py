"""The supervisor's control room on screen: the overview and the lists behind its figures, the
exceptions queue, the look-up with its timeline and on-behalf decisions, the dashboards and
their CSV files; and the partner's own dashboard, which shows nothing of anyone else."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests import factories
from tests.helpers import csrf_from, login_as, row_counts
from warehouse import codes, figures
from warehouse.db import db, utcnow
from warehouse.models import (
    Case,
    CaseStatus,
    Event,
    ExceptionKind,
    ExceptionStatus,
    Outbox,
    ReturnException,
    Role,
    UnitException,
)


@pytest.fixture
def floor(app):
    """Two partners at the test site: A with a unit at risk and an extra unit flagged, B with an
    open case; this month's figures refreshed."""
    a, b = factories.partner("ALPHA"), factories.partner("BRAVO")
    at_risk = factories.received(a)
    at_risk.return_request.refund_due_on = utcnow().date() + dt.timedelta(days=1)
    at_risk.return_request.rma = codes.new_rma()
    extra = factories.received_unit(at_risk.return_line, slot=None, exception=UnitException.EXTRA)
    from warehouse import exceptions
    from warehouse.events import Actor

    flagged = exceptions.flag(
        db.session,
        Actor(label="op@returnyard.test"),
        ExceptionKind.EXTRA_UNIT,
        at_risk.return_request,
        unit=extra,
    )
    case_b = factories.open_case(b)
    figures.refresh_recent(db.session, now=utcnow())
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    return {
        "a": a,
        "b": b,
        "at_risk": at_risk,
        "extra": extra,
        "flagged": flagged,
        "case_b": case_b,
        "supervisor": supervisor,
    }


def test_the_supervisor_lands_on_the_overview_and_each_figure_links_to_its_list(client, floor):
    login_as(client, floor["supervisor"])
    page = client.get("/").get_data(as_text=True)
    assert 'data-figure="backlog-received"' in page
    assert 'href="/overview/units?stage=received"' in page
    assert 'href="/overview/refund-due"' in page
    assert 'href="/exceptions"' in page
    received = client.get("/overview/units?stage=received").get_data(as_text=True)
    assert floor["at_risk"].lpn in received
    risk = client.get("/overview/refund-due").get_data(as_text=True)
    assert floor["at_risk"].lpn in risk
    assert floor["extra"].lpn not in risk  # an extra unit is owed no refund
    assert client.get("/overview/units?stage=lost").status_code == 400
    assert client.get("/overview/units?stage=received&page=99999999999").status_code == 200


def test_an_operator_keeps_the_tiles_and_cannot_open_the_control_room(client, floor):
    login_as(client, factories.user(Role.OPERATOR))
    assert 'data-figure="backlog-received"' not in client.get("/").get_data(as_text=True)
    for url in ("/overview/refund-due", "/exceptions", "/lookup?q=x", "/dashboard"):
        assert client.get(url).status_code == 403, url


def test_the_exceptions_queue_resolves_with_a_reason(client, floor):
    login_as(client, floor["supervisor"])
    listed = client.get("/exceptions").get_data(as_text=True)
    assert floor["extra"].lpn in listed
    assert client.get("/exceptions?kind=lost").status_code == 400
    detail = client.get(f"/exceptions/{floor['flagged'].id}").get_data(as_text=True)
    token = csrf_from(detail)
    before = row_counts(Event, Outbox)
    refused = client.post(
        f"/exceptions/{floor['flagged'].id}/resolve",
        data={"csrf_token": token, "resolution": "accept", "note": ""},
    )
    assert refused.status_code == 400
    assert "say why" in refused.get_data(as_text=True)
    assert row_counts(Event, Outbox) == before
    done = client.post(
        f"/exceptions/{floor['flagged'].id}/resolve",
        data={"csrf_token": token, "resolution": "notify_partner", "note": "not ours to keep"},
    )
    assert done.status_code == 303
    row = db.session.get(ReturnException, floor["flagged"].id)
    db.session.refresh(row)
    assert (row.status, row.note) == (ExceptionStatus.RESOLVED, "not ours to keep")
    assert len(factories.mails("exception_partner")) == 1
    assert client.get("/exceptions/99999999").status_code == 404
    assert client.get("/exceptions/99999999999999").status_code == 404


def test_the_look_up_finds_a_unit_by_each_key_and_shows_its_timeline(client, floor):
    login_as(client, floor["supervisor"])
    unit = floor["at_risk"]
    rma = unit.return_request
    unit.serial_number = "SN-4711"
    db.session.commit()
    for text in (
        rma.rma,
        unit.lpn,
        unit.lpn.lower(),
        rma.order.number,
        rma.shipment.tracking_number,
        "SN-4711",
        rma.order.customer_email,
    ):
        page = client.get("/lookup", query_string={"q": text})
        assert page.status_code == 200, text
        assert unit.lpn in page.get_data(as_text=True), text
    assert client.get("/lookup?q=NOTHING-LIKE-IT").status_code == 404
    assert client.get("/lookup", query_string={"q": "x" * 300}).status_code == 400
    timeline = client.get("/lookup", query_string={"q": floor["extra"].lpn}).get_data(as_text=True)
    assert "exception.opened" in timeline


def test_a_supervisor_decides_a_case_on_the_partners_behalf(client, floor):
    login_as(client, floor["supervisor"])
    case = floor["case_b"]
    page = client.get("/lookup", query_string={"q": case.unit.lpn}).get_data(as_text=True)
    token = csrf_from(page)
    response = client.post(
        f"/lookup/cases/{case.id}/decide", data={"csrf_token": token, "action": "approve"}
    )
    assert response.status_code == 303
    case = db.session.get(Case, case.id)
    db.session.refresh(case)
    assert case.status == CaseStatus.APPROVED
    assert case.decided_via == "supervisor"
    assert case.decided_by == f"{floor['supervisor'].email} for BRAVO"


def test_a_supervisor_escalates_a_case_saying_why(client, floor):
    factories.user(Role.ADMIN)
    login_as(client, floor["supervisor"])
    case = floor["case_b"]
    token = csrf_from(client.get("/lookup", query_string={"q": case.unit.lpn}).get_data(True))
    client.post(f"/lookup/cases/{case.id}/escalate", data={"csrf_token": token, "reason": ""})
    db.session.refresh(case)
    assert case.escalated_at is None  # no reason, no escalation
    client.post(
        f"/lookup/cases/{case.id}/escalate",
        data={"csrf_token": token, "reason": "partner silent for a week"},
    )
    db.session.refresh(case)
    assert case.escalated_at is not None


def test_the_dashboard_draws_from_the_figures_and_offers_every_table_as_csv(client, floor):
    login_as(client, floor["supervisor"])
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'id="dashboard-data"' in page
    assert "ALPHA" in page
    assert "BRAVO" in page
    rates = client.get("/dashboard/return-rate-by-partner.csv")
    assert rates.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(rates.get_data(as_text=True))))
    assert {row["partner"] for row in rows} == {"ALPHA", "BRAVO"}
    assert client.get("/dashboard/nothing.csv").status_code == 404
    assert client.get("/dashboard?from=2026-13").status_code == 400
    assert client.get("/dashboard?partner=NOPE").status_code == 400


def test_a_partner_dashboard_shows_its_own_figures_only(client, floor):
    login_as(client, factories.user(Role.PARTNER, floor["a"]))
    page = client.get("/portal/dashboard?partner=BRAVO").get_data(as_text=True)
    assert "ALPHA" in page
    assert "BRAVO" not in page
    assert floor["case_b"].unit.lpn not in page
    for name in ("return-rate-by-partner", "return-rate-by-product", "reasons", "grades"):
        body = client.get(f"/portal/dashboard/{name}.csv?partner=BRAVO").get_data(as_text=True)
        assert "BRAVO" not in body, name
        assert floor["case_b"].unit.product.sku not in body, name
    assert client.get("/portal/dashboard/operators.csv").status_code == 404
    for url in ("/dashboard", "/exceptions", "/lookup?q=x", "/overview/refund-due"):
        assert client.get(url).status_code == 403, url
