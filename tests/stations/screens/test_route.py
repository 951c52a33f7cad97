"""The route station over HTTP: scan an LPN, then a bin; refusals say why and change nothing."""

from __future__ import annotations

import re

from tests import factories
from tests.helpers import csrf_from, login_as, row_counts
from warehouse.db import db
from warehouse.models import Event, Grade, LocationKind, Placement, Role, UnitStatus

HX = {"HX-Request": "true"}


def start(client):
    operator = factories.user(Role.OPERATOR)
    login_as(client, operator)
    page = client.get("/route/")
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def scan(client, token, code, htmx=True):
    """A scan with the card's context, as the station client sends it: the unit waiting for its
    bin is the one the previous answer drew (`pending_lpn`)."""
    headers = {**HX, "X-CSRFToken": token} if htmx else {"X-CSRFToken": token}
    data = {"code": code, "pending_lpn": getattr(client, "pending_lpn", "")}
    response = client.post("/route/scan", data=data, headers=headers)
    match = re.search(r'name="pending_lpn" value="([^"]*)"', response.get_data(as_text=True))
    if match:
        client.pending_lpn = match.group(1)
    return response


def test_scan_lpn_then_bin_puts_the_unit_away(client, count_queries):
    bins = factories.bins_for_every_kind()
    unit = factories.graded(Grade.NEW)
    token = start(client)
    with count_queries() as statements:
        shown = scan(client, token, unit.lpn)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert shown.headers["HX-Trigger"] == "scan-ok"
    assert 'class="route-outcome">RESTOCK<' in html
    assert f"Scan <strong>{bins['restock'].code}</strong>" in html
    assert len(statements) <= 12, statements  # user + unit + rules + bins: indexed look-ups
    done = scan(client, token, bins["restock"].code)
    assert done.status_code == 200
    assert done.headers["HX-Trigger"] == "scan-ok"
    assert f"Put away: {unit.lpn} → <strong>{bins['restock'].code}</strong>" in done.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert unit.status == UnitStatus.ROUTED
    assert unit.product.stock == 1
    # The same bin scanned again for the same unit: same answer, nothing new.
    scan(client, token, unit.lpn)
    before = row_counts(Placement, Event)
    again = scan(client, token, bins["restock"].code)
    assert "is already in" in again.get_data(as_text=True)
    assert row_counts(Placement, Event) == before


def test_a_wrong_bin_is_refused_and_the_unit_stays_pending(client):
    unit = factories.graded(Grade.NEW)
    wrong = factories.location(LocationKind.DESTROY, "BIN-DST-9")
    right = factories.location(LocationKind.RESTOCK, "BIN-RST-9")
    token = start(client)
    scan(client, token, unit.lpn)
    before = row_counts(Placement, Event)
    refused = scan(client, token, wrong.code)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert refused.headers["HX-Trigger"] == "scan-error"
    assert "BIN-DST-9 is a destroy bin" in html
    assert 'class="route-outcome">RESTOCK<' in html
    assert row_counts(Placement, Event) == before
    assert scan(client, token, right.code).status_code == 200


def test_a_bin_before_any_lpn_and_an_unknown_code_are_refused(client):
    bin_ = factories.location(LocationKind.RESTOCK, "BIN-R-1")
    token = start(client)
    first = scan(client, token, bin_.code)
    assert first.status_code == 422
    assert "scan the unit&#39;s LPN first" in first.get_data(as_text=True)
    unknown = scan(client, token, "NOTHING-42")
    assert unknown.status_code == 404
    assert "No unit has the LPN" in unknown.get_data(as_text=True)


def test_without_javascript_the_scan_redirects_with_a_message(client):
    bins = factories.bins_for_every_kind()
    unit = factories.graded(Grade.NEW)
    token = start(client)
    assert scan(client, token, unit.lpn, htmx=False).status_code == 303
    page = client.get("/route/").get_data(as_text=True)
    assert 'class="route-outcome">RESTOCK<' in page
    assert scan(client, token, bins["restock"].code, htmx=False).status_code == 303
    assert "put away in" in client.get("/route/").get_data(as_text=True)


def test_partners_cannot_use_the_route_station(client):
    login_as(client, factories.user(Role.PARTNER, factories.partner()))
    assert client.get("/route/").status_code == 403
