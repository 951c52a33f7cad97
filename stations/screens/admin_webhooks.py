"""Sales channels and their webhooks (admins): the channels (the resale default among them),
per channel the endpoints that hear of return events, their secret (shown once) and the log of
every delivery."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from stations.auth import current_actor, roles_required
from stations.params import as_id
from warehouse import channels, webhooks
from warehouse.db import db
from warehouse.errors import DomainError
from warehouse.i18n import gettext as _
from warehouse.models import Order, Role, WebhookEndpoint

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin/webhooks")


def _page(error: DomainError | None = None, form=None, secret=None, status: int = 200):
    endpoints = list(
        db.session.scalars(
            sa.select(WebhookEndpoint).order_by(WebhookEndpoint.active.desc(), WebhookEndpoint.id)
        )
    )
    known = channels.all_channels(db.session)
    names = sorted(
        set(db.session.scalars(sa.select(Order.channel).distinct().limit(50)))
        | {"marketplace"}
        | {c.code for c in known}
    )
    return render_template(
        "admin/webhooks.html",
        endpoints=endpoints,
        deliveries={e.id: webhooks.recent(db.session, e.id) for e in endpoints},
        events=webhooks.EVENTS,
        channels=names,
        sales_channels=known,
        error=error,
        form=form or {},
        secret=secret,
    ), status


@bp.get("")
@roles_required(Role.ADMIN)
def index():
    """The endpoints and their latest deliveries."""
    return _page()


@bp.post("")
@roles_required(Role.ADMIN)
def add():
    """Register an endpoint; its secret is shown once."""
    try:
        endpoint, secret = webhooks.register(
            db.session,
            current_actor("admin"),
            channel=request.form.get("channel", ""),
            url=request.form.get("url", ""),
            events=request.form.getlist("events"),
            allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"],
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _page(error, request.form, status=400)
    html, status = _page(secret=(endpoint, secret))
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"  # the secret is shown this once
    return response


@bp.post("/channels")
@roles_required(Role.ADMIN)
def add_channel():
    """Add a sales channel (optionally the one returned units are listed on)."""
    try:
        channels.add_channel(
            db.session,
            current_actor("admin"),
            request.form.get("code", ""),
            request.form.get("name", ""),
            resale_default=bool(request.form.get("resale_default")),
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _page(error, request.form, status=400)
    flash(_("The sales channel is added."), "ok")
    return redirect(url_for("admin_webhooks.index"), 303)


@bp.post("/channels/<code>/resale-default")
@roles_required(Role.ADMIN)
def resale_default(code: str):
    """List returned units on this channel from now on."""
    try:
        channels.make_resale_default(db.session, current_actor("admin"), code)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _page(error, status=400)
    flash(_("Returned units are listed on %(channel)s from now on.", channel=code), "ok")
    return redirect(url_for("admin_webhooks.index"), 303)


@bp.post("/<endpoint_id>/deactivate")
@roles_required(Role.ADMIN)
def deactivate(endpoint_id: str):
    """Stop sending to an endpoint."""
    webhooks.deactivate(db.session, current_actor("admin"), as_id(endpoint_id))
    db.session.commit()
    flash(_("The webhook is deactivated; its log stays."), "ok")
    return redirect(url_for("admin_webhooks.index"), 303)
