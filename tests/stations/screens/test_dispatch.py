"""The To customer station over HTTP: a repaired unit routed to the to-customer shelf, its parcel
opened by scan, labelled, shipped with a repair note; refusals say why and change nothing."""

from __future__ import annotations

from tests import factories
from tests.helpers import csrf_from, login_as, pdf_text, row_counts
from warehouse.db import db
from warehouse.models import (
    CustomerParcel,
    Event,
    Grade,
    LocationKind,
    ParcelStatus,
    Reason,
    Remedy,
    Role,
    UnitStatus,
)

HX = {"HX-Request": "true"}


def _repaired_unit():
    unit = factories.received(reason=Reason.DEFECTIVE, delivered_days_ago=200)
    unit.return_line.remedy = Remedy.REPAIR
    factories.grade(unit, Grade.DEFECTIVE)
    factories.location(LocationKind.TO_CUSTOMER, "SHELF-TC-9")
    db.session.commit()
    return unit


def _login(client, path):
    operator = factories.user(Role.OPERATOR)
    db.session.commit()
    login_as(client, operator)
    return csrf_from(client.get(path).get_data(as_text=True))


def test_route_then_ship_a_repaired_unit(client, count_queries):
    unit = _repaired_unit()
    token = _login(client, "/route/")
    headers = {**HX, "X-CSRFToken": token}
    shown = client.post("/route/scan", data={"code": unit.lpn}, headers=headers)
    html = shown.get_data(as_text=True)
    assert 'class="route-outcome">TO CUSTOMER<' in html
    assert "repair and return to the customer" in html
    done = client.post(
        "/route/scan", data={"code": "SHELF-TC-9", "pending_lpn": unit.lpn}, headers=headers
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    parcel = db.session.query(CustomerParcel).filter_by(unit_id=unit.id).one()
    assert f'parcel <a href="/dispatch/?code={parcel.code}">' in done.get_data(as_text=True)

    page = client.get("/dispatch/")
    assert parcel.code in page.get_data(as_text=True)  # waiting to leave
    with count_queries() as statements:
        opened = client.post("/dispatch/scan", data={"code": unit.lpn}, headers=headers)
    assert opened.headers["X-Scan-Outcome"] == "ok"
    card = opened.get_data(as_text=True)
    assert f'data-parcel="{parcel.code}"' in card
    assert 'name="repair_note"' in card
    assert len(statements) <= 6, statements  # session user + one parcel look-up

    label = client.get(f"/dispatch/{parcel.code}/label.pdf")
    assert label.mimetype == "application/pdf"
    text = pdf_text(label.data)
    assert parcel.code in text
    assert "Sam Customer" in text
    assert "repaired" in text

    before = row_counts(Event)
    refused = client.post(
        f"/dispatch/{parcel.code}/ship", data={"tracking_number": "3S0001"}, headers=headers
    )
    assert refused.status_code == 422
    assert "say what was repaired" in refused.get_data(as_text=True)
    assert row_counts(Event) == before

    shipped = client.post(
        f"/dispatch/{parcel.code}/ship",
        data={"tracking_number": "3SREPAIR01", "repair_note": "new hinge fitted"},
        headers=headers,
    )
    assert shipped.status_code == 200
    assert "Shipped: " in shipped.get_data(as_text=True)
    db.session.expire_all()
    assert parcel.status == ParcelStatus.SHIPPED
    assert unit.status == UnitStatus.CLOSED
    assert (
        parcel.code
        not in client.get("/dispatch/").get_data(as_text=True).split("Waiting to leave")[1]
    )


def test_without_javascript_the_station_redirects_to_the_parcel(client):
    unit = _repaired_unit()
    token = _login(client, "/dispatch/")
    answer = client.post("/dispatch/scan", data={"code": unit.lpn}, headers={"X-CSRFToken": token})
    # Not on the shelf yet: the unit has no parcel.
    assert answer.status_code == 303
    assert "No parcel" in client.get(answer.headers["Location"]).get_data(as_text=True)


def test_an_unknown_code_is_refused(client):
    token = _login(client, "/dispatch/")
    answer = client.post(
        "/dispatch/scan", data={"code": "CP-NOPE"}, headers={**HX, "X-CSRFToken": token}
    )
    assert answer.status_code == 404
    assert answer.headers["X-Scan-Outcome"] == "error"
    assert "No parcel to a customer" in answer.get_data(as_text=True)


def test_partners_cannot_open_the_station(client):
    seller = factories.partner()
    person = factories.user(Role.PARTNER, seller)
    db.session.commit()
    login_as(client, person)
    assert client.get("/dispatch/").status_code == 403
