"""Who reads which language: customers by their order (or browser, or the switch), partners by
their partner, staff by their own setting; `<html lang>` always says which, money and days are
written as the reader writes them, and the return label is in the customer's language."""

from __future__ import annotations

import re

import pytest
from redis import Redis

from tests import factories
from tests.helpers import csrf_from, login_as, pdf_text
from warehouse import i18n
from warehouse.db import db
from warehouse.models import Reason, Role
from warehouse.vocabulary import REASON_LABELS

# A served country per language, with its currency.
COUNTRY = {
    "en": ("GB", "GBP"),
    "nl": ("NL", "EUR"),
    "de": ("DE", "EUR"),
    "fr": ("FR", "EUR"),
    "it": ("IT", "EUR"),
    "es": ("ES", "EUR"),
    "da": ("DK", "DKK"),
    "sv": ("SE", "SEK"),
}


@pytest.fixture(autouse=True)
def _fresh_counters(redis_server):
    client = Redis.from_url(redis_server.url)
    for key in client.scan_iter("ry:rate:*"):
        client.delete(key)


def _in(language: str, message: str, **values) -> str:
    return i18n.in_language(language, message, **values)


def _html_lang(html: str) -> str:
    return re.search(r'<html lang="([a-z]+)">', html).group(1)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")


def _order(language: str, *, order_language: str | None = None):
    country, currency = COUNTRY[language]
    partner = factories.partner(name="Fjell Outdoor")
    shoe = factories.product(partner, title="Trail shoe", prices={currency: 123456})
    row = factories.order(
        [(shoe, 1)],
        country=country,
        currency=currency,
        customer_email="kim@example.org",
        language=order_language or language,
    )
    db.session.commit()
    return row


def _found(client, order, find_page: str, headers: dict) -> str:
    """The order page, reached through the find form on `find_page` as the customer would."""
    found = client.post(
        "/returns/",
        data={
            "order_number": order.number,
            "email_or_postcode": "kim@example.org",
            "csrf_token": csrf_from(find_page),
        },
        headers=headers,
    )
    assert found.status_code == 303
    return client.get(found.location, headers=headers).get_data(as_text=True)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_customer_pages_and_label_are_in_the_customers_language(client, language):
    headers = {"Accept-Language": f"{language}-XX,{language};q=0.9,en;q=0.5"}
    order = _order(language)
    page = client.get("/returns/", headers=headers)
    html = page.get_data(as_text=True)
    assert _html_lang(html) == language  # before the order is known: the browser's language
    assert _escaped(_in(language, "Find my order")) in html
    html = _found(client, order, html, headers)
    assert _html_lang(html) == language
    assert _escaped(_in(language, "Announce my return")) in html
    with i18n.reading(language):
        price = i18n.money(123456, COUNTRY[language][1])
    assert price in html
    if language != "en":
        assert _in(language, "Announce my return") != "Announce my return"
        assert price != i18n.money(123456, COUNTRY[language][1])  # English would differ
    line = order.lines[0]
    answer = client.post(
        "/returns/order",
        data={
            "csrf_token": csrf_from(html),
            f"qty-{line.id}": "1",
            f"reason-{line.id}": "defective",
        },
        headers=headers,
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)
    done = client.get(answer.location, headers=headers).get_data(as_text=True)
    assert _html_lang(done) == language
    (link,) = re.findall(r'href="(/returns/label/[^"]+\.pdf)"', done)
    text = pdf_text(client.get(link).data, joiner="")
    with i18n.reading(language):
        assert i18n.gettext("How to pack") in text
        assert i18n.gettext("Send to").upper() in text
        assert str(REASON_LABELS[Reason.DEFECTIVE]) in text


def test_the_orders_language_wins_over_the_browser_and_the_switch_over_both(client):
    order = _order("sv", order_language="sv")
    page = client.get("/returns/", headers={"Accept-Language": "de"})
    html = page.get_data(as_text=True)
    assert _html_lang(html) == "de"
    html = _found(client, order, html, {"Accept-Language": "de"})
    assert _html_lang(html) == "sv"  # the order's language, not the browser's
    assert 'hreflang="it"' in html  # the switch is on the page
    html = client.get("/returns/order?lang=it").get_data(as_text=True)
    assert _html_lang(html) == "it"
    assert _escaped(_in("it", "Announce my return")) in html
    html = client.get("/returns/order").get_data(as_text=True)
    assert _html_lang(html) == "it"  # the choice is kept
    assert _html_lang(client.get("/returns/order?lang=xx").get_data(as_text=True)) == "it"


def test_staff_read_their_own_setting_and_partners_their_partners_language(client):
    factories.site()
    operator = factories.user(Role.OPERATOR)
    operator.language = "de"
    partner = factories.partner(language="fr")
    partner_user = factories.user(Role.PARTNER, partner)
    partner_user.language = "sv"  # a partner user reads the partner's language
    db.session.commit()
    login_as(client, operator)
    html = client.get("/receive/").get_data(as_text=True)
    assert _html_lang(html) == "de"
    assert _escaped(_in("de", "Log out")) in html
    client.post("/logout", data={"csrf_token": csrf_from(html)})
    login_as(client, partner_user)
    html = client.get("/portal/").get_data(as_text=True)
    assert _html_lang(html) == "fr"


def test_the_api_answers_in_english_whatever_the_browser_asks(client):
    """A refusal the screens show in the reader's language stays English for integrations."""
    factories.site()
    token = factories.token(Role.ADMIN)
    db.session.commit()
    english = "no return 'RMA-NOPE'"
    assert _in("de", "no return %(rma)s", rma="'RMA-NOPE'") != english  # German has its own
    answer = client.get(
        "/api/v1/returns/RMA-NOPE",
        headers={"Accept-Language": "de", "Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 404
    assert english in answer.get_data(as_text=True)
    assert "Content-Language" not in answer.headers


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "€1,234.56"),
        ("nl", "€\xa01.234,56"),
        ("de", "1.234,56\xa0€"),
        ("fr", "1\u202f234,56\xa0€"),
        ("sv", "1\xa0234,56\xa0kr"),
    ],
)
def test_money_is_written_as_the_reader_writes_it(language, expected):
    currency = "SEK" if language == "sv" else "EUR"
    with i18n.reading(language):
        assert i18n.money(123456, currency) == expected


def test_a_case_link_from_the_mail_opens_in_the_partners_language(client):
    from tests.stations.screens.test_caselinks import mailed_path

    case = factories.open_case(factories.partner(language="de"))
    html = client.get(mailed_path(case, "approve"), headers={"Accept-Language": "sv"})
    html = html.get_data(as_text=True)
    assert _html_lang(html) == "de"
    with i18n.reading("de"):
        price = i18n.money(case.proposed_minor, case.currency)
    assert price in html


def test_the_scripts_words_come_with_the_page_in_the_readers_language(client):
    import json

    html = client.get("/returns/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    block = re.search(r'<script type="application/json" id="ui-words">(.*?)</script>', html, re.S)
    words = json.loads(block.group(1))
    assert words["Retry"] == _in("de", "Retry") != "Retry"
    assert "%(label)s" in words["Sending %(label)s…"]


def test_codes_on_staff_screens_are_words_in_the_readers_language(client):
    """A German admin reads roles, approval modes and destinations as words, not as codes."""
    factories.site()
    admin = factories.user(Role.ADMIN)
    admin.language = "de"
    factories.partner(code="ACME", approval_mode="consult")
    db.session.commit()
    login_as(client, admin)
    partners = client.get("/admin/partners").get_data(as_text=True)
    assert "· Verwaltung" in partners  # the header: name · role
    assert "<td>Partner fragen</td>" in partners
    assert "<td>Lager</td>" in partners
    users = client.get("/admin/users").get_data(as_text=True)
    assert "<td>Verwaltung</td>" in users
    assert ">admin<" not in users
