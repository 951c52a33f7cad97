"""Grading a unit: the record, its history, and the refund decision made in the same transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.helpers import row_counts
from tests.zbar import decode_pdf
from warehouse import events
from warehouse.checklists import checklist_for
from warehouse.db import db
from warehouse.errors import Conflict, InvalidInput, UnknownBarcode
from warehouse.grading import find_unit, grade_barcode, parse_grade_barcode, unit_card
from warehouse.models import (
    ApprovalMode,
    Case,
    CaseStatus,
    Category,
    Event,
    Grade,
    LedgerEntry,
    Outbox,
    OutOfWindowPolicy,
    Reason,
    RefundState,
    Unit,
    UnitStatus,
)


def test_auto_partner_full_refund_is_approved_at_once(app):
    unit = factories.received(commission_rate_bp=1200)
    settlement = factories.grade(unit.id, Grade.NEW, notes="seal intact")
    db.session.commit()
    unit = db.session.get(Unit, unit.id)
    assert (unit.status, unit.grade, unit.refund_state, unit.refund_minor) == (
        UnitStatus.GRADED,
        Grade.NEW,
        RefundState.APPROVED,
        4999,
    )
    assert unit.checklist == {"accessories_complete": True, "cleaned": True, "repackaged": True}
    assert unit.notes == "seal intact"
    assert unit.graded_at is not None
    assert settlement.case is None
    assert db.session.query(Case).count() == 0
    entries = {e.kind: e.amount_minor for e in db.session.query(LedgerEntry)}
    assert entries == {"refund_by_partner": -4999, "commission_credit": 600}  # 12 % of 49.99
    [partner_mail] = factories.mails("refund_approved_partner")
    assert partner_mail.payload["to"] == unit.partner.contact_email
    assert partner_mail.payload["context"]["amount_minor"] == 4999
    [customer_mail] = factories.mails("refund_outcome_customer")
    assert customer_mail.payload["to"] == unit.return_request.order.customer_email
    assert customer_mail.payload["context"]["outcome"] == "approved"
    kinds = [e.kind for e in db.session.query(Event).order_by(Event.id)]
    assert kinds == ["unit.graded", "refund.approved"]


def test_partial_refund_opens_a_case_with_signed_links(app):
    unit = factories.received()
    settlement = factories.grade(unit.id, Grade.USED)
    db.session.commit()
    case = db.session.query(Case).one()
    assert settlement.case.id == case.id
    assert (case.status, case.original_minor, case.proposed_minor, case.currency) == (
        CaseStatus.OPEN,
        4999,
        4499,
        "EUR",
    )
    assert case.grounds == ["diminished value, used: -10 %"]
    assert case.nonce
    assert len(case.nonce) == 32
    rma = unit.return_request
    assert case.refund_due_on == rma.announced_on + dt.timedelta(days=14)
    unit = db.session.get(Unit, unit.id)
    assert (unit.refund_state, unit.refund_minor) == (RefundState.OPEN, None)
    assert db.session.query(LedgerEntry).count() == 0
    [mail] = factories.mails("case_opened_partner")
    context = mail.payload["context"]
    assert set(context["link_paths"]) == {"approve", "adjust", "reject"}
    for action, path in context["link_paths"].items():
        claim = factories.LINKS.read(path.removeprefix("/case-link/"))
        assert (claim.case_id, claim.action.value, claim.nonce) == (case.id, action, case.nonce)
    assert context["checklist"]["accessories_complete"] is True
    assert factories.mails("refund_outcome_customer") == []  # the customer hears the outcome later


def test_consult_partner_gets_a_case_even_for_a_full_refund(app):
    unit = factories.received(approval_mode=ApprovalMode.CONSULT)
    factories.grade(unit.id, Grade.NEW)
    case = db.session.query(Case).one()
    assert case.proposed_minor == case.original_minor == 4999


def test_out_of_window_reject_policy_rejects_and_tells_the_customer(app):
    unit = factories.received(delivered_days_ago=60, out_of_window=OutOfWindowPolicy.REJECT)
    factories.grade(unit.id, Grade.NEW)
    assert (unit.refund_state, unit.refund_minor) == (RefundState.REJECTED, 0)
    [mail] = factories.mails("refund_outcome_customer")
    assert mail.payload["context"]["outcome"] == "rejected"
    assert "after the return window" in mail.payload["context"]["reason"]
    assert db.session.query(LedgerEntry).count() == 0


def test_regrading_an_open_case_updates_the_proposal_and_retires_old_links(app):
    unit = factories.received()
    factories.grade(unit.id, Grade.USED)
    case = db.session.query(Case).one()
    first_nonce = case.nonce
    factories.grade(unit.id, Grade.LIGHT_DAMAGE, notes="scratch found")
    db.session.commit()
    case = db.session.query(Case).one()
    assert case.proposed_minor == 3499
    assert case.nonce != first_nonce
    assert len(factories.mails("case_opened_partner")) == 2
    graded = [e for e in events.history(db.session, unit) if e.kind.startswith("unit.")]
    assert [(e.kind, e.data["grade"]) for e in graded] == [
        ("unit.graded", "used"),
        ("unit.regraded", "light_damage"),
    ]
    assert graded[1].data["previous"]["grade"] == "used"


def test_regrading_after_refurbishment_keeps_the_approved_refund(app):
    unit = factories.received()
    factories.grade(unit.id, Grade.NEW)
    unit.status = UnitStatus.RECEIVED  # routing sent it back from refurbishment
    settlement = factories.grade(unit.id, Grade.OPENED)
    assert settlement.note == "refund already decided"
    assert (unit.grade, unit.refund_state, unit.refund_minor) == (
        Grade.OPENED,
        RefundState.APPROVED,
        4999,
    )
    assert db.session.query(LedgerEntry).count() == 2


@pytest.mark.parametrize("status", [UnitStatus.ROUTED, UnitStatus.CLOSED])
def test_routed_or_closed_units_cannot_be_graded(app, status):
    unit = factories.received()
    unit.status = status
    db.session.commit()
    before = row_counts(Event, Case, Outbox, LedgerEntry)
    with pytest.raises(Conflict, match="can no longer be graded"):
        factories.grade(unit.id, Grade.NEW)
    db.session.rollback()
    assert row_counts(Event, Case, Outbox, LedgerEntry) == before
    assert db.session.get(Unit, unit.id).grade is None


def test_a_unit_not_yet_received_is_unknown_at_grading(app):
    partner = factories.partner()
    order = factories.order([(factories.product(partner), 1)])
    rma = factories.return_request(order)  # announced, nothing received yet
    with pytest.raises(UnknownBarcode, match="no unit with label"):
        find_unit(db.session, rma.rma)


def test_checklist_follows_the_category(app):
    assert checklist_for(Category.ELECTRONICS) == (
        "accessories_complete",
        "cleaned",
        "repackaged",
        "powers_on",
        "tested",
        "factory_reset",
    )
    assert checklist_for(Category.HYGIENE)[-1] == "sterilised"
    unit = factories.received(category=Category.ELECTRONICS)
    factories.grade(
        unit.id, Grade.NEW, checklist=factories.COMPLETE | {"powers_on", "factory_reset"}
    )
    assert unit.checklist["factory_reset"] is True
    assert unit.checklist["tested"] is False


def test_checklist_items_of_another_category_and_unknown_grades_are_refused(app):
    unit = factories.received(category=Category.FASHION)
    with pytest.raises(InvalidInput, match="factory_reset is not on the checklist"):
        factories.grade(unit.id, Grade.NEW, checklist={"factory_reset"})
    with pytest.raises(InvalidInput, match="is not a grade"):
        factories.grade(unit.id, "mint", checklist=set())
    assert unit.grade is None


def test_unit_card_shows_reason_verdict_and_comment(app):
    unit = factories.received(reason=Reason.DEFECTIVE)
    unit.return_line.comment = "screen flickers"
    card = unit_card(db.session, find_unit(db.session, unit.lpn.lower()))
    assert card.reason == Reason.DEFECTIVE
    assert card.assessment.verdict.value == "guarantee"
    assert card.comment == "screen flickers"
    assert card.gradable


def test_grade_barcodes_round_trip():
    for grade in Grade:
        assert parse_grade_barcode(grade_barcode(grade)) == grade
    assert parse_grade_barcode("grade-light-damage") == Grade.LIGHT_DAMAGE
    assert parse_grade_barcode("GRADE-MINT") is None
    assert parse_grade_barcode("LPN000001") is None


def test_grade_sheet_barcodes_decode_with_zbar():
    from labels.grade_sheet import grade_sheet_pdf

    [page] = decode_pdf(grade_sheet_pdf())
    assert page == [("CODE128", grade_barcode(grade)) for grade in Grade]
