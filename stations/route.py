"""The route station: scan an LPN, read the route and target, scan the bin to put it away."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from stations.auth import current_actor, roles_required
from stations.extensions import htmx
from stations.nav import register
from stations.scanning import scan_answer
from warehouse import routing
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput
from warehouse.models import Role

bp = Blueprint("route", __name__, url_prefix="/route")
STATION = "route"
PENDING = "route_lpn"  # the LPN scanned last, waiting for its bin scan
register(
    "Route",
    "route.index",
    {Role.OPERATOR, Role.SUPERVISOR},
    "Scan a graded unit, then its bin or pallet",
    order=40,
)


@bp.get("/")
@roles_required(Role.OPERATOR, Role.SUPERVISOR)
def index():
    planned = None
    if session.get(PENDING):
        try:
            planned = routing.plan(db.session, session[PENDING], current_actor(STATION))
        except DomainError:
            session.pop(PENDING, None)
    return render_template("route/index.html", planned=planned, done=None, error=None)


@bp.post("/scan")
@roles_required(Role.OPERATOR, Role.SUPERVISOR)
def scan():
    """One scan: an LPN shows its route; a bin / pallet barcode puts the pending unit away."""
    code = request.form.get("code", "").strip()
    actor = current_actor(STATION)
    pending = session.get(PENDING)
    planned = done = None
    try:
        if not code:
            raise InvalidInput("Scan an LPN or a bin barcode.", field="code")
        location = routing.find_location(db.session, code)
        if location is not None:
            if not pending:
                raise InvalidInput(
                    f"{location.code} is a bin: scan the unit's LPN first.", field="code"
                )
            done = routing.put_away(db.session, pending, location.code, actor)
            db.session.commit()
            session.pop(PENDING, None)
        else:
            planned = routing.plan(db.session, code, actor)
            db.session.commit()
            # Kept even when routed: re-scanning its bin then answers "already in" (idempotent).
            session[PENDING] = planned.unit.lpn
    except DomainError as error:
        db.session.rollback()
        if pending and planned is None and done is None:
            try:
                planned = routing.plan(db.session, pending, actor)
            except DomainError:
                session.pop(PENDING, None)
        return _answer(planned, None, error)
    return _answer(planned, done, None)


@bp.post("/clear")
@roles_required(Role.OPERATOR, Role.SUPERVISOR)
def clear():
    """Forget the pending unit (the operator scanned the wrong LPN)."""
    session.pop(PENDING, None)
    if htmx:
        return scan_answer(
            render_template("route/_result.html", planned=None, done=None, error=None), ok=True
        )
    return redirect(url_for("route.index"), 303)


def _answer(planned, done, error):
    if not htmx:
        if error is not None:
            flash(error.message, "error")
        elif done is not None:
            flash(_done_text(done), "ok")
        return redirect(url_for("route.index"), 303)
    html = render_template("route/_result.html", planned=planned, done=done, error=error)
    if error is not None:
        status = error.status if error.status in (404, 409) else 422
        return scan_answer(html, ok=False, status=status)
    return scan_answer(html, ok=True)


def _done_text(done) -> str:
    if done.repeated:
        return f"{done.unit.lpn} is already in {done.location.code}."
    return f"{done.unit.lpn} put away in {done.location.code} ({done.disposition.value})."
