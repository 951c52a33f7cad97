"""Users and API tokens (admins): list and find users, invite one, change role, site, partner,
language or access (deactivating ends their sessions), mail a password reset; list tokens with
their last use, create one (its secret shown once), revoke one."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from stations.auth import current_actor, roles_required
from stations.params import page_number
from warehouse import accounts, events
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.models import Event, Partner, Role, Site, User
from warehouse.reference import LANGUAGES

bp = Blueprint("admin_people", __name__, url_prefix="/admin")
PAGE = 50


def _token_history(limit: int = 50) -> list:
    """The latest tokens made and revoked."""
    return list(
        db.session.scalars(
            sa.select(Event)
            .where(Event.subject_type == "api_token")
            .order_by(Event.id.desc())
            .limit(limit)
        )
    )


def _choices() -> dict:
    return {
        "roles": [role.value for role in Role],
        "partners": list(db.session.scalars(sa.select(Partner).order_by(Partner.code))),
        "sites": list(db.session.scalars(sa.select(Site).order_by(Site.code))),
        "languages": LANGUAGES,
    }


def _role(form) -> Role:
    try:
        return Role(form.get("role", ""))
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise InvalidInput(_("choose a role: %(roles)s", roles=choices), field="role") from None


def _by_code(model, code: str, field: str):
    code = (code or "").strip().upper()
    if not code:
        return None
    row = db.session.scalar(sa.select(model).where(model.code == code))
    if row is None:
        if field == "partner":
            message = _("no partner with code %(code)s", code=repr(code))
        else:
            message = _("no site with code %(code)s", code=repr(code))
        raise NotFound(message, field=field)
    return row


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():
    """Every user (search by email or name), 50 a page, and the form to invite one."""
    text = request.args.get("q", "").strip()[:100]
    page = page_number()
    query = sa.select(User)
    if text:
        like = f"%{text.lower()}%"
        query = query.where(
            sa.or_(sa.func.lower(User.email).like(like), sa.func.lower(User.name).like(like))
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(User.active.desc(), User.email).limit(PAGE).offset((page - 1) * PAGE)
    ).all()
    return render_template(
        "admin/users.html",
        users=rows,
        q=text,
        page=page,
        pages=max(1, -(-total // PAGE)),
        total=total,
        form=request.args,
        error=None,
        **_choices(),
    )


@bp.post("/users")
@roles_required(Role.ADMIN)
def invite():
    """Create a user and mail them a link to choose their password."""
    form = request.form
    try:
        user = accounts.invite(
            db.session,
            current_actor("admin"),
            current_app.config,
            email=form.get("email", ""),
            name=form.get("name", ""),
            role=_role(form),
            partner=_by_code(Partner, form.get("partner", ""), "partner"),
            site=_by_code(Site, form.get("site", ""), "site"),
            language=form.get("language", "en"),
        )
    except DomainError as error:
        db.session.rollback()
        return render_template(
            "admin/users.html",
            users=[],
            q="",
            page=1,
            pages=1,
            total=0,
            form=form,
            error=error,
            **_choices(),
        ), 400
    db.session.commit()
    flash(
        _("%(email)s was invited: the mail has a link to choose a password.", email=user.email),
        "ok",
    )
    return redirect(url_for("admin_people.user", user_id=user.id), 303)


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("no user #%(id)s", id=user_id), field="user")
    return user


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def user(user_id: int):
    """One user: change them, or see what changed."""
    person = _user(user_id)
    error = None
    if request.method == "POST":
        form = request.form
        try:
            changed = accounts.change_user(
                db.session,
                current_actor("admin"),
                person,
                name=form.get("name", ""),
                role=_role(form),
                partner=_by_code(Partner, form.get("partner", ""), "partner"),
                site=_by_code(Site, form.get("site", ""), "site"),
                language=form.get("language", "en"),
                active=form.get("active") == "on",
            )
        except DomainError as caught:
            db.session.rollback()
            error = caught
            person = _user(user_id)
        else:
            db.session.commit()
            flash(
                _("Saved: %(fields)s", fields=", ".join(sorted(changed)))
                if changed
                else _("Nothing changed."),
                "ok",
            )
            return redirect(url_for("admin_people.user", user_id=person.id), 303)
    return render_template(
        "admin/user.html",
        person=person,
        history=events.history(db.session, person)[::-1],
        error=error,
        **_choices(),
    ), (400 if error else 200)


@bp.post("/users/<int:user_id>/reset")
@roles_required(Role.ADMIN)
def reset(user_id: int):
    """Mail the user a link to choose a new password (the old one works until then)."""
    person = _user(user_id)
    if not person.active:
        flash(_("%(email)s is deactivated: activate them first.", email=person.email), "error")
        return redirect(url_for("admin_people.user", user_id=person.id), 303)
    accounts.password_mail(
        db.session,
        person,
        accounts.PasswordLinks.from_settings(current_app.config),
        public_url=current_app.config["PUBLIC_URL"],
        invite=False,
    )
    events.record(db.session, current_actor("admin"), "user.password_reset_sent", person)
    db.session.commit()
    flash(_("A password link was mailed to %(email)s.", email=person.email), "ok")
    return redirect(url_for("admin_people.user", user_id=person.id), 303)


@bp.get("/tokens")
@roles_required(Role.ADMIN)
def tokens():
    """Every API token with its last use; the form for a new one."""
    return render_template(
        "admin/tokens.html",
        history=_token_history(),
        tokens=accounts.list_tokens(db.session),
        created=None,
        error=None,
        **_choices(),
    )


@bp.post("/tokens")
@roles_required(Role.ADMIN)
def create_token():
    """Create a token; its secret is on this one page and nowhere else."""
    form = request.form
    try:
        role = _role(form)
        partner = _by_code(Partner, form.get("partner", ""), "partner")
        label = (form.get("label") or "").strip()[:120]
        if not label:
            raise InvalidInput(_("give the token a label: who or what uses it"), field="label")
        secret = accounts.issue_token(db.session, role, partner.id if partner else None, label)
        db.session.flush()
        row = accounts.token_by_secret(db.session, secret)
        events.record(db.session, current_actor("admin"), "token.created", row, after=role.value)
    except DomainError as error:
        db.session.rollback()
        return render_template(
            "admin/tokens.html",
            history=_token_history(),
            tokens=accounts.list_tokens(db.session),
            created=None,
            error=error,
            **_choices(),
        ), 400
    db.session.commit()
    response = render_template(
        "admin/tokens.html",
        history=_token_history(),
        tokens=accounts.list_tokens(db.session),
        created=secret,
        error=None,
        **_choices(),
    )
    return response, 201, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_token(token_id: int):
    """Revoke a token: it stops working at once."""
    try:
        row = accounts.revoke_token(db.session, token_id)
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(error.message, "error")
        return redirect(url_for("admin_people.tokens"), 303)
    events.record(db.session, current_actor("admin"), "token.revoked", row, after="revoked")
    db.session.commit()
    flash(
        _("Token #%(id)s (%(label)s) is revoked.", id=row.id, label=row.label or row.prefix), "ok"
    )
    return redirect(url_for("admin_people.tokens"), 303)
