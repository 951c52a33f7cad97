"""Partners edit their return policy within the law's limits; bad input changes nothing."""

from __future__ import annotations

import pytest

from tests import factories
from warehouse.db import db
from warehouse.errors import InvalidInput
from warehouse.events import Actor
from warehouse.models import ApprovalMode, Event
from warehouse.policy import percent_to_bp, policy_form, update_policy

ACTOR = Actor(label="partner user")
GOOD = {
    "window_days": "30",
    "grace_days": "3",
    "consult_escalate_days": "4",
    "approval_mode": "consult",
    "out_of_window": "goodwill",
    "defective_handling": "return_to_vendor",
    "destination": "warehouse",
    "deduction_used": "12.5",
    "deduction_light_damage": "30",
    "deduction_heavy_damage": "",
    "deduction_missing_parts": "15 %",
}


def test_a_valid_policy_is_saved_with_an_event(app):
    partner = factories.partner()
    update_policy(db.session, ACTOR, partner.id, GOOD)
    assert (partner.window_days, partner.grace_days, partner.approval_mode) == (
        30,
        3,
        ApprovalMode.CONSULT,
    )
    assert partner.refund_deduction_bp == {
        "used": 1250,
        "light_damage": 3000,
        "missing_parts": 1500,
    }
    [event] = db.session.query(Event).filter_by(kind="partner.policy_changed").all()
    assert event.data["after_policy"]["window_days"] == 30
    assert policy_form(partner)["deduction_used"] == "12.5"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("window_days", "13", "cannot be shorter than the legal 14 days"),
        ("window_days", "-1", "whole number of days"),
        ("window_days", "abc", "whole number of days"),
        ("grace_days", "-2", "whole number of days"),
        ("grace_days", "61", "between 0 and 60"),
        ("approval_mode", "sometimes", "must be one of: auto, consult"),
        ("destination", "moon", "must be one of: warehouse, partner"),
        ("deduction_used", "101", "between 0 and 100 %"),
        ("deduction_used", "-5", "percentage like 10"),
        ("deduction_light_damage", "ten", "percentage like 10"),
        ("deduction_used", "1.234", "percentage like 10"),
    ],
)
def test_out_of_limit_values_are_refused_and_nothing_changes(app, field, value, message):
    partner = factories.partner()
    before = policy_form(partner)
    with pytest.raises(InvalidInput, match=message) as refused:
        update_policy(db.session, ACTOR, partner.id, {**GOOD, field: value})
    assert refused.value.field == field
    assert policy_form(partner) == before
    assert db.session.query(Event).count() == 0


def test_every_problem_is_reported_at_once(app):
    partner = factories.partner()
    with pytest.raises(InvalidInput) as refused:
        update_policy(
            db.session,
            ACTOR,
            partner.id,
            {**GOOD, "window_days": "7", "grace_days": "x", "deduction_used": "200"},
        )
    assert set(refused.value.details["errors"]) == {"window_days", "grace_days", "deduction_used"}


def test_percent_parsing():
    assert percent_to_bp("0") == 0
    assert percent_to_bp("100") == 10000
    assert percent_to_bp("7,5") == 750
    assert percent_to_bp(" 12.25 % ") == 1225
    with pytest.raises(ValueError, match="1e3"):
        percent_to_bp("1e3")
