"""`flask --app wsgi …` commands. Stage modules add their own commands to `commands`."""

from __future__ import annotations

import click
from flask.cli import AppGroup  # noqa: F401

from warehouse.db import db
from warehouse.models import Partner, Role, Site, User

_COMMANDS: list[click.Command] = []


def command(cmd: click.Command) -> click.Command:
    """Register a click command on the app (used as a decorator under @click.command)."""
    _COMMANDS.append(cmd)
    return cmd


def init_app(app) -> None:
    """Attach every registered command to the app's CLI."""
    # Import the modules that define commands so they register.
    import stations.background
    import stations.cases
    import stations.cli_commands
    import stations.demo_cli
    import stations.export_cli
    import stations.orders_cli  # noqa: F401

    for cmd in _COMMANDS:
        app.cli.add_command(cmd)


def find_partner(code: str | None) -> Partner | None:
    """The partner with `code`, or a click error naming the code."""
    if code is None:
        return None
    partner = db.session.query(Partner).filter_by(code=code).one_or_none()
    if partner is None:
        raise click.BadParameter(f"no partner with code {code!r}", param_hint="--partner")
    return partner


def create_user(
    email: str, name: str, password: str, role: Role, partner: Partner | None, site: Site | None
) -> User:
    """Add a user to the session after checking the role / partner pairing."""
    from stations.auth import hash_password

    if role == Role.PARTNER and partner is None:
        raise click.BadParameter("a partner user needs --partner", param_hint="--partner")
    if role != Role.PARTNER and partner is not None:
        raise click.BadParameter("only partner users belong to a partner", param_hint="--partner")
    user = User(
        email=email.strip().lower(),
        name=name,
        password_hash=hash_password(password),
        role=role,
        partner=partner,
        site=site,
    )
    db.session.add(user)
    return user
