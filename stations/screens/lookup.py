"""Look up anything a supervisor holds or is asked about (scan or type it): the parcel, its
units with photos and money, and its timeline; an open case can be decided or escalated here
on the partner's behalf (recorded as such)."""

from __future__ import annotations

import dataclasses

from flask import Blueprint, flash, redirect, render_template, request, url_for

from stations import nav
from stations.auth import current_actor, roles_required, staff_site
from stations.params import as_id
from warehouse import cases, espr, lookup, routing
from warehouse.checklists import CHECKLIST_LABELS
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.errors import DomainError, NotFound
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Disposition, Role, Unit, UnitStatus
from warehouse.vocabulary import GRADE_LABELS

bp = Blueprint("lookup", __name__, url_prefix="/lookup")

nav.register(
    _l("Look up"), "lookup.index", {Role.SUPERVISOR}, _l("RMA, LPN, order, serial, email"), 36
)


@bp.get("")
@roles_required(Role.SUPERVISOR)
def index():
    """The search field and what it found."""
    text = request.args.get("q", "").strip()
    hits, problem = [], None
    if text:
        try:
            hits = lookup.search(db.session, text, site_id=staff_site())
        except DomainError as error:
            problem = error.message
    status = 400 if problem else (404 if text and not hits else 200)
    now = utcnow()
    # Graded units whose route is destruction, stopped by the ESPR ban: the form to record a
    # derogation shows beside them.
    blocked = {
        unit.id
        for hit in hits
        for unit in hit.units
        if unit.status == UnitStatus.GRADED
        and espr.destroy_refused(db.session, unit, now)
        and routing.route_for(db.session, unit).outcome == Disposition.DESTROY
    }
    return render_template(
        "lookup/index.html",
        destroy_blocked=blocked,
        derogations=espr.DEROGATION_LABELS,
        q=text,
        hits=hits,
        problem=problem,
        labels=GRADE_LABELS,
        checklist_labels=CHECKLIST_LABELS,
    ), status


def _back(case) -> str:
    return url_for("lookup.index", q=case.unit.lpn)


def _case_in_scope(case_id: int):
    case = cases.get_case(db.session, case_id)
    site = staff_site()
    if site is not None and case.unit.site_id != site:
        raise NotFound(_("no such case"), field="case")
    return case


@bp.post("/cases/<int:case_id>/decide")
@roles_required(Role.SUPERVISOR)
def decide(case_id: int):
    """Decide an open case on the partner's behalf; the decision names the supervisor."""
    case = _case_in_scope(case_id)
    actor = current_actor("lookup")
    actor = dataclasses.replace(actor, label=f"{actor.label} for {case.partner.code}")
    try:
        amount = None
        if request.form.get("action") == "adjust":
            amount = cases.parse_decision_amount(request.form.get("amount"), case.currency)
        cases.decide_case(
            db.session,
            actor,
            case.id,
            action=request.form.get("action", ""),
            amount_minor=amount,
            reason=request.form.get("reason", ""),
            via="supervisor",
            today=local_date(utcnow(), case.unit.site.timezone),
        )
    except DomainError as error:
        db.session.rollback()
        flash(
            _("Case #%(id)s not decided: %(problem)s", id=case_id, problem=error.message), "error"
        )
        return redirect(_back(case), 303)
    db.session.commit()
    flash(
        _("Case #%(id)s decided on behalf of %(partner)s.", id=case_id, partner=case.partner.name),
        "ok",
    )
    return redirect(_back(case), 303)


@bp.post("/cases/<int:case_id>/escalate")
@roles_required(Role.SUPERVISOR)
def escalate(case_id: int):
    """Escalate an open case to the marketplace's admins, saying why."""
    case = _case_in_scope(case_id)
    try:
        cases.escalate_case(
            db.session, current_actor("lookup"), case.id, reason=request.form.get("reason", "")
        )
    except DomainError as error:
        db.session.rollback()
        flash(
            _("Case #%(id)s not escalated: %(problem)s", id=case_id, problem=error.message), "error"
        )
        return redirect(_back(case), 303)
    db.session.commit()
    flash(_("Case #%(id)s escalated to the marketplace.", id=case_id), "ok")
    return redirect(_back(case), 303)


@bp.post("/units/<int:unit_id>/destruction-exception")
@roles_required(Role.SUPERVISOR)
def destruction_exception(unit_id: int):
    """Record why an apparel or footwear unit may be destroyed after all, with evidence."""
    unit = db.session.get(Unit, unit_id)
    site = staff_site()
    if unit is None or (site is not None and unit.site_id != site):
        raise NotFound(_("no such unit"), field="unit")
    photo = request.form.get("photo_id", "").strip()
    try:
        espr.record_exception(
            db.session,
            current_actor("lookup"),
            unit,
            derogation=request.form.get("derogation", ""),
            note=request.form.get("note", ""),
            photo_id=as_id(photo) if photo else None,
        )
    except DomainError as error:
        db.session.rollback()
        flash(
            _("%(lpn)s: nothing was recorded: %(problem)s", lpn=unit.lpn, problem=error.message),
            "error",
        )
        return redirect(url_for("lookup.index", q=unit.lpn), 303)
    db.session.commit()
    flash(
        _(
            "%(lpn)s: the derogation is recorded; it may now be routed to destruction.",
            lpn=unit.lpn,
        ),
        "ok",
    )
    return redirect(url_for("lookup.index", q=unit.lpn), 303)
