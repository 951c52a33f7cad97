"""The customer's return page: find the order, choose, confirm, download; rate-limited."""

from __future__ import annotations

import re

import pytest
from redis import Redis

from tests import factories
from tests.helpers import csrf_from, pdf_text, row_counts
from tests.zbar import decode_pdf
from warehouse.db import db
from warehouse.models import Destination, Outbox, ReturnRequest


@pytest.fixture(autouse=True)
def _fresh_counters(redis_server):
    client = Redis.from_url(redis_server.url)
    for key in client.scan_iter("ry:rate:*"):
        client.delete(key)
    yield
    for key in client.scan_iter("ry:rate:*"):
        client.delete(key)


@pytest.fixture
def order(app):
    partner = factories.partner(name="Fjell Outdoor")
    direct = factories.partner(
        name="Kook Direct", destination=Destination.PARTNER, address="Kookstraat 1\n3011 Rotterdam"
    )
    row = factories.order(
        [
            (factories.product(partner, title="Trail shoe"), 2),
            (factories.product(direct, title="Camp stove"), 1),
        ],
        country="DE",
        customer_email="kim@example.org",
        customer_postcode="10115",
    )
    db.session.commit()
    return row


def _find(client, number, secret):
    page = client.get("/returns/")
    return client.post(
        "/returns/",
        data={
            "order_number": number,
            "email_or_postcode": secret,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def test_customer_announces_and_downloads_both_labels(client, order):
    found = _find(client, order.number, "KIM@example.org ")
    assert found.status_code == 303
    page = client.get(found.location)
    html = page.get_data(as_text=True)
    assert "Trail shoe" in html
    assert "Camp stove" in html
    shoe_line, stove_line = order.lines
    answer = client.post(
        "/returns/order",
        data={
            "csrf_token": csrf_from(html),
            f"qty-{shoe_line.id}": "1",
            f"reason-{shoe_line.id}": "wrong_size",
            f"qty-{stove_line.id}": "1",
            f"reason-{stove_line.id}": "defective",
            f"comment-{stove_line.id}": "does not light",
        },
    )
    assert answer.status_code == 303
    done = client.get(answer.location).get_data(as_text=True)
    rmas = db.session.query(ReturnRequest).order_by(ReturnRequest.id).all()
    assert len(rmas) == 2
    links = re.findall(r'href="(/returns/label/[^"]+\.pdf)"', done)
    assert len(links) == 2
    shoe_pdf, stove_pdf = (client.get(link).data for link in links)
    assert decode_pdf(shoe_pdf, dpi=200) == [[("CODE128", rmas[0].rma)]]
    assert decode_pdf(stove_pdf, dpi=200) == [[("CODE128", rmas[1].rma)]]
    # The country's return address for the warehouse partner, the partner's own for the other.
    assert b"Logistikring" in shoe_pdf or "Logistikring" in _text(shoe_pdf)
    assert "Kookstraat 1" in _text(stove_pdf)
    assert db.session.query(Outbox).count() == 1


def _text(pdf: bytes) -> str:
    return pdf_text(pdf, joiner="")


def test_choosing_nothing_or_too_much_is_refused(client, order):
    found = _find(client, order.number, "10115")
    html = client.get(found.location).get_data(as_text=True)
    line = order.lines[0]
    before = row_counts(ReturnRequest, Outbox)
    nothing = client.post("/returns/order", data={"csrf_token": csrf_from(html)})
    assert nothing.status_code == 422
    assert "Choose at least one item" in nothing.get_data(as_text=True)
    too_many = client.post(
        "/returns/order",
        data={"csrf_token": csrf_from(html), f"qty-{line.id}": "5", f"reason-{line.id}": "other"},
    )
    assert too_many.status_code == 422
    assert "at most 2 can be returned" in too_many.get_data(as_text=True)
    no_reason = client.post(
        "/returns/order", data={"csrf_token": csrf_from(html), f"qty-{line.id}": "1"}
    )
    assert "choose a reason" in no_reason.get_data(as_text=True)
    assert row_counts(ReturnRequest, Outbox) == before


def test_the_order_page_needs_a_found_order(client, order):
    assert client.get("/returns/order").status_code == 303


def test_csrf_is_enforced_on_the_customer_forms(client, order):
    response = client.post(
        "/returns/", data={"order_number": order.number, "email_or_postcode": "10115"}
    )
    assert response.status_code == 400


def test_guessing_the_email_of_one_order_is_stopped(client, order):
    for _ in range(5):
        assert _find(client, order.number, "guess@example.org").status_code == 404
    refused = _find(client, order.number, "kim@example.org")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)


def test_one_address_trying_many_orders_is_stopped(client, order):
    for n in range(20):
        assert _find(client, f"MP-{900000 + n}", "kim@example.org").status_code == 404
    assert _find(client, order.number, "kim@example.org").status_code == 429


def test_without_redis_the_lookup_is_refused_clearly_not_left_open(app, order):
    # The rate limit cannot count guesses without Redis: the page says so and stays shut.
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("returnyard.redis", None)
    client = app.test_client()
    response = _find(client, order.number, "kim@example.org")
    assert response.status_code == 503
    assert "cannot check your details right now" in response.get_data(as_text=True)
    assert client.get("/returns/order").status_code == 303  # no order was opened


def test_the_customer_chooses_a_repair_or_an_exchange_per_item(client, app):
    """Directive (EU) 2019/771 Art. 13(2): the consumer chooses repair or replacement for a
    defect; the order page offers an exchange for another size of the same style."""
    seller = factories.partner(name="Fjell Outdoor")
    small = factories.product(seller, title="Rain jacket S", style="RJ-9", sku="RJ-9-S")
    factories.product(seller, title="Rain jacket M", style="RJ-9", sku="RJ-9-M", stock=2)
    heater = factories.product(seller, title="Heater", sku="HT-1")
    row = factories.order([(small, 1), (heater, 1)], customer_email="kim@example.org")
    db.session.commit()
    html = client.get(_find(client, row.number, "kim@example.org").location).get_data(as_text=True)
    jacket, stove = row.lines
    assert 'value="exchange:RJ-9-M"' in html
    assert "Exchange for Rain jacket M" in html
    before = row_counts(ReturnRequest, Outbox)
    wrong = client.post(
        "/returns/order",
        data={
            "csrf_token": csrf_from(html),
            f"qty-{stove.id}": "1",
            f"reason-{stove.id}": "changed_mind",
            f"remedy-{stove.id}": "repair",
        },
    )
    assert wrong.status_code == 422
    assert "repair is not possible for the reason changed_mind" in wrong.get_data(as_text=True)
    assert row_counts(ReturnRequest, Outbox) == before
    done = client.post(
        "/returns/order",
        data={
            "csrf_token": csrf_from(html),
            f"qty-{jacket.id}": "1",
            f"reason-{jacket.id}": "wrong_size",
            f"remedy-{jacket.id}": "exchange:RJ-9-M",
            f"qty-{stove.id}": "1",
            f"reason-{stove.id}": "defective",
            f"remedy-{stove.id}": "repair",
        },
    )
    assert done.status_code == 303
    rma = db.session.query(ReturnRequest).one()
    chosen = {line.order_line_id: (line.remedy.value, line.exchange_product) for line in rma.lines}
    assert chosen[stove.id] == ("repair", None)
    assert chosen[jacket.id][0] == "exchange"
    assert chosen[jacket.id][1].sku == "RJ-9-M"
