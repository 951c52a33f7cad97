"""`escalate-cases`: remind and escalate unanswered refund cases (the worker also runs it
hourly)."""

from __future__ import annotations

import click
from flask import current_app

from warehouse.cases import CaseLinks, escalate_due_cases
from warehouse.db import db


@click.command("escalate-cases")
def escalate_cases_command():
    """Remind partners of unanswered refund cases and escalate old ones to supervisors."""
    run = escalate_due_cases(db.session, links=CaseLinks.from_settings(current_app.config))
    db.session.commit()
    click.echo(f"reminded {len(run.reminded)} case(s), escalated {len(run.escalated)} case(s)")
