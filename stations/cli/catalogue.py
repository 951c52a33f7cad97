"""Master data from the command line: `create-partner`, `create-site` and `import-products`."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app

from stations.cli.common import find_partner
from warehouse import accounts, catalogue, partners, sites
from warehouse.db import db
from warehouse.errors import DomainError
from warehouse.events import Actor
from warehouse.models import Role
from warehouse.policy import percent_to_bp

CLI = Actor(label="command line")


def _refused(error: DomainError) -> click.ClickException:
    return click.BadParameter(error.message, param_hint=f"--{(error.field or 'value')}")


@click.command("create-partner")
@click.argument("code")
@click.argument("name")
@click.option("--email", "contact_email", required=True, help="Contact email for case mails.")
@click.option("--language", default="en", show_default=True)
@click.option(
    "--commission", default="10", show_default=True, help="Percent of sold revenue, 5-20."
)
@click.option("--window-days", type=int, default=14, show_default=True)
@click.option(
    "--approval", "approval_mode", default="auto", show_default=True, help="auto | consult"
)
@click.option(
    "--invite", "invite_email", default=None, help="Invite its first user (mails a link)."
)
def create_partner_command(
    code, name, contact_email, language, commission, window_days, approval_mode, invite_email
):
    """Onboard a partner (more fields: the admin screen or PATCH /api/v1/partners/CODE)."""
    try:
        commission_bp = percent_to_bp(commission)
    except ValueError:
        raise click.BadParameter(
            f"{commission!r} is not a percentage", param_hint="--commission"
        ) from None
    try:
        partner = partners.create_partner(
            db.session,
            CLI,
            {
                "code": code,
                "name": name,
                "contact_email": contact_email,
                "language": language,
                "commission_rate_bp": commission_bp,
                "window_days": window_days,
                "approval_mode": approval_mode,
            },
        )
        if invite_email:
            accounts.invite(
                db.session,
                CLI,
                current_app.config,
                email=invite_email,
                name=invite_email,
                role=Role.PARTNER,
                partner=partner,
                language=partner.language,
            )
    except DomainError as error:
        db.session.rollback()
        field = {"commission_rate_bp": "commission", "window_days": "window-days"}.get(
            error.field or "", error.field
        )
        raise click.BadParameter(error.message, param_hint=f"--{field}") from None
    db.session.commit()
    click.echo(
        f"partner {partner.code} created" + (f", {invite_email} invited" if invite_email else "")
    )


@click.command("create-site")
@click.argument("code")
@click.argument("name")
@click.option("--country", required=True, help="Served country the site is in, e.g. NL.")
@click.option("--timezone", default="Europe/Amsterdam", show_default=True)
@click.option("--address", required=True, help="Postal address; use \\n between lines.")
def create_site_command(code, name, country, timezone, address):
    """Add a returns centre (the first one gets every served country returning to it)."""
    try:
        site = sites.create_site(
            db.session,
            CLI,
            {
                "code": code,
                "name": name,
                "country": country,
                "timezone": timezone,
                "address": address.replace("\\n", "\n"),
            },
        )
    except DomainError as error:
        db.session.rollback()
        raise _refused(error) from None
    db.session.commit()
    click.echo(f"site {site.code} created")


@click.command("import-products")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--partner", "partner_code", default=None, help="Rows without a partner are its.")
def import_products_command(path: Path, partner_code: str | None):
    """Import a catalogue CSV: good rows in, bad rows listed by row and column (exit code 1)."""
    partner = find_partner(partner_code)
    started = time.monotonic()
    record = catalogue.new_import(db.session, CLI, filename=path.name, partner=partner)

    def progress(report: catalogue.ImportReport, done: int) -> None:
        db.session.commit()
        click.echo(f"{done}/{report.total} rows", err=True)

    report = catalogue.import_products(
        db.session, CLI, path.read_bytes(), record, progress=progress
    )
    catalogue.finish(record, report)
    db.session.commit()
    for line in report.errors:
        click.echo(line, err=True)
    if report.file_refused:
        raise click.ClickException("the file was not imported")
    click.echo(
        f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.refused_rows} refused ({time.monotonic() - started:.1f} s)"
    )
    if report.refused_rows:
        raise SystemExit(1)
