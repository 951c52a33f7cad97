"""Choosing a password from a mailed link (an invitation or a reset): the link is signed,
expires after three days and works once."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from stations.security import secret_link_page
from warehouse import accounts
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput
from warehouse.i18n import gettext as _

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/password/<token>", methods=["GET", "POST"])
@secret_link_page
def password(token: str):
    """The form to choose a password; saving it ends the link (and any open sessions)."""
    try:
        user = accounts.PasswordLinks.from_settings(current_app.config).user_for(db.session, token)
    except DomainError as error:
        return render_template("account/password.html", user=None, problem=error.message), (
            410 if error.status == 409 else 404
        )
    if request.method == "GET":
        return render_template("account/password.html", user=user, problem=None)
    first, again = request.form.get("password", ""), request.form.get("again", "")
    try:
        if first != again:
            raise InvalidInput(_("the two passwords differ"), field="again")
        accounts.set_password(user, first)
    except DomainError as error:
        db.session.rollback()
        return render_template("account/password.html", user=user, problem=error.message), 400
    db.session.commit()
    flash(_("Your password is set: log in with it."), "ok")
    return redirect(url_for("auth.login"), 303)
