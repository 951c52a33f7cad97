"""`flask --app wsgi export-accounting`, `check-money`, `issue-invoices` and `import-sales`: the
journal to a file or stdout (streamed), the reconciliation report, the month's commission
invoices, and a resale channel's sold report."""

from __future__ import annotations

import click

from stations.cli.common import find_partner, write_chunks
from warehouse import accounting, invoices, ledger, listings, reconciliation
from warehouse.db import db
from warehouse.errors import DomainError
from warehouse.events import Actor

ACTOR = Actor(label="cli", station="cli")


@click.command("export-accounting")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), required=True)
@click.option("--format", "fmt", type=click.Choice(accounting.FORMATS), default="csv")
@click.option("--partner", "partner_code", default=None, help="Only this partner's entries.")
@click.option("--site", "site_code", default=None, help="Only orders returned to this site.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: standard output).",
)
def export_accounting_command(start, end, fmt, partner_code, site_code, out):
    """Write the double-entry journal of a period (booking days, inclusive)."""
    try:
        first, last = accounting.period(start.date(), end.date())
        partner_id, site_id = accounting.scope_of(db.session, partner_code, site_code)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    scope = {"partner_id": partner_id, "site_id": site_id}
    total = accounting.count(db.session, first, last, **scope)
    chunks = accounting.render(accounting.lines(db.session, first, last, **scope), fmt, first, last)
    write_chunks(chunks, out)
    if out is not None:
        click.echo(f"wrote {total} entries ({2 * total} journal lines) to {out}", err=True)


@click.command("check-money")
@click.option("--partner", "partner_code", default=None, help="Only this partner's records.")
def check_money_command(partner_code):
    """List every place where the money records disagree; exit 1 when there is one."""
    partner = find_partner(partner_code)
    found = reconciliation.differences(db.session, partner_id=partner.id if partner else None)
    for difference in found:
        click.echo(
            f"{difference.check}: {difference.subject} "
            f"[{difference.partner}] expected {difference.expected}, found {difference.found}"
        )
    if found:
        raise click.exceptions.Exit(1)
    click.echo("the money records agree")


@click.command("issue-invoices")
@click.option("--month", required=True, help="YYYY-MM, a month that has ended.")
def issue_invoices_command(month):
    """Issue every partner's commission invoice of a month (per currency); idempotent."""
    try:
        year, number = ledger.parse_month(month)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    today = invoices.invoicing_day(db.session)
    try:
        issued = invoices.issue_month(db.session, ACTOR, year, number, today=today)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    for invoice in issued:
        click.echo(
            f"{invoice.number} {invoice.partner.code} {invoice.currency} net {invoice.net_minor}"
        )
    if not issued:
        click.echo(f"no commission booked in {month}")


@click.command("import-sales")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_sales_command(path):
    """Book a resale channel's sold report (CSV: lpn, price, currency, channel, sold_at); bad
    rows are listed by row and column (exit code 1), the others booked."""
    with open(path, "rb") as handle:
        data = handle.read()
    report = listings.import_sales(db.session, ACTOR, data)
    db.session.commit()
    for line, column, message in report.problems:
        click.echo(f"row {line}{f' ({column})' if column else ''}: {message}", err=True)
    click.echo(f"{report.booked} sales booked, {report.repeated} reported before")
    if report.problems:
        raise click.exceptions.Exit(1)
