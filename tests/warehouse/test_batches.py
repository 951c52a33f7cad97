"""RTV and destruction batches: pack, ship, destroy, the partner's email, and the PDFs."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from labels.batches import batch_pdf
from tests import factories
from tests.helpers import pdf_text, row_counts
from tests.zbar import decode_pdf
from warehouse import batches, routing
from warehouse.db import db
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.events import Actor
from warehouse.models import (
    Batch,
    BatchKind,
    BatchStatus,
    Category,
    DefectiveHandling,
    Grade,
    LocationKind,
    Outbox,
    Placement,
    Role,
)


def routed_batch(count: int, handling: DefectiveHandling, partner=None):
    partner = partner or factories.partner(
        defective_handling=handling, language="de", name="Küchenwelt GmbH"
    )
    kind = (
        LocationKind.RTV
        if handling == DefectiveHandling.RETURN_TO_VENDOR
        else (LocationKind.DESTROY)
    )
    target = factories.location(kind, capacity=100)
    units = []
    for _ in range(count):
        # A kitchen shop's goods: apparel may no longer be destroyed (ESPR, test_espr.py).
        unit = factories.graded(Grade.DEFECTIVE, partner=partner, category=Category.HOME)
        unit.product.weight_grams = 1250
        routing.put_away(db.session, unit.lpn, target.code, factories.operator_actor())
        units.append(unit)
    batch = db.session.query(Batch).filter_by(partner_id=partner.id).one_or_none() or (
        db.session.query(Batch).filter_by(kind=BatchKind.DESTRUCTION).one()
    )
    return batch, units, target


def test_rtv_batch_is_packed_shipped_and_the_partner_emailed(app):
    batch, units, pallet = routed_batch(3, DefectiveHandling.RETURN_TO_VENDOR)
    supervisor = factories.user(Role.SUPERVISOR)
    actor = Actor(label=supervisor.email, user_id=supervisor.id)
    with pytest.raises(Conflict):
        batches.ship(db.session, batch.id, "DHL", "JJD000", actor)  # not packed yet
    batches.pack(db.session, batch.id, actor)
    with pytest.raises(InvalidInput) as missing:
        batches.ship(db.session, batch.id, "DHL", "  ", actor)
    assert missing.value.field == "tracking"
    batches.ship(db.session, batch.id, "DHL", "JJD0001", actor)
    db.session.commit()
    assert (batch.status, batch.tracking_number) == (BatchStatus.SHIPPED, "JJD0001")
    mail = db.session.query(Outbox).filter_by(kind="send_email").one()
    assert mail.payload["template"] == "rtv_shipped"
    assert mail.payload["language"] == "de"
    assert mail.payload["context"]["lpns"] == [unit.lpn for unit in units]
    # The units left the pallet: it has room again.
    assert routing.occupancy(db.session, [pallet.id]) == {}
    assert db.session.query(Placement).filter(Placement.left_at.is_(None)).count() == 0
    # A new RTV unit opens a new batch rather than joining the shipped one.
    unit = factories.graded(Grade.DEFECTIVE, partner=batch.partner)
    routing.put_away(db.session, unit.lpn, pallet.code, factories.operator_actor())
    assert db.session.query(Batch).filter_by(status=BatchStatus.OPEN).count() == 1


def test_rtv_packing_list_pdf_barcodes_decode(app):
    batch, units, _ = routed_batch(12, DefectiveHandling.RETURN_TO_VENDOR)
    pdf = batch_pdf(batches.document(db.session, batch))
    pages = decode_pdf(pdf, dpi=200)
    assert len(pages) == 2  # 9 rows on the first page, the rest on the second
    decoded = [text for page in pages for _, text in page]
    assert decoded.count(batch.number) == 2  # the batch barcode heads every page
    assert [text for text in decoded if text != batch.number] == [u.lpn for u in units]
    assert {kind for page in pages for kind, _ in page} == {"CODE128"}


def test_destruction_certificate_names_units_weights_date_and_person(app):
    batch, units, _ = routed_batch(2, DefectiveHandling.DESTROY)
    supervisor = factories.user(Role.SUPERVISOR)
    actor = Actor(label=supervisor.email, user_id=supervisor.id)
    with pytest.raises(Conflict):
        batches.destroy(db.session, batch.id, actor)
    batches.pack(db.session, batch.id, actor)
    batches.destroy(db.session, batch.id, actor)
    doc = batches.document(db.session, batch)
    assert doc.signer == supervisor.name
    assert [line.weight_grams for line in doc.lines] == [1250, 1250]
    assert "were destroyed on" in doc.statement
    pdf = batch_pdf(doc)
    [page] = decode_pdf(pdf, dpi=200)
    assert [text for _, text in page] == [batch.number, units[0].lpn, units[1].lpn]
    text = pdf_text(pdf)
    assert "Certificate of destruction" in text
    assert "2 units, 2.500 kg known weight" in text
    assert f"Responsible: {supervisor.name}" in text
    local_day = batch.finished_at.astimezone(ZoneInfo(batch.site.timezone)).date()
    assert f"were destroyed on {local_day.isoformat()}" in text


def test_empty_or_wrong_batches_are_refused_without_changes(app):
    site = factories.site()
    actor = Actor(label="s")
    empty = batches.open_batch(db.session, BatchKind.RTV, site.id, factories.partner().id, actor)
    db.session.commit()
    before = row_counts(Batch, Outbox)
    with pytest.raises(InvalidInput):
        batches.pack(db.session, empty.id, actor)
    destruction, _, _ = routed_batch(1, DefectiveHandling.DESTROY)
    batches.pack(db.session, destruction.id, actor)
    with pytest.raises(Conflict):
        batches.ship(db.session, destruction.id, "DHL", "X1", actor)
    db.session.rollback()
    assert row_counts(Batch, Outbox) == before


def test_a_partner_sees_only_its_own_batches(app):
    batch, _, _ = routed_batch(1, DefectiveHandling.RETURN_TO_VENDOR)
    stranger = factories.partner()
    with pytest.raises(NotFound):
        batches.get_batch(db.session, batch.id, Actor(label="p", partner_id=stranger.id))
    own = batches.get_batch(db.session, batch.id, Actor(label="p", partner_id=batch.partner_id))
    assert own.id == batch.id
