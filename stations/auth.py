"""Logging in, roles, and the partner boundary every partner-facing view stands behind."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from stations.extensions import login
from warehouse.db import db
from warehouse.events import Actor
from warehouse.models import Role, User

bp = Blueprint("auth", __name__)


def init_app(app) -> None:
    """Wire Flask-Login to our users and register the login pages."""
    login.login_view = "auth.login"
    login.login_message = "Please log in to use this screen."
    app.register_blueprint(bp)


@login.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def hash_password(password: str) -> str:
    """A salted hash for storing a password."""
    return generate_password_hash(password)


def roles_required(*roles: Role):
    """Let only logged-in users with one of `roles` (admins always) into a view."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role != Role.ADMIN and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def current_actor(station: str | None = None) -> Actor:
    """The logged-in user as the domain's `Actor`, for events."""
    return Actor(
        label=current_user.email,
        user_id=current_user.id,
        station=station,
        site_id=current_user.site_id,
        partner_id=current_user.partner_id,
    )


def _safe_next(target: str | None) -> str | None:
    """Only follow a ?next= that stays on this site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_page():
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        user = db.session.query(User).filter_by(email=email).one_or_none()
        if (
            user is None
            or not user.active
            or not check_password_hash(user.password_hash, request.form.get("password", ""))
        ):
            flash("Wrong email or password.", "error")
            return render_template("auth/login.html", email=email), 401
        login_user(user)
        return redirect(_safe_next(request.args.get("next")) or url_for("home.index"), 303)
    return render_template("auth/login.html", email="")


@bp.post("/logout")
def logout():
    logout_user()
    return redirect(url_for("auth.login"), 303)
