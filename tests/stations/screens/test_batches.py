"""Batch and location screens: actions, PDFs, labels, validation and partner boundaries."""

from __future__ import annotations

import datetime as dt

from tests import factories
from tests.helpers import csrf_from, login_as, row_counts
from tests.zbar import decode_pdf
from warehouse import routing
from warehouse.db import db
from warehouse.models import (
    Batch,
    BatchStatus,
    DefectiveHandling,
    Grade,
    Location,
    LocationKind,
    Outbox,
    Role,
)


def rtv_batch(partner=None):
    partner = partner or factories.partner(defective_handling=DefectiveHandling.RETURN_TO_VENDOR)
    pallet = factories.location(LocationKind.RTV)
    unit = factories.graded(Grade.DEFECTIVE, partner=partner)
    routing.put_away(db.session, unit.lpn, pallet.code, factories.operator_actor())
    db.session.commit()
    return db.session.query(Batch).filter_by(partner_id=partner.id).one(), unit


def test_supervisor_packs_and_ships_an_rtv_batch(client):
    batch, unit = rtv_batch()
    login_as(client, factories.user(Role.SUPERVISOR))
    page = client.get(f"/batches/{batch.id}")
    token = csrf_from(page.get_data(as_text=True))
    assert unit.lpn in page.get_data(as_text=True)
    assert client.post(f"/batches/{batch.id}/pack", data={"csrf_token": token}).status_code == 303
    refused = client.post(
        f"/batches/{batch.id}/ship", data={"csrf_token": token, "carrier": "DHL", "tracking": ""}
    )
    assert refused.status_code == 303
    assert "Enter the tracking number." in client.get(f"/batches/{batch.id}").get_data(as_text=True)
    shipped = client.post(
        f"/batches/{batch.id}/ship",
        data={"csrf_token": token, "carrier": "DHL", "tracking": "JJD42"},
    )
    assert shipped.status_code == 303
    db.session.expire_all()
    assert batch.status == BatchStatus.SHIPPED
    assert db.session.query(Outbox).filter_by(kind="send_email").count() == 1
    pdf = client.get(f"/batches/{batch.id}/document.pdf")
    assert pdf.mimetype == "application/pdf"
    assert [text for _, text in decode_pdf(pdf.data, dpi=200)[0]] == [batch.number, unit.lpn]


def test_partners_read_their_own_batches_only_and_cannot_act(client):
    mine = factories.partner(defective_handling=DefectiveHandling.RETURN_TO_VENDOR)
    theirs = factories.partner(defective_handling=DefectiveHandling.RETURN_TO_VENDOR)
    own, _ = rtv_batch(mine)
    other, _ = rtv_batch(theirs)
    login_as(client, factories.user(Role.PARTNER, mine))
    listing = client.get("/batches/").get_data(as_text=True)
    assert own.number in listing
    assert other.number not in listing
    assert client.get(f"/batches/{own.id}").status_code == 200
    assert client.get(f"/batches/{other.id}").status_code == 404
    assert client.get(f"/batches/{other.id}/document.pdf").status_code == 404
    token = csrf_from(client.get(f"/batches/{own.id}").get_data(as_text=True))
    assert client.post(f"/batches/{own.id}/pack", data={"csrf_token": token}).status_code == 403


def test_locations_are_added_with_validation_and_print_labels(client):
    factories.partner("ACME")
    login_as(client, factories.user(Role.SUPERVISOR))
    token = csrf_from(client.get("/locations/").get_data(as_text=True))
    added = client.post(
        "/locations/",
        data={
            "csrf_token": token,
            "code": "pal-rtv-1",
            "kind": "rtv",
            "capacity": "40",
            "partner": "ACME",
        },
    )
    assert added.status_code == 303
    pallet = db.session.query(Location).one()
    assert (pallet.code, pallet.capacity, pallet.partner.code) == ("PAL-RTV-1", 40, "ACME")
    before = row_counts(Location)
    for data, message in (
        ({"code": "PAL-RTV-1", "kind": "rtv"}, "exists already"),
        ({"code": "B", "kind": "rtv"}, "3 to 32 capitals"),
        ({"code": "BIN-X-1", "kind": "attic"}, "Unknown kind"),
        ({"code": "BIN-X-1", "kind": "resale", "capacity": "0"}, "at least 1"),
        ({"code": "BIN-X-1", "kind": "resale", "capacity": "9" * 30}, "whole number"),
        ({"code": "BIN-X-1", "kind": "resale", "capacity": "200000"}, "at most 100000"),
        ({"code": "BIN-X-1", "kind": "resale", "partner": "ACME"}, "Only RTV pallets"),
        ({"code": "BIN-X-1", "kind": "rtv", "partner": "GHOST"}, "No partner"),
    ):
        response = client.post("/locations/", data={"csrf_token": token, **data})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert row_counts(Location) == before
    pdf = client.get(f"/locations/labels.pdf?id={pallet.id}")
    assert decode_pdf(pdf.data) == [[("CODE128", "PAL-RTV-1")]]
    zpl = client.get("/locations/labels.zpl").get_data(as_text=True)
    assert "^FDPAL-RTV-1^FS" in zpl
    assert client.get("/locations/labels.pdf?id=999").status_code == 404


def test_the_batch_list_dates_a_batch_by_the_sites_calendar_day(client):
    """Opened at 23:30 UTC on 30 November, 00:30 on 1 December at the Amsterdam site: the list
    says the 1st, as the batch document does."""
    batch, _ = rtv_batch()
    assert batch.site.timezone == "Europe/Amsterdam"
    batch.created_at = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
    db.session.commit()
    login_as(client, factories.user(Role.SUPERVISOR))
    listing = client.get("/batches/").get_data(as_text=True)
    assert "<td>2026-12-01</td>" in listing
    assert "2026-11-30" not in listing
