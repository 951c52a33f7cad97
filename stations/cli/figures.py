"""`refresh-figures`: rebuild the dashboards' monthly figures for a range of months (the worker
refreshes the recent ones by itself; this is for a first load, an import of old orders, or a
fix in how a figure is counted)."""

from __future__ import annotations

import click
import sqlalchemy as sa

from warehouse import figures
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.errors import InvalidInput
from warehouse.models import Site


@click.command("refresh-figures")
@click.option("--from", "first", help="First month, YYYY-MM (default: 12 months ago)")
@click.option("--to", "last", help="Last month, YYYY-MM (default: this month)")
@click.option("--site", "site_code", help="One site's code (default: every site)")
def refresh_figures_command(first: str | None, last: str | None, site_code: str | None):
    """Rebuild the monthly figures of every month from --from to --to, one commit per month."""
    query = sa.select(Site).order_by(Site.id)
    if site_code:
        query = query.where(Site.code == site_code.upper())
    sites = db.session.scalars(query).all()
    if site_code and not sites:
        raise click.BadParameter(f"no site with code {site_code!r}", param_hint="--site")
    now = utcnow()
    for site in sites:
        try:
            scope = figures.Scope.parse(
                today=local_date(now, site.timezone), first=first or "", last=last or ""
            )
        except InvalidInput as error:
            raise click.BadParameter(error.message, param_hint=f"--{error.field}") from None
        for month in figures.months_between(scope.first, scope.last):
            rows = figures.refresh_month(db.session, site, month, now=now)
            db.session.commit()
            click.echo(f"{site.code} {month}: {rows} figure rows")
