"""The refund proposal rules, one table row per policy or legal rule (SPEC sections 3.4, 4, 6)."""

from __future__ import annotations

import pytest

from warehouse.deadlines import Verdict
from warehouse.models import ApprovalMode, Grade, OutOfWindowPolicy, Reason
from warehouse.proposals import Outcome, Policy, propose

TABLE = {"used": 1000, "light_damage": 3000, "heavy_damage": 5000, "missing_parts": 1500}
AUTO = Policy(ApprovalMode.AUTO, OutOfWindowPolicy.CONSULT, TABLE)
CONSULT = Policy(ApprovalMode.CONSULT, OutOfWindowPolicy.CONSULT, TABLE)
LATE_REJECT = Policy(ApprovalMode.AUTO, OutOfWindowPolicy.REJECT, TABLE)
LATE_GOODWILL = Policy(ApprovalMode.AUTO, OutOfWindowPolicy.GOODWILL, TABLE)
NO_TABLE = Policy(ApprovalMode.AUTO, OutOfWindowPolicy.CONSULT, {})

IN, GRACE, LATE, GUAR = Verdict.IN_TIME, Verdict.GRACE, Verdict.OUT_OF_WINDOW, Verdict.GUARANTEE
MIND, DEFECT, NAD = Reason.CHANGED_MIND, Reason.DEFECTIVE, Reason.NOT_AS_DESCRIBED

# verdict, grade, reason, complete, policy, price → outcome, proposed amount
CASES = [
    # withdrawal, in time: new / opened full, auto-approved
    ("new in time", IN, Grade.NEW, MIND, True, AUTO, 4999, Outcome.APPROVE, 4999),
    (
        "opened in time",
        IN,
        Grade.OPENED,
        Reason.WRONG_SIZE,
        True,
        AUTO,
        4999,
        Outcome.APPROVE,
        4999,
    ),
    ("grace counts as eligible", GRACE, Grade.NEW, MIND, True, AUTO, 4999, Outcome.APPROVE, 4999),
    # diminished value per grade (rounded half away from zero): a partial refund is a case
    ("used -10 %", IN, Grade.USED, MIND, True, AUTO, 4999, Outcome.CASE, 4499),
    ("light damage -30 %", IN, Grade.LIGHT_DAMAGE, MIND, True, AUTO, 4999, Outcome.CASE, 3499),
    (
        "heavy damage -50 % rounds",
        IN,
        Grade.HEAVY_DAMAGE,
        MIND,
        True,
        AUTO,
        4999,
        Outcome.CASE,
        2499,
    ),
    ("half cent rounds away from zero", IN, Grade.USED, MIND, True, AUTO, 5, Outcome.CASE, 4),
    (
        "no deduction set: partner decides",
        IN,
        Grade.USED,
        MIND,
        True,
        NO_TABLE,
        4999,
        Outcome.CASE,
        4999,
    ),
    (
        "zero deduction is a full refund",
        IN,
        Grade.USED,
        MIND,
        True,
        Policy(ApprovalMode.AUTO, OutOfWindowPolicy.CONSULT, {"used": 0}),
        4999,
        Outcome.APPROVE,
        4999,
    ),
    # defective after change of mind: always the partner's call
    (
        "defective after change of mind",
        IN,
        Grade.DEFECTIVE,
        MIND,
        True,
        AUTO,
        10000,
        Outcome.CASE,
        5000,
    ),
    (
        "defective, no heavy-damage rate",
        IN,
        Grade.DEFECTIVE,
        MIND,
        True,
        NO_TABLE,
        10000,
        Outcome.CASE,
        10000,
    ),
    # legal guarantee: full price whatever the grade, auto-approved
    (
        "guarantee defective",
        GUAR,
        Grade.DEFECTIVE,
        DEFECT,
        True,
        AUTO,
        12900,
        Outcome.APPROVE,
        12900,
    ),
    (
        "guarantee heavy damage",
        GUAR,
        Grade.HEAVY_DAMAGE,
        Reason.DAMAGED_ON_ARRIVAL,
        True,
        AUTO,
        12900,
        Outcome.APPROVE,
        12900,
    ),
    ("guarantee used", GUAR, Grade.USED, NAD, True, AUTO, 12900, Outcome.APPROVE, 12900),
    (
        "guarantee wrong item",
        GUAR,
        Grade.NEW,
        Reason.WRONG_ITEM_SENT,
        True,
        AUTO,
        100,
        Outcome.APPROVE,
        100,
    ),
    # missing parts: extra deduction, added to the grade's
    ("new but incomplete", IN, Grade.NEW, MIND, False, AUTO, 10000, Outcome.CASE, 8500),
    ("used and incomplete", IN, Grade.USED, MIND, False, AUTO, 10000, Outcome.CASE, 7500),
    (
        "guarantee but incomplete",
        GUAR,
        Grade.DEFECTIVE,
        DEFECT,
        False,
        AUTO,
        10000,
        Outcome.CASE,
        8500,
    ),
    (
        "incomplete, no rate: partner decides",
        IN,
        Grade.NEW,
        MIND,
        False,
        NO_TABLE,
        10000,
        Outcome.CASE,
        10000,
    ),
    (
        "deductions cap at 100 %",
        IN,
        Grade.HEAVY_DAMAGE,
        MIND,
        False,
        Policy(
            ApprovalMode.AUTO,
            OutOfWindowPolicy.CONSULT,
            {"heavy_damage": 8000, "missing_parts": 5000},
        ),
        10000,
        Outcome.CASE,
        0,
    ),
    # consult partners decide everything
    ("consult partner, full refund", IN, Grade.NEW, MIND, True, CONSULT, 4999, Outcome.CASE, 4999),
    (
        "consult partner, guarantee",
        GUAR,
        Grade.DEFECTIVE,
        DEFECT,
        True,
        CONSULT,
        4999,
        Outcome.CASE,
        4999,
    ),
    # out of window: policy decides
    ("late, policy reject", LATE, Grade.NEW, MIND, True, LATE_REJECT, 4999, Outcome.REJECT, 0),
    ("late, policy consult", LATE, Grade.NEW, MIND, True, AUTO, 4999, Outcome.CASE, 4999),
    (
        "late, goodwill full",
        LATE,
        Grade.NEW,
        MIND,
        True,
        LATE_GOODWILL,
        4999,
        Outcome.APPROVE,
        4999,
    ),
    (
        "late, goodwill partial",
        LATE,
        Grade.USED,
        MIND,
        True,
        LATE_GOODWILL,
        4999,
        Outcome.CASE,
        4499,
    ),
    (
        "late goodwill, consult partner",
        LATE,
        Grade.NEW,
        MIND,
        True,
        Policy(ApprovalMode.CONSULT, OutOfWindowPolicy.GOODWILL, TABLE),
        4999,
        Outcome.CASE,
        4999,
    ),
    ("free item", IN, Grade.USED, MIND, True, AUTO, 0, Outcome.APPROVE, 0),
]


@pytest.mark.parametrize(
    ("verdict", "grade", "reason", "complete", "policy", "price", "outcome", "amount"),
    [pytest.param(*row[1:], id=row[0]) for row in CASES],
)
def test_refund_proposal(verdict, grade, reason, complete, policy, price, outcome, amount):
    proposal = propose(
        verdict=verdict,
        grade=grade,
        reason=reason,
        accessories_complete=complete,
        policy=policy,
        original_minor=price,
        currency="EUR",
    )
    assert (proposal.outcome, proposal.proposed_minor) == (outcome, amount)
    assert proposal.original_minor == price
    assert 0 <= proposal.proposed_minor <= price
    assert proposal.grounds, "every proposal says why"


def test_grounds_name_the_deduction():
    proposal = propose(
        verdict=IN,
        grade=Grade.LIGHT_DAMAGE,
        reason=MIND,
        accessories_complete=False,
        policy=AUTO,
        original_minor=10000,
        currency="SEK",
    )
    assert proposal.grounds == (
        "diminished value, light damage: -30 %",
        "accessories incomplete: -15 %",
    )
    assert proposal.deduction_bp == 4500
    assert proposal.deducted_minor == 4500
    assert proposal.currency == "SEK"


def test_rejection_says_why():
    proposal = propose(
        verdict=LATE,
        grade=Grade.NEW,
        reason=MIND,
        accessories_complete=True,
        policy=LATE_REJECT,
        original_minor=100,
        currency="EUR",
    )
    assert "after the return window" in proposal.grounds[0]


@pytest.mark.parametrize("bad", [-1, 10001, 12.5, True, "10"])
def test_a_broken_deduction_table_is_refused(bad):
    with pytest.raises(ValueError, match="basis points"):
        propose(
            verdict=IN,
            grade=Grade.USED,
            reason=MIND,
            accessories_complete=True,
            policy=Policy(refund_deduction_bp={"used": bad}),
            original_minor=100,
            currency="EUR",
        )


def test_a_negative_price_is_refused():
    with pytest.raises(ValueError, match="negative"):
        propose(
            verdict=IN,
            grade=Grade.NEW,
            reason=MIND,
            accessories_complete=True,
            policy=AUTO,
            original_minor=-1,
            currency="EUR",
        )
