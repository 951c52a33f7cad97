"""The partner portal: a partner user sees only their own returns, units, photos, cases and
money, decides cases, and edits their return policy. Every id of another partner is a 404."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import joinedload

from stations import nav
from stations.auth import current_actor, partner_scope, roles_required
from stations.dashboards import PARTNER_FILTERS, link_args, scope_from, table_csv
from warehouse import cases, events, figures, ledger, photos, policy
from warehouse.checklists import CHECKLIST_LABELS
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.errors import DomainError, NotFound
from warehouse.i18n import N_
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import (
    Case,
    CaseStatus,
    Category,
    Grade,
    Partner,
    Reason,
    ReturnRequest,
    ReturnStatus,
    Role,
    Unit,
    UnitStatus,
)
from warehouse.vocabulary import GRADE_LABELS

bp = Blueprint("portal", __name__, url_prefix="/portal")
PAGE_SIZE = 100

nav.register(_l("Dashboard"), "portal.dashboard", {Role.PARTNER}, _l("Your returns in figures"), 9)
nav.register(
    _l("Cases"), "portal.cases", {Role.PARTNER}, _l("Refunds waiting for your decision"), 10
)
nav.register(_l("Returns"), "portal.returns", {Role.PARTNER}, _l("Your customers' returns"), 11)
nav.register(
    _l("Units"), "portal.units", {Role.PARTNER}, _l("Every returned item and its grade"), 12
)
nav.register(
    _l("Statement"),
    "portal.statement",
    {Role.PARTNER},
    _l("Sales, refunds, commission, balance"),
    13,
)
nav.register(
    _l("Return policy"), "portal.policy_page", {Role.PARTNER}, _l("Window, grace, deductions"), 14
)

# A filter the portal could not read, by the query field it came in (one sentence each).
NOT_A_DATE = {
    "from": N_("“%(value)s” is not a date (use YYYY-MM-DD); the from filter is ignored"),
    "to": N_("“%(value)s” is not a date (use YYYY-MM-DD); the to filter is ignored"),
}
NOT_A_CHOICE = {
    "status": N_("“%(value)s” is not a status; that filter is ignored"),
    "reason": N_("“%(value)s” is not a reason; that filter is ignored"),
    "stage": N_("“%(value)s” is not a stage; that filter is ignored"),
    "grade": N_("“%(value)s” is not a grade; that filter is ignored"),
}


def partner_id() -> int:
    """The logged-in partner user's partner; the portal is for partner users only."""
    scope = partner_scope()
    if scope is None:
        abort(404)
    return scope


def _today() -> dt.date:
    return local_date(utcnow(), "Europe/Amsterdam")


def _date_arg(name: str, problems: list[str]) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(_(NOT_A_DATE[name], value=raw))
        return None


def _enum_arg(name: str, enum_cls, problems: list[str]):
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return enum_cls(raw)
    except ValueError:
        problems.append(_(NOT_A_CHOICE[name], value=raw))
        return None


def _day_bounds(start: dt.date | None, end: dt.date | None):
    since = dt.datetime.combine(start, dt.time.min, dt.UTC) if start else None
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, dt.UTC) if end else None
    return since, until


@bp.get("")
@roles_required(Role.PARTNER)
def index():
    partner_id()
    return redirect(url_for("portal.cases"))


@bp.get("/cases", endpoint="cases")
@roles_required(Role.PARTNER)
def cases_list():
    pid = partner_id()
    problems: list[str] = []
    status = _enum_arg("status", CaseStatus, problems)
    start, end = _date_arg("from", problems), _date_arg("to", problems)
    query = (
        db.session.query(Case)
        .options(joinedload(Case.unit).joinedload(Unit.product), joinedload(Case.return_request))
        .filter(Case.partner_id == pid)
    )
    if status:
        query = query.filter(Case.status == status)
    since, until = _day_bounds(start, end)
    if since:
        query = query.filter(Case.opened_at >= since)
    if until:
        query = query.filter(Case.opened_at < until)
    rows = query.order_by(Case.status != CaseStatus.OPEN, Case.refund_due_on, Case.id).limit(
        PAGE_SIZE
    )
    return render_template(
        "portal/cases.html",
        cases=list(rows),
        problems=problems,
        statuses=list(CaseStatus),
        args=request.args,
        today=_today(),
        near_due=cases.is_near_due,
        labels=GRADE_LABELS,
    )


def _case_page(case: Case, *, error: DomainError | None = None, form=None, status: int = 200):
    return (
        render_template(
            "portal/case.html",
            case=case,
            unit=case.unit,
            photos=photos.photos_of(db.session, case.unit_id),
            labels=GRADE_LABELS,
            checklist_labels=CHECKLIST_LABELS,
            photo_url=lambda photo: url_for("photos.thumb", photo_id=photo.id),
            post_url=lambda _action: url_for("portal.case", case_id=case.id),
            actions=("approve", "adjust", "reject"),
            error=error,
            form=form or {},
            history=events.history(db.session, case),
        ),
        status,
    )


@bp.route("/cases/<int:case_id>", methods=["GET", "POST"])
@roles_required(Role.PARTNER)
def case(case_id: int):
    pid = partner_id()
    found = cases.get_case(db.session, case_id, partner_id=pid)
    if request.method == "GET":
        return _case_page(found)
    action = request.form.get("action", "")
    try:
        amount = None
        if action == cases.Action.ADJUST:
            amount = cases.parse_decision_amount(request.form.get("amount"), found.currency)
        cases.decide_case(
            db.session,
            current_actor("portal"),
            case_id,
            action=action,
            amount_minor=amount,
            reason=request.form.get("reason", ""),
            via="portal",
            partner_id=pid,
            today=local_date(utcnow(), found.unit.site.timezone),
        )
        db.session.commit()
    except NotFound:
        raise
    except DomainError as error:
        db.session.rollback()
        found = cases.get_case(db.session, case_id, partner_id=pid)
        return _case_page(found, error=error, form=request.form, status=error.status)
    flash(_("Case #%(id)s decided.", id=case_id), "ok")
    return redirect(url_for("portal.case", case_id=case_id), 303)


@bp.get("/returns")
@roles_required(Role.PARTNER)
def returns():
    pid = partner_id()
    problems: list[str] = []
    status = _enum_arg("status", ReturnStatus, problems)
    reason = _enum_arg("reason", Reason, problems)
    start, end = _date_arg("from", problems), _date_arg("to", problems)
    query = (
        db.session.query(ReturnRequest)
        .options(joinedload(ReturnRequest.order), joinedload(ReturnRequest.lines))
        .filter(ReturnRequest.partner_id == pid)
    )
    if status:
        query = query.filter(ReturnRequest.status == status)
    if reason:
        from warehouse.models import ReturnLine

        query = query.filter(ReturnRequest.lines.any(ReturnLine.reason == reason))
    if start:
        query = query.filter(ReturnRequest.announced_on >= start)
    if end:
        query = query.filter(ReturnRequest.announced_on <= end)
    rows = query.order_by(ReturnRequest.announced_at.desc(), ReturnRequest.id.desc()).limit(
        PAGE_SIZE
    )
    return render_template(
        "portal/returns.html",
        returns=list(rows.all()),
        problems=problems,
        statuses=list(ReturnStatus),
        reasons=list(Reason),
        args=request.args,
    )


@bp.get("/returns/<rma>")
@roles_required(Role.PARTNER)
def return_detail(rma: str):
    pid = partner_id()
    found = (
        db.session.query(ReturnRequest)
        .filter(ReturnRequest.rma == rma.strip().upper(), ReturnRequest.partner_id == pid)
        .one_or_none()
    )
    if found is None:
        abort(404)
    refunds = cases.refund_summary(db.session, found)
    return render_template("portal/return.html", rma=found, refunds=refunds, labels=GRADE_LABELS)


@bp.get("/units")
@roles_required(Role.PARTNER)
def units():
    pid = partner_id()
    problems: list[str] = []
    stage = _enum_arg("stage", UnitStatus, problems)
    grade = _enum_arg("grade", Grade, problems)
    reason = _enum_arg("reason", Reason, problems)
    start, end = _date_arg("from", problems), _date_arg("to", problems)
    query = (
        db.session.query(Unit)
        .options(
            joinedload(Unit.product), joinedload(Unit.return_request), joinedload(Unit.return_line)
        )
        .filter(Unit.partner_id == pid)
    )
    if stage:
        query = query.filter(Unit.status == stage)
    if grade:
        query = query.filter(Unit.grade == grade)
    if reason:
        from warehouse.models import ReturnLine

        query = query.filter(Unit.return_line.has(ReturnLine.reason == reason))
    since, until = _day_bounds(start, end)
    if since:
        query = query.filter(Unit.received_at >= since)
    if until:
        query = query.filter(Unit.received_at < until)
    rows = query.order_by(Unit.received_at.desc(), Unit.id.desc()).limit(PAGE_SIZE)
    return render_template(
        "portal/units.html",
        units=list(rows),
        problems=problems,
        stages=list(UnitStatus),
        grades=list(Grade),
        reasons=list(Reason),
        labels=GRADE_LABELS,
        args=request.args,
    )


@bp.get("/units/<int:unit_id>")
@roles_required(Role.PARTNER)
def unit(unit_id: int):
    from warehouse.grading import get_unit, unit_card

    found = get_unit(db.session, unit_id, partner_id=partner_id())
    return render_template(
        "portal/unit.html",
        card=unit_card(db.session, found),
        unit=found,
        photos=photos.photos_of(db.session, found.id),
        labels=GRADE_LABELS,
        checklist_labels=CHECKLIST_LABELS,
        history=events.history(db.session, found),
    )


@bp.route("/policy", methods=["GET", "POST"])
@roles_required(Role.PARTNER)
def policy_page():
    pid = partner_id()
    partner = db.session.get(Partner, pid)
    if request.method == "POST":
        try:
            policy.update_policy(db.session, current_actor("portal"), pid, request.form)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            return (
                render_template(
                    "portal/policy.html",
                    partner=db.session.get(Partner, pid),
                    form=request.form,
                    errors=error.details.get("errors", {error.field: error.message}),
                    labels=policy.DEDUCTION_LABELS,
                ),
                400,
            )
        flash(_("Your return policy is saved."), "ok")
        return redirect(url_for("portal.policy_page"), 303)
    return render_template(
        "portal/policy.html",
        partner=partner,
        form=policy.policy_form(partner),
        errors={},
        labels=policy.DEDUCTION_LABELS,
    )


@bp.get("/statement")
@roles_required(Role.PARTNER)
def statement():
    pid = partner_id()
    raw = request.args.get("month", "").strip()
    today = _today()
    year, month = today.year, today.month
    problem = None
    if raw:
        try:
            year, month = ledger.parse_month(raw)
        except DomainError as refused:
            problem = _("%(problem)s; showing this month", problem=refused.message)
    result = ledger.statement(db.session, pid, year, month)
    return render_template(
        "portal/statement.html",
        statement=result,
        month=f"{year:04d}-{month:02d}",
        problem=problem,
    )


def _dashboard_figures():
    now = utcnow()
    scope, today = scope_from(request.args.to_dict(), now=now, partner_id=partner_id())
    return figures.partner_view(db.session, scope, today=today, now=now), scope


@bp.get("/dashboard")
@roles_required(Role.PARTNER)
def dashboard():
    """The partner's own figures: returns and reasons over time, most-returned products,
    revenue, money refunded and recovered, and its scorecard beside the marketplace's."""
    problem = None
    try:
        data, scope = _dashboard_figures()
    except DomainError as error:
        problem = error.message
        now = utcnow()
        scope, today = scope_from({}, now=now, partner_id=partner_id())
        data = figures.partner_view(db.session, scope, today=today, now=now)
    return render_template(
        "portal/dashboard.html",
        data=data,
        scope=scope,
        problem=problem,
        categories=list(Category),
        partner=db.session.get(Partner, partner_id()),
        link_args=link_args(request.args, PARTNER_FILTERS),
    ), (400 if problem else 200)


# Staff-only tables (who works at which station) are not a partner's to download.
PARTNER_HIDDEN_TABLES = frozenset({"operators"})


@bp.get("/dashboard/<name>.csv")
@roles_required(Role.PARTNER)
def dashboard_table(name: str):
    """One table of the partner's dashboard as CSV."""
    if name in PARTNER_HIDDEN_TABLES:
        abort(404)
    data, scope = _dashboard_figures()
    return table_csv(name, data, f"returnyard-{scope.first}-{scope.last}")
