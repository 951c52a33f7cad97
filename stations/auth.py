"""Logging in, roles, and the partner boundary every partner-facing view stands behind."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from stations.extensions import htmx, login, redis_client
from stations.params import as_id
from warehouse.accounts import authenticate, end_sessions
from warehouse.db import db, utcnow
from warehouse.errors import NotFound
from warehouse.events import Actor
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Role, User
from warehouse.ratelimit import Limit, LocalCounters, RateLimiter, TooManyAttempts

bp = Blueprint("auth", __name__)


def init_app(app) -> None:
    """Wire Flask-Login to our users and register the login pages."""
    login.login_view = "auth.login"
    login.login_message = _l("Please log in to use this screen.")
    login.unauthorized_handler(_unauthorized)
    app.register_blueprint(bp)


def client_address() -> str:
    """The client's IP address: the connection's, or the one a trusted proxy forwarded
    (`TRUSTED_PROXIES` wraps the app in ProxyFix, which rewrites `remote_addr`)."""
    return request.remote_addr or "unknown"


def _unauthorized():
    """Not logged in (or the session was ended): a station's scan gets a refusal it can show
    and keep for a retry, never the login page drawn inside the station; a page redirects."""
    from stations.errors import refusal

    if htmx:
        return refusal(
            _("Your session has ended: log in again (in a new tab), then retry the scan."),
            401,
            kind="login",
        )
    flash(str(login.login_message), "error")
    return redirect(url_for("auth.login", next=_safe_next(request.full_path.rstrip("?"))))


@login.user_loader
def _load_user(session_id: str) -> User | None:
    """The session's user, if the session is still theirs: same session version, still active."""
    user_id, _colon, version = (as_id(part) for part in session_id.partition(":"))
    if user_id is None or version is None:
        return None  # a cookie from before session versions, or not ours: log in again
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


# --- login throttling: failures per account and per address ----------------------------------

LOGIN_WINDOW = 15 * 60


def _login_limiter() -> RateLimiter:
    """Login failures counted in Redis; while Redis is down, in this process's memory."""
    fallback = current_app.extensions.setdefault("returnyard.login_counters", LocalCounters())
    return RateLimiter(redis_client(), prefix="ry:login", fallback=fallback)


def _login_limits(email: str) -> tuple[tuple[Limit, str], tuple[Limit, str]]:
    config = current_app.config
    return (
        (Limit("account", config["LOGIN_FAILURES_PER_ACCOUNT"], LOGIN_WINDOW), email),
        (Limit("address", config["LOGIN_FAILURES_PER_ADDRESS"], LOGIN_WINDOW), client_address()),
    )


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


def partner_scope() -> int | None:
    """Whose records this request may see: one partner's id, or None for all of them.

    A partner user or a partner API token sees its own partner only; staff and marketplace
    tokens see every partner. Every screen and API endpoint that reads partner data narrows its
    queries with this one answer. A partner login without a partner cannot exist (a database
    constraint); should one appear anyway, it sees nothing rather than everything.
    """
    token = g.get("api_token")
    if token is not None:
        role, partner_id = token.role, token.partner_id
    elif current_user.is_authenticated:
        role, partner_id = current_user.role, current_user.partner_id
    else:
        raise NotFound(_("log in first"), field="partner")
    if role != Role.PARTNER:
        return None
    if partner_id is None:
        raise NotFound(_("this login belongs to no partner"), field="partner")
    return partner_id


def staff_site() -> int | None:
    """The site a staff screen shows: the supervisor's or operator's own; None (every site) for
    an admin or a staff user without a site."""
    if current_user.role == Role.ADMIN:
        return None
    return current_user.site_id


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
    """The login form; a wrong email or password is refused with 401 and the same words."""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()[:254]
        limits = _login_limits(email)
        limiter = _login_limiter()
        try:
            limiter.take(*limits)  # counted before the password is checked: see RateLimiter
        except TooManyAttempts as error:
            flash(error.message, "error")
            response = make_response(render_template("auth/login.html", email=email), 429)
            response.headers["Retry-After"] = str(error.details["retry_after"])
            return response
        user = authenticate(db.session, email, request.form.get("password", ""))
        if user is None:
            flash(_("Wrong email or password."), "error")
            return render_template("auth/login.html", email=email), 401
        limiter.give_back(*limits)  # only failures count
        user.last_login_at = utcnow()
        db.session.commit()
        login_user(user)
        return redirect(_safe_next(request.args.get("next")) or url_for("home.index"), 303)
    return render_template("auth/login.html", email="")


@bp.get("/csrf-token")
@login_required
def csrf_token():
    """A fresh form token for a long-open station tab (read same-origin only: CORS keeps other
    sites from reading it, and the token itself is as signed and time-limited as ever)."""
    response = jsonify({"token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/logout")
def logout():
    """End the session (and every other session of this user) and go back to the login page."""
    if current_user.is_authenticated:
        end_sessions(current_user)
        db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"), 303)
