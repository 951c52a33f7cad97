"""Refunds paid out: who confirms, refusals that change nothing, and the refund-due clock that
watches approved refunds until they are paid."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import figures, payments
from warehouse.db import db, utcnow
from warehouse.errors import Conflict, InvalidInput, NotAllowed, NotFound
from warehouse.events import Actor
from warehouse.models import Event, Grade, Unit

ACTOR = Actor(label="test")


def _approved(refund_paid_by="partner", **fields):
    unit = factories.received(refund_paid_by=refund_paid_by, **fields)
    factories.grade(unit, Grade.NEW)
    assert unit.refund_minor == 4999
    return unit


def test_the_partner_confirms_a_refund_it_pays_and_the_clock_stops(app):
    unit = _approved()
    rma = unit.return_request
    rma.refund_due_on = utcnow().date() + dt.timedelta(days=2)
    today = utcnow().date()
    risk = figures.refund_due_risk(db.session, site_id=None, today=today)
    assert [(r.lpn, r.stage) for r in risk] == [(unit.lpn, "approved_not_paid")]
    with pytest.raises(NotAllowed, match="paid by the partner"):
        payments.mark_paid(db.session, ACTOR, unit.lpn)  # the marketplace may not
    other = factories.partner()
    with pytest.raises(NotFound):
        payments.mark_paid(db.session, ACTOR, unit.lpn, partner_id=other.id)
    _, changed = payments.mark_paid(
        db.session, ACTOR, unit.lpn, reference="SEPA-123", partner_id=unit.partner_id
    )
    assert changed
    assert (unit.refund_paid_by, unit.refund_payment_ref) == ("partner", "SEPA-123")
    assert figures.refund_due_risk(db.session, site_id=None, today=today) == []
    before = row_counts(Event)
    _, again = payments.mark_paid(
        db.session, ACTOR, unit.lpn, reference="SEPA-123", partner_id=unit.partner_id
    )
    assert not again
    assert row_counts(Event) == before
    with pytest.raises(Conflict, match="paid already"):
        payments.mark_paid(db.session, ACTOR, unit.lpn, reference="X", partner_id=unit.partner_id)


def test_the_marketplace_confirms_the_refunds_it_pays(app):
    unit = _approved(refund_paid_by="marketplace")
    with pytest.raises(NotAllowed, match="paid by the marketplace"):
        payments.mark_paid(db.session, ACTOR, unit.lpn, partner_id=unit.partner_id)
    payments.mark_paid(db.session, ACTOR, unit.lpn, reference="RUN-7")
    assert unit.refund_paid_by == "marketplace"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reference": "x" * 81}, "limited to 80"),
        ({"paid_at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, "future"),
        ({"paid_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}, "before the refund was approved"),
        ({"paid_at": dt.datetime(2026, 1, 1)}, "time zone"),  # noqa: DTZ001 - the naive input
    ],
)
def test_a_bad_payment_is_refused_and_changes_nothing(app, fields, message):
    unit = _approved()
    before = row_counts(Event)
    with pytest.raises(InvalidInput, match=message):
        payments.mark_paid(db.session, ACTOR, unit.lpn, partner_id=unit.partner_id, **fields)
    assert row_counts(Event) == before
    assert db.session.get(Unit, unit.id).refund_paid_at is None


def test_only_an_approved_refund_can_be_paid(app):
    unit = factories.received()
    factories.grade(unit, Grade.USED)  # a case: not approved yet
    with pytest.raises(Conflict, match="no approved refund"):
        payments.mark_paid(db.session, ACTOR, unit.lpn, partner_id=unit.partner_id)
