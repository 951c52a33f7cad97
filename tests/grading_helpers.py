"""Test data for grading and refund cases: a received unit, graded into an open case."""

from __future__ import annotations

from tests import factories
from warehouse import events
from warehouse.cases import CaseLinks
from warehouse.db import db
from warehouse.grading import grade_unit
from warehouse.models import Case, Grade, Outbox, Reason

SECRET = "test-secret-key"  # the SECRET_KEY of the test app
LINKS = CaseLinks(SECRET)
OPERATOR = events.Actor(label="op@returnyard.test", station="grade")
COMPLETE = {"accessories_complete", "cleaned", "repackaged"}


def received(
    partner=None,
    *,
    price=4999,
    currency="EUR",
    country="NL",
    reason=Reason.CHANGED_MIND,
    delivered_days_ago=3,
    category=None,
    **partner_fields,
):
    """A received unit of a one-line order of `partner` (a new partner when None)."""
    partner = partner or factories.partner(**partner_fields)
    kwargs = {"category": category} if category else {}
    product = factories.product(partner, prices={currency: price}, **kwargs)
    order = factories.order(
        [(product, 1)], country=country, currency=currency, delivered_days_ago=delivered_days_ago
    )
    rma = factories.return_request(order, [(order.lines[0], 1, reason)])
    return factories.received_unit(rma.lines[0])


def open_case(partner=None, *, grade=Grade.USED, **fields) -> Case:
    """A unit graded `used` (a partial refund): an open case, committed."""
    unit = received(partner, **fields)
    grade_unit(db.session, OPERATOR, unit.id, grade=grade, checklist=COMPLETE, links=LINKS)
    db.session.commit()
    return db.session.query(Case).filter_by(unit_id=unit.id).one()


def mails(template: str) -> list[Outbox]:
    """Queued mails of one template, oldest first."""
    return [
        row
        for row in db.session.query(Outbox).order_by(Outbox.id)
        if row.payload.get("template") == template
    ]
