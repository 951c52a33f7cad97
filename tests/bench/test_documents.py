"""A CI-sized run of the document measurements (20 labels, 300 rows), so they cannot rot: each
job did its real work, raw reportlab draws exactly the app's labels, and the table has a row
per job."""

from __future__ import annotations

import csv

import pypdfium2
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from reportlab import rl_config

from bench import documents
from labels.unit_label import UnitLabel, unit_labels_pdf
from stations import create_app
from warehouse.catalogue import COLUMNS
from warehouse.db import db
from warehouse.models import Partner, Product

pytestmark = pytest.mark.commits  # on a database file of its own, not the session's


@pytest.fixture
def migrated_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'documents.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path / "migrate")})
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    return url


def test_raw_reportlab_draws_the_same_pdf_as_the_app(monkeypatch):
    monkeypatch.setattr(rl_config, "invariant", 1)  # no dates or random ids in either file
    values = documents.sample_labels(12)  # every tenth carries a flag: a fifth line
    labels = [UnitLabel(**label) for label in values]
    assert documents.raw_labels_pdf(values) == unit_labels_pdf(labels)


def test_a_small_run_does_each_job_and_writes_one_row_each(migrated_url, tmp_path):
    assert set(documents.CATALOGUE_COLUMNS) <= set(COLUMNS)
    results = documents.measure_all(
        migrated_url, labels=20, export_rows=300, import_rows=300, directory=tmp_path
    )
    labels, export, imported = results

    pdf = pypdfium2.PdfDocument(labels.output.read_bytes())
    assert len(pdf) == 20
    pdf.close()
    with export.output.open(newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 300
    assert (labels.count, export.count, imported.count) == (20, 300, 300)

    app = create_app({"SQLALCHEMY_DATABASE_URI": migrated_url, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        made = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Product)
            .join(Partner, Partner.id == Product.partner_id)
            .where(Partner.code == "BENCH-IMPORT-1")
        )
        db.session.remove()
        db.engine.dispose()
    assert made == 300

    for result in results:
        assert result.seconds > 0, result
        assert result.compared_seconds > 0, result
    assert export.peak_mib > 0
    assert export.compared_peak_mib > 0
    assert labels.met == (labels.seconds <= 1.5 * labels.compared_seconds)
    assert imported.met is None

    # Run again on the same database: the listings are found, a new partner imports anew.
    again = documents.measure_all(migrated_url, labels=2, export_rows=300, import_rows=10)
    assert [r.count for r in again] == [2, 300, 10]

    text = documents.table(results)
    lines = text.splitlines()
    assert lines[0] == "| job | time | compared with | peak memory | target | met |"
    assert len(lines) == 2 + len(results)
    assert lines[2].startswith("| 20 unit labels, one PDF |")
    assert lines[3].startswith("| resale export, 300 rows |")
    assert lines[4].startswith("| product import, 300 rows |")
    assert lines[4].endswith("| - | - |")  # no target, so nothing met or missed
