"""Grading by keyboard and scanner alone, then the partner approves from the email's link."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import browser_login, watch
from tests.helpers import drain, relay
from warehouse.db import db
from warehouse.models import Case, CaseStatus, Category, RefundState, Role, Unit

# A browser talks to a live server thread: it only sees committed data.
pytestmark = [pytest.mark.browser, pytest.mark.commits]


def scan(page, code: str) -> None:
    """Type into the focused scan field like a keyboard-wedge scanner: the code, then Enter."""
    field = page.locator("#scan-code")
    expect(field).to_be_focused()
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_grade_by_keyboard_and_scan_then_partner_approves_from_the_email(
    app, page, browser, live_server, output_dir, jobs, mail_sink
):
    app.config["GRADE_UNDO_SECONDS"] = 0  # the case mail leaves at once (no undo window)
    partner = factories.partner(name="Voltage Electronics")
    headphones = factories.received(partner, category=Category.ELECTRONICS, price=12900)
    charger = factories.received(partner, category=Category.ELECTRONICS, price=1999)
    operator = factories.user(Role.OPERATOR)
    browser_login(page, operator)
    page.goto("/grade")

    # Unit 1: scan the LPN, tick three checklist items by keyboard, switch key mode on and
    # press 3 (used): digits grade only in key mode, never from the scan field.
    scan(page, headphones.lpn)
    card = page.locator(f'.unit-card[data-lpn="{headphones.lpn}"]')
    expect(card).to_be_visible()
    expect(page.locator(".scanbar")).to_have_class(re.compile("is-ok"))
    checks = page.locator("#grade-form input[type=checkbox]")
    for index in range(3):
        checks.nth(index).focus()
        page.keyboard.press("Space")
    expect(checks.nth(0)).to_be_checked()
    page.screenshot(path=str(output_dir / "1-unit-card.png"), full_page=True)
    page.locator("[data-key-mode]").click()
    page.keyboard.press("3")
    result = page.locator(".result-card")
    expect(result).to_contain_text("partner decides")
    expect(result).to_contain_text("€116.10")  # 129.00 - 10 %
    page.screenshot(path=str(output_dir / "2-graded-used-case.png"), full_page=True)

    # Unit 2: scan the LPN, then the grade sheet's GRADE-NEW barcode: approved at once.
    scan(page, charger.lpn)
    expect(page.locator(f'.unit-card[data-lpn="{charger.lpn}"]')).to_be_visible()
    page.locator(".check input").first.focus()
    page.keyboard.press("Space")
    page.locator("#scan-code").focus()
    scan(page, "GRADE-NEW")
    expect(page.locator(".result-card")).to_contain_text("approved")
    page.screenshot(path=str(output_dir / "3-graded-new-approved.png"), full_page=True)

    db.session.expire_all()
    assert db.session.get(Unit, headphones.id).grade.value == "used"
    assert db.session.get(Unit, charger.id).refund_state == RefundState.APPROVED

    # The case email leaves through the outbox, RQ and SMTP; the partner opens its approve link
    # (not logged in) from the mail the sink received, and approves.
    case = db.session.query(Case).filter_by(unit_id=headphones.id).one()
    relay(app, jobs)
    drain(app, jobs)
    [mail] = [
        parsed
        for parsed in (
            email.message_from_bytes(m.path.read_bytes(), policy=email.policy.default)
            for m in mail_sink.received
        )
        if parsed["To"] == partner.contact_email and "Decide the refund" in parsed["Subject"]
    ]
    (output_dir / "case-mail.eml").write_bytes(bytes(mail))
    text = mail.get_body(("plain",)).get_content()
    approve = re.search(r"Approve the proposed refund:\s*\S*?(/case-link/\S+)", text).group(1)
    partner_context = browser.new_context(
        viewport={"width": 1024, "height": 768}, base_url=live_server
    )
    partner_page = partner_context.new_page()
    partner_errors = watch(partner_page)
    try:
        partner_page.goto(approve)
        expect(partner_page.locator("h1")).to_have_text("Approve the refund")
        partner_page.screenshot(path=str(output_dir / "4-partner-link.png"), full_page=True)
        partner_page.get_by_role("button", name="Approve €116.10").click()
        expect(partner_page.locator("h1")).to_have_text("Thank you: decision saved")
        partner_page.screenshot(path=str(output_dir / "5-partner-approved.png"), full_page=True)
        partner_page.goto(approve)
        expect(partner_page.locator(".flash-error")).to_contain_text("already used")
    finally:
        partner_context.close()
    assert partner_errors == []
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.status, case.approved_minor) == (CaseStatus.APPROVED, 11610)


def test_the_lpn_and_the_grades_on_screen_scan_back(app, page, output_dir):
    """python-barcode's SVGs, as Chromium draws them, decode with zbar to the same text."""
    from tests.zbar import decode_png

    unit = factories.received(category=Category.FASHION)
    operator = factories.user(Role.OPERATOR)
    browser_login(page, operator)
    page.goto("/grade")
    scan(page, unit.lpn)
    lpn = page.locator(f'.unit-card[data-lpn="{unit.lpn}"] .screen-barcode svg')
    expect(lpn).to_be_visible()
    shot = lpn.screenshot(path=str(output_dir / "lpn-on-screen.png"))
    assert ("CODE128", unit.lpn) in decode_png(shot)
    page.locator(".grade-sheet-screen summary").click()
    used = page.locator('.screen-barcodes li[data-barcode="GRADE-USED"] svg')
    expect(used).to_be_visible()
    assert ("CODE128", "GRADE-USED") in decode_png(used.screenshot())
