"""The supervisor's Monday morning in a real browser: the overview, the refund-due list behind
its figure, an exception resolved, an LPN scanned into the look-up, the dashboard's charts; and
a partner's dashboard with its own figures only."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.browser.conftest import browser_login
from warehouse import codes, exceptions, figures
from warehouse.db import db, utcnow
from warehouse.events import Actor
from warehouse.models import ExceptionKind, ExceptionStatus, ReturnException, Role, UnitException

pytestmark = [pytest.mark.browser, pytest.mark.commits]


@pytest.fixture
def floor(app):
    alpha, bravo = factories.partner("ALPHA"), factories.partner("BRAVO")
    late = factories.received(alpha)
    late.return_request.rma = codes.new_rma()
    late.return_request.refund_due_on = utcnow().date() + dt.timedelta(days=1)
    extra = factories.received_unit(late.return_line, slot=None, exception=UnitException.EXTRA)
    flagged = exceptions.flag(
        db.session,
        Actor(label="op@returnyard.test"),
        ExceptionKind.EXTRA_UNIT,
        late.return_request,
        unit=extra,
    )
    theirs = factories.open_case(bravo)
    figures.refresh_recent(db.session, now=utcnow())
    db.session.commit()
    return {
        "alpha": alpha,
        "late": late,
        "flagged": flagged,
        "theirs": theirs,
        "supervisor": factories.user(Role.SUPERVISOR),
    }


def test_the_supervisor_works_through_the_control_room(page, floor, output_dir):
    browser_login(page, floor["supervisor"])
    assert page.locator("h1").inner_text().startswith("Hello")
    page.screenshot(path=str(output_dir / "overview.png"), full_page=True)
    assert page.locator("[data-figure=refund-due-risk] .figure-value").inner_text() == "1"

    page.click("[data-figure=refund-due-risk]")
    page.wait_for_url("**/overview/refund-due")
    assert floor["late"].lpn in page.locator("main").inner_text()

    page.goto("/")
    page.click("[data-figure=exceptions]")
    page.wait_for_url("**/exceptions")
    page.click(f"a[href='/exceptions/{floor['flagged'].id}']")
    page.check("input[name=resolution][value=accept]")
    page.fill("textarea[name=note]", "kept for the partner's outlet")
    page.click("button[type=submit]:has-text('Resolve')")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(output_dir / "exception-resolved.png"), full_page=True)
    row = db.session.get(ReturnException, floor["flagged"].id)
    db.session.refresh(row)
    assert row.status == ExceptionStatus.RESOLVED
    assert row.note == "kept for the partner's outlet"

    # The look-up field has focus on the overview: a scanner types the LPN and Enter.
    page.goto("/")
    # autofocus lands once the page is shown, which can be a moment after "load"
    page.wait_for_function("document.activeElement && document.activeElement.id === 'lookup-q'")
    page.keyboard.type(floor["late"].lpn)
    page.keyboard.press("Enter")
    page.wait_for_url("**/lookup?q=*")
    text = page.locator("main").inner_text()
    assert floor["late"].return_request.rma in text
    assert "exception.resolved" in text  # the timeline shows what the supervisor just did
    page.screenshot(path=str(output_dir / "lookup.png"), full_page=True)

    page.goto("/dashboard")
    page.wait_for_selector("body[data-charts=drawn]")
    assert page.locator("canvas[data-drawn]").count() >= 5
    page.screenshot(path=str(output_dir / "dashboard.png"), full_page=True)


def test_a_partner_dashboard_draws_its_own_figures(page, floor, output_dir):
    browser_login(page, factories.user(Role.PARTNER, floor["alpha"]))
    page.goto("/portal/dashboard")
    page.wait_for_selector("body[data-charts=drawn]")
    text = page.locator("main").inner_text()
    assert "ALPHA" in text
    assert "BRAVO" not in text
    assert floor["theirs"].unit.lpn not in page.content()
    page.screenshot(path=str(output_dir / "portal-dashboard.png"), full_page=True)
