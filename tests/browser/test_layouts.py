"""Tablet layouts (issue 10): every station, the supervisor's screens, the portal and the
customer pages at 1280x800 and 800x1280 (the customer pages also at 390x844, a phone) — no
horizontal overflow, no tap target under 44 px. Screenshots land in test-output/."""

from __future__ import annotations

from pathlib import Path

import pytest

import demo
from demo.base import DEMO_PASSWORD
from warehouse.db import db
from warehouse.models import (
    Batch,
    Case,
    CaseStatus,
    CustomerParcel,
    Order,
    ParcelStatus,
    Partner,
    ReturnException,
    ReturnRequest,
    ReturnStatus,
    Unit,
    UnitStatus,
)

pytestmark = [pytest.mark.browser, pytest.mark.commits, pytest.mark.slow]

TABLETS = [(1280, 800), (800, 1280)]
PHONE = (390, 844)
MIN_TARGET = 44

# The measuring script (run in the page): small targets and horizontal overflow.
CHECK = (Path(__file__).parent / "targets.js").read_text(encoding="utf-8")


def _login(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")


def _look(
    page, path: str, size, output_dir, problems: list[str], prepare=None, name: str = ""
) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(path)
    if prepare is not None:
        prepare(page)
    page.wait_for_load_state("load")  # goto waits for it; a scan's answer is awaited by prepare
    found = page.evaluate(CHECK, MIN_TARGET)
    name = name or path.strip("/").replace("/", "_").replace("?", "_") or "home"
    shot = output_dir / f"{name}-{size[0]}x{size[1]}.jpg"  # JPEG: several times faster than PNG
    page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=70)
    where = f"{path} at {size[0]}x{size[1]}"
    if found["overflow"] > 1:
        problems.append(f"{where}: {found['overflow']} px wider than the screen")
    problems.extend(f"{where}: tap target under 44 px: {item}" for item in found["small"])


def _scan(code):
    def prepare(page):
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        page.wait_for_function("() => window.returnyardStation.pending() === 0")

    return prepare


@pytest.fixture
def warehouse(app):
    """The demo warehouse: every screen has something to show."""
    demo.load(db.session)
    db.session.commit()
    volt = db.session.query(Partner).filter_by(code="VOLT").one()
    parcel = db.session.query(ReturnRequest).filter_by(status=ReturnStatus.ANNOUNCED).first()
    waiting = db.session.query(Unit).filter_by(status=UnitStatus.RECEIVED).first()
    case = db.session.query(Case).filter_by(partner_id=volt.id, status=CaseStatus.OPEN).first()
    volt_unit = db.session.query(Unit).filter_by(partner_id=volt.id).first()
    volt_return = db.session.query(ReturnRequest).filter_by(partner_id=volt.id).first()
    batch = db.session.query(Batch).first()
    flagged = db.session.query(ReturnException).first()
    order = db.session.query(Order).order_by(Order.id.desc()).first()
    outgoing = db.session.query(CustomerParcel).filter_by(status=ParcelStatus.WAITING).first()
    return {
        "outgoing": outgoing.code,
        "parcel": parcel.rma,
        "waiting": waiting.lpn,
        "case": case.id,
        "unit": volt_unit.id,
        "return": volt_return.rma,
        "batch": batch.id if batch else None,
        "exception": flagged.id if flagged else None,
        "order": order,
    }


def test_every_screen_fits_a_tablet_and_every_target_a_thumb(page, warehouse, output_dir):
    problems: list[str] = []
    screens = {
        "operator@returnyard.example": [
            ("/receive/", _scan(warehouse["parcel"])),
            ("/grade", _scan(warehouse["waiting"])),
            ("/route/", None),
            ("/dispatch/", _scan(warehouse["outgoing"])),
            ("/", None),
        ],
        "supervisor@returnyard.example": [
            ("/", None),
            ("/cases", None),
            (f"/cases/{warehouse['case']}", None),
            ("/rules/", None),
            ("/batches/", None),
            *([(f"/batches/{warehouse['batch']}", None)] if warehouse["batch"] else []),
            ("/locations/", None),
            ("/exports/", None),
            ("/jobs", None),
            ("/mailbox", None),
            ("/printers/", None),
            ("/overview/units?stage=received", None),
            ("/overview/refund-due", None),
            ("/exceptions", None),
            *([(f"/exceptions/{warehouse['exception']}", None)] if warehouse["exception"] else []),
            (f"/lookup?q={warehouse['waiting']}", None),
            ("/dashboard", None),
            ("/disclosure", None),
        ],
        "admin@returnyard.example": [
            ("/admin/", None),
            ("/admin/partners", None),
            ("/admin/partners/new", None),
            ("/admin/partners/VOLT", None),
            ("/admin/users", None),
            ("/admin/tokens", None),
            ("/admin/sites", None),
            ("/admin/catalogue", None),
            ("/accounting", None),
        ],
        "volt@partners.example": [
            ("/portal/cases", None),
            (f"/portal/cases/{warehouse['case']}", None),
            ("/portal/returns", None),
            (f"/portal/returns/{warehouse['return']}", None),
            ("/portal/units", None),
            (f"/portal/units/{warehouse['unit']}", None),
            ("/portal/statement", None),
            ("/portal/invoices", None),
            ("/portal/policy", None),
            ("/portal/dashboard", None),
            ("/portal/catalogue", None),
            ("/portal/receiving", None),
            ("/rules/", None),
            ("/exports/", None),
            ("/batches/", None),
        ],
    }
    for email, paths in screens.items():
        page.context.clear_cookies()
        _login(page, email)
        for path, prepare in paths:
            for size in TABLETS:
                _look(page, path, size, output_dir, problems, prepare)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "de"])  # German: the longest words we write
def test_the_customer_pages_fit_a_phone_and_a_tablet(page, warehouse, output_dir, language):
    order = warehouse["order"]
    problems: list[str] = []
    page.set_extra_http_headers({"Accept-Language": language})
    order.language = language
    db.session.commit()

    def find_order(page):
        page.fill("input[name=order_number]", order.number)
        page.fill("input[name=email_or_postcode]", order.customer_email)
        page.keyboard.press("Enter")
        page.wait_for_url("**/returns/order")

    for size in [*TABLETS, PHONE]:
        page.context.clear_cookies()
        _look(page, "/returns/", size, output_dir, problems, name=f"returns-{language}")
        _look(page, "/returns/", size, output_dir, problems, find_order, f"order-{language}")
        _look(page, "/login", size, output_dir, problems, name=f"login-{language}")
    assert problems == [], "\n".join(problems)


def test_grading_shows_the_photo_first_and_every_grade_above_the_fold(page, warehouse):
    page.context.clear_cookies()
    _login(page, "operator@returnyard.example")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/grade")
    _scan(warehouse["waiting"])(page)
    photo = page.locator(".btn-photo").bounding_box()
    buttons = [page.locator(".grade-btn").nth(i).bounding_box() for i in range(6)]
    assert all(box["y"] + box["height"] <= 800 for box in buttons), buttons
    order = page.evaluate(
        "() => document.querySelector('.btn-photo').compareDocumentPosition("
        "document.querySelector('.grade-btn')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert order, "the photo comes before the grades"
    assert photo["y"] + photo["height"] <= 800
