"""Label printers: supervisors add the site's network label printers (ZPL over TCP 9100); each
operator picks where their stations print, or the browser's own print dialog."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from stations import nav
from stations.auth import current_actor, roles_required
from stations.params import as_id
from warehouse import printing
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Printer, Role

bp = Blueprint("printers", __name__, url_prefix="/printers")
STATION_ROLES = (Role.OPERATOR, Role.SUPERVISOR)
nav.register(
    _l("Printers"), "printers.index", {Role.SUPERVISOR}, _l("Label printers of the site"), 66
)


def _back() -> str:
    target = request.form.get("next", "")
    safe = target.startswith("/") and not target.startswith("//")
    return target if safe else url_for("home.index")


@bp.get("/")
@roles_required(Role.SUPERVISOR)
def index():
    """The site's label printers and a form to add one."""
    return render_template(
        "printers/index.html",
        printers=printing.site_printers(db.session, current_user.site_id),
        form={},
        error=None,
    )


@bp.post("/")
@roles_required(Role.SUPERVISOR)
def add():
    """Add a network label printer to the supervisor's site."""
    form = {name: request.form.get(name, "").strip() for name in ("name", "host", "port")}
    try:
        if current_user.site_id is None:
            raise InvalidInput(_("Your user has no site; printers belong to a site."), field="site")
        printer = printing.add_printer(
            db.session,
            site_id=current_user.site_id,
            name=form["name"],
            host=form["host"],
            port=form["port"] or "9100",
            actor=current_actor("printers"),
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return render_template(
            "printers/index.html",
            printers=printing.site_printers(db.session, current_user.site_id),
            form=form,
            error=error,
        ), 422
    flash(
        _(
            "Added %(printer)s (%(host)s:%(port)s).",
            printer=printer.name,
            host=printer.host,
            port=printer.port,
        ),
        "ok",
    )
    return redirect(url_for("printers.index"), 303)


@bp.post("/mine")
@roles_required(*STATION_ROLES)
def choose():
    """Where this user's labels print: one of the site's printers, or the browser."""
    raw = request.form.get("printer_id", "").strip()
    printer = None
    if raw:
        printer_id = as_id(raw)
        printer = db.session.get(Printer, printer_id) if printer_id is not None else None
        if printer is None or printer.site_id != current_user.site_id or not printer.active:
            flash(_("Choose one of this site's printers."), "error")
            return redirect(_back(), 303)
    current_user.label_printer = printer
    db.session.commit()
    if printer:
        flash(_("Labels print on %(printer)s.", printer=printer.name), "ok")
    else:
        flash(_("Labels print from the browser."), "ok")
    return redirect(_back(), 303)
