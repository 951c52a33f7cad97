"""Supervisors see open cases soonest-due first, flagged near the refund-due date."""

from __future__ import annotations

import datetime as dt

from tests import factories
from tests.helpers import login_as
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.models import Role

TODAY = local_date(utcnow(), "Europe/Amsterdam")


def test_supervisor_sees_cases_at_risk(client):
    soon, later = factories.open_case(), factories.open_case()
    soon.refund_due_on = TODAY + dt.timedelta(days=1)
    later.refund_due_on = TODAY + dt.timedelta(days=20)
    db.session.commit()
    login_as(client, factories.user(Role.SUPERVISOR))
    html = client.get("/cases").get_data(as_text=True)
    assert "1 due within 3 days or overdue" in html
    assert html.index(f"#{soon.id}") < html.index(f"#{later.id}")
    assert client.get(f"/cases/{soon.id}").status_code == 200
    assert client.get("/cases/99999").status_code == 404


def test_escalate_cases_command(runner):
    case = factories.open_case(consult_escalate_days=1)
    case.opened_at = case.opened_at - dt.timedelta(days=5)
    factories.user(Role.SUPERVISOR)
    db.session.commit()
    result = runner.invoke(args=["escalate-cases"])
    assert result.exit_code == 0, result.output
    assert "reminded 1 case(s), escalated 1 case(s)" in result.output


def test_partners_cannot_open_the_supervisor_screen(client):
    case = factories.open_case()
    login_as(client, factories.user(Role.PARTNER, case.partner))
    assert client.get("/cases").status_code == 403
    assert client.get(f"/cases/{case.id}").status_code == 403


def test_an_overdue_case_is_called_overdue_not_due_soon(client):
    overdue, soon = factories.open_case(), factories.open_case()
    overdue.refund_due_on = TODAY - dt.timedelta(days=2)
    soon.refund_due_on = TODAY + dt.timedelta(days=2)
    db.session.commit()
    login_as(client, factories.user(Role.SUPERVISOR))
    rows = client.get("/cases").get_data(as_text=True).split("<tr")
    overdue_row = next(row for row in rows if f'data-case="{overdue.id}"' in row)
    soon_row = next(row for row in rows if f'data-case="{soon.id}"' in row)
    assert "overdue" in overdue_row
    assert "at risk" not in overdue_row
    assert "at risk" in soon_row
