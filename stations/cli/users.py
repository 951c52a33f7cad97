"""Logins and API tokens: `create-user` and `create-token`."""

from __future__ import annotations

import click

from stations.cli.common import find_partner
from warehouse.accounts import (
    check_email_free,
    check_partner_binding,
    create_user,
    issue_token,
    revoke_token,
    set_active,
    set_password,
    token_by_secret,
)
from warehouse.db import db
from warehouse.errors import DomainError
from warehouse.models import Role, Site, User

ROLE_CHOICE = click.Choice([role.value for role in Role])


@click.command("create-user")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--name", default=None, help="Display name (defaults to the email).")
@click.option("--partner", "partner_code", default=None, help="Partner code, for partner users.")
@click.option("--site", "site_code", default=None, help="Site code for station users.")
@click.option("--password", default=None, help="The password (asked for when not given).")
def create_user_command(email, role, name, partner_code, site_code, password):
    """Create a user who can log in."""
    role = Role(role)
    partner = find_partner(partner_code)
    if role == Role.PARTNER and partner is None:
        raise click.BadParameter(
            "a partner user belongs to one partner: add --partner CODE", param_hint="--partner"
        )
    site = None
    if site_code:
        site = db.session.query(Site).filter_by(code=site_code).one_or_none()
        if site is None:
            raise click.BadParameter(f"no site with code {site_code!r}", param_hint="--site")
    elif role in (Role.OPERATOR, Role.SUPERVISOR):
        site = db.session.query(Site).order_by(Site.id).first()
    # Everything else is checked before the password is asked for, so a typo costs no typing.
    try:
        check_partner_binding(role, partner)
        check_email_free(db.session, email)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint=error.field) from None
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(
            db.session,
            email=email,
            name=name or email,
            password=password,
            role=role,
            partner=partner,
            site=site,
        )
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint=error.field) from None
    db.session.commit()
    click.echo(f"created {role.value} {email}")


def _user(email: str) -> User:
    user = db.session.query(User).filter_by(email=email.strip().lower()).one_or_none()
    if user is None:
        raise click.BadParameter(f"no user with email {email!r}", param_hint="EMAIL")
    return user


@click.command("set-password")
@click.argument("email")
@click.option("--password", default=None, help="The new password (asked for when not given).")
def set_password_command(email, password):
    """Give a user a new password; every session they have open ends."""
    user = _user(email)
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        set_password(user, password)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="--password") from None
    db.session.commit()
    click.echo(f"new password set for {user.email}; their sessions have ended")


@click.command("deactivate-user")
@click.argument("email")
def deactivate_user_command(email):
    """Stop a user from logging in and end every session they have open."""
    user = _user(email)
    set_active(user, False)
    db.session.commit()
    click.echo(f"deactivated {user.email}; their sessions have ended")


@click.command("create-token")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--partner", "partner_code", default=None, help="Bind the token to one partner.")
@click.option("--label", default="", help="What the token is for.")
def create_token_command(role, partner_code, label):
    """Print a new API token (shown once; only its hash is stored)."""
    role = Role(role)
    partner = find_partner(partner_code)
    if role == Role.PARTNER and partner is None:
        raise click.BadParameter("a partner token needs --partner", param_hint="--partner")
    if role != Role.PARTNER and partner is not None:
        raise click.BadParameter(
            "only partner tokens are bound to a partner", param_hint="--partner"
        )
    token = issue_token(db.session, role, partner.id if partner else None, label)
    db.session.flush()
    row = token_by_secret(db.session, token)
    db.session.commit()
    click.echo(token)
    click.echo(
        f"(token #{row.id}: revoke it with `flask --app wsgi revoke-token {row.id}`)", err=True
    )


@click.command("revoke-token")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def revoke_token_command(token_id):
    """Revoke an API token by its number: it stops working at once."""
    try:
        row = revoke_token(db.session, token_id)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="TOKEN_ID") from None
    db.session.commit()
    click.echo(f"revoked API token #{row.id} ({row.prefix}…, {row.label or 'no label'})")
