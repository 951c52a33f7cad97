"""The route station: scan an LPN, read the route and target, scan the bin to put it away.

The unit waiting for its bin scan travels in a field of the scan form (`pending_lpn`, drawn
with each answer), so a resent scan and a second tab are judged against what each screen shows.
Without JavaScript (plain form posts and 303s) it is kept in the session instead.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, session, url_for
from flask_login import current_user

from labels.sheets import barcode_sheet_pdf
from stations import commands
from stations.auth import current_actor, roles_required
from stations.commands import Command
from stations.extensions import htmx
from stations.htmx import Outcome, file_response, fragment_or_303, once_per_scan
from stations.nav import register
from warehouse import codes, printing, routing
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Role
from warehouse.vocabulary import disposition_word

bp = Blueprint("route", __name__, url_prefix="/route")
STATION = "route"
PENDING = "route_lpn"  # without JavaScript: the LPN scanned last, waiting for its bin scan
register(
    _l("Route"),
    "route.index",
    {Role.OPERATOR, Role.SUPERVISOR},
    _l("Scan a graded unit, then its bin or pallet"),
    order=40,
)


@bp.get("/")
@roles_required(Role.OPERATOR, Role.SUPERVISOR)
def index():
    """The station page; `?lpn=` shows that unit's route (the target of the 303s)."""
    planned = error = None
    lpn = request.args.get("lpn", "").strip() or session.get(PENDING, "")
    if lpn:
        try:
            planned = routing.plan(db.session, lpn, current_actor(STATION))
        except DomainError as refused:
            error = refused
    return render_template("route/index.html", planned=planned, done=None, error=error)


@bp.post("/scan")
@roles_required(Role.OPERATOR, Role.SUPERVISOR)
@once_per_scan
def scan():
    """One scan: an LPN shows its route; a bin / pallet barcode puts the pending unit away."""
    code = request.form.get("code", "").strip()
    actor = current_actor(STATION)
    if htmx:
        pending = codes.normalise(request.form.get("pending_lpn", "")) or None
    else:
        pending = session.get(PENDING)
    planned = done = None
    try:
        if not code:
            raise InvalidInput(_("Scan an LPN or a bin barcode."), field="code")
        scanned = commands.parse(code)
        if scanned is not None:
            return _command(scanned, pending, actor)
        location = routing.find_location(db.session, code)
        if location is not None:
            if not pending:
                raise InvalidInput(
                    _("%(bin)s is a bin: scan the unit's LPN first.", bin=location.code),
                    field="code",
                )
            done = routing.put_away(db.session, pending, location.code, actor)
            session.pop(PENDING, None)
        else:
            # Kept even when routed: re-scanning its bin then answers "already in" (idempotent).
            planned = routing.plan(db.session, code, actor)
            if not htmx:
                session[PENDING] = planned.unit.lpn
    except DomainError as error:
        db.session.rollback()
        if pending and planned is None and done is None:
            try:
                planned = routing.plan(db.session, pending, actor)
            except DomainError:
                planned = None
        return _answer(planned, None, error)
    return _answer(planned, done, None)


def _command(scanned: commands.Scanned, pending: str | None, actor):
    if scanned.command == Command.NEXT:
        session.pop(PENDING, None)
        return _answer(None, None, None)
    if scanned.command == Command.REPRINT:
        if not pending:
            raise InvalidInput(_("Scan the unit's LPN first."), field="code")
        planned = routing.plan(db.session, pending, actor)
        printer = current_user.label_printer
        if printer is None:
            response = _answer(planned, None, None)
            response.headers["X-Print-Label"] = url_for("receive.unit_label", lpn=pending)
            return response
        printing.request_print(db.session, planned.unit, printer, actor)
        return _answer(planned, None, None)
    raise InvalidInput(
        _("%(command)s is not a routing command.", command=code_of(scanned)), field="code"
    )


def code_of(scanned: commands.Scanned) -> str:
    """The barcode text of a scanned command."""
    return scanned.command.value if scanned.command else commands.check_code(scanned.check)


@bp.post("/clear")
@roles_required(Role.OPERATOR, Role.SUPERVISOR)
@once_per_scan
def clear():
    """Forget the pending unit (the operator scanned the wrong LPN)."""
    session.pop(PENDING, None)
    return _answer(None, None, None)


def _answer(planned, done, error):
    """The result card for htmx, else the outcome flashed on the station page."""
    message = error.message if error is not None else (_done_text(done) if done else None)
    args = {"lpn": planned.unit.lpn} if planned is not None and htmx else {}
    return fragment_or_303(
        lambda: render_template("route/_result.html", planned=planned, done=done, error=error),
        url_for("route.index", **args),
        outcome=Outcome.OK if error is None else Outcome.ERROR,
        message=message,
        status=(error.status if error.status in (404, 409) else 422) if error else None,
    )


def _done_text(done) -> str:
    if done.repeated:
        return _("%(lpn)s is already in %(bin)s.", lpn=done.unit.lpn, bin=done.location.code)
    return _(
        "%(lpn)s put away in %(bin)s (%(disposition)s).",
        lpn=done.unit.lpn,
        bin=done.location.code,
        disposition=disposition_word(done.disposition),
    )


@bp.get("/commands.pdf")
@roles_required(Role.OPERATOR, Role.SUPERVISOR)
def command_sheet():
    """The routing station's command sheet."""
    pdf = barcode_sheet_pdf(
        _("Routing commands"),
        _("Scan the unit's LPN, then its bin; or these."),
        commands.sheet_rows("route"),
    )
    return file_response(pdf, "application/pdf", "routing-commands.pdf", inline=True)
