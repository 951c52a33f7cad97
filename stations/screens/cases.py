"""Supervisors' view of refund cases: open ones soonest-due first, those near their refund-due
date flagged, escalated ones marked."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from stations import nav
from stations.auth import roles_required
from warehouse import cases as case_domain
from warehouse import events, photos
from warehouse.checklists import CHECKLIST_LABELS
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.errors import NotFound
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Role
from warehouse.vocabulary import GRADE_LABELS

bp = Blueprint("cases", __name__, url_prefix="/cases")

nav.register(
    _l("Cases"), "cases.index", {Role.SUPERVISOR}, _l("Open refund cases, due-date risk"), 40
)


def _site_scope() -> int | None:
    return current_user.site_id if current_user.role == Role.SUPERVISOR else None


def _today():
    timezone = current_user.site.timezone if current_user.site else "Europe/Amsterdam"
    return local_date(utcnow(), timezone)


@bp.get("")
@roles_required(Role.SUPERVISOR)
def index():
    """Open cases, soonest refund-due first."""
    today = _today()
    rows = case_domain.open_cases(db.session, site_id=_site_scope())
    return render_template(
        "cases/index.html",
        cases=rows,
        today=today,
        near_due=case_domain.is_near_due,
        at_risk=sum(1 for case in rows if case_domain.is_near_due(case, today)),
        labels=GRADE_LABELS,
    )


@bp.get("/<int:case_id>")
@roles_required(Role.SUPERVISOR)
def detail(case_id: int):
    """One case with its unit, photos and history."""
    case = case_domain.get_case(db.session, case_id)
    scope = _site_scope()
    if scope is not None and case.unit.site_id != scope:
        raise NotFound(_("no such case"), field="case")
    return render_template(
        "cases/detail.html",
        case=case,
        unit=case.unit,
        photos=photos.photos_of(db.session, case.unit_id),
        labels=GRADE_LABELS,
        checklist_labels=CHECKLIST_LABELS,
        photo_url=lambda photo: f"/photos/{photo.id}/thumb",
        history=events.history(db.session, case),
    )
