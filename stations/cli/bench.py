"""`bench-data`: fill an empty database with a warehouse at scale, for measuring."""

from __future__ import annotations

import click

from bench.data import fill
from warehouse.db import db
from warehouse.errors import DomainError


@click.command("bench-data")
@click.option("--units", type=click.IntRange(1, 100_000_000), required=True, help="Returned units")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same data")
def bench_data_command(units: int, seed: int):
    """Fill an EMPTY database with about UNITS returned units, the orders around them, their
    events, cases, listings, ledger, and the dashboards' figures (bulk inserts)."""
    try:
        counts = fill(db.session, units=units, seed=seed, echo=click.echo)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(", ".join(f"{count} {name}" for name, count in counts.items()))
