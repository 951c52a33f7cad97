"""Partner cases: signed single-use links, the three decisions, reminders and escalation."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse.cases import (
    Action,
    CaseLinks,
    LinkRefused,
    cases_near_due,
    claim_case,
    decide_case,
    escalate_due_cases,
)
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.events import Actor
from warehouse.models import (
    Case,
    CaseStatus,
    Event,
    LedgerEntry,
    Outbox,
    RefundState,
    Role,
    Unit,
)

PARTNER = Actor(label="partner@example.com (email link)")
TODAY = dt.date(2026, 11, 26)
WATCHED = (Case, Event, LedgerEntry, Outbox, Unit)


def snapshot(case_id):
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    return row_counts(*WATCHED), case.status, case.nonce, case.unit.refund_state


def test_a_link_claims_its_case_and_action(app):
    case = factories.open_case()
    claim = factories.LINKS.read(factories.LINKS.token(case, Action.ADJUST))
    assert (claim.case_id, claim.action, claim.nonce) == (case.id, Action.ADJUST, case.nonce)
    assert claim_case(db.session, claim).id == case.id


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: token.replace(".", ".x", 1),
        lambda token: "not-a-token",
    ],
    ids=["signature", "payload", "garbage"],
)
def test_tampered_links_are_refused(app, tamper):
    case = factories.open_case()
    with pytest.raises(LinkRefused, match="not valid"):
        factories.LINKS.read(tamper(factories.LINKS.token(case, Action.APPROVE)))


def test_a_link_signed_with_another_key_is_refused(app):
    case = factories.open_case()
    with pytest.raises(LinkRefused, match="not valid"):
        factories.LINKS.read(
            CaseLinks("someone-elses-key", factories.LINK_DAYS * 86400).token(case, Action.APPROVE)
        )


def test_expired_links_are_refused(app):
    case = factories.open_case()
    token = factories.LINKS.token(case, Action.APPROVE)
    later = utcnow() + dt.timedelta(days=15)
    with pytest.raises(LinkRefused, match="expired"):
        factories.LINKS.read(token, now=later)
    assert factories.LINKS.read(token, now=utcnow() + dt.timedelta(days=13)).case_id == case.id


def test_approve_by_link_refunds_the_proposal_and_consumes_the_link(app):
    case = factories.open_case(commission_rate_bp=1500)
    claim = factories.LINKS.read(factories.LINKS.token(case, Action.APPROVE))
    decide_case(
        db.session,
        PARTNER,
        case.id,
        action=claim.action,
        via="link",
        nonce=claim.nonce,
        today=TODAY,
    )
    db.session.commit()
    case = db.session.get(Case, case.id)
    assert (case.status, case.approved_minor, case.nonce, case.decided_via) == (
        CaseStatus.APPROVED,
        4499,
        None,
        "link",
    )
    assert (case.unit.refund_state, case.unit.refund_minor) == (RefundState.APPROVED, 4499)
    entries = sorted((e.kind, e.amount_minor, e.booked_on) for e in db.session.query(LedgerEntry))
    assert entries == [("commission_credit", 675, TODAY), ("refund_by_partner", -4499, TODAY)]
    [mail] = factories.mails("refund_outcome_customer")
    assert mail.payload["context"]["outcome"] == "partial"
    assert mail.payload["context"]["reason"] == "diminished value, used: -10 %"
    assert (
        factories.mails("refund_approved_partner") == []
    )  # the partner decided it: no payout notice
    # Every link of the case is now used up, not just the one clicked.
    before = snapshot(case.id)
    for action in Action:
        with pytest.raises(LinkRefused, match="already used"):
            claim_case(
                db.session, factories.LINKS.read(_token_with_nonce(case, action, claim.nonce))
            )
    assert snapshot(case.id) == before


def _token_with_nonce(case, action, nonce):
    """A token as it was mailed before the case was decided."""
    saved, case.nonce = case.nonce, nonce
    try:
        return factories.LINKS.token(case, action)
    finally:
        case.nonce = saved


def test_a_reused_nonce_is_refused_by_decide_case(app):
    case = factories.open_case()
    nonce = case.nonce
    decide_case(
        db.session, PARTNER, case.id, action="approve", via="link", nonce=nonce, today=TODAY
    )
    db.session.commit()
    before = snapshot(case.id)
    with pytest.raises(LinkRefused):
        decide_case(
            db.session,
            PARTNER,
            case.id,
            action="reject",
            reason="x",
            via="link",
            nonce=nonce,
            today=TODAY,
        )
    db.session.rollback()
    assert snapshot(case.id) == before


def test_links_from_before_a_regrade_no_longer_work(app):

    case = factories.open_case()
    old = factories.LINKS.token(case, Action.APPROVE)
    factories.grade(case.unit_id, "light_damage")
    db.session.commit()
    with pytest.raises(LinkRefused, match="newer links"):
        claim_case(db.session, factories.LINKS.read(old))


def test_adjust_refunds_the_amount_with_a_reason(app):
    case = factories.open_case()
    decide_case(
        db.session,
        PARTNER,
        case.id,
        action="adjust",
        amount_minor=3000,
        reason="scratches on the lid",
        via="portal",
        today=TODAY,
    )
    assert (case.status, case.approved_minor, case.decision_reason) == (
        CaseStatus.ADJUSTED,
        3000,
        "scratches on the lid",
    )
    assert case.unit.refund_minor == 3000
    [mail] = factories.mails("refund_outcome_customer")
    assert mail.payload["context"]["amount_minor"] == 3000
    assert mail.payload["context"]["reason"] == "scratches on the lid"


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        (5000, "too much", "cannot be more than the price paid, €49.99"),
        (-1, "negative", "cannot be negative"),
        (None, "no amount", "enter the amount"),
        (1000, "   ", "say why you adjust"),
    ],
)
def test_bad_adjustments_are_refused_and_change_nothing(app, amount, reason, message):
    case = factories.open_case()
    before = snapshot(case.id)
    with pytest.raises(InvalidInput, match=message):
        decide_case(
            db.session,
            PARTNER,
            case.id,
            action="adjust",
            amount_minor=amount,
            reason=reason,
            via="portal",
            today=TODAY,
        )
    db.session.rollback()
    assert snapshot(case.id) == before


def test_adjust_to_the_full_price_is_allowed(app):
    case = factories.open_case()
    decide_case(
        db.session,
        PARTNER,
        case.id,
        action="adjust",
        amount_minor=4999,
        reason="goodwill",
        via="portal",
        today=TODAY,
    )
    assert case.unit.refund_minor == 4999
    assert factories.mails("refund_outcome_customer")[0].payload["context"]["outcome"] == "approved"


def test_reject_needs_a_reason_and_tells_the_customer(app):
    case = factories.open_case()
    with pytest.raises(InvalidInput, match="say why you reject"):
        decide_case(db.session, PARTNER, case.id, action="reject", via="portal", today=TODAY)
    decide_case(
        db.session,
        PARTNER,
        case.id,
        action="reject",
        reason="item was worn",
        via="portal",
        today=TODAY,
    )
    assert (case.status, case.approved_minor, case.unit.refund_state) == (
        CaseStatus.REJECTED,
        0,
        RefundState.REJECTED,
    )
    assert db.session.query(LedgerEntry).count() == 0
    [mail] = factories.mails("refund_outcome_customer")
    assert mail.payload["context"]["outcome"] == "rejected"
    assert mail.payload["context"]["reason"] == "item was worn"


def test_a_decided_case_cannot_be_decided_again(app):
    case = factories.open_case()
    decide_case(db.session, PARTNER, case.id, action="approve", via="portal", today=TODAY)
    with pytest.raises(Conflict, match="already decided"):
        decide_case(db.session, PARTNER, case.id, action="approve", via="portal", today=TODAY)


def test_another_partners_case_is_not_found(app):
    case = factories.open_case()
    other = factories.partner()
    with pytest.raises(NotFound):
        decide_case(
            db.session,
            PARTNER,
            case.id,
            action="approve",
            via="api",
            partner_id=other.id,
            today=TODAY,
        )


def test_unknown_action_is_refused(app):
    case = factories.open_case()
    with pytest.raises(InvalidInput, match="approve, adjust or reject"):
        decide_case(db.session, PARTNER, case.id, action="maybe", via="api", today=TODAY)


def test_reminder_then_escalation_to_the_sites_supervisors(app):
    case = factories.open_case(consult_escalate_days=3)
    supervisor = factories.user(Role.SUPERVISOR)
    factories.user(Role.OPERATOR)
    opened = local_date(case.opened_at, "Europe/Amsterdam")
    run = escalate_due_cases(db.session, opened + dt.timedelta(days=2), links=factories.LINKS)
    assert (run.reminded, run.escalated) == ([], [])
    run = escalate_due_cases(db.session, opened + dt.timedelta(days=3), links=factories.LINKS)
    assert (run.reminded, run.escalated) == ([case.id], [])
    [reminder] = factories.mails("case_reminder_partner")
    assert set(reminder.payload["context"]["link_paths"]) == {"approve", "adjust", "reject"}
    run = escalate_due_cases(db.session, opened + dt.timedelta(days=4), links=factories.LINKS)
    assert (run.reminded, run.escalated) == ([], [])  # reminded once only
    run = escalate_due_cases(db.session, opened + dt.timedelta(days=6), links=factories.LINKS)
    assert run.escalated == [case.id]
    [escalation] = factories.mails("case_escalated_supervisor")
    assert escalation.payload["to"] == supervisor.email
    assert escalation.payload["context"]["case_path"] == f"/cases/{case.id}"
    run = escalate_due_cases(db.session, opened + dt.timedelta(days=9), links=factories.LINKS)
    assert (run.reminded, run.escalated) == ([], [])
    kinds = [e.kind for e in db.session.query(Event).filter_by(subject_type="refund_case")]
    assert kinds.count("case.reminded") == 1
    assert kinds.count("case.escalated") == 1


def test_decided_cases_are_not_escalated(app):
    case = factories.open_case(consult_escalate_days=1)
    decide_case(db.session, PARTNER, case.id, action="approve", via="portal", today=TODAY)
    run = escalate_due_cases(
        db.session,
        local_date(case.opened_at, "Europe/Amsterdam") + dt.timedelta(days=10),
        links=factories.LINKS,
    )
    assert (run.reminded, run.escalated) == ([], [])


def test_cases_near_their_refund_due_date_are_flagged(app):
    soon, later = factories.open_case(), factories.open_case()
    soon.refund_due_on = TODAY + dt.timedelta(days=2)
    later.refund_due_on = TODAY + dt.timedelta(days=10)
    decided = factories.open_case()
    decided.refund_due_on = TODAY
    decide_case(db.session, PARTNER, decided.id, action="approve", via="portal", today=TODAY)
    assert [case.id for case in cases_near_due(db.session, TODAY)] == [soon.id]
    assert [case.id for case in cases_near_due(db.session, TODAY, within_days=10)] == [
        soon.id,
        later.id,
    ]
