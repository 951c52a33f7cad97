"""Stations an operator can trust (issue 10), in a real browser with a keyboard-wedge scanner:
each defect found reproduced, and the journey parcel → bin counted."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from labels.unit_label import unit_label_zpl
from tests import factories
from tests.browser.conftest import browser_login
from tests.helpers import drain, relay
from warehouse import announcements
from warehouse.announcements import LineRequest
from warehouse.db import db
from warehouse.documents import unit_label_for
from warehouse.events import Actor
from warehouse.models import (
    Category,
    Destination,
    Event,
    Grade,
    LocationKind,
    Printer,
    Reason,
    Role,
    StationScan,
    Unit,
    UnitStatus,
)

# A browser talks to a live server thread: it only sees committed data.
pytestmark = [pytest.mark.browser, pytest.mark.commits]

SHOE = "4006381333931"


def scanner(page, code: str) -> None:
    """A keyboard-wedge scanner: it types the code wherever the focus is, then Enter."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def settled(page, timeout: float = 15) -> None:
    """Wait until the station client's queue is empty (every scan answered)."""
    page.wait_for_function("() => window.returnyardStation.pending() === 0", timeout=timeout * 1000)


def announced(quantity: int = 1, *, partner=None, gtin: str = SHOE, category=Category.FASHION):
    """An announced parcel of `quantity` units of one product; returns its RMA."""
    partner = partner or factories.partner(name="Nordic Threads")
    product = factories.product(partner, title="Rain jacket, M", gtin=gtin, category=category)
    order = factories.order([(product, quantity)])
    done = announcements.announce(
        db.session,
        order,
        [LineRequest(order.lines[0].id, quantity, Reason.WRONG_SIZE)],
        actor=Actor(label="customer"),
        label_url=lambda rma: f"http://localhost/returns/{rma}",
    )
    db.session.commit()
    return done.returns[0]


class Slow:
    """Make the live server answer one path slowly (a congested network or a busy server)."""

    def __init__(self, app, path: str, seconds: float):
        self.app, self.path, self.seconds = app, path, seconds
        self.inner = app.wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == self.path and environ.get("REQUEST_METHOD") == "POST":
            time.sleep(self.seconds)
        return self.inner(environ, start_response)

    def __enter__(self):
        self.app.wsgi_app = self
        return self

    def __exit__(self, *exc):
        self.app.wsgi_app = self.inner


# --- defect 1: Enter on a ticked checkbox graded `new` -----------------------------------------


@pytest.mark.parametrize("how", ["tap", "keyboard"])
def test_enter_on_a_ticked_checkbox_never_grades(app, page, how, output_dir):
    app.config["GRADE_UNDO_SECONDS"] = 0
    unit = factories.received(category=Category.ELECTRONICS)
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/grade")
    scanner(page, unit.lpn)
    expect(page.locator(f'.unit-card[data-lpn="{unit.lpn}"]')).to_be_visible()
    box = page.locator("#grade-form input[type=checkbox]").first
    if how == "tap":
        page.locator("#grade-form label.check").first.tap()
    else:
        box.focus()
        page.keyboard.press("Space")
    expect(box).to_be_checked()
    page.keyboard.press("Enter")  # a stray Enter: nothing is graded
    page.wait_for_timeout(300)
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).grade is None
    scanner(page, "GRADE-USED")  # the scanner's Enter lands in the scan field
    expect(page.locator(".result-card")).to_contain_text("Used")
    page.screenshot(path=str(output_dir / "graded-used.png"), full_page=True)
    db.session.expire_all()
    graded = db.session.get(Unit, unit.id)
    assert graded.grade == Grade.USED
    assert graded.checklist["accessories_complete"] is True


def test_a_scan_fired_while_writing_a_note_is_a_scan_and_the_note_keeps_only_the_words(app, page):
    app.config["GRADE_UNDO_SECONDS"] = 0
    unit = factories.received()
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/grade")
    scanner(page, unit.lpn)
    expect(page.locator(f'.unit-card[data-lpn="{unit.lpn}"]')).to_be_visible()
    notes = page.locator("#grade-form textarea[name=notes]")
    notes.click()
    page.keyboard.type("scuff on toe", delay=80)  # a person writing
    scanner(page, "GRADE-USED")  # the scanner fires into the note
    expect(page.locator(".result-card")).to_contain_text("Used")
    db.session.expire_all()
    graded = db.session.get(Unit, unit.id)
    assert graded.grade == Grade.USED
    assert graded.notes == "scuff on toe"


# --- defect 2: an empty scan field + a digit graded at once ------------------------------------


def test_a_scanned_ean_starting_with_a_digit_never_grades_the_open_unit(page):
    unit = factories.received()
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/grade")
    scanner(page, unit.lpn)
    expect(page.locator(f'.unit-card[data-lpn="{unit.lpn}"]')).to_be_visible()
    for code in ("4006381333931", "5901234123457", "3"):
        scanner(page, code)
        settled(page)
        expect(page.locator("#grade-panel")).to_have_attribute("data-outcome", "error")
    db.session.expire_all()
    assert db.session.get(Unit, unit.id).grade is None
    assert db.session.query(Event).filter(Event.kind.like("refund.%")).count() == 0


# --- defect 3: scans lost or glued together -----------------------------------------------------


def test_scans_30ms_apart_against_a_2s_server_are_each_done_once_in_order(app, page, output_dir):
    rma = announced(4)
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/receive/")
    scanner(page, rma.rma)
    expect(page.locator(f"section.parcel[data-rma='{rma.rma}']")).to_be_visible()
    with Slow(app, "/receive/scan", 2.0):
        for _ in range(4):
            scanner(page, SHOE)
            page.wait_for_timeout(30)
        expect(page.locator("#scan-form")).to_have_class(re.compile("is-busy"))
        expect(page.locator("#scan-queue li")).to_have_count(4)
        page.screenshot(path=str(output_dir / "queue-while-slow.png"), full_page=True)
        settled(page, timeout=30)
    expect(page.locator(".parcel")).to_contain_text("4 of 4 expected units confirmed")
    units = db.session.query(Unit).order_by(Unit.id).all()
    assert [u.slot for u in units] == [1, 2, 3, 4]
    assert all(u.exception is None for u in units)  # no extra unit, no glued codes
    assert db.session.query(StationScan).count() == 5  # the parcel + 4 items: each done once
    assert window_played(page)[-4:] == ["ok"] * 4


def window_played(page) -> list[str]:
    return page.evaluate("() => window.returnyardStation.played.slice()")


def test_a_scan_lost_to_the_network_stays_queued_until_retried(page):
    rma = announced(2)
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/receive/")
    scanner(page, rma.rma)
    expect(page.locator(f"section.parcel[data-rma='{rma.rma}']")).to_be_visible()
    dropped = []

    def drop_once(route):
        if not dropped:
            dropped.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/receive/scan", drop_once)
    scanner(page, SHOE)
    failed = page.locator("#scan-queue li.is-failed")
    expect(failed).to_contain_text(SHOE)  # the code did not vanish
    expect(page.locator("#scan-form")).to_have_class(re.compile("is-error"))
    expect(page.locator("#scan-status")).to_contain_text("was not answered")
    scanner(page, SHOE)  # a second scan waits behind the failed one, in order
    expect(page.locator("#scan-queue li")).to_have_count(2)
    failed.locator("[data-queue-action=retry]").click()
    settled(page)
    expect(page.locator(".parcel")).to_contain_text("2 of 2 expected units confirmed")
    assert [u.slot for u in db.session.query(Unit).order_by(Unit.id)] == [1, 2]


def test_a_server_error_or_an_ended_session_keeps_the_scan_with_its_id_for_a_retry(page):
    rma = announced(2)
    operator = factories.user(Role.OPERATOR)
    browser_login(page, operator)
    page.goto("/receive/")
    scanner(page, rma.rma)
    settled(page)
    sent: list[str] = []

    def fail_once(route):
        sent.append(route.request.post_data)
        if len(sent) == 1:
            route.fulfill(status=502, body="Bad gateway", content_type="text/plain")
        else:
            route.continue_()

    page.route("**/receive/scan", fail_once)
    scanner(page, SHOE)
    failed = page.locator("#scan-queue li.is-failed")
    expect(failed).to_contain_text(SHOE)
    expect(page.locator("#scan-status")).to_contain_text("could not answer")
    expect(page.locator("#parcel")).not_to_contain_text("Bad gateway")
    scan_id = failed.get_attribute("data-scan-id")
    failed.locator("[data-queue-action=retry]").click()
    settled(page)
    assert len(sent) == 2
    assert all(scan_id in body for body in sent)
    assert db.session.query(Unit).count() == 1
    page.unroute("**/receive/scan")

    page.context.clear_cookies()  # the session ended (logged out elsewhere, or expired)
    scanner(page, SHOE)
    failed = page.locator("#scan-queue li.is-failed")
    expect(failed).to_contain_text(SHOE)
    expect(page.locator("#scan-status")).to_contain_text("session has ended")
    expect(page.locator("#parcel input[name=password]")).to_have_count(0)  # no login page inside
    assert db.session.query(Unit).count() == 1
    other = page.context.new_page()  # log in again in a new tab, as the message says
    browser_login(other, operator)
    other.close()
    failed.locator("[data-queue-action=retry]").click()
    settled(page)
    expect(page.locator(".parcel")).to_contain_text("2 of 2 expected units confirmed")


# --- defect 4: CSRF on an idle tablet -----------------------------------------------------------


def test_an_idle_tablet_keeps_scanning_and_a_refusal_stays_inside_the_station(app, page):
    rma = announced(1)
    browser_login(page, factories.user(Role.OPERATOR))
    # Tokens carry whole-second timestamps: a 1 s limit and 2.5 s waits always expire them.
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    try:
        page.goto("/receive/")
        page.wait_for_timeout(2500)  # the page's form token has expired meanwhile
        scanner(page, rma.rma)
        settled(page)
        expect(page.locator(f"section.parcel[data-rma='{rma.rma}']")).to_be_visible()
        expect(page.locator("#parcel")).to_have_attribute("data-outcome", "ok")
        # When even a renewed token is refused, the refusal is a message inside the station.
        page.route("**/csrf-token", lambda route: route.fulfill(json={"token": "broken"}))
        page.wait_for_timeout(2500)
        scanner(page, SHOE)
        settled(page)
        expect(page.locator("#parcel .scan-message.error")).to_contain_text("form expired")
        expect(page.locator("#parcel nav")).to_have_count(0)
        expect(page.locator("#parcel")).to_have_attribute("data-outcome", "error")
        assert window_played(page)[-1] == "error"
    finally:
        app.config["WTF_CSRF_TIME_LIMIT"] = 3600


# --- defect 5: warnings looked like success -----------------------------------------------------


def test_warnings_are_amber_with_their_own_tone_and_can_be_undone(page):
    rma = announced(1)
    forwarder = factories.partner(name="Atelier Direct", destination=Destination.PARTNER)
    forwarded = announced(1, partner=forwarder, gtin="5901234123457")
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/receive/")
    scanner(page, rma.rma)
    scanner(page, SHOE)
    scanner(page, SHOE)  # one more than announced: an extra unit
    settled(page)
    expect(page.locator("#parcel")).to_have_attribute("data-outcome", "warn")
    expect(page.locator("#scan-form")).to_have_class(re.compile("is-warn"))
    assert window_played(page)[-1] == "warn"
    extra = db.session.query(Unit).filter(Unit.exception.is_not(None)).one()
    page.locator(f"tr[data-lpn='{extra.lpn}'] button", has_text="Remove").click()
    settled(page)
    expect(page.locator(f"tr[data-lpn='{extra.lpn}']")).to_have_count(0)
    scanner(page, "CMD-PARCEL-DAMAGED")
    settled(page)
    expect(page.locator(".parcel .pill-bad")).to_contain_text("parcel damaged")
    page.locator("button", has_text="Parcel not damaged: undo").click()
    settled(page)
    expect(page.locator(".parcel .pill-bad")).to_have_count(0)
    scanner(page, forwarded.rma)
    settled(page)
    expect(page.locator("#parcel")).to_have_attribute("data-outcome", "warn")
    expect(page.locator("#parcel .scan-message.warn").first).to_contain_text("forward")


# --- the journey: parcel → bin for one unit -----------------------------------------------------


def test_parcel_to_bin_in_4_scans_1_tap_0_typing_label_printed_without_a_tap(
    app, page, output_dir, label_printer, jobs
):
    rma = announced(1)
    bin_ = factories.location(LocationKind.RESALE, "R-01")
    operator = factories.user(Role.OPERATOR)
    printer = Printer(
        site_id=operator.site_id, name="Bench", host="127.0.0.1", port=label_printer.port
    )
    db.session.add(printer)
    operator.label_printer = printer
    db.session.commit()
    browser_login(page, operator)
    page.goto("/receive/")
    scans = taps = 0

    scanner(page, rma.rma)  # 1: the parcel
    scans += 1
    scanner(page, SHOE)  # 2: the item; its label prints by itself
    scans += 1
    settled(page)
    expect(page.locator(".bench")).to_contain_text("label on Bench")
    page.locator(".bench button", has_text="All checks OK").click()  # the one tap
    taps += 1
    settled(page)
    scanner(page, "GRADE-OPENED")  # 3: the grade off the grade sheet
    scans += 1
    settled(page)
    expect(page.locator(".bench .route-outcome")).to_have_text("RESALE")
    expect(page.locator(".bench .route-target")).to_contain_text("R-01")
    page.screenshot(path=str(output_dir / "graded-route-shown.png"), full_page=True)
    scanner(page, bin_.code)  # 4: the bin
    scans += 1
    settled(page)
    expect(page.locator("#parcel .scan-message.ok")).to_contain_text("Put away")
    page.screenshot(path=str(output_dir / "put-away.png"), full_page=True)

    unit = db.session.query(Unit).one()
    assert unit.status in (UnitStatus.ROUTED, UnitStatus.CLOSED)
    assert unit.grade == Grade.OPENED
    relay(app, jobs)
    drain(app, jobs)
    assert label_printer.wait_for(1) == [unit_label_zpl(unit_label_for(unit)).encode()]
    print(f"parcel → bin: {scans} scans, {taps} tap, 0 typing, label printed without a tap")
    assert (scans, taps) == (4, 1)
