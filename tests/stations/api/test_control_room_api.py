"""The control room over the API: dashboard figures, the exceptions queue and the look-up, with
a partner token confined to its own partner in every figure and every id."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import codes, exceptions, figures
from warehouse.db import db, utcnow
from warehouse.events import Actor
from warehouse.models import (
    Event,
    ExceptionKind,
    ExceptionStatus,
    Outbox,
    ReturnException,
    Role,
    UnitException,
)


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def two(app):
    """Partners A and B, each with a returned unit flagged as an extra; figures refreshed."""
    found = {}
    for code in ("ALPHA", "BRAVO"):
        seller = factories.partner(code)
        unit = factories.received(seller)
        unit.return_request.rma = codes.new_rma()
        extra = factories.received_unit(unit.return_line, slot=None, exception=UnitException.EXTRA)
        flagged = exceptions.flag(
            db.session, Actor(), ExceptionKind.EXTRA_UNIT, unit.return_request, unit=extra
        )
        found[code] = {
            "partner": seller,
            "unit": unit,
            "flagged": flagged,
            "token": factories.token(Role.PARTNER, seller),
        }
    figures.refresh_recent(db.session, now=utcnow())
    found["staff"] = factories.token(Role.SUPERVISOR)
    db.session.commit()
    return found


def test_the_dashboard_answers_the_documented_keys(client, two):
    body = client.get("/api/v1/dashboard", headers=auth(two["staff"])).get_json()
    assert set(body) >= {
        "scope",
        "backlog",
        "refund_due_risk",
        "return_rate",
        "reasons",
        "grades",
        "stage_hours",
        "throughput",
        "refund_timeliness",
        "scorecard",
        "resale",
        "refunded",
        "revenue",
    }
    assert body["backlog"]["received"]["count"] == 4  # the extra units wait for grading too
    assert {row["key"] for row in body["return_rate"]["by_partner"]} == {"ALPHA", "BRAVO"}
    only_b = client.get("/api/v1/dashboard?partner=BRAVO", headers=auth(two["staff"])).get_json()
    assert [row["key"] for row in only_b["return_rate"]["by_partner"]] == ["BRAVO"]


def test_a_partner_token_sees_its_own_figures_whatever_it_asks(client, two):
    for query in ("", "?partner=BRAVO", "?partner=bravo&site=WAL"):
        body = client.get(f"/api/v1/dashboard{query}", headers=auth(two["ALPHA"]["token"]))
        assert body.status_code == 200, body.get_json()
        data = body.get_json()
        assert data["scope"]["partner_id"] == two["ALPHA"]["partner"].id
        assert [row["key"] for row in data["return_rate"]["by_partner"]] == ["ALPHA"]
        assert [row["partner"] for row in data["scorecard"]["partners"]] == ["ALPHA"]
        assert data["backlog"]["received"]["count"] == 2
        assert data["throughput"]["operators"] == []
        skus = {row["key"] for row in data["return_rate"]["by_product"]}
        assert two["BRAVO"]["unit"].product.sku not in skus


def test_bad_dashboard_filters_are_refused_by_name(client, two):
    for query, field in (
        ("?from=2026-13", "from"),
        ("?from=2026-11&to=2026-01", "from"),
        ("?category=cars", "category"),
        ("?site=NOPE", "site"),
        ("?partner=NOPE", "partner"),
    ):
        response = client.get(f"/api/v1/dashboard{query}", headers=auth(two["staff"]))
        assert response.status_code in (400, 404), query
        assert response.get_json()["field"] == field, query


def test_the_exceptions_queue_is_scoped_to_the_partner(client, two):
    staff = client.get("/api/v1/exceptions", headers=auth(two["staff"])).get_json()
    assert staff["total"] == 2
    mine = client.get("/api/v1/exceptions", headers=auth(two["ALPHA"]["token"])).get_json()
    assert [row["partner"] for row in mine["exceptions"]] == ["ALPHA"]
    assert mine["exceptions"][0]["resolutions"] == [
        "notify_customer",
        "notify_partner",
        "quarantine",
        "accept",
    ]
    assert client.get("/api/v1/exceptions?kind=lost", headers=auth(two["staff"])).status_code == 400


def test_resolving_through_the_api(client, two):
    theirs = two["BRAVO"]["flagged"]
    before = row_counts(Event, Outbox)
    refused = client.post(
        f"/api/v1/exceptions/{theirs.id}/resolve",
        headers=auth(two["ALPHA"]["token"]),
        json={"resolution": "accept", "note": "not mine"},
    )
    assert refused.status_code == 404
    bad = client.post(
        f"/api/v1/exceptions/{theirs.id}/resolve",
        headers=auth(two["staff"]),
        json={"resolution": "shred", "note": "x"},
    )
    assert bad.status_code == 400
    assert bad.get_json()["field"] == "resolution"
    assert row_counts(Event, Outbox) == before
    done = client.post(
        f"/api/v1/exceptions/{theirs.id}/resolve",
        headers=auth(two["staff"]),
        json={"resolution": "quarantine", "note": "check what it is"},
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "resolved"
    row = db.session.get(ReturnException, theirs.id)
    db.session.refresh(row)
    assert row.status == ExceptionStatus.RESOLVED
    assert row.unit.quarantined
    again = client.post(
        f"/api/v1/exceptions/{theirs.id}/resolve",
        headers=auth(two["staff"]),
        json={"resolution": "accept", "note": "again"},
    )
    assert again.status_code == 409
    huge = client.post(
        "/api/v1/exceptions/99999999999/resolve",
        headers=auth(two["staff"]),
        json={"resolution": "accept", "note": "x"},
    )
    assert huge.status_code == 404


def test_the_look_up_finds_only_the_partners_own_parcels(client, two):
    b_unit = two["BRAVO"]["unit"]
    staff = client.get(f"/api/v1/lookup?q={b_unit.lpn}", headers=auth(two["staff"])).get_json()
    [parcel] = staff["parcels"]
    assert parcel["matched_by"] == "lpn"
    assert [u["lpn"] for u in parcel["units"] if u["matched"]] == [b_unit.lpn]
    assert any(event["kind"] == "exception.opened" for event in parcel["timeline"])
    for text in (b_unit.lpn, b_unit.return_request.rma, b_unit.return_request.order.number):
        found = client.get(
            "/api/v1/lookup", query_string={"q": text}, headers=auth(two["ALPHA"]["token"])
        )
        assert found.get_json() == {"parcels": []}, text
    empty = client.get("/api/v1/lookup?q=", headers=auth(two["staff"]))
    assert empty.status_code == 400
    assert empty.get_json()["field"] == "q"


def test_operators_tokens_are_refused(client, two):
    token = factories.token(Role.OPERATOR)
    db.session.commit()
    for url in ("/api/v1/dashboard", "/api/v1/exceptions", "/api/v1/lookup?q=x"):
        assert client.get(url, headers=auth(token)).status_code == 403, url
