"""The refund proposal (SPEC sections 3.4, 4 and 6): pure rules, no database, no Flask.

Inputs are the deadline verdict, the grade, the customer's reason, whether the unit came back
complete, and the partner's policy; the answer is an amount in minor units of the order currency
and what happens next: approve at once, ask the partner (a case), or reject.

The rules, in order:
1. Out of window (after window and grace): the partner's `out_of_window` policy decides:
   `reject` → rejected, nothing refunded; `consult` → a case; `goodwill` → treated as in time.
2. Legal guarantee reasons (defective, not as described, damaged on arrival, wrong item sent):
   the full price, whatever the grade: the goods were not as sold.
3. Right of withdrawal (change of mind, wrong size, other):
   - `new`, `opened`: the full price;
   - `used`, `light_damage`, `heavy_damage`: the partner's diminished-value deduction for the
     grade (`refund_deduction_bp[grade]`); no entry for the grade → a case at the full price;
   - `defective`: the customer may have broken it: always a case, proposing the
     `heavy_damage` deduction (full price when the policy has none).
4. Missing parts (accessories not complete): a further deduction of
   `refund_deduction_bp["missing_parts"]` (added to the grade's, capped at 100 %);
   no entry → a case.
   Under the legal guarantee the customer still owes the missing parts, so this applies there too.
5. Anything below the full price, a `consult` partner, or an out-of-window `consult` → a case;
   otherwise the full amount is approved at once.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from warehouse.deadlines import Verdict
from warehouse.grounds import say, word
from warehouse.models import (
    GUARANTEE_REASONS,
    ApprovalMode,
    Grade,
    OutOfWindowPolicy,
    Reason,
)
from warehouse.money import basis_points_of

FULL_BP = 10_000
DEDUCTING_GRADES = (Grade.USED, Grade.LIGHT_DAMAGE, Grade.HEAVY_DAMAGE)
MISSING_PARTS = "missing_parts"


class Outcome(enum.StrEnum):
    """What the refund rules decide for a unit."""

    APPROVE = "approve"  # approved at once, the partner is told to pay it out
    CASE = "case"  # the partner decides
    REJECT = "reject"  # nothing refunded


@dataclass(frozen=True)
class Policy:
    """The parts of a partner's return policy the refund rules read."""

    approval_mode: ApprovalMode = ApprovalMode.AUTO
    out_of_window: OutOfWindowPolicy = OutOfWindowPolicy.CONSULT
    refund_deduction_bp: Mapping[str, int] | None = None

    @classmethod
    def of(cls, partner) -> Policy:
        """The policy of a `Partner` row."""
        return cls(
            approval_mode=ApprovalMode(partner.approval_mode),
            out_of_window=OutOfWindowPolicy(partner.out_of_window),
            refund_deduction_bp=dict(partner.refund_deduction_bp or {}),
        )


@dataclass(frozen=True)
class Proposal:
    """What the rules propose for one unit, and why (each ground is a sentence for people)."""

    outcome: Outcome
    original_minor: int
    proposed_minor: int
    currency: str
    deduction_bp: int
    grounds: tuple[str, ...]

    @property
    def full(self) -> bool:
        """Whether the whole price is proposed."""
        return self.proposed_minor == self.original_minor

    @property
    def deducted_minor(self) -> int:
        """How much less than the price paid is proposed, minor units."""
        return self.original_minor - self.proposed_minor


def _percent(bp: int) -> str:
    return f"{bp / 100:g} %"


def propose(
    *,
    verdict: Verdict,
    grade: Grade,
    reason: Reason,
    accessories_complete: bool,
    policy: Policy,
    original_minor: int,
    currency: str,
) -> Proposal:
    """The refund proposal for one unit sold at `original_minor` (see the module's rules)."""
    if original_minor < 0:
        raise ValueError("a price cannot be negative")
    grade, reason, verdict = Grade(grade), Reason(reason), Verdict(verdict)
    table = dict(policy.refund_deduction_bp or {})
    grounds: list[str] = []
    must_consult = False

    if verdict == Verdict.OUT_OF_WINDOW:
        if policy.out_of_window == OutOfWindowPolicy.REJECT:
            return Proposal(
                Outcome.REJECT,
                original_minor,
                0,
                currency,
                FULL_BP,
                (say("late_refused"),),
            )
        if policy.out_of_window == OutOfWindowPolicy.CONSULT:
            grounds.append(say("late_consult"))
            must_consult = True
        else:
            grounds.append(say("late_goodwill"))

    deduction_bp = 0
    if reason in GUARANTEE_REASONS:
        grounds.append(say("guarantee", reason=word("reason", reason.value)))
    elif grade in (Grade.NEW, Grade.OPENED):
        grounds.append(say("full_price", grade=word("grade", grade.value)))
    elif grade in DEDUCTING_GRADES:
        if grade.value in table:
            deduction_bp = _checked_bp(table[grade.value], grade.value)
            grounds.append(
                say("diminished", grade=word("grade", grade.value), percent=_percent(deduction_bp))
            )
        else:
            grounds.append(say("no_deduction", grade=word("grade", grade.value)))
            must_consult = True
    else:  # defective after a change of mind: who broke it is for the partner to judge
        deduction_bp = _checked_bp(table.get(Grade.HEAVY_DAMAGE.value, 0), "heavy_damage")
        grounds.append(
            say("defective_mind_proposed", percent=_percent(deduction_bp))
            if deduction_bp
            else say("defective_mind")
        )
        must_consult = True

    if not accessories_complete:
        if MISSING_PARTS in table:
            missing_bp = _checked_bp(table[MISSING_PARTS], MISSING_PARTS)
            deduction_bp = min(FULL_BP, deduction_bp + missing_bp)
            grounds.append(say("accessories", percent=_percent(missing_bp)))
        else:
            grounds.append(say("accessories_consult"))
            must_consult = True

    proposed = original_minor - basis_points_of(original_minor, deduction_bp)
    if proposed < original_minor:
        must_consult = True
    if policy.approval_mode == ApprovalMode.CONSULT:
        grounds.append(say("consult_mode"))
        must_consult = True
    outcome = Outcome.CASE if must_consult else Outcome.APPROVE
    return Proposal(outcome, original_minor, proposed, currency, deduction_bp, tuple(grounds))


def _checked_bp(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= FULL_BP:
        raise ValueError(f"deduction for {key} must be 0-10000 basis points, got {value!r}")
    return value
