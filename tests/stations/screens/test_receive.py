"""The receiving station over HTTP: htmx partials, 303 fallbacks, CSRF, refusals, query counts."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.helpers import login_as, row_counts
from tests.stations.screens.receiving import FWD, HX, RMA
from tests.zbar import decode_pdf
from warehouse import codes
from warehouse.db import db
from warehouse.models import (
    Destination,
    Event,
    Outbox,
    ReturnRequest,
    ReturnStatus,
    Role,
    Unit,
    UnitException,
)


def test_scanning_the_rma_opens_the_card_as_a_partial(station, parcel):
    response = station.scan(parcel["rma"].rma.lower())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "scan-ok"
    assert "<html" not in html  # a partial, not the page
    assert RMA in html
    assert "Trail shoe" in html
    assert "Fjell Outdoor" in html
    assert 'data-verdict="green"' in html
    assert "days left" in html
    assert station.context["rma_id"] == str(parcel["rma"].id)


def test_the_same_parcel_scan_twice_gives_the_same_card_and_no_unit(station, parcel):
    first = station.scan(RMA).get_data(as_text=True)
    second = station.scan(RMA).get_data(as_text=True)
    assert first == second
    assert db.session.query(Unit).count() == 0


def test_order_number_and_outbound_tracking_open_the_parcel_too(station, parcel):
    assert RMA in station.scan(parcel["order"].number).get_data(as_text=True)
    tracking = parcel["order"].shipments[0].tracking_number
    assert RMA in station.scan(tracking).get_data(as_text=True)


def test_confirming_units_by_ean_labels_each_and_mails_the_customer_once(station, parcel):
    station.scan(RMA)
    first = station.scan("4006381333931")
    assert first.headers["HX-Trigger"] == "scan-ok"
    second = station.scan("4006381333931")
    html = second.get_data(as_text=True)
    units = db.session.query(Unit).order_by(Unit.id).all()
    assert [u.slot for u in units] == [1, 2]
    for unit in units:
        assert f"/receive/units/{unit.lpn}/label.pdf" in html
        assert f"/receive/units/{unit.lpn}/label.zpl" in html
    rma = db.session.get(ReturnRequest, parcel["rma"].id)
    assert rma.status == ReturnStatus.RECEIVED
    assert rma.refund_due_on is not None
    mails = db.session.query(Outbox).all()
    assert [m.payload["template"] for m in mails] == ["return_received"]
    assert mails[0].idempotency_key == f"mail:received:{RMA}"
    # The label decodes back to the LPN; the ZPL carries the same barcode.
    pdf = station.client.get(f"/receive/units/{units[0].lpn}/label.pdf")
    assert decode_pdf(pdf.data) == [[("CODE128", units[0].lpn)]]
    zpl = station.client.get(f"/receive/units/{units[0].lpn}/label.zpl").get_data(as_text=True)
    assert f"^FD{units[0].lpn}^FS" in zpl


def test_a_repeated_confirmation_adds_no_second_unit(station, parcel):
    station.scan(RMA)
    context = dict(station.context)
    station.scan("4006381333931")
    again = station.scan("4006381333931", **context)  # the same request, resent
    assert "same scan again" in again.get_data(as_text=True)
    assert db.session.query(Unit).count() == 1


def test_electronics_ask_for_the_serial_and_flag_a_mismatch(station, parcel):
    station.scan(RMA)
    asked = station.scan("96385074").get_data(as_text=True)
    assert "Scan the serial number / IMEI" in asked
    assert station.context["serial_for"]
    flagged = station.scan("IMEI-999").get_data(as_text=True)
    assert "does not match" in flagged
    unit = db.session.query(Unit).one()
    assert unit.serial_number == "IMEI-999"
    assert unit.serial_mismatch is True
    assert station.context["serial_for"] == ""


def test_wrong_extra_and_foreign_items_are_flagged_units(station, parcel):
    other = factories.product(factories.partner(), title="Somebody's mug", gtin="5012345678900")
    db.session.commit()
    station.scan(RMA)
    assert "Wrong item" in station.scan(other.gtin).get_data(as_text=True)
    assert "Foreign" in station.scan("4000000000006").get_data(as_text=True)
    station.scan("96385074")
    station.scan("IMEI-111")
    assert "Extra" in station.scan("96385074").get_data(as_text=True)
    kinds = [u.exception for u in db.session.query(Unit).order_by(Unit.id)]
    assert kinds == [
        UnitException.WRONG_ITEM,
        UnitException.FOREIGN,
        None,
        UnitException.EXTRA,
    ]


def test_closing_short_declares_missing_units(station, parcel):
    station.scan(RMA)
    station.scan("4006381333931")
    closed = station.post(f"/receive/{parcel['rma'].id}/close", {})
    assert "2 units missing" in closed.get_data(as_text=True)
    lines = db.session.get(ReturnRequest, parcel["rma"].id).lines
    assert [line.missing_quantity for line in lines] == [1, 1]
    refused = station.scan("4006381333931")
    assert refused.status_code == 409
    assert "closed at receiving" in refused.get_data(as_text=True)


def test_parcel_damaged_in_transit(station, parcel):
    station.scan(RMA)
    answer = station.post(f"/receive/{parcel['rma'].id}/damaged")
    assert "parcel damaged" in answer.get_data(as_text=True)
    assert db.session.get(ReturnRequest, parcel["rma"].id).parcel_damaged is True


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (RMA[:-1] + ("A" if RMA[-1] != "A" else "B"), "not a valid RMA"),  # check symbol wrong
        ("RMA-ZZZZZZZ", "not a valid RMA"),
        ("NOPE-123", "Nothing is known by"),
        ("LP00000000" + "0", "No unit carries"),
    ],
)
def test_unknown_or_malformed_barcodes_offer_search_and_write_nothing(
    station, parcel, code, message
):
    before = row_counts(ReturnRequest, Unit, Event, Outbox)
    response = station.scan(code)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert response.headers["HX-Trigger"] == "scan-error"
    assert message in html
    assert "Search instead" in html
    assert row_counts(ReturnRequest, Unit, Event, Outbox) == before


def test_a_valid_but_unknown_rma_is_unknown(station, parcel):
    response = station.scan(codes.new_rma())
    assert response.status_code == 404
    assert "No return" in response.get_data(as_text=True)


def test_an_rma_of_another_site_is_refused(station, parcel):
    other_site = factories.site("AMS")
    parcel["rma"].site_id = other_site.id
    db.session.commit()
    response = station.scan(RMA)
    assert response.status_code == 409
    assert "site AMS" in response.get_data(as_text=True)


def test_a_german_operator_reads_the_other_sites_refusal_in_german(station, parcel):
    other_site = factories.site("AMS")
    parcel["rma"].site_id = other_site.id
    parcel["operator"].language = "de"
    db.session.commit()
    response = station.scan(RMA)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Standort AMS" in html
    assert "Umlagerungspalette" in html
    assert "transfer pallet" not in html


def test_an_unannounced_parcel_gets_an_rma_on_the_spot(station, parcel):
    order = factories.order([(factories.product(factories.partner()), 1)])
    db.session.commit()
    offer = station.scan(order.number).get_data(as_text=True)
    assert "Unannounced parcel" in offer
    shipment_id = order.shipments[0].id
    created = station.post(f"/receive/shipments/{shipment_id}/unannounced")
    assert "unannounced" in created.get_data(as_text=True)
    rma = db.session.query(ReturnRequest).filter_by(order_id=order.id).one()
    assert rma.unannounced is True
    assert station.context["rma_id"] == str(rma.id)


def test_a_partner_taking_returns_directly_gets_a_forwarding_label(station, parcel):
    partner = factories.partner(
        name="Kook Direct", destination=Destination.PARTNER, address="Kookstraat 1\nRotterdam"
    )
    order = factories.order([(factories.product(partner), 1)])
    rma = factories.return_request(order, rma=FWD)
    db.session.commit()
    html = station.scan(FWD).get_data(as_text=True)
    assert "forward this parcel" in html
    assert "Confirm 1" not in html
    pdf = station.client.get(f"/receive/{rma.id}/forwarding.pdf")
    assert decode_pdf(pdf.data, dpi=200) == [[("CODE128", FWD)]]
    refused = station.scan(order.lines[0].product.gtin)
    assert refused.status_code == 409
    assert "forward the parcel" in refused.get_data(as_text=True)


def test_without_htmx_posts_answer_with_a_303_to_the_full_page(station, parcel):
    response = station.scan(RMA, htmx=False)
    assert response.status_code == 303
    assert response.location.endswith(f"/receive/?rma={parcel['rma'].id}")
    page = station.client.get(response.location).get_data(as_text=True)
    assert "<html" in page
    assert f"{RMA} opened." in page


def test_csrf_is_enforced_on_station_posts(client, parcel):
    login_as(client, parcel["operator"])
    response = client.post("/receive/scan", data={"code": RMA}, headers=HX)
    assert response.status_code == 400
    assert db.session.query(Event).filter_by(kind="parcel.scanned").count() == 0


def test_partners_and_anonymous_users_cannot_use_the_station(client, parcel):
    assert client.get("/receive/").status_code == 302
    login_as(client, factories.user(Role.PARTNER, parcel["rma"].partner))
    assert client.get("/receive/").status_code == 403


def test_the_scan_field_keeps_focus(station, parcel):
    page = station.client.get("/receive/").get_data(as_text=True)
    assert re.search(r"<input id=\"scan-code\" name=\"code\" data-scan autofocus", page)
    # The partial never carries another autofocus that would steal the cursor.
    assert "autofocus" not in station.scan(RMA).get_data(as_text=True)


def _grow_database(n):
    partner = factories.partner()
    product = factories.product(partner)
    for _ in range(n):
        order = factories.order([(product, 1)])
        factories.return_request(order)
    db.session.commit()


def test_scan_queries_do_not_grow_with_the_database(station, parcel, count_queries):
    number = parcel["order"].number

    def measure():
        db.session.remove()  # as in production: each request starts with an empty session
        with count_queries() as parcel_scan:
            station.scan(RMA)
        with count_queries() as order_scan:
            station.scan(number)
        return parcel_scan, order_scan

    small = measure()
    _grow_database(60)
    large = measure()
    assert [len(s) for s in small] == [len(s) for s in large]
    # Parcel by RMA: the RMA by its unique index, its related rows by primary / foreign key
    # (one query each), and the scan event.
    assert len(large[0]) <= 13
    assert len(large[1]) <= 16
