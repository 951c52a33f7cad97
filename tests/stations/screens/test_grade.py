"""The grading station over HTTP: scan, grade by button / barcode / key, photos, access."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests import factories
from tests.helpers import csrf_from, login_as, row_counts
from warehouse.db import db
from warehouse.models import (
    Case,
    Category,
    Event,
    Grade,
    LedgerEntry,
    Outbox,
    RefundState,
    Role,
    Unit,
    UnitPhoto,
    UnitStatus,
)

HX = {"HX-Request": "true"}


def make_unit(partner=None, category=Category.ELECTRONICS):
    """The unit these tests grade: headphones the customer said did not fit."""
    return factories.received(
        partner,
        category=category,
        title="Noise-cancelling headphones",
        customer_comment="did not fit my ears",
    )


@pytest.fixture
def operator(client):
    user = factories.user(Role.OPERATOR)
    login_as(client, user)
    return user


def token(client) -> str:
    return csrf_from(client.get("/grade").get_data(as_text=True))


def scan(client, code: str, **form):
    return client.post(
        "/grade/scan", data={"code": code, "csrf_token": token(client), **form}, headers=HX
    )


def png(size=(640, 480), colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_scanning_an_lpn_shows_the_unit_card_with_few_queries(client, operator, count_queries):
    unit = make_unit()
    db.session.commit()
    csrf = token(client)
    with count_queries() as statements:
        response = client.post(
            "/grade/scan", data={"code": unit.lpn, "csrf_token": csrf}, headers=HX
        )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "scan-ok"
    html = response.get_data(as_text=True)
    assert "Noise-cancelling headphones" in html
    assert "did not fit my ears" in html
    assert "In time" in html
    assert "Changed my mind" in html
    for key, label in enumerate(
        ["New", "Opened", "Used", "Light damage", "Heavy damage", "Defective"], 1
    ):
        assert f'data-grade-key="{key}"' in html
        assert label in html
    assert 'value="factory_reset"' in html  # electronics checklist
    assert 'accept="image/*" capture="environment"' in html
    # user, unit with its joins, case, photos (+ transaction noise)
    assert len(statements) <= 6, statements


def test_unknown_code_is_refused_with_a_message(client, operator):
    response = scan(client, "NOPE-123")
    assert response.status_code == 404 or response.status_code == 422
    assert response.headers["HX-Trigger"] == "scan-error"
    assert "no unit with label NOPE-123" in response.get_data(as_text=True)


def test_grade_barcode_scan_grades_the_open_unit_with_its_checklist(client, operator):
    unit = make_unit()
    db.session.commit()
    response = scan(
        client,
        "GRADE-NEW",
        unit_id=unit.id,
        check=[
            "accessories_complete",
            "cleaned",
            "repackaged",
            "powers_on",
            "tested",
            "factory_reset",
        ],
        notes="sealed",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["HX-Trigger"] == "scan-ok"
    html = response.get_data(as_text=True)
    assert "graded New: refund approved" in html
    # The work list is refreshed out of band and no longer offers the graded unit.
    queue = html[html.index('id="grade-queue"') :]
    assert 'hx-swap-oob="true"' in queue
    assert unit.lpn not in queue
    db.session.expire_all()
    unit = db.session.get(Unit, unit.id)
    assert (unit.status, unit.grade, unit.refund_state) == (
        UnitStatus.GRADED,
        Grade.NEW,
        RefundState.APPROVED,
    )
    assert unit.checklist["factory_reset"] is True
    assert unit.notes == "sealed"
    assert db.session.query(Event).filter_by(kind="unit.graded", station="grade").count() == 1


def test_a_scanned_digit_never_grades(client, operator):
    """Issue 10, defect 2: a code that starts with 1-6 is a code, not a grade key."""
    unit = make_unit()
    db.session.commit()
    before = row_counts(Event, Outbox, Case)
    for code in ("3", "4006381333931"):
        response = scan(client, code, unit_id=unit.id)
        assert response.status_code == 422  # a refused scan, with its message
        assert "no unit with label" in response.get_data(as_text=True)
    assert row_counts(Event, Outbox, Case) == before
    assert db.session.get(Unit, unit.id).grade is None


def test_grade_used_barcode_grades_and_opens_a_case(client, operator, count_queries):
    unit = make_unit()
    db.session.commit()
    csrf = token(client)
    with count_queries() as statements:
        response = client.post(
            "/grade/scan",
            data={
                "code": "GRADE-USED",
                "unit_id": unit.id,
                "check": ["accessories_complete"],
                "csrf_token": csrf,
            },
            headers=HX,
        )
    # Grade, case, events, ledger check, queued mail and the refreshed screen: one transaction.
    assert len(statements) <= 30, "\n".join(s.split("\n")[0][:90] for s in statements)
    assert response.status_code == 200
    assert "partner decides" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).grade == Grade.USED
    assert db.session.query(Case).one().proposed_minor == 4499


def test_grade_button_post_without_javascript_redirects(client, operator):
    unit = make_unit(category=Category.FASHION)
    db.session.commit()
    response = client.post(
        f"/grade/{unit.id}",
        data={"grade": "opened", "check": ["accessories_complete"], "csrf_token": token(client)},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).grade == Grade.OPENED


def test_a_grade_scan_without_a_unit_says_scan_the_unit_first(client, operator):
    before = row_counts(Event, Outbox)
    response = scan(client, "GRADE-USED")
    assert response.status_code == 422
    assert "scan a unit label first" in response.get_data(as_text=True)
    assert row_counts(Event, Outbox) == before


def test_a_routed_unit_is_shown_but_cannot_be_graded(client, operator):
    unit = make_unit()
    unit.status = UnitStatus.ROUTED
    unit.disposition = "restock"
    db.session.commit()
    response = scan(client, unit.lpn)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "already routed" in html
    assert 'id="grade-form"' not in html
    before = row_counts(Event, Outbox, Case, LedgerEntry)
    response = scan(client, "GRADE-NEW", unit_id=unit.id)
    assert response.status_code == 422
    assert "can no longer be graded" in response.get_data(as_text=True)
    assert row_counts(Event, Outbox, Case, LedgerEntry) == before


def test_partner_users_cannot_use_the_station(client):
    partner = factories.partner()
    login_as(client, factories.user(Role.PARTNER, partner))
    assert client.get("/grade").status_code == 403


def test_grade_sheet_pdf_is_served(client, operator):
    response = client.get("/grade/sheet.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"


def test_photo_upload_stores_a_reencoded_jpeg_and_thumbnail(app, client, operator):
    unit = make_unit()
    db.session.commit()
    response = client.post(
        f"/grade/{unit.id}/photos",
        data={"photo": (io.BytesIO(png((3000, 1000))), "IMG_1.png"), "csrf_token": token(client)},
        headers=HX,
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    photo = db.session.query(UnitPhoto).one()
    assert (photo.unit_id, photo.partner_id, photo.width, photo.height) == (
        unit.id,
        unit.partner_id,
        2000,
        667,
    )
    served = client.get(f"/photos/{photo.id}")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(served.data)).format == "JPEG"
    thumb = Image.open(io.BytesIO(client.get(f"/photos/{photo.id}/thumb").data))
    assert max(thumb.size) == 320


@pytest.mark.parametrize(
    ("payload", "name", "mimetype", "message"),
    [
        (b"%PDF-1.4 not a photo at all", "photo.jpg", "image/jpeg", "not a photo"),
        (b"GIF89a" + b"\0" * 40, "photo.png", "image/png", "not a photo"),
        (png()[:200], "cut.png", "image/png", "damaged or cut off"),
        (b"", "empty.jpg", "image/jpeg", "the photo is empty"),
    ],
    ids=["pdf-as-jpeg", "gif-header-junk", "truncated-png", "empty"],
)
def test_bad_photos_are_refused_and_nothing_is_stored(
    client, operator, payload, name, mimetype, message
):
    unit = make_unit()
    db.session.commit()
    before = row_counts(UnitPhoto, Event)
    response = client.post(
        f"/grade/{unit.id}/photos",
        data={"photo": (io.BytesIO(payload), name, mimetype), "csrf_token": token(client)},
        headers=HX,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert row_counts(UnitPhoto, Event) == before


def test_too_large_photo_is_refused(app, client, operator):
    app.config["PHOTO_MAX_BYTES"] = 50_000
    unit = make_unit()
    db.session.commit()
    noisy = io.BytesIO()
    Image.effect_noise((400, 400), 80).save(noisy, "PNG")
    response = client.post(
        f"/grade/{unit.id}/photos",
        data={"photo": (io.BytesIO(noisy.getvalue()), "big.png"), "csrf_token": token(client)},
        headers=HX,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "too large" in response.get_data(as_text=True)
    assert db.session.query(UnitPhoto).count() == 0


def test_photos_are_served_only_to_the_units_partner(app, client):
    mine, other = factories.partner(), factories.partner()
    unit = make_unit(mine)
    operator = factories.user(Role.OPERATOR)
    login_as(client, operator)
    client.post(
        f"/grade/{unit.id}/photos",
        data={"photo": (io.BytesIO(png()), "a.png"), "csrf_token": token(client)},
        headers=HX,
        content_type="multipart/form-data",
    )
    photo = db.session.query(UnitPhoto).one()
    client.post("/logout", data={"csrf_token": token(client)})
    login_as(client, factories.user(Role.PARTNER, other))
    assert client.get(f"/photos/{photo.id}").status_code == 404
    assert client.get(f"/photos/{photo.id}/thumb").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login_as(client, factories.user(Role.PARTNER, mine))
    assert client.get(f"/photos/{photo.id}").status_code == 200


def test_photo_of_an_unknown_unit_is_404(client, operator):
    response = client.post("/grade/999999/photos", data={"csrf_token": token(client)}, headers=HX)
    assert response.status_code == 404
