"""`flask --app wsgi export-resale`: the resale export to a file or stdout, streamed."""

from __future__ import annotations

import click
from flask import current_app

from stations.cli.common import find_partner, write_chunks
from warehouse import channels, exports
from warehouse.db import db
from warehouse.errors import DomainError
from warehouse.photos import PictureLinks
from warehouse.reference import LANGUAGES


@click.command("export-resale")
@click.option("--format", "fmt", type=click.Choice(exports.FORMATS), default="ebay")
@click.option(
    "--channel", default=None, help="Sales channel of the listings (default: the resale one)."
)
@click.option("--partner", "partner_code", default=None, help="Only this partner's listings.")
@click.option(
    "--language",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Write condition descriptions in this language (default: each listing's own).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: standard output).",
)
def export_resale_command(fmt, channel, partner_code, language, out):
    """Export units listed for resale as an eBay CSV, a generic CSV or a JSON feed."""
    partner = find_partner(partner_code)
    channel = channel or channels.resale_channel(db.session)
    selection = exports.Selection(channel, partner.id if partner else None, language)
    try:
        total = exports.require_listings(db.session, selection)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    items = exports.rows(
        db.session,
        selection,
        public_url=current_app.config["PUBLIC_URL"],
        pictures=PictureLinks.from_settings(current_app.config),
    )
    chunks = exports.stream(fmt, selection, items)
    write_chunks(chunks, out)
    if out is not None:
        click.echo(f"wrote {total} listings to {out}", err=True)
