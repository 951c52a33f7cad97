"""The export screen and CLI: direct download, background export with progress, boundaries."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests import factories
from tests.helpers import csrf_from, login_as, row_counts
from warehouse import exports
from warehouse.db import db
from warehouse.models import Export, ExportStatus, Outbox, Role


@pytest.fixture
def app_config():
    return {"RESALE_EXPORT_BACKGROUND_ROWS": 5}


def open_screen(client, user):
    login_as(client, user)
    page = client.get("/exports/")
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def test_a_small_export_downloads_at_once(client):
    factories.listed_units(3)
    token = open_screen(client, factories.user(Role.SUPERVISOR))
    response = client.post(
        "/exports/", data={"csrf_token": token, "format": "ebay", "channel": "ebay"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="resale-ebay')
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["Quantity"] for row in rows] == ["1", "1", "1"]


def test_exporting_with_no_units_is_refused_on_screen(client):
    token = open_screen(client, factories.user(Role.SUPERVISOR))
    before = row_counts(Export, Outbox)
    response = client.post(
        "/exports/", data={"csrf_token": token, "format": "json", "channel": "ebay"}
    )
    assert response.status_code == 422
    assert "Nothing to export" in response.get_data(as_text=True)
    assert row_counts(Export, Outbox) == before
    bad = client.post("/exports/", data={"csrf_token": token, "format": "xls", "channel": "ebay"})
    assert bad.status_code == 422
    assert "Unknown export format" in bad.get_data(as_text=True)


@pytest.mark.commits  # progress is stamped on a second connection while the export streams
def test_a_large_export_runs_in_the_background_with_progress(client, app):
    factories.listed_units(8)
    token = open_screen(client, factories.user(Role.SUPERVISOR))
    response = client.post(
        "/exports/", data={"csrf_token": token, "format": "json", "channel": "ebay"}
    )
    assert response.status_code == 303
    export = db.session.query(Export).one()
    assert response.headers["Location"].endswith(f"/exports/{export.id}")
    polling = client.get(f"/exports/{export.id}", headers={"HX-Request": "true"})
    html = polling.get_data(as_text=True)
    assert 'hx-trigger="load delay:500ms"' in html
    assert "0 of 8 rows" in html
    assert client.get(f"/exports/{export.id}/download").status_code == 404  # not ready yet
    # The worker runs the job (issue 3's relay hands it the outbox payload).
    exports.run_export(db.session, export.id, Path(app.instance_path) / "exports")
    db.session.commit()
    done = client.get(f"/exports/{export.id}", headers={"HX-Request": "true"})
    assert "Ready: 8 rows" in done.get_data(as_text=True)
    assert "hx-trigger" not in done.get_data(as_text=True)
    download = client.get(f"/exports/{export.id}/download")
    assert download.status_code == 200
    assert len(json.loads(download.get_data(as_text=True))["items"]) == 8
    download.close()


def test_partners_see_only_their_own_exports(client):
    mine, theirs = factories.partner(), factories.partner()
    factories.listed_units(6, partner=mine)
    factories.listed_units(6, partner=theirs)
    other = Export(format="csv", channel="ebay", partner_id=theirs.id, status=ExportStatus.DONE)
    db.session.add(other)
    db.session.commit()
    token = open_screen(client, factories.user(Role.PARTNER, mine))
    assert client.get(f"/exports/{other.id}").status_code == 404
    assert client.get(f"/exports/{other.id}/download").status_code == 404
    response = client.post(
        "/exports/", data={"csrf_token": token, "format": "csv", "channel": "ebay"}
    )
    assert response.status_code == 303
    export = db.session.query(Export).filter_by(partner_id=mine.id).one()
    assert export.total == 6


def test_the_export_resale_command(runner, tmp_path):
    partner = factories.listed_units(2)
    factories.listed_units(1)
    db.session.commit()
    out = tmp_path / "feed.json"
    result = runner.invoke(
        args=["export-resale", "--format", "json", "--partner", partner.code, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text())["items"]) == 2
    to_stdout = runner.invoke(args=["export-resale", "--format", "ebay"])
    assert to_stdout.exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(to_stdout.stdout)))) == 3
    empty = runner.invoke(args=["export-resale", "--channel", "nowhere"])
    assert empty.exit_code == 1
    assert "Nothing to export" in empty.output


def test_the_resale_listings_api_streams_a_partners_own_listings(client):
    mine = factories.listed_units(2)
    factories.listed_units(3)
    token = factories.token(Role.PARTNER, mine)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get("/api/v1/resale-listings?format=json&language=fr", headers=headers)
    assert response.status_code == 200
    items = json.loads(response.get_data(as_text=True))["items"]
    assert {item["partner"] for item in items} == {mine.code}
    assert items[0]["condition_description"].startswith("Boîte ouverte")
    empty = client.get("/api/v1/resale-listings?channel=bol", headers=headers)
    assert empty.status_code == 400
    assert empty.get_json()["field"] == "channel"
    bad = client.get("/api/v1/resale-listings?format=xml", headers=headers)
    assert bad.get_json()["field"] == "format"
    assert client.get("/api/v1/resale-listings").status_code == 401


def test_listed_units_pictures_are_public_signed_links_a_channel_can_fetch(client, app):
    """The export's picture_url opens without a login; an altered link, or the photo of a unit
    that is not listed, is a 404."""
    import io as _io
    from pathlib import Path

    from PIL import Image

    from warehouse import exports, photos
    from warehouse.events import Actor
    from warehouse.models import Listing

    image = _io.BytesIO()
    Image.new("RGB", (40, 40), "blue").save(image, "PNG")
    directory = Path(app.instance_path) / "photos"
    listed, unlisted = factories.received(), factories.received()
    photo = photos.store_photo(db.session, Actor(), listed, image.getvalue(), directory=directory)
    other = photos.store_photo(db.session, Actor(), unlisted, image.getvalue(), directory=directory)
    db.session.add(
        Listing(
            unit_id=listed.id,
            partner_id=listed.partner_id,
            channel="ebay",
            title="Shoe",
            condition_id=1500,
            condition_description="",
            original_minor=4999,
            discount_bp=0,
            price_minor=4999,
            currency="EUR",
        )
    )
    db.session.commit()
    links = photos.PictureLinks.from_settings(app.config)
    [row] = list(
        exports.rows(
            db.session, exports.Selection("ebay", None, None), public_url="", pictures=links
        )
    )
    assert row["picture_url"] == links.path(photo.id)
    fetched = client.get(row["picture_url"])
    assert fetched.status_code == 200
    assert fetched.mimetype == "image/jpeg"
    assert fetched.headers["Cache-Control"].startswith("public")
    assert client.get(row["picture_url"].replace(".jpg", "x.jpg")).status_code == 404
    assert client.get(links.path(other.id)).status_code == 404
