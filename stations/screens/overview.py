"""The lists behind the overview's figures: what waits at each stage, oldest first, and every
refund at risk of missing its due date."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from stations.auth import roles_required, staff_site
from stations.params import page_number
from warehouse import figures
from warehouse.db import db, utcnow
from warehouse.models import Role

bp = Blueprint("overview", __name__, url_prefix="/overview")
PAGE = 50


@bp.get("/units")
@roles_required(Role.SUPERVISOR)
def units():
    """Parcels, units or cases waiting at one stage, oldest first."""
    stage = request.args.get("stage", "received")
    page = page_number()
    rows, total = figures.backlog_units(
        db.session, stage, site_id=staff_site(), limit=PAGE, offset=(page - 1) * PAGE
    )
    labels = dict(figures.STAGES)
    return render_template(
        "overview/units.html",
        stage=stage,
        label=labels[stage],
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        now=utcnow(),
    )


@bp.get("/refund-due")
@roles_required(Role.SUPERVISOR)
def refund_due():
    """Every unit whose refund is due within 3 days or overdue and not decided."""
    now = utcnow()
    site_id = staff_site()
    today = figures.today_at(db.session, site_id, now)
    return render_template(
        "overview/refund_due.html",
        rows=figures.refund_due_risk(db.session, site_id=site_id, today=today),
        today=today,
        days=figures.RISK_DAYS,
    )
