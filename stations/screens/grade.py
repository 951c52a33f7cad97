"""The grading station: scan an LPN, add photos, tick the checklist (by tap or CHECK- scan),
grade by scanning the grade sheet (or a tap, or 1-6 in key mode). Grading proposes (and where
the policy allows, approves) the refund; a grade that opens a partner case can be taken back
(`CMD-UNDO`) until the held case mail leaves. A bin scanned after grading puts the unit away.

The panel's context (the open unit, the unit just graded) travels in fields of the scan form,
so a scan is judged against what the operator sees.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from jinja2_fragments.flask import render_block

from labels.grade_sheet import grade_sheet_pdf
from labels.sheets import barcode_sheet_pdf
from stations import commands, nav
from stations.auth import current_actor, roles_required
from stations.commands import Command
from stations.extensions import htmx
from stations.htmx import Outcome, file_response, fragment_or_303, once_per_scan
from stations.params import id_param
from stations.screens.photos import photo_dir
from warehouse import grading, grounds, photos, printing, routing
from warehouse.cases import CaseLinks
from warehouse.checklists import CHECKLIST_LABELS, checklist_for
from warehouse.db import db, utcnow
from warehouse.errors import DomainError, InvalidInput
from warehouse.grading import GRADE_ORDER, parse_grade_barcode
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Grade, Role
from warehouse.vocabulary import GRADE_LABELS, disposition_word

bp = Blueprint("grade", __name__, url_prefix="/grade")
STATION = "grade"
STAFF = (Role.OPERATOR, Role.SUPERVISOR)
TEMPLATE = "grade/index.html"

nav.register(
    _l("Grade"), "grade.index", set(STAFF), _l("Scan a unit, grade it, propose the refund"), 30
)


def _context(**values) -> dict:
    base = {
        "card": None,
        "message": None,
        "outcome": Outcome.OK,
        "settlement": None,
        "plan": None,
        "put": None,
        "checks": None,
        "grades": [(index + 1, grade) for index, grade in enumerate(GRADE_ORDER)],
        "grade_codes": {grade: grading.grade_barcode(grade) for grade in GRADE_ORDER},
        "labels": GRADE_LABELS,
        "hints": grading.GRADE_HINTS,
        "checklist_labels": CHECKLIST_LABELS,
        "photos": [],
        "queue": [],
    }
    base.update(values)
    return base


def _card_context(unit, **values) -> dict:
    card = grading.unit_card(db.session, unit)
    return _context(card=card, photos=photos.photos_of(db.session, unit.id), **values)


def _panel(context: dict, *, status: int | None = None):
    html = render_block(TEMPLATE, "panel", **context)
    return fragment_or_303(
        lambda: html,
        url_for("grade.index", **({"lpn": context["card"].unit.lpn} if context["card"] else {})),
        outcome=context["outcome"],
        message=context["message"],
        status=status,
    )


@bp.get("")
@roles_required(*STAFF)
def index():
    """The station page; `?lpn=` opens that unit's card (the target of the 303s)."""
    lpn = request.args.get("lpn", "").strip()
    context = _context()
    if lpn:
        try:
            context = _card_context(
                grading.find_unit(db.session, lpn, site_id=current_user.site_id)
            )
        except DomainError as error:
            context = _context(message=error.message, outcome=Outcome.ERROR)
    context["queue"] = _queue()
    return Response(render_template(TEMPLATE, **context))


def _queue() -> list:
    return grading.waiting_for_grading(db.session, current_user.site_id, limit=20)


def _checks() -> set[str]:
    return set(request.form.getlist("check"))


@bp.post("/scan")
@roles_required(*STAFF)
@once_per_scan
def scan():
    """One scan: an LPN opens the unit card; a grade barcode grades the open unit; a command
    acts on it; a bin puts the unit just graded away."""
    code = request.form.get("code", "").strip()
    try:
        unit_id, graded_id = id_param("unit_id"), id_param("graded_unit_id")
        if not code:
            raise InvalidInput(_("Scan a unit label (LPN), a grade or a command."), field="code")
        scanned = commands.parse(code)
        if scanned is not None:
            return _command(scanned, unit_id, graded_id)
        grade = parse_grade_barcode(code)
        if grade is not None:
            if unit_id is None:
                raise InvalidInput(
                    _(
                        "scan a unit label first, then the grade (%(grade)s)",
                        grade=GRADE_LABELS[grade],
                    ),
                    field="code",
                )
            return _grade(unit_id, grade)
        if graded_id is not None:
            location = routing.find_location(db.session, code)
            if location is not None:
                return _put_away(graded_id, location.code)
        unit = grading.find_unit(db.session, code, site_id=current_user.site_id)
    except DomainError as error:
        return _refuse(error)
    if not htmx:
        return redirect(url_for("grade.index", lpn=unit.lpn), 303)
    return _open(unit)


def _open(unit, message: str | None = None, outcome: Outcome = Outcome.OK):
    if unit.status not in grading.GRADABLE:
        try:
            grading.check_gradable(unit)
        except DomainError as error:
            message, outcome = error.message, Outcome.ERROR
    return _panel(_card_context(unit, message=message, outcome=outcome))


def _command(scanned: commands.Scanned, unit_id: int | None, graded_id: int | None):
    if scanned.command == Command.NEXT:
        waiting = _queue()
        if not waiting:
            return _panel(_context(message=_("Nothing is waiting for grading.")))
        return _open(
            grading.get_unit(db.session, waiting[0].id, site_id=current_user.site_id),
            _("Next unit: %(lpn)s.", lpn=waiting[0].lpn),
        )
    if scanned.command == Command.UNDO:
        if graded_id is None:
            raise InvalidInput(_("Nothing was graded here to take back."), field="code")
        unit = grading.undo_grade(db.session, current_actor(STATION), graded_id)
        return _open(
            grading.get_unit(db.session, unit.id, site_id=current_user.site_id),
            _(
                "Grade of %(lpn)s taken back: the partner was not mailed. Grade it again.",
                lpn=unit.lpn,
            ),
            Outcome.WARN,
        )
    target = unit_id or graded_id
    if target is None:
        raise InvalidInput(_("Scan a unit label (LPN) first."), field="code")
    unit = grading.get_unit(db.session, target, site_id=current_user.site_id)
    if scanned.command == Command.REPRINT:
        printer = current_user.label_printer
        if printer is None:
            response = _open(unit, _("Printing the label from this screen."))
            response.headers["X-Print-Label"] = url_for("receive.unit_label", lpn=unit.lpn)
            return response
        printing.request_print(db.session, unit, printer, current_actor(STATION))
        return _open(
            grading.get_unit(db.session, target, site_id=current_user.site_id),
            _("Label printing on %(printer)s.", printer=printer.name),
        )
    if scanned.check is not None or scanned.command == Command.CHECK_ALL:
        if unit_id is None:
            raise InvalidInput(_("Scan the unit first; the checklist belongs to it."), field="code")
        items = checklist_for(unit.product.category if unit.product else None)
        checks = _checks()
        if scanned.command == Command.CHECK_ALL:
            checks, text = set(items), _("All checks ticked.")
        elif scanned.check not in items:
            raise InvalidInput(
                _(
                    "%(check)s is not on this product's checklist.",
                    check=CHECKLIST_LABELS[scanned.check],
                ),
                field="code",
            )
        else:
            checks ^= {scanned.check}
            label = CHECKLIST_LABELS[scanned.check]
            if scanned.check in checks:
                text = _("%(check)s ticked.", check=label)
            else:
                text = _("%(check)s unticked.", check=label)
        return _panel(_card_context(unit, message=text, checks=checks))
    raise InvalidInput(
        _("%(command)s is not a grading command.", command=scanned.command.value), field="code"
    )


def _refuse(error: DomainError):
    db.session.rollback()
    return _panel(_context(message=error.message, outcome=Outcome.ERROR))


def _undo_deadline() -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=current_app.config["GRADE_UNDO_SECONDS"])


@bp.post("/<int:unit_id>")
@roles_required(*STAFF)
@once_per_scan
def grade(unit_id: int):
    """Grade the unit with the tapped button's grade and the ticked checklist."""
    value = request.form.get("grade", "")
    try:
        chosen = Grade(value)
    except ValueError:
        return _refuse(InvalidInput(_("choose one of the six grades"), field="grade"))
    return _grade(unit_id, chosen)


def _grade(unit_id: int, grade: Grade):
    try:
        settlement = grading.grade_unit(
            db.session,
            current_actor(STATION),
            unit_id,
            grade=grade,
            checklist=_checks(),
            notes=request.form.get("notes", ""),
            links=CaseLinks.from_settings(current_app.config),
            hold_case_mail_until=_undo_deadline(),
        )
        unit = grading.get_unit(db.session, unit_id, site_id=current_user.site_id)
        held = routing.on_hold(unit)
        plan = None if held else routing.plan(db.session, unit.lpn, current_actor("route"))
        message = _(
            "%(lpn)s graded %(grade)s: %(note)s.",
            lpn=unit.lpn,
            grade=GRADE_LABELS[grade],
            note=grounds.retell(settlement.note),
        )
        if held:
            message += f" {held}"
        elif plan.target is not None:
            message += " " + _(
                "Put it in %(bin)s (scan the bin) or scan the next unit.", bin=plan.target.code
            )
    except DomainError as error:
        db.session.rollback()
        return _grade_refused(unit_id, error)
    rejected = settlement.refund_state is not None and settlement.refund_state.value == "rejected"

    def graded() -> str:
        done = grading.unit_card(db.session, unit)
        context = _context(
            message=message,
            outcome=Outcome.WARN if rejected else Outcome.OK,
            settlement=settlement,
            done=done,
            plan=plan,
        )
        # The work list beside the panel loses the unit just graded.
        return render_block(TEMPLATE, "panel", **context) + render_block(
            TEMPLATE, "queue", queue=_queue(), oob=True
        )

    # `once_per_scan` commits after the answer is drawn from the objects already loaded.
    return fragment_or_303(
        graded,
        url_for("grade.index"),
        outcome=Outcome.WARN if rejected else Outcome.OK,
        message=message,
    )


def _grade_refused(unit_id: int, error: DomainError):
    """The unit's card again (when it exists) with the refusal, or the flash and 303."""

    def refusal() -> str:
        unit = (
            grading.get_unit(db.session, unit_id, site_id=current_user.site_id)
            if error.field != "unit"
            else None
        )
        context = _card_context(unit) if unit else _context()
        context.update(message=error.message, outcome=Outcome.ERROR)
        return render_block(TEMPLATE, "panel", **context)

    return fragment_or_303(
        refusal, url_for("grade.index"), outcome=Outcome.ERROR, message=error.message
    )


def _put_away(unit_id: int, location_code: str):
    unit = grading.get_unit(db.session, unit_id, site_id=current_user.site_id)
    done = routing.put_away(db.session, unit.lpn, location_code, current_actor("route"))
    if done.repeated:
        text = _("%(lpn)s is already in %(bin)s.", lpn=done.unit.lpn, bin=done.location.code)
    else:
        text = _(
            "Put away: %(lpn)s → %(bin)s (%(disposition)s). Scan the next unit.",
            lpn=done.unit.lpn,
            bin=done.location.code,
            disposition=disposition_word(done.disposition),
        )
    return _panel(_context(message=text, put=done))


@bp.post("/<int:unit_id>/photos")
@roles_required(*STAFF)
def upload_photo(unit_id: int):
    """Add a camera photo to the unit (checked to be an image by decoding it)."""
    upload = request.files.get("photo")
    unit = grading.get_unit(
        db.session, unit_id, site_id=current_user.site_id
    )  # an unknown id is a 404
    try:
        if upload is None or (not upload.filename and not upload.content_length):
            raise InvalidInput(_("take or choose a photo first"), field="photo")
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
        message, ok = _("Photo added."), True
    except DomainError as error:
        db.session.rollback()
        message, ok = error.message, False
    return fragment_or_303(
        lambda: render_block(
            TEMPLATE,
            "photos",
            card=grading.unit_card(
                db.session, grading.get_unit(db.session, unit_id, site_id=current_user.site_id)
            ),
            photos=photos.photos_of(db.session, unit_id),
            photo_message=message,
            photo_ok=ok,
        ),
        url_for("grade.index", lpn=unit.lpn),
        outcome=Outcome.OK if ok else Outcome.ERROR,
        message=message,
    )


@bp.get("/sheet.pdf")
@roles_required(*STAFF)
def sheet():
    """The printable grade sheet with one barcode per grade."""
    return file_response(grade_sheet_pdf(), "application/pdf", "grade-sheet.pdf", inline=True)


@bp.get("/commands.pdf")
@roles_required(*STAFF)
def command_sheet():
    """The grading station's command sheet: next unit, checklist toggles, undo, print again."""
    pdf = barcode_sheet_pdf(
        _("Grading commands"),
        _("Scan the unit's LPN, then these; grades are on the grade sheet."),
        commands.sheet_rows("grade"),
    )
    return file_response(pdf, "application/pdf", "grading-commands.pdf", inline=True)
