"""Onboarding in a real browser: an admin creates a partner and invites its first user; the
invitation goes through the outbox, a real worker and the SMTP sink; the partner user opens the
link from that mail, chooses a password and logs in to the portal."""

from __future__ import annotations

import email
import re
from email import policy

import pytest

from tests import factories
from tests.browser.conftest import browser_login
from tests.helpers import drain, relay
from warehouse import i18n
from warehouse.db import db
from warehouse.models import Partner, Role

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def _link_in(path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/account/password/\S+", text).group(0)


def test_an_admin_onboards_a_partner_whose_user_sets_a_password_and_logs_in(
    app, page, jobs, mail_sink, live_server, output_dir
):
    factories.site()
    app.config["PUBLIC_URL"] = live_server
    browser_login(page, factories.user(Role.ADMIN))
    page.goto("/admin/partners/new")
    page.fill("input[name=code]", "fjord")
    page.fill("input[name=name]", "Fjord Outdoor")
    page.fill("input[name=contact_email]", "ops@fjord.example")
    page.select_option("select[name=language]", "nl")
    page.fill("input[name=commission]", "25")  # above the agreement's 20 %: refused
    page.fill("input[name=invite_email]", "kari@fjord.example")
    page.fill("input[name=invite_name]", "Kari")
    page.click("button[type=submit]:has-text('Create partner')")
    assert "5 to 20 %" in page.locator("[role=alert]").inner_text()
    assert page.locator("input[name=commission]").get_attribute("aria-invalid") == "true"
    page.fill("input[name=commission]", "12.5")
    page.click("button[type=submit]:has-text('Create partner')")
    page.wait_for_url("**/admin/partners/FJORD")
    page.screenshot(path=str(output_dir / "partner.png"), full_page=True)
    assert db.session.query(Partner).filter_by(code="FJORD").one().commission_rate_bp == 1250

    relay(app, jobs)
    drain(app, jobs, until=lambda: len(mail_sink.received) == 1)
    [mail] = mail_sink.received
    assert mail.to == ("kari@fjord.example",)
    link = _link_in(mail.path)

    page.context.clear_cookies()
    page.goto(link)
    page.fill("input[name=password]", "fjord-outdoor-2026")
    page.fill("input[name=again]", "fjord-outdoor-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**/login")
    page.fill("input[name=email]", "kari@fjord.example")
    page.fill("input[name=password]", "fjord-outdoor-2026")
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    page.goto("/portal/cases")
    assert page.locator("h1").count() == 1
    page.screenshot(path=str(output_dir / "portal.png"), full_page=True)
    # the link was used: it works no more (said in the partner's language, Dutch)
    page.goto(link)
    used = i18n.in_language("nl", "this link was used already; ask for a new one")
    assert used != "this link was used already; ask for a new one"
    assert used in page.locator("main").inner_text()
