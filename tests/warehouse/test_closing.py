"""Closing: a unit closes when it is routed and its refund decided, whichever comes last."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from warehouse.cases import decide_case
from warehouse.db import db
from warehouse.models import RefundState, ReturnStatus, UnitStatus

TODAY = dt.datetime.now(dt.UTC).date()


def _put_away(unit) -> None:
    """What routing leaves behind: the unit routed, its refund still open."""
    unit.status = UnitStatus.ROUTED
    unit.disposition = "restock"
    db.session.commit()


@pytest.mark.parametrize(
    ("action", "fields", "state"),
    [
        ("approve", {}, RefundState.APPROVED),
        ("adjust", {"amount_minor": 1000, "reason": "scratches"}, RefundState.APPROVED),
        ("reject", {"reason": "worn"}, RefundState.REJECTED),
    ],
)
def test_a_decision_after_routing_closes_the_unit_and_its_rma(app, action, fields, state):
    case = factories.open_case()
    unit = case.unit
    _put_away(unit)
    assert unit.refund_state == RefundState.OPEN

    decide_case(
        db.session, factories.OPERATOR, case.id, action=action, via="portal", today=TODAY, **fields
    )
    db.session.commit()

    assert unit.refund_state == state
    assert unit.status == UnitStatus.CLOSED
    assert unit.return_request.status == ReturnStatus.CLOSED


def test_a_decision_before_routing_leaves_the_unit_open(app):
    case = factories.open_case()
    decide_case(
        db.session, factories.OPERATOR, case.id, action="approve", via="portal", today=TODAY
    )
    db.session.commit()
    assert case.unit.status == UnitStatus.GRADED
    assert case.unit.return_request.status == ReturnStatus.RECEIVED
