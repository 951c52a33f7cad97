"""The receiving station in a real browser: an announced parcel received by keyboard alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import browser_login
from warehouse import announcements
from warehouse.announcements import LineRequest
from warehouse.db import db
from warehouse.events import Actor
from warehouse.models import Reason, Role, Unit

# A browser talks to a live server thread: it only sees committed data.
pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_operator_receives_an_announced_parcel_by_keyboard(page, output_dir):
    partner = factories.partner(name="Nordic Threads")
    jacket = factories.product(partner, title="Rain jacket, M", gtin="4006381333931")
    scarf = factories.product(partner, title="Wool scarf", gtin="5901234123457")
    order = factories.order([(jacket, 1), (scarf, 1)], customer_name="Kim Jansen")
    done = announcements.announce(
        db.session,
        order,
        [
            LineRequest(order.lines[0].id, 1, Reason.WRONG_SIZE, "too tight"),
            LineRequest(order.lines[1].id, 1, Reason.CHANGED_MIND),
        ],
        actor=Actor(label="customer"),
        label_url=lambda rma: f"http://localhost/returns/{rma}",
    )
    rma = done.returns[0].rma
    operator = factories.user(Role.OPERATOR)
    browser_login(page, operator)

    page.goto("/receive/")
    scan_field = page.locator("#scan-code")
    expect(scan_field).to_be_focused()
    page.keyboard.type(rma.lower())  # scanners and people type in any case
    page.keyboard.press("Enter")
    card = page.locator(f"section.parcel[data-rma='{rma}']")
    card.wait_for()
    assert "In time" in card.locator(".verdict").inner_text()
    expect(page.locator("body")).to_have_attribute("data-last-scan", "ok")
    expect(scan_field).to_be_focused()

    for gtin, title in (("4006381333931", "Rain jacket, M"), ("5901234123457", "Wool scarf")):
        page.keyboard.type(gtin)
        page.keyboard.press("Enter")
        page.locator(".scan-message.ok", has_text=f"{title}: unit 1 confirmed").wait_for()
        expect(scan_field).to_be_focused()
        expect(scan_field).to_have_value("")  # cleared for the next scan

    lpns = [unit.lpn for unit in db.session.query(Unit).order_by(Unit.id)]
    assert len(lpns) == 2
    for lpn in lpns:
        link = page.locator(f"tr[data-lpn='{lpn}'] a.unit-label")
        assert link.get_attribute("href") == f"/receive/units/{lpn}/label.pdf"
    assert "2 of 2 expected units confirmed" in card.inner_text()

    # A mistyped code: red, a clear message, the search offered, focus kept.
    page.keyboard.type("RMA-XXXXXX0")
    page.keyboard.press("Enter")
    page.locator(".scan-message.error").wait_for()
    expect(page.locator("body")).to_have_attribute("data-last-scan", "error")
    expect(scan_field).to_be_focused()
    page.keyboard.type(rma)
    page.keyboard.press("Enter")
    page.locator(".scan-message.ok", has_text=f"{rma} opened.").wait_for()
    page.screenshot(path=str(output_dir / "receiving-station.png"), full_page=True)
