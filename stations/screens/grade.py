"""The grading station: scan an LPN, tick the checklist, grade by tap, key 1-6 or grade-sheet
scan, add photos. Grading proposes (and where the policy allows, approves) the refund."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block

from labels.grade_sheet import grade_sheet_pdf
from stations import nav
from stations.auth import current_actor, roles_required
from stations.extensions import htmx
from stations.htmx import file_response, fragment_or_303, scan_answer
from stations.screens.photos import photo_dir
from warehouse import grading, photos
from warehouse.cases import CaseLinks
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput
from warehouse.grading import GRADE_ORDER, parse_grade_barcode
from warehouse.models import Grade, Role

bp = Blueprint("grade", __name__, url_prefix="/grade")
STATION = "grade"
STAFF = (Role.OPERATOR, Role.SUPERVISOR)
TEMPLATE = "grade/index.html"

nav.register("Grade", "grade.index", set(STAFF), "Scan a unit, grade it, propose the refund", 30)


def _context(**values) -> dict:
    base = {
        "card": None,
        "message": None,
        "ok": True,
        "settlement": None,
        "grades": [(index + 1, grade) for index, grade in enumerate(GRADE_ORDER)],
        "grade_codes": {grade: grading.grade_barcode(grade) for grade in GRADE_ORDER},
        "labels": grading.GRADE_LABELS,
        "hints": grading.GRADE_HINTS,
        "checklist_labels": grading.CHECKLIST_LABELS,
        "photos": [],
        "queue": [],
    }
    base.update(values)
    return base


def _card_context(unit, **values) -> dict:
    card = grading.unit_card(db.session, unit)
    return _context(card=card, photos=photos.photos_of(db.session, unit.id), **values)


def _panel(context: dict, *, ok: bool, status: int | None = None):
    html = render_block(TEMPLATE, "panel", **context)
    return scan_answer(html, ok=ok, status=status)


@bp.get("")
@roles_required(*STAFF)
def index():
    """The station page; `?lpn=` opens that unit's card (the target of the 303s)."""
    lpn = request.args.get("lpn", "").strip()
    if lpn:
        try:
            unit = grading.find_unit(db.session, lpn)
        except DomainError as error:
            flash(error.message, "error")
            return redirect(url_for("grade.index"), 303)
        context = _card_context(unit)
    else:
        context = _context()
    context["queue"] = _queue()
    return Response(_render_page(context))


def _queue() -> list:
    return grading.waiting_for_grading(db.session, current_user.site_id, limit=20)


def _render_page(context: dict) -> str:
    return render_template(TEMPLATE, **context)


def _checklist_from_form() -> set[str]:
    return set(request.form.getlist("check"))


@bp.post("/scan")
@roles_required(*STAFF)
def scan():
    """One scan: an LPN opens the unit card; a grade barcode (or key 1-6) grades the open unit."""
    code = request.form.get("code", "").strip()
    grade = parse_grade_barcode(code)
    if grade is None and code in {str(index + 1) for index in range(len(GRADE_ORDER))}:
        grade = GRADE_ORDER[int(code) - 1]
    if grade is not None:
        unit_id = request.form.get("unit_id", type=int)
        if unit_id is None:
            error = InvalidInput(
                f"scan a unit label first, then the grade ({grading.GRADE_LABELS[grade]})",
                field="code",
            )
            return _refuse(error)
        return _grade(unit_id, grade)
    try:
        unit = grading.find_unit(db.session, code)
    except DomainError as error:
        return _refuse(error)
    if not htmx:
        return redirect(url_for("grade.index", lpn=unit.lpn), 303)
    card_ok = unit.status in grading.GRADABLE
    message = None if card_ok else _not_gradable_message(unit)
    return _panel(_card_context(unit, message=message, ok=card_ok), ok=card_ok)


def _not_gradable_message(unit) -> str:
    try:
        grading.check_gradable(unit)
    except DomainError as error:
        return error.message
    return ""


def _refuse(error: DomainError):
    db.session.rollback()
    return fragment_or_303(
        lambda: render_block(TEMPLATE, "panel", **_context(message=error.message, ok=False)),
        url_for("grade.index"),
        ok=False,
        message=error.message,
    )


@bp.post("/<int:unit_id>")
@roles_required(*STAFF)
def grade(unit_id: int):
    """Grade the unit with the tapped button's grade and the ticked checklist."""
    value = request.form.get("grade", "")
    try:
        chosen = Grade(value)
    except ValueError:
        return _refuse(InvalidInput("choose one of the six grades", field="grade"))
    return _grade(unit_id, chosen)


def _grade(unit_id: int, grade: Grade):
    try:
        settlement = grading.grade_unit(
            db.session,
            current_actor(STATION),
            unit_id,
            grade=grade,
            checklist=_checklist_from_form(),
            notes=request.form.get("notes", ""),
            links=CaseLinks.from_settings(current_app.config),
        )
        unit = grading.get_unit(db.session, unit_id)
        message = f"{unit.lpn} graded {grading.GRADE_LABELS[grade]}: {settlement.note}"
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _grade_refused(unit_id, error)

    def graded() -> str:
        done = grading.unit_card(db.session, unit)
        context = _context(message=message, ok=True, settlement=settlement, done=done)
        # The work list beside the panel loses the unit just graded.
        return render_block(TEMPLATE, "panel", **context) + render_block(
            TEMPLATE, "queue", queue=_queue(), oob=True
        )

    return fragment_or_303(graded, url_for("grade.index"), message=message)


def _grade_refused(unit_id: int, error: DomainError):
    """The unit's card again (when it exists) with the refusal, or the flash and 303."""

    def refusal() -> str:
        unit = grading.get_unit(db.session, unit_id) if error.field != "unit" else None
        context = _card_context(unit) if unit else _context()
        context.update(message=error.message, ok=False)
        return render_block(TEMPLATE, "panel", **context)

    return fragment_or_303(refusal, url_for("grade.index"), ok=False, message=error.message)


@bp.post("/<int:unit_id>/photos")
@roles_required(*STAFF)
def upload_photo(unit_id: int):
    """Add a camera photo to the unit (checked to be an image by decoding it)."""
    upload = request.files.get("photo")
    unit = grading.get_unit(db.session, unit_id)  # an unknown id is a 404
    try:
        if upload is None or (not upload.filename and not upload.content_length):
            raise InvalidInput("take or choose a photo first", field="photo")
        max_bytes = current_app.config["PHOTO_MAX_BYTES"]
        data = upload.stream.read(max_bytes + 1)
        photos.store_photo(
            db.session,
            current_actor(STATION),
            unit,
            data,
            directory=photo_dir(),
            max_bytes=max_bytes,
        )
        db.session.commit()
        message, ok = "Photo added.", True
    except DomainError as error:
        db.session.rollback()
        message, ok = error.message, False
    return fragment_or_303(
        lambda: render_block(
            TEMPLATE,
            "photos",
            card=grading.unit_card(db.session, grading.get_unit(db.session, unit_id)),
            photos=photos.photos_of(db.session, unit_id),
            photo_message=message,
            photo_ok=ok,
        ),
        url_for("grade.index", lpn=unit.lpn),
        ok=ok,
        message=message,
    )


@bp.get("/sheet.pdf")
@roles_required(*STAFF)
def sheet():
    """The printable grade sheet with one barcode per grade."""
    return file_response(grade_sheet_pdf(), "application/pdf", "grade-sheet.pdf", inline=True)
