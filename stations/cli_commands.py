"""Operator commands: users and API tokens."""

from __future__ import annotations

import click

from stations.cli import command, create_user, find_partner
from warehouse.db import db
from warehouse.models import Role, Site, User

ROLE_CHOICE = click.Choice([role.value for role in Role])


@command
@click.command("create-user")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--name", default=None, help="Display name (defaults to the email).")
@click.option("--partner", "partner_code", default=None, help="Partner code, for partner users.")
@click.option("--site", "site_code", default=None, help="Site code for station users.")
@click.password_option()
def create_user_command(email, role, name, partner_code, site_code, password):
    """Create a user who can log in."""
    if db.session.query(User).filter_by(email=email.strip().lower()).count():
        raise click.BadParameter(f"a user {email!r} exists already", param_hint="EMAIL")
    site = None
    if site_code:
        site = db.session.query(Site).filter_by(code=site_code).one_or_none()
        if site is None:
            raise click.BadParameter(f"no site with code {site_code!r}", param_hint="--site")
    elif role in (Role.OPERATOR, Role.SUPERVISOR):
        site = db.session.query(Site).order_by(Site.id).first()
    create_user(email, name or email, password, Role(role), find_partner(partner_code), site)
    db.session.commit()
    click.echo(f"created {role} {email}")


@command
@click.command("create-token")
@click.argument("role", type=ROLE_CHOICE)
@click.option("--partner", "partner_code", default=None, help="Bind the token to one partner.")
@click.option("--label", default="", help="What the token is for.")
def create_token_command(role, partner_code, label):
    """Print a new API token (shown once; only its hash is stored)."""
    from stations.api import issue_token

    partner = find_partner(partner_code)
    if Role(role) == Role.PARTNER and partner is None:
        raise click.BadParameter("a partner token needs --partner", param_hint="--partner")
    if Role(role) != Role.PARTNER and partner is not None:
        raise click.BadParameter(
            "only partner tokens are bound to a partner", param_hint="--partner"
        )
    token = issue_token(db.session, Role(role), partner.id if partner else None, label)
    db.session.commit()
    click.echo(token)
