"""`flask --app wsgi …` commands, one module per subject, registered from the list below."""

from __future__ import annotations

from flask import Flask

from stations.cli import (
    accounting,
    background,
    bench,
    cases,
    catalogue,
    demo,
    exports,
    figures,
    orders,
    users,
)

COMMANDS = (
    users.create_user_command,
    users.create_token_command,
    users.revoke_token_command,
    users.set_password_command,
    users.deactivate_user_command,
    demo.demo_command,
    demo.demo_logins_command,
    orders.import_orders_command,
    catalogue.create_partner_command,
    catalogue.create_site_command,
    catalogue.import_products_command,
    exports.export_resale_command,
    accounting.export_accounting_command,
    accounting.check_money_command,
    accounting.issue_invoices_command,
    accounting.import_sales_command,
    cases.escalate_cases_command,
    figures.refresh_figures_command,
    bench.bench_data_command,
    background.worker_command,
    background.relay_command,
    background.mail_sink_command,
)


def init_app(app: Flask) -> None:
    """Attach every command to the app's CLI."""
    for command in COMMANDS:
        app.cli.add_command(command)
