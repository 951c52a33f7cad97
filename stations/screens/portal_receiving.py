"""Receiving at the partner (portal): a partner that takes its own returns confirms what arrived
and grades each unit with the stations' checklist and grades; the refund follows the same
proposal and decision rules, and the unit closes once its refund is decided."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from stations import nav
from stations.auth import current_actor, roles_required
from stations.params import as_id
from stations.screens.portal import partner_id
from warehouse import grounds, partner_receipt
from warehouse.cases import CaseLinks
from warehouse.checklists import CHECKLIST_LABELS, checklist_for
from warehouse.db import db
from warehouse.errors import DomainError
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.i18n import ngettext
from warehouse.models import Partner, Role, UnitStatus
from warehouse.vocabulary import GRADE_LABELS

bp = Blueprint("portal_receiving", __name__, url_prefix="/portal/receiving")

nav.register(
    _l("Receiving"),
    "portal_receiving.index",
    {Role.PARTNER},
    _l("Returns sent to you: receive, grade"),
    16,
)


def _partner() -> Partner:
    return db.session.get(Partner, partner_id())


@bp.get("")
@roles_required(Role.PARTNER)
def index():
    """The partner's open returns (when it receives its own)."""
    partner = _partner()
    rows = partner_receipt.returns_to_receive(db.session, partner)
    return render_template("portal/receiving.html", partner=partner, returns=rows)


@bp.get("/<rma>")
@roles_required(Role.PARTNER)
def show(rma: str):
    """One return: confirm what arrived, then grade each unit."""
    partner = _partner()
    found = partner_receipt.own_return(db.session, partner, rma)
    units = [unit for line in found.lines for unit in line.units]
    return render_template(
        "portal/receiving_return.html",
        partner=partner,
        rma=found,
        units=units,
        grades=GRADE_LABELS,
        checklist_for=checklist_for,
        checklist_labels=CHECKLIST_LABELS,
        graded_statuses={UnitStatus.ROUTED, UnitStatus.CLOSED},
    )


@bp.post("/<rma>/receive")
@roles_required(Role.PARTNER)
def receive(rma: str):
    """Confirm the units that arrived, line by line."""
    partner = _partner()
    counts = {}
    try:
        for name, value in request.form.items():
            if name.startswith("line_"):
                raw = value.strip() or "0"
                line_id = as_id(name[5:])
                if line_id is None or not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
                    flash(_("%(value)s is not a number of units", value=repr(value[:20])), "error")
                    return redirect(url_for("portal_receiving.show", rma=rma), 303)
                counts[line_id] = int(raw)
        made = partner_receipt.receive(db.session, current_actor("portal"), partner, rma, counts)
    except DomainError as error:
        db.session.rollback()
        flash(_("Nothing was received: %(problem)s", problem=error.message), "error")
        return redirect(url_for("portal_receiving.show", rma=rma), 303)
    db.session.commit()
    flash(
        ngettext(
            "%(num)s unit received: grade it below.",
            "%(num)s units received: grade each one below.",
            len(made),
        ),
        "ok",
    )
    return redirect(url_for("portal_receiving.show", rma=rma), 303)


@bp.post("/units/<int:unit_id>/grade")
@roles_required(Role.PARTNER)
def grade(unit_id: int):
    """Grade a unit; it stays with the partner and closes once its refund is decided."""
    partner = _partner()
    rma = request.form.get("rma", "")
    try:
        settlement = partner_receipt.grade_and_keep(
            db.session,
            current_actor("portal"),
            partner,
            unit_id,
            grade=request.form.get("grade", ""),
            checklist=set(request.form.getlist("check")),
            notes=request.form.get("notes", ""),
            links=CaseLinks.from_settings(current_app.config),
        )
    except DomainError as error:
        db.session.rollback()
        if error.status == 404 and error.field == "unit":
            raise
        flash(_("Not graded: %(problem)s", problem=error.message), "error")
        return redirect(
            url_for("portal_receiving.show", rma=rma) if rma else url_for("portal_receiving.index"),
            303,
        )
    db.session.commit()
    flash(_("Graded: %(note)s.", note=grounds.retell(settlement.note)), "ok")
    return redirect(url_for("portal_receiving.show", rma=rma), 303)
