"""A Swedish customer in a real browser: the return page, the label and the mails in Swedish.

The browser asks for Swedish (`Accept-Language: sv-SE`) and the order came from Sweden; the
customer announces a return, downloads the label (Swedish packing instructions, the reason in
Swedish), the announcement mail arrives in Swedish in the SMTP sink, and when the warehouse scans
the parcel in, the received mail does too."""

from __future__ import annotations

import email
from email import policy

import pytest

from tests import factories
from tests.browser.conftest import browser_login
from tests.helpers import drain, pdf_text, relay
from warehouse import i18n
from warehouse.db import db
from warehouse.models import ReturnRequest, Role

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def _sv(message: str, **values) -> str:
    return i18n.in_language("sv", message, **values)


def _plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def _mails(mail_sink) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(mail.path.read_bytes(), policy=policy.default)
        for mail in mail_sink.received
    ]


def test_a_swedish_customer_returns_in_swedish(app, page, jobs, mail_sink, live_server, output_dir):
    app.config["PUBLIC_URL"] = live_server
    seller = factories.partner(name="Fjällräven Outlet")
    jacket = factories.product(
        seller, title="Vandringsjacka", gtin="4006381333931", prices={"SEK": 149900}
    )
    order = factories.order(
        [(jacket, 1)],
        country="SE",
        currency="SEK",
        language="sv",
        customer_email="astrid@example.se",
        customer_name="Astrid Lind",
    )
    db.session.commit()
    page.set_extra_http_headers({"Accept-Language": "sv-SE,sv;q=0.9"})

    page.goto("/returns/")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert (
        _sv("Find your order with its number and the email address or postcode you ordered with.")
        in page.content()
    )
    page.fill("input[name=order_number]", order.number)
    page.fill("input[name=email_or_postcode]", "astrid@example.se")
    page.keyboard.press("Enter")
    page.wait_for_url("**/returns/order")
    assert page.locator("html").get_attribute("lang") == "sv"
    line = order.lines[0]
    with i18n.reading("sv"):
        price = i18n.money(149900, "SEK")  # '1 499,00 kr', with no-break spaces
    assert price == "1\xa0499,00\xa0kr"
    assert _plain(price) in _plain(page.locator("main").inner_text())
    page.select_option(f"#qty-{line.id}", "1")
    page.select_option(f"#reason-{line.id}", "wrong_size")
    page.screenshot(path=str(output_dir / "order-sv.png"), full_page=True)
    page.get_by_role("button", name=_sv("Announce my return")).click()
    page.wait_for_url("**/returns/done/*")
    assert page.locator("html").get_attribute("lang") == "sv"
    page.screenshot(path=str(output_dir / "done-sv.png"), full_page=True)

    href = page.locator("a[href*='/returns/label/']").first.get_attribute("href")
    label = page.request.get(href)
    assert label.headers["content-type"] == "application/pdf"
    text = pdf_text(label.body(), joiner="")
    assert _sv("How to pack") in text
    assert _sv("In this parcel") in text
    assert _sv("Wrong size") in text
    assert _sv("How to pack") != "How to pack"

    relay(app, jobs)
    drain(app, jobs, until=lambda: len(mail_sink.received) == 1)
    [announced] = _mails(mail_sink)
    rma = db.session.query(ReturnRequest).one()
    assert announced["Content-Language"] == "sv"
    assert announced["Subject"] == _sv("Your return is announced: %(rmas)s", rmas=rma.rma)

    # The parcel arrives: the operator scans it in, and the customer hears in Swedish.
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/receive/")
    page.keyboard.type(rma.rma)
    page.keyboard.press("Enter")
    page.locator(f"section.parcel[data-rma='{rma.rma}']").wait_for()
    page.keyboard.type("4006381333931")  # the jacket's barcode: one unit confirmed, received
    page.keyboard.press("Enter")
    page.locator(".scan-message.ok", has_text="Vandringsjacka: unit 1 confirmed").wait_for()
    relay(app, jobs)
    drain(app, jobs, until=lambda: len(mail_sink.received) == 2)
    received = _mails(mail_sink)[1]
    body = received.get_body(preferencelist=("plain",)).get_content()
    assert received["Subject"] == _sv("We received your return %(rma)s", rma=rma.rma)
    assert _sv("Hello %(name)s,", name="Astrid Lind") in body
    assert received["Subject"] != f"We received your return {rma.rma}"
