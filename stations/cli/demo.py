"""`flask --app wsgi demo [--if-empty]` and `flask --app wsgi demo-logins`."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa

import demo
from demo.base import DEMO_PASSWORD, DEMO_USERS
from warehouse.db import db
from warehouse.models import (
    Destination,
    Order,
    Partner,
    Product,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    Site,
    User,
)


def _has_data() -> bool:
    return any(
        db.session.scalar(sa.select(sa.literal(1)).select_from(model).limit(1)) is not None
        for model in (Site, Partner, Order, User)
    )


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) if there is data already.")
@click.option("--seed", default=20261125, show_default=True, help="Seed for the random data.")
@click.option(
    "--no-logins", is_flag=True, help="Do not print the logins (make run prints them last)."
)
def demo_command(if_empty: bool, seed: int, no_logins: bool):
    """Load the demo data set into an empty database and print the demo logins."""
    if _has_data():
        if if_empty:
            click.echo("The database holds data already; demo data not loaded.")
            return
        raise click.UsageError(
            "the database is not empty; demo data only goes into an empty database "
            "(use --if-empty to skip quietly)"
        )
    started = time.monotonic()
    demo.load(db.session, seed=seed)
    db.session.commit()
    counts = {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Partner, Product, Order, Shipment, User)
    }
    click.echo(
        f"Demo data loaded in {time.monotonic() - started:.1f} s: "
        + ", ".join(f"{count} {name}s" for name, count in counts.items())
    )
    if not no_logins:
        _print_logins()


@click.command("demo-logins")
def demo_logins_command():
    """Print the demo users' emails and password, one per role."""
    _print_logins()


def _print_logins() -> None:
    emails = [email for email, *_ in DEMO_USERS]
    users = {u.email: u for u in db.session.scalars(sa.select(User).where(User.email.in_(emails)))}
    if not users:
        click.echo("No demo users in this database (load them with: flask --app wsgi demo).")
        return
    rows = [
        (user.role.value, email, DEMO_PASSWORD, user.partner.code if user.partner else "")
        for email in emails
        if (user := users.get(email)) is not None
    ]
    widths = [
        max(len(h), *(len(r[i]) for r in rows))
        for i, h in enumerate(("role", "email", "password", "partner"))
    ]
    header = ("role", "email", "password", "partner")
    click.echo("Demo logins:")
    for row in (header, *rows):
        click.echo(
            "  "
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    _print_parcels()


def _print_parcels() -> None:
    """A few announced parcels to try the receiving station with (log in as the operator)."""
    ready = db.session.scalars(
        sa.select(ReturnRequest.rma)
        .join(Partner, Partner.id == ReturnRequest.partner_id)
        .where(
            ReturnRequest.status == ReturnStatus.ANNOUNCED,
            Partner.destination == Destination.WAREHOUSE,
        )
        .order_by(ReturnRequest.id)
        .limit(5)
    ).all()
    if ready:
        click.echo("Parcels waiting at /receive/ (type or scan an RMA, then Enter):")
        click.echo("  " + "  ".join(ready))
