"""Each hot path of `make bench` runs a fixed number of statements, whatever the size of the
warehouse: measured on bench-data's warehouse, then again after it has grown by many times
today's work (parcels on their way, units on the benches, orders), on fresh records each time.
The pins are upper bounds: a change that adds a statement to a scan shows here first."""

from __future__ import annotations

import json

import pytest

from bench.data import generate, work_queue
from tests import factories
from tests.helpers import csrf_from, login_as
from warehouse.db import db
from warehouse.models import ReturnRequest, Role

HX = {"HX-Request": "true"}

# Statements of one request (the session's user, the look-ups by unique key, the writes with
# their events and outbox messages); none of them reads a list that grows with the database.
PINS = {
    "receive scan": 12,
    "unit confirm": 21,
    "grade scan": 4,
    "grade": 21,
    "route scan": 8,
    "put-away": 21,
    "customer look-up": 1,
    "API GET return": 11,
    "API announce": 25,
    "dashboard": 28,  # the risk list: the returns due, then their units (warehouse.figures)
}


def _requests(queue: dict, index: int, look_ups: dict) -> dict:
    """The hot paths' requests, each on the `index`-th fresh record of today's work."""
    parcel, unit, graded = (queue[s][index] for s in ("announced", "received", "graded"))
    order = queue["kept"][index]
    return {
        "receive scan": ("operator", "POST", "/receive/scan", {"code": parcel["rma"]}),
        "unit confirm": (
            "operator",
            "POST",
            "/receive/scan",
            {"code": parcel["gtin"], "rma_id": parcel["rma_id"], "seen": ""},
        ),
        "grade scan": ("operator", "POST", "/grade/scan", {"code": look_ups["waiting"]}),
        "grade": (
            "operator",
            "POST",
            "/grade/scan",
            {"code": "GRADE-NEW", "unit_id": unit["unit_id"]},
        ),
        "route scan": ("operator", "POST", "/route/scan", {"code": look_ups["graded"]}),
        "put-away": (
            "operator",
            "POST",
            "/route/scan",
            {"code": graded["bin"], "pending_lpn": graded["lpn"]},
        ),
        "customer look-up": (
            "customer",
            "POST",
            "/returns/",
            {"order_number": order["order"], "email_or_postcode": "1011 AB"},
        ),
        "API GET return": ("api", "GET", f"/api/v1/returns/{look_ups['rma']}", None),
        "API announce": (
            "api",
            "POST",
            "/api/v1/returns",
            {
                "order_number": queue["kept"][index + 20]["order"],
                "lines": [
                    {
                        "line_id": queue["kept"][index + 20]["line_id"],
                        "quantity": 1,
                        "reason": "changed_mind",
                    }
                ],
            },
        ),
        "dashboard": ("supervisor", "GET", "/dashboard", None),
    }


@pytest.fixture
def warehouse(app):
    """bench-data's warehouse (small), today's work on it, and who sends the requests."""
    generate(db.session, units=120, echo=lambda _line: None)
    queue = work_queue(db.session, count=40)
    # The look-ups scan records no write of the test touches (the writes take the first ones).
    look_ups = {
        "waiting": queue["received"][-1]["lpn"],
        "graded": queue["graded"][-1]["lpn"],
        "rma": db.session.query(ReturnRequest).order_by(ReturnRequest.id).first().rma,
    }
    clients = {}
    for role in (Role.OPERATOR, Role.SUPERVISOR):
        client = app.test_client()
        login_as(client, factories.user(role))
        page = client.get("/grade" if role == Role.OPERATOR else "/dashboard")
        clients[role.value] = (
            client,
            {**HX, "X-CSRFToken": csrf_from(page.get_data(as_text=True))},
        )
    customer = app.test_client()
    page = customer.get("/returns/")
    clients["customer"] = (customer, {"X-CSRFToken": csrf_from(page.get_data(as_text=True))})
    clients["api"] = (
        app.test_client(),
        {"Authorization": f"Bearer {factories.token(Role.SUPERVISOR)}"},
    )
    db.session.commit()
    # A token's first use of the hour stamps it (`last_used_at`); the requests measured here
    # are the ones after it.
    assert clients["api"][0].get("/api/v1/sites", headers=clients["api"][1]).status_code == 200
    return queue, look_ups, clients


def _measure(queue, look_ups, clients, index, count_queries) -> dict[str, int]:
    counts = {}
    for name, (who, method, path, body) in _requests(queue, index, look_ups).items():
        client, headers = clients[who]
        db.session.remove()  # as in production: each request starts with an empty session
        with count_queries() as statements:
            if who == "api" and method == "POST":
                answer = client.post(
                    path,
                    data=json.dumps(body),
                    headers={**headers, "Content-Type": "application/json"},
                )
            else:
                answer = client.open(path, method=method, data=body, headers=headers)
        assert answer.status_code < 400, (name, answer.status_code, answer.get_data()[:400])
        counts[name] = len(statements)
    return counts


def test_each_hot_path_runs_the_same_few_statements_however_large_the_warehouse(
    warehouse, count_queries
):
    queue, look_ups, clients = warehouse
    small = _measure(queue, look_ups, clients, 0, count_queries)
    # Grow it: many more parcels on their way, units on the benches and orders than before.
    grown = work_queue(db.session, count=400, seed=3)
    large = _measure(queue, look_ups, clients, 1, count_queries)
    assert large == small
    over = {name: (count, PINS[name]) for name, count in large.items() if count > PINS[name]}
    assert not over, f"more statements than pinned (counted, pin): {over}"
    assert set(large) == set(PINS)
    assert len(grown["announced"]) == 400  # the growth really happened
