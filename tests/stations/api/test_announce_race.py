"""Parallel announcements of one order line (issue 11, point 4): the quantity check is atomic on
both databases, whether the requests come through the API or the customer's page."""

from __future__ import annotations

import threading

import pytest

from tests import factories
from tests.helpers import csrf_from
from warehouse.db import db
from warehouse.models import ReturnLine, ReturnRequest, Role

pytestmark = pytest.mark.commits  # each thread is its own connection: only commits are shared


@pytest.fixture
def one_left(app):
    """An order with one delivered unit of one line, and an admin token."""
    partner = factories.partner(code="FJELL")
    shoe = factories.product(partner, sku="SHOE-43")
    order = factories.order([(shoe, 1)], number="MP-777777", customer_email="kim@example.org")
    token = factories.token(Role.ADMIN)
    db.session.commit()
    return {"token": token, "line_id": order.lines[0].id}


def _at_once(app, callers) -> list[int]:
    """Run each caller(client) in its own thread, all released at once; their statuses."""
    start = threading.Barrier(len(callers))
    statuses: list[int] = [0] * len(callers)

    def run(index, caller):
        client = app.test_client()
        prepared = caller.prepare(client) if hasattr(caller, "prepare") else None
        start.wait(10)
        statuses[index] = caller(client, prepared)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _api(token):
    def call(client, _prepared):
        return client.post(
            "/api/v1/returns",
            json={
                "order_number": "MP-777777",
                "lines": [{"sku": "SHOE-43", "quantity": 1, "reason": "changed_mind"}],
            },
            headers={"Authorization": f"Bearer {token}"},
        ).status_code

    return call


class _Customer:
    """The customer's page, logged into the order before the race starts."""

    def __init__(self, line_id):
        self.line_id = line_id

    def prepare(self, client):
        token = csrf_from(client.get("/returns/").get_data(as_text=True))
        found = client.post(
            "/returns/",
            data={"order_number": "MP-777777", "email_or_postcode": "kim@example.org"},
            headers={"X-CSRFToken": token},
        )
        assert found.status_code == 303, found.get_data(as_text=True)
        return csrf_from(client.get("/returns/order").get_data(as_text=True))

    def __call__(self, client, token):
        return client.post(
            "/returns/order",
            data={f"qty-{self.line_id}": "1", f"reason-{self.line_id}": "changed_mind"},
            headers={"X-CSRFToken": token},
        ).status_code


def test_six_parallel_api_announcements_of_the_last_unit_make_one_return(app, one_left):
    statuses = _at_once(app, [_api(one_left["token"])] * 6)
    assert sorted(statuses) == [201, 400, 400, 400, 400, 400]
    db.session.remove()
    assert db.session.query(ReturnRequest).count() == 1
    assert db.session.query(ReturnLine).one().quantity == 1


def test_the_api_and_the_customer_page_racing_for_the_last_unit_make_one_return(app, one_left):
    customers = [_Customer(one_left["line_id"]) for _ in range(3)]
    statuses = _at_once(app, [_api(one_left["token"])] * 3 + customers)
    won = [status for status in statuses if status in (201, 303)]
    assert len(won) == 1, statuses
    assert sorted(status for status in statuses if status not in (201, 303)) in (
        [400, 400, 422, 422, 422],  # the API won
        [400, 400, 400, 422, 422],  # a customer won
    ), statuses
    db.session.remove()
    assert db.session.query(ReturnRequest).count() == 1
