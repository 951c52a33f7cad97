"""`flask --app wsgi import-orders FILE.csv`: orders from a partner's or channel's CSV file."""

from __future__ import annotations

from pathlib import Path

import click

from stations.cli.common import find_partner
from warehouse.db import db
from warehouse.events import Actor
from warehouse.order_import import COLUMNS, SERIAL_SEPARATOR, import_orders


@click.command(
    "import-orders",
    epilog=(
        f"Columns: {', '.join(COLUMNS)}. One row per order line; rows of one order share "
        "order_number. unit_price is a decimal amount (12.50) in the order currency and "
        f"defaults to the list price; serial_numbers are separated by '{SERIAL_SEPARATOR}'."
    ),
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--partner",
    "partner_code",
    default=None,
    help="The partner who sent the file: only its products, and its code where none is given.",
)
def import_orders_command(file: Path, partner_code: str | None):
    """Import orders from a CSV file; an order with an error is left out whole."""
    partner = find_partner(partner_code)
    result = import_orders(
        db.session,
        file.read_bytes(),
        Actor(label=f"cli:import-orders {file.name}"),
        partner_id=partner.id if partner else None,
        partner_code=partner.code if partner else None,
    )
    db.session.commit()
    for error in result.errors:
        click.echo(str(error), err=True)
    click.echo(
        f"{len(result.created)} orders imported, {len(result.existing)} already there, "
        f"{len(result.refused)} refused"
    )
    if result.errors:
        raise SystemExit(1)
