"""Resale exports: columns and content read back, streaming with flat memory, the job."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import exports, jobs, routing
from warehouse.db import db
from warehouse.errors import InvalidInput, NotFound
from warehouse.events import Actor
from warehouse.models import Export, ExportStatus, Grade, Outbox, UnitPhoto

ALL = exports.Selection("ebay")


def text(fmt, selection=ALL, **options) -> str:
    return "".join(exports.stream(fmt, selection, exports.rows(db.session, selection, **options)))


def test_ebay_csv_columns_and_content(app):
    bins = factories.bins_for_every_kind()
    unit = factories.graded(Grade.OPENED, currency="DKK", price=37_545)
    unit.checklist = {"accessories_complete": True, "tested": True}
    unit.notes = 'Box "dented", corner'
    routing.put_away(db.session, unit.lpn, bins["resale"].code, Actor())
    db.session.add(
        UnitPhoto(
            unit_id=unit.id,
            partner_id=unit.partner_id,
            stored_name="p1.jpg",
            width=1,
            height=1,
            size_bytes=1,
        )
    )
    db.session.flush()
    photo_id = db.session.query(UnitPhoto.id).scalar()
    reader = csv.DictReader(io.StringIO(text("ebay", public_url="https://ry.example/")))
    assert tuple(reader.fieldnames) == exports.EBAY_COLUMNS
    [row] = list(reader)
    assert row == {
        "Action": "Add",
        "CustomLabel": unit.lpn,
        "Title": unit.product.title,
        "ConditionID": "1500",
        "ConditionDescription": (
            'Opened box, unused: complete and tested. Notes: Box "dented", corner'
        ),
        "StartPrice": "337.91",  # 375.45 -10 % = 337.905 → 337.91
        "Quantity": "1",
        "Currency": "DKK",
        "PicURL": f"https://ry.example/photos/{photo_id}",
    }


def test_generic_csv_and_json_feed_hold_the_same_listings(app):
    partner = factories.listed_units(3, currency="GBP")
    factories.listed_units(2, channel="marktplaats")
    rows = list(csv.DictReader(io.StringIO(text("csv"))))
    assert len(rows) == 3
    assert rows[0]["partner"] == partner.code
    assert (rows[0]["price"], rows[0]["original_price"], rows[0]["currency"]) == (
        "38.70",
        "42.99",
        "GBP",
    )
    assert rows[0]["discount_percent"] == "10"
    feed = json.loads(text("json"))
    assert feed["channel"] == "ebay"
    assert [item["lpn"] for item in feed["items"]] == [row["lpn"] for row in rows]
    other = exports.Selection("marktplaats", language="de")
    items = json.loads(text("json", other))["items"]
    assert len(items) == 2
    assert items[0]["condition_description"] == "Geöffnete Verpackung, unbenutzt: vollständig."


def test_a_partners_export_holds_only_its_listings(app):
    mine = factories.listed_units(2)
    factories.listed_units(3)
    selection = exports.Selection("ebay", partner_id=mine.id)
    assert exports.count(db.session, selection) == 2
    assert {row["partner"] for row in csv.DictReader(io.StringIO(text("csv", selection)))} == {
        mine.code
    }


def test_exporting_with_no_units_is_refused(app):
    factories.listed_units(1, channel="ebay")
    with pytest.raises(InvalidInput) as caught:
        exports.require_listings(db.session, exports.Selection("bol"))
    assert caught.value.field == "channel"
    assert "Nothing to export" in caught.value.message
    with pytest.raises(InvalidInput):
        exports.check_format("xlsx")


def test_the_export_streams_row_by_row(app):
    """The first chunk is out before later rows are fetched; memory does not grow with rows."""
    factories.listed_units(30, notes="x" * 600)
    db.session.commit()
    items = exports.rows(db.session, ALL, yield_per=5)
    fetched = []
    counting = (fetched.append(item) or item for item in items)
    chunks = exports.stream("csv", ALL, counting)
    first = next(chunks)  # ~16 KB: the header and the first rows, not all 30 (≈ 30 KB)
    assert first.startswith("lpn,sku")
    assert 0 < len(fetched) < 30
    assert sum(1 for _ in chunks) >= 1
    assert len(fetched) == 30


def _peak_bytes(selection) -> tuple[int, int]:
    db.session.expire_all()
    tracemalloc.start()
    written = 0
    try:
        for chunk in exports.stream(
            "ebay", selection, exports.rows(db.session, selection, yield_per=200)
        ):
            written += len(chunk)
        return tracemalloc.get_traced_memory()[1], written
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_for_ten_times_the_rows(app):
    small = factories.listed_units(300, notes="n" * 2000)
    large = factories.listed_units(3_000, notes="n" * 2000)
    db.session.commit()
    _peak_bytes(exports.Selection("ebay", partner_id=small.id))  # warm SQLAlchemy's caches
    small_peak, small_size = _peak_bytes(exports.Selection("ebay", partner_id=small.id))
    large_peak, large_size = _peak_bytes(exports.Selection("ebay", partner_id=large.id))
    assert large_size > 9 * small_size
    # Ten times the rows, about the same peak; and far less than the file it wrote.
    assert large_peak < small_peak * 1.5 + 256 * 1024, (small_peak, large_peak)
    assert large_peak < large_size / 2, (large_peak, large_size)


@pytest.mark.commits  # progress is stamped on a second connection
def test_background_export_job_writes_the_file_with_progress(app, tmp_path):
    factories.listed_units(7)
    actor = Actor(label="supervisor@test")
    before = row_counts(Outbox)
    export = exports.request_background(db.session, "ebay", ALL, 7, actor)
    db.session.commit()
    assert row_counts(Outbox)["outbox"] == before["outbox"] + 1
    job = db.session.query(Outbox).filter_by(kind=exports.JOB_KIND).one()
    assert job.payload == {"export_id": export.id}
    done = exports.run_export(db.session, export.id, tmp_path, progress_every=2, yield_per=3)
    db.session.refresh(done)
    assert (done.status, done.progress, done.total) == (ExportStatus.DONE, 7, 7)
    with open(done.file_path, newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 7
    # Running the job again leaves the finished file alone.
    assert exports.run_export(db.session, export.id, tmp_path).file_path == done.file_path
    with pytest.raises(NotFound):
        exports.get_export(db.session, export.id, partner_id=factories.partner().id)
    assert db.session.get(Export, export.id).finished_at is not None


@pytest.mark.commits  # progress is stamped on a second connection
def test_the_export_job_kind_runs_the_export(app):
    factories.listed_units(3)
    export = exports.request_background(db.session, "csv", ALL, 3, Actor(label="s"))
    db.session.commit()
    kind = jobs.JOB_KINDS[exports.JOB_KIND]
    context = jobs.JobContext(db.session, app.config, f"export:{export.id}", export.created_at)
    path = kind.func(context, {"export_id": export.id})
    db.session.commit()
    assert path.endswith(".csv")
    assert db.session.get(Export, export.id).status == ExportStatus.DONE


@pytest.mark.parametrize("currency", ["EUR", "GBP", "SEK"])
def test_the_condition_in_the_export_follows_the_final_grade(app, currency):
    """Issue 10, defect 7: 2500 only when refurbishment brought the unit to opened or new."""
    bins = factories.bins_for_every_kind()
    actor = factories.operator_actor()
    back_to_opened = factories.graded(Grade.USED, currency=currency)
    still_marked = factories.graded(Grade.USED, currency=currency)
    for unit, regrade in ((back_to_opened, Grade.OPENED), (still_marked, Grade.LIGHT_DAMAGE)):
        routing.put_away(db.session, unit.lpn, bins["refurbish"].code, actor)
        unit.status, unit.grade = factories.UnitStatus.GRADED, regrade
        routing.put_away(db.session, unit.lpn, bins["resale"].code, actor)
    db.session.flush()
    selection = exports.Selection("ebay")
    text = "".join(exports.stream("ebay", selection, exports.rows(db.session, selection)))
    rows = {row["CustomLabel"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows[back_to_opened.lpn]["ConditionID"] == "2500"
    assert rows[still_marked.lpn]["ConditionID"] == "3000"
    assert rows[back_to_opened.lpn]["Currency"] == currency
