"""The withdrawal function in a real browser (Directive 2011/83/EU Art. 11a): a customer finds
the clearly labelled function, confirms, and the timestamped acknowledgment arrives in the SMTP
sink; the goods arrive 16 days after the notice and receiving shows them late (Art. 14(1))."""

from __future__ import annotations

import datetime as dt
import email
from email import policy

import pytest

from tests import factories
from tests.browser.conftest import browser_login
from tests.helpers import drain, relay
from warehouse.db import db
from warehouse.models import ReturnRequest, Role, Withdrawal

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_a_customer_withdraws_and_late_goods_are_flagged_at_receiving(
    app, page, jobs, mail_sink, live_server, output_dir
):
    app.config["PUBLIC_URL"] = live_server
    seller = factories.partner(name="Nordic Threads")
    coat = factories.product(seller, title="Wool coat", gtin="4006381333931")
    order = factories.order([(coat, 1)], delivered_days_ago=2, customer_email="kim@example.org")
    db.session.commit()

    page.goto("/returns/")
    page.click("#withdraw-link")  # "Withdraw from contract here"
    page.fill("input[name=order_number]", order.number)
    page.fill("input[name=email_or_postcode]", "kim@example.org")
    page.keyboard.press("Enter")
    page.wait_for_url("**/returns/withdraw")
    page.screenshot(path=str(output_dir / "withdraw.png"), full_page=True)
    page.click("#confirm-withdrawal")  # the second, confirming step
    page.wait_for_url("**/returns/withdrawn/*")
    assert "Your withdrawal is received" in page.locator("h1").inner_text()
    page.screenshot(path=str(output_dir / "withdrawn.png"), full_page=True)

    relay(app, jobs)
    drain(app, jobs, until=lambda: len(mail_sink.received) == 1)
    [mail] = mail_sink.received
    message = email.message_from_bytes(mail.path.read_bytes(), policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    withdrawal = db.session.query(Withdrawal).one()
    local = withdrawal.notified_at.astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert local.strftime("%Y-%m-%d %H:%M") in text  # the date and time of the withdrawal
    assert "1 x Wool coat" in text
    assert mail.to == ("kim@example.org",)

    # The goods arrive 16 days after the notice: 14 days (Art. 14(1)) and a day of transit
    # grace are over.
    withdrawal.notified_on -= dt.timedelta(days=16)
    rma = db.session.query(ReturnRequest).one()
    rma.announced_on = withdrawal.notified_on
    db.session.commit()
    page.context.clear_cookies()
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/receive/")
    page.keyboard.type(rma.rma)
    page.keyboard.press("Enter")
    warning = page.locator("[data-withdrawal=late]")
    warning.wait_for()
    assert "1 day late" in warning.inner_text()
    page.screenshot(path=str(output_dir / "late.png"), full_page=True)
