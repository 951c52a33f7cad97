"""The grading stage of the demo: units waiting, graded units, open cases for the demo logins."""

from __future__ import annotations

import datetime as dt
import random

import pytest

import demo
from demo import base, grading
from tests import factories
from warehouse.db import db, utcnow
from warehouse.models import Case, CaseStatus, Order, Partner, Reason, Unit, UnitStatus


def _received_units(per_partner: int = 4) -> None:
    """Received units of each demo partner's delivered orders (what returns.py provides)."""
    for partner in db.session.query(Partner).order_by(Partner.id):
        orders = (
            db.session.query(Order)
            .join(Order.shipments)
            .filter(Order.shipments.any(partner_id=partner.id))
            .order_by(Order.id)
            .limit(30)
            .all()
        )
        made = 0
        for order in orders:
            lines = [line for line in order.lines if line.shipment.partner_id == partner.id]
            if not lines or lines[0].shipment.delivered_at is None or made >= per_partner:
                continue
            reason = Reason.DEFECTIVE if made == per_partner - 1 else Reason.CHANGED_MIND
            rma = factories.return_request(order, [(lines[0], 1, reason)])
            factories.received_unit(rma.lines[0])
            made += 1
    db.session.flush()


def test_grading_demo_leaves_work_and_opens_cases_for_the_demo_logins(app):
    today = utcnow().date()
    rng = random.Random(7)
    base.load(db.session, rng, today)
    _received_units()
    received = db.session.query(Unit).count()
    grading.load(db.session, rng, today)
    db.session.commit()

    statuses = [unit.status for unit in db.session.query(Unit)]
    assert statuses.count(UnitStatus.RECEIVED) >= 4, "units wait at the grading station"
    assert statuses.count(UnitStatus.GRADED) >= received // 2
    for code in grading.DEMO_PARTNERS:
        partner = db.session.query(Partner).filter_by(code=code).one()
        open_cases = (
            db.session.query(Case).filter_by(partner_id=partner.id, status=CaseStatus.OPEN).count()
        )
        assert open_cases >= 1, code
    graded = db.session.query(Unit).filter(Unit.status == UnitStatus.GRADED).all()
    assert all(unit.refund_state is not None for unit in graded)
    assert all(unit.graded_at >= unit.received_at for unit in graded)
    assert db.session.query(Case).filter(Case.status != CaseStatus.OPEN).count() >= 1


def test_grading_demo_without_received_units_does_nothing(app):
    grading.load(db.session, random.Random(1), dt.date(2026, 11, 26))
    assert db.session.query(Case).count() == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_whole_demo_has_units_waiting_and_open_cases(app, backend):
    demo.load(db.session)
    db.session.commit()
    assert db.session.query(Unit).filter_by(status=UnitStatus.RECEIVED).count() >= 1
    volt = db.session.query(Partner).filter_by(code="VOLT").one()
    assert db.session.query(Case).filter_by(partner_id=volt.id, status=CaseStatus.OPEN).count() >= 1
