"""What the station client relies on (issue 10): scan ids done once, three outcomes, refusals as
fragments, commands as barcodes, undo, label printing, and grade undo before the partner mail."""

from __future__ import annotations

import pytest

from labels.unit_label import unit_label_zpl
from stations.commands import Command, parse, sheet_rows
from tests import factories
from tests.helpers import drain, relay, row_counts
from tests.stations.screens.receiving import RMA
from tests.zbar import decode_pdf
from warehouse.db import db
from warehouse.documents import unit_label_for
from warehouse.models import (
    Case,
    Event,
    Grade,
    LocationKind,
    Outbox,
    Printer,
    ReturnRequest,
    StationScan,
    Unit,
    UnitException,
    UnitStatus,
)

SHOE = "4006381333931"


def mails_sent(report) -> list[str]:
    """The mail jobs a relay pass handed to RQ (periodic tasks left out)."""
    return [key for key in report.dispatched if key.startswith("mail:")]


def test_a_resent_scan_id_is_answered_again_and_changes_nothing_twice(station):
    station.scan(RMA)
    first = station.scan(SHOE, scan_id="tab0001-7")
    assert first.status_code == 200
    before = row_counts(Unit, Event, Outbox, StationScan)
    again = station.scan(SHOE, scan_id="tab0001-7")
    assert again.get_data() == first.get_data()
    assert again.headers["X-Scan-Replayed"] == "1"
    assert again.headers["X-Scan-Outcome"] == first.headers["X-Scan-Outcome"]
    assert row_counts(Unit, Event, Outbox, StationScan) == before
    assert db.session.query(Unit).count() == 1


def test_a_refused_scan_leaves_no_scan_id_behind(station):
    station.scan(RMA)
    response = station.scan("4006381333932", scan_id="tab0001-8")  # wrong check digit
    assert response.status_code == 404
    assert response.headers["X-Scan-Outcome"] == "error"
    assert db.session.query(StationScan).count() == 0


def test_a_look_up_scan_is_not_remembered(client):
    from tests.helpers import csrf_from, login_as

    unit = factories.received()
    login_as(client, factories.user(factories.Role.OPERATOR))
    token = csrf_from(client.get("/grade").get_data(as_text=True))
    response = client.post(
        "/grade/scan",
        data={"code": unit.lpn, "scan_id": "tab0001-1"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert db.session.query(StationScan).count() == 0


@pytest.mark.parametrize("scan_id", ["short", "x" * 65, "tab'; DROP"])
def test_a_malformed_scan_id_is_refused(station, scan_id):
    response = station.scan(RMA, scan_id=scan_id)
    assert response.status_code == 400
    assert "scan_id" in response.get_data(as_text=True)


def test_an_extra_unit_is_a_warning_and_can_be_taken_back(station, parcel):
    station.scan(RMA)
    station.scan(SHOE)
    station.scan(SHOE)
    extra = station.scan(SHOE)
    assert extra.headers["X-Scan-Outcome"] == "warn"
    assert extra.headers["HX-Trigger"] == "scan-warn"
    unit = db.session.query(Unit).filter_by(exception=UnitException.EXTRA).one()
    undone = station.scan(Command.UNDO.value)
    assert undone.headers["X-Scan-Outcome"] == "warn"
    assert f"{unit.lpn} removed" in undone.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.query(Unit).count() == 2
    removed = db.session.query(Event).filter_by(kind="unit.removed").one()
    assert removed.data["lpn"] == unit.lpn


def test_parcel_and_unit_damage_can_be_taken_back(station, parcel):
    station.scan(RMA)
    station.scan(SHOE)
    damaged = station.scan(Command.UNIT_DAMAGED.value)
    assert damaged.headers["X-Scan-Outcome"] == "warn"
    unit = db.session.query(Unit).one()
    assert unit.exception == UnitException.DAMAGED_IN_TRANSIT
    station.scan(Command.UNDO.value)
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).exception is None
    station.scan(Command.PARCEL_DAMAGED.value)
    assert db.session.get(ReturnRequest, parcel["rma"].id).parcel_damaged
    station.post(f"/receive/{parcel['rma'].id}/undo/damaged")
    db.session.expire_all()
    assert not db.session.get(ReturnRequest, parcel["rma"].id).parcel_damaged


def test_nothing_to_undo_is_refused_and_changes_nothing(station):
    station.scan(RMA)
    before = row_counts(Unit, Event)
    response = station.scan(Command.UNDO.value)
    assert response.status_code == 409
    assert "can be taken back" in response.get_data(as_text=True)
    assert row_counts(Unit, Event) == before


def test_commands_need_something_to_act_on(station):
    response = station.scan(Command.CLOSE.value)
    assert response.status_code == 400
    assert "Scan a parcel first" in response.get_data(as_text=True)
    response = station.scan("CHECK-CLEANED")
    assert "Confirm a unit first" in response.get_data(as_text=True)


def test_a_unit_from_parcel_to_bin_at_the_receiving_bench(station, parcel):
    """The one-person bench: confirm, tick, grade and put away without leaving the station."""
    resale = factories.location(LocationKind.RESALE)
    db.session.commit()
    station.scan(RMA)
    station.scan(SHOE)
    ticked = station.scan(Command.CHECK_ALL.value, check=[])
    html = ticked.get_data(as_text=True)
    for item in ("accessories_complete", "cleaned", "repackaged"):
        assert f'value="{item}"\n        checked' in html or f'value="{item}" checked' in html
    graded = station.scan("GRADE-OPENED", check=["accessories_complete", "cleaned", "repackaged"])
    assert graded.status_code == 200, graded.get_data(as_text=True)
    assert "RESALE" in graded.get_data(as_text=True)
    unit = db.session.query(Unit).one()
    assert unit.grade == Grade.OPENED
    done = station.scan(resale.code)
    assert f"Put away: {unit.lpn}" in done.get_data(as_text=True)
    db.session.expire_all()
    # Routed, and its full refund was approved at grading: the unit is closed.
    assert db.session.get(Unit, unit.id).status == UnitStatus.CLOSED


def test_confirming_a_unit_prints_its_label_on_the_users_printer(
    app, station, parcel, label_printer, jobs
):
    printer = Printer(
        site_id=parcel["operator"].site_id,
        name="Bench 1",
        host="127.0.0.1",
        port=label_printer.port,
    )
    db.session.add(printer)
    parcel["operator"].label_printer = printer
    db.session.commit()
    station.scan(RMA)
    response = station.scan(SHOE)
    assert "printing on Bench 1" in response.get_data(as_text=True)
    assert "X-Print-Label" not in response.headers
    relay(app, jobs)
    drain(app, jobs)
    [sent] = label_printer.wait_for(1)
    unit = db.session.query(Unit).one()
    assert sent == unit_label_zpl(unit_label_for(unit)).encode()
    # Print again and print the whole parcel: one print per label asked for.
    station.scan(Command.REPRINT.value)
    station.scan(Command.PRINT_ALL.value)
    relay(app, jobs)
    drain(app, jobs)
    assert len(label_printer.wait_for(3)) == 3


def test_a_label_is_printed_in_the_operators_language(station, parcel):
    """The job prints what the operator's screen would show: a German operator's label says
    its flag in German, queued with the language the print was asked in."""
    from warehouse import i18n

    printer = Printer(site_id=parcel["operator"].site_id, name="Bench 2", host="127.0.0.1", port=9)
    db.session.add(printer)
    parcel["operator"].label_printer = printer
    parcel["operator"].language = "de"
    db.session.commit()
    station.scan(RMA)
    station.scan(SHOE)
    [job] = db.session.query(Outbox).filter_by(kind="print_label").all()
    assert job.payload["language"] == "de"
    unit = db.session.query(Unit).one()
    unit.exception = UnitException.EXTRA
    with i18n.reading(job.payload["language"]):
        label = unit_label_for(unit)
    assert label.flags == ("zusätzliche Einheit",)
    assert unit_label_for(unit).flags == ("extra unit",)


def test_without_a_printer_the_browser_is_told_what_to_print(station, parcel):
    station.scan(RMA)
    response = station.scan(SHOE)
    unit = db.session.query(Unit).one()
    assert response.headers["X-Print-Label"] == f"/receive/units/{unit.lpn}/label.pdf"
    station.scan(SHOE)
    every = station.scan(Command.PRINT_ALL.value)
    assert every.headers["X-Print-Label"] == f"/receive/{parcel['rma'].id}/labels.pdf"
    pdf = station.client.get(every.headers["X-Print-Label"])
    assert decode_pdf(pdf.data) == [
        [("CODE128", lpn)] for lpn in [u.lpn for u in db.session.query(Unit).order_by(Unit.id)]
    ]


@pytest.mark.parametrize("station_name", ["receive", "grade", "route"])
def test_every_command_of_a_command_sheet_scans_back_and_means_itself(client, station_name):
    user = factories.user(factories.Role.OPERATOR)
    from tests.helpers import login_as

    login_as(client, user)
    pdf = client.get(f"/{station_name}/commands.pdf")
    assert pdf.status_code == 200
    decoded = [code for page in decode_pdf(pdf.data) for _kind, code in page]
    expected = [row.code for row in sheet_rows(station_name)]
    assert decoded == expected
    assert all(parse(code) is not None for code in decoded)


def test_a_csrf_refusal_inside_a_station_is_a_fragment_with_a_hint(app, client, parcel):
    from tests.helpers import login_as

    login_as(client, parcel["operator"])
    response = client.post(
        "/receive/scan", data={"code": RMA, "csrf_token": "stale"}, headers={"HX-Request": "true"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert response.headers["X-Refusal"] == "csrf"
    assert response.headers["X-Scan-Outcome"] == "error"
    assert "<nav" not in html
    assert "<html" not in html
    assert "form expired" in html
    fresh = client.get("/csrf-token").get_json()["token"]
    again = client.post(
        "/receive/scan", data={"code": RMA, "csrf_token": fresh}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 200


def test_a_case_grade_can_be_taken_back_until_its_mail_leaves(app, client, jobs):
    from tests.helpers import csrf_from, login_as

    operator = factories.user(factories.Role.OPERATOR)
    unit = factories.received(category=factories.Category.FASHION)
    login_as(client, operator)
    token = csrf_from(client.get("/grade").get_data(as_text=True))
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    client.post("/grade/scan", data={"code": unit.lpn}, headers=headers)
    graded = client.post(
        "/grade/scan",
        data={"code": "GRADE-USED", "unit_id": unit.id, "check": ["accessories_complete"]},
        headers=headers,
    )
    assert "partner decides" in graded.get_data(as_text=True)
    [mail] = factories.mails("case_opened_partner")
    assert mail.available_at > mail.created_at  # held for the undo window
    assert mails_sent(relay(app, jobs)) == []  # not due yet: the partner hears nothing
    undone = client.post(
        "/grade/scan", data={"code": "CMD-UNDO", "graded_unit_id": unit.id}, headers=headers
    )
    assert undone.headers["X-Scan-Outcome"] == "warn"
    db.session.expire_all()
    assert db.session.query(Case).count() == 0
    assert factories.mails("case_opened_partner") == []
    assert db.session.get(Unit, unit.id).status == UnitStatus.RECEIVED
    # Graded again and the window let pass: the mail leaves, and undo is refused.
    app.config["GRADE_UNDO_SECONDS"] = 0
    client.post(
        "/grade/scan",
        data={"code": "GRADE-USED", "unit_id": unit.id, "check": ["accessories_complete"]},
        headers=headers,
    )
    assert len(mails_sent(relay(app, jobs))) == 1
    refused = client.post(
        "/grade/scan", data={"code": "CMD-UNDO", "graded_unit_id": unit.id}, headers=headers
    )
    assert refused.headers["X-Scan-Outcome"] == "error"
    assert "mailed about" in refused.get_data(as_text=True)
    assert db.session.query(Case).count() == 1


def test_a_regrade_withdraws_the_held_mail_of_the_earlier_proposal(app, client):
    from tests.helpers import csrf_from, login_as

    operator = factories.user(factories.Role.OPERATOR)
    unit = factories.received()
    login_as(client, operator)
    token = csrf_from(client.get("/grade").get_data(as_text=True))
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    for grade in ("GRADE-USED", "GRADE-LIGHT_DAMAGE"):
        client.post(
            "/grade/scan",
            data={"code": grade, "unit_id": unit.id, "check": ["accessories_complete"]},
            headers=headers,
        )
    [mail] = factories.mails("case_opened_partner")
    case = db.session.query(Case).one()
    assert mail.idempotency_key.endswith(case.nonce)
    assert mail.payload["context"]["proposed_minor"] == case.proposed_minor


def test_a_bin_code_that_reads_as_a_command_is_refused(app):
    from warehouse import locations
    from warehouse.errors import InvalidInput
    from warehouse.events import Actor

    site = factories.site()
    for code in ("CMD-NEXT", "CHECK-BIN", "GRADE-A"):
        with pytest.raises(InvalidInput, match="station command"):
            locations.add_location(
                db.session, site_id=site.id, code=code, kind="resale", capacity=5, actor=Actor()
            )


def test_a_scan_after_logout_is_a_login_refusal_not_the_login_page(station):
    station.scan(RMA)
    station.client.post("/logout", headers={"X-CSRFToken": station.token})
    response = station.scan(SHOE, scan_id="tab0001-9")
    assert response.status_code == 401
    assert response.headers["X-Refusal"] == "login"
    assert response.headers["X-Scan-Outcome"] == "error"
    assert "log in again" in response.get_data(as_text=True)
    assert db.session.query(Unit).count() == 0
    page = station.client.get("/receive/")  # a page (not a scan) still goes to the login form
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]
