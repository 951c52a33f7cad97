"""Demo data: a realistic warehouse to click through, loaded by `flask --app wsgi demo`.

Each stage of the flow owns one module here with a `load(session, rng, today)` function; they run
in flow order, each building on what the earlier ones made. Demo data goes through the same
domain functions the stations and the API call, inside the app (it signs label and case links
with the app's secret), so it lives outside the domain package.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from demo import base, grading, returns, routing
from warehouse import figures, payments
from warehouse.db import utcnow
from warehouse.events import Actor
from warehouse.models import Partner, RefundState, Unit

PAYER = Actor(label="payments")
UNPAID_PER_PARTNER = 2  # left for the portal's Refunds to pay

STAGES = (base, returns, grading, routing)


def load(session, *, seed: int = 20261125, today: dt.date | None = None) -> None:
    """Load every stage's demo data into `session` (flushes; the caller commits)."""
    rng = random.Random(seed)
    today = today or dt.datetime.now(dt.UTC).date()
    for stage in STAGES:
        stage.load(session, rng, today)
        session.flush()
    _pay_refunds(session)
    # The dashboards read monthly figures: build the past year's now rather than wait for the
    # worker's first refresh.
    figures.refresh_recent(session, now=utcnow(), months_back=12)


def _pay_refunds(session) -> None:
    """The history's approved refunds were paid; the latest few of each partner wait."""
    for partner in session.scalars(sa.select(Partner)):
        approved = list(
            session.scalars(
                sa.select(Unit)
                .where(
                    Unit.partner_id == partner.id,
                    Unit.refund_state == RefundState.APPROVED,
                    Unit.refund_minor > 0,
                    Unit.refund_paid_at.is_(None),
                )
                .order_by(Unit.refund_decided_at.desc(), Unit.id.desc())
            )
        )
        for unit in approved[UNPAID_PER_PARTNER:]:
            by_partner = partner.refund_paid_by == "partner"
            payments.mark_paid(
                session,
                PAYER,
                unit.lpn,
                reference="DEMO-PAYOUT",
                partner_id=partner.id if by_partner else None,
            )
