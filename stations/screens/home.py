"""The start page: supervisors and admins land on the overview of their site (what waits, what
is at risk, today's work); everyone else gets the screens their role uses."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from stations.auth import staff_site
from warehouse import exceptions, figures
from warehouse.db import db, utcnow
from warehouse.models import Role, Site

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    """The overview for supervisors and admins; the menu of screens for everyone else."""
    if current_user.role not in (Role.SUPERVISOR, Role.ADMIN):
        return render_template("home/index.html", user=current_user)
    now = utcnow()
    site_id = staff_site()
    today = figures.today_at(db.session, site_id, now)
    sites = [db.session.get(Site, site_id)] if site_id else db.session.query(Site).all()
    return render_template(
        "home/overview.html",
        user=current_user,
        now=now,
        today=today,
        backlog=figures.backlog(db.session, site_id=site_id),
        risk=figures.refund_due_risk(db.session, site_id=site_id, today=today),
        exceptions_waiting=exceptions.open_count(db.session, site_id=site_id),
        throughput=[
            (
                site,
                figures.throughput_today(
                    db.session, site_id=site.id, timezone=site.timezone, now=now
                ),
            )
            for site in sites
        ],
    )
