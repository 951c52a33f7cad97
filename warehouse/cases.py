"""Refund decisions after grading (SPEC section 3.4): approve at once, open a partner case, or
reject; the partner's answer to a case (signed email link, portal or API); reminders and
escalation of unanswered cases; cases near their refund-due date.

Every decision writes, in the caller's transaction: the unit's `refund_state` / `refund_minor`,
an event, the ledger entries of an approved refund, and the emails (through the outbox).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session, joinedload

from warehouse import events, i18n, ledger, outbox, remedies, webhooks
from warehouse.db import lock_row, utcnow
from warehouse.errors import Conflict, DomainError, InvalidInput, NotFound
from warehouse.grounds import say, word
from warehouse.i18n import gettext as _
from warehouse.jobs import periodic
from warehouse.mail import queue_mail
from warehouse.models import (
    NO_REFUND_FLAGS,
    SETTLED_REFUND_STATES,
    Case,
    CaseStatus,
    Outbox,
    RefundState,
    Remedy,
    ReturnRequest,
    Role,
    Unit,
    UnitPhoto,
    User,
)
from warehouse.money import MoneyError, parse_amount
from warehouse.proposals import Outcome, Policy, Proposal, propose
from warehouse.receiving import assessment_for, reason_of, refund_due_of
from warehouse.routing import close_if_done
from warehouse.vocabulary import status_word

LINK_SALT = "returnyard.case-decision"
REASON_MAX = 1000
NEAR_DUE_DAYS = 3


class Action(enum.StrEnum):
    """A partner's answer to a case."""

    APPROVE = "approve"
    ADJUST = "adjust"
    REJECT = "reject"


class LinkRefused(DomainError):
    """A decision link that was tampered with, has expired or was already used."""

    status = 403
    code = "link_refused"


@dataclass(frozen=True)
class LinkClaim:
    """What a valid decision link says: which case, which action, which nonce."""

    case_id: int
    action: Action
    nonce: str


@dataclass(frozen=True)
class CaseLinks:
    """Signs and reads the partner's one-click decision links (itsdangerous, timed).

    A link carries the case id, the action and the case's nonce; deciding clears the nonce, so a
    link works once. Expired links are refused by their signed timestamp.
    """

    secret_key: str
    max_age_seconds: int

    @classmethod
    def from_settings(cls, settings) -> CaseLinks:
        """The signer of an app's (or a job's) settings: SECRET_KEY and CASE_LINK_MAX_AGE."""
        return cls(settings["SECRET_KEY"], int(settings["CASE_LINK_MAX_AGE"]))

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=LINK_SALT)

    def token(self, case: Case, action: Action | str) -> str:
        """A signed token for one action on an open case."""
        if not case.nonce:
            raise Conflict(_("this case is decided; it has no decision links"), field="case")
        return self._serializer().dumps({"c": case.id, "a": Action(action).value, "n": case.nonce})

    def tokens(self, case: Case) -> dict[str, str]:
        """The three tokens of a case, by action."""
        return {action.value: self.token(case, action) for action in Action}

    def read(self, token: str, *, now: dt.datetime | None = None) -> LinkClaim:
        """The claim inside a token; refuses tampered and expired ones (`LinkRefused`)."""
        serializer = self._serializer()
        try:
            if now is None:
                data = serializer.loads(token, max_age=self.max_age_seconds)
            else:  # for tests and jobs that judge a link at a given instant
                data, signed_at = serializer.loads(token, return_timestamp=True)
                if (now - signed_at).total_seconds() > self.max_age_seconds:
                    raise SignatureExpired("expired")
        except SignatureExpired:
            raise LinkRefused(
                _("This decision link has expired. Open the case in the partner portal instead.")
            ) from None
        except BadSignature:
            raise LinkRefused(
                _("This decision link is not valid (it was changed or cut).")
            ) from None
        try:
            return LinkClaim(int(data["c"]), Action(data["a"]), str(data["n"]))
        except (KeyError, TypeError, ValueError):
            raise LinkRefused(_("This decision link is not valid.")) from None


def claim_case(session: Session, claim: LinkClaim) -> Case:
    """The open case a valid link points at; a used link (consumed nonce) is refused."""
    case = session.get(Case, claim.case_id)
    if case is None:
        raise LinkRefused(_("This decision link is not valid."))
    if case.status != CaseStatus.OPEN or not case.nonce or case.nonce != claim.nonce:
        raise LinkRefused(
            _(
                "This decision link was already used: the case is %(status)s.",
                status=status_word(case.status),
            )
            if case.status != CaseStatus.OPEN
            else _("This decision link was already used: the case has newer links.")
        )
    return case


# --- after grading --------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """What grading decided about the refund."""

    proposal: Proposal | None
    refund_state: RefundState | None
    case: Case | None
    note: str


def proposal_for(unit: Unit) -> Proposal:
    """The refund proposal for a graded unit from its return, grade, checklist and policy."""
    line = unit.return_line.order_line
    return propose(
        verdict=assessment_for(unit).verdict,
        grade=unit.grade,
        reason=reason_of(unit),
        accessories_complete=bool(unit.checklist.get("accessories_complete")),
        policy=Policy.of(unit.partner),
        original_minor=line.unit_price_minor,
        currency=unit.return_request.order.currency,
    )


def settle_after_grading(
    session: Session,
    actor: events.Actor,
    unit: Unit,
    *,
    links: CaseLinks,
    today: dt.date,
    hold_until: dt.datetime | None = None,
) -> Settlement:
    """Decide the refund of a just-graded unit, or update the proposal of its open case.

    A refund already approved or rejected stands when a unit is re-graded (e.g. after
    refurbishment): the customer's refund does not depend on our repair work. With
    `hold_until`, the partner's case mail waits in the outbox until then, so the station can
    still take the grade back (`warehouse.grading.undo_grade`) before the partner hears of it.
    """
    if unit.refund_state in SETTLED_REFUND_STATES:
        return Settlement(None, unit.refund_state, None, say("decided_already"))
    if unit.return_line is None or unit.exception in NO_REFUND_FLAGS:
        # An extra, wrong or foreign unit: it was not sold in this order, nothing to refund
        # (an extra unit keeps its line only to say which product it is).
        _record_rejection(session, actor, unit, "not part of the returned order lines")
        return Settlement(None, unit.refund_state, None, say("not_in_order"))

    proposal = proposal_for(unit)
    case = session.query(Case).filter_by(unit_id=unit.id).one_or_none()
    if case is not None and case.status == CaseStatus.OPEN:
        _repropose(session, actor, case, unit, proposal, links, hold_until)
        return Settlement(proposal, RefundState.OPEN, case, say("case_updated"))
    remedy = unit.return_line.remedy
    if remedy != Remedy.REFUND and proposal.outcome == Outcome.CASE:
        # The partner decides: approving the case grants the remedy instead of the money.
        asks = say("asks_remedy", remedy=word("remedy", remedy.value))
        proposal = dataclasses.replace(proposal, grounds=(asks, *proposal.grounds))
    elif remedy != Remedy.REFUND:
        granted = remedies.grant(
            session,
            actor,
            unit,
            verdict=assessment_for(unit).verdict,
            full_refund=proposal.outcome == Outcome.APPROVE and proposal.full,
        )
        if granted.granted:
            return Settlement(proposal, RefundState.REMEDY, None, granted.note)
        # The customer hears why not with the refund decision.
        proposal = dataclasses.replace(proposal, grounds=(granted.note, *proposal.grounds))
    if proposal.outcome == Outcome.APPROVE:
        _approve(
            session,
            actor,
            unit,
            proposal.proposed_minor,
            proposal.currency,
            today,
            reason="; ".join(proposal.grounds),
            notify_partner=True,
        )
        return Settlement(proposal, RefundState.APPROVED, None, say("approved"))
    if proposal.outcome == Outcome.REJECT:
        _reject(
            session, actor, unit, reason="; ".join(proposal.grounds), currency=proposal.currency
        )
        return Settlement(proposal, RefundState.REJECTED, None, say("rejected"))
    case = _open_case(session, actor, unit, proposal, links, hold_until)
    return Settlement(proposal, RefundState.OPEN, case, say("case_opened"))


def _approve(
    session: Session,
    actor: events.Actor,
    unit: Unit,
    amount_minor: int,
    currency: str,
    today: dt.date,
    *,
    reason: str,
    notify_partner: bool,
    full_minor: int | None = None,
) -> None:
    before = unit.refund_state
    unit.refund_state, unit.refund_minor = RefundState.APPROVED, amount_minor
    unit.refund_decided_at = utcnow()
    ledger.book_refund(
        session, unit, unit.partner, amount_minor=amount_minor, currency=currency, booked_on=today
    )
    events.record(
        session,
        actor,
        "refund.approved",
        unit,
        before=before,
        after=unit.refund_state,
        amount_minor=amount_minor,
        currency=currency,
        reason=reason,
    )
    rma = unit.return_request
    full = unit.return_line.order_line.unit_price_minor if full_minor is None else full_minor
    if notify_partner:
        queue_mail(
            session,
            template="refund_approved_partner",
            to=unit.partner.contact_email,
            language=unit.partner.language,
            context={
                "rma": rma.rma,
                "order_number": rma.order.number,
                "lpn": unit.lpn,
                "product": unit.product.title if unit.product else "",
                "grade": unit.grade.value if unit.grade else "",
                "amount_minor": amount_minor,
                "currency": currency,
                "paid_by": unit.partner.refund_paid_by,
                "refund_due_on": (rma.refund_due_on or today).isoformat(),
            },
            key=f"refund-approved-partner:{unit.id}",
        )
    _mail_customer(
        session,
        unit,
        "approved" if amount_minor == full else "partial",
        amount_minor,
        currency,
        reason,
    )
    webhooks.emit(
        session,
        "refund.approved",
        channel=rma.order.channel,
        key=unit.lpn,
        data=lambda: webhooks.about(
            rma,
            unit,
            amount_minor=amount_minor,
            currency=currency,
            paid_by=unit.partner.refund_paid_by,
            refund_due_on=(rma.refund_due_on or today).isoformat(),
        ),
    )
    # Routing never waits for the refund: a unit already put away closes now.
    close_if_done(session, unit, actor)


def _reject(session: Session, actor: events.Actor, unit: Unit, *, reason: str, currency: str):
    _record_rejection(session, actor, unit, reason)
    _mail_customer(session, unit, "rejected", 0, currency, reason)


def _record_rejection(session: Session, actor: events.Actor, unit: Unit, reason: str) -> None:
    """No refund for `unit`: its state, the event, and closing it if it is already put away."""
    before = unit.refund_state
    unit.refund_state, unit.refund_minor = RefundState.REJECTED, 0
    unit.refund_decided_at = utcnow()
    events.record(
        session,
        actor,
        "refund.rejected",
        unit,
        before=before,
        after=unit.refund_state,
        reason=reason,
    )
    close_if_done(session, unit, actor)


def _mail_customer(
    session: Session, unit: Unit, outcome: str, amount_minor: int, currency: str, reason: str
) -> None:
    order = unit.return_request.order
    queue_mail(
        session,
        template="refund_outcome_customer",
        to=order.customer_email,
        language=order.language,
        context={
            "outcome": outcome,
            "rma": unit.return_request.rma,
            "order_number": order.number,
            "customer_name": order.customer_name,
            "product": unit.product.title if unit.product else "",
            "amount_minor": amount_minor,
            "original_minor": unit.return_line.order_line.unit_price_minor,
            "currency": currency,
            "reason": reason,
        },
        key=f"refund-outcome:{unit.id}",
    )


def _case_mail_context(session: Session, case: Case, links: CaseLinks) -> dict:
    unit = case.unit
    photos = session.query(UnitPhoto.id).filter_by(unit_id=unit.id).order_by(UnitPhoto.id).all()
    return {
        "case_id": case.id,
        "rma": case.return_request.rma,
        "order_number": case.return_request.order.number,
        "lpn": unit.lpn,
        "product": unit.product.title if unit.product else "",
        "grade": unit.grade.value if unit.grade else "",
        "checklist": dict(unit.checklist or {}),
        "notes": unit.notes,
        "grounds": list(case.grounds),
        "original_minor": case.original_minor,
        "proposed_minor": case.proposed_minor,
        "currency": case.currency,
        "refund_due_on": case.refund_due_on.isoformat(),
        "photo_paths": [f"/photos/{photo_id}" for (photo_id,) in photos],
        "case_path": f"/portal/cases/{case.id}",
        "link_paths": {
            action: f"/case-link/{token}" for action, token in links.tokens(case).items()
        },
        "link_days": links.max_age_seconds // 86400,
    }


def partner_was_mailed(session: Session, case: Case) -> bool:
    """Whether any mail of the case (an earlier proposal's included) has left for the partner."""
    prefix = f"mail:case-opened:{case.id}:"
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Outbox)
            .where(Outbox.idempotency_key.startswith(prefix), Outbox.dispatched_at.is_not(None))
        )
        > 0
    )


def case_mail_key(case: Case) -> str:
    """The outbox key of the partner's mail for the case's current proposal (and links)."""
    return f"mail:case-opened:{case.id}:{case.nonce}"


def _open_case(
    session: Session,
    actor: events.Actor,
    unit: Unit,
    proposal: Proposal,
    links: CaseLinks,
    hold_until: dt.datetime | None,
) -> Case:
    rma = unit.return_request
    case = Case(
        unit=unit,
        partner_id=unit.partner_id,
        return_id=rma.id,
        status=CaseStatus.OPEN,
        grounds=list(proposal.grounds),
        currency=proposal.currency,
        original_minor=proposal.original_minor,
        proposed_minor=proposal.proposed_minor,
        refund_due_on=rma.refund_due_on or refund_due_of(rma),
        nonce=secrets.token_hex(16),
    )
    session.add(case)
    session.flush()
    before = unit.refund_state
    unit.refund_state, unit.refund_minor = RefundState.OPEN, None
    events.record(
        session,
        actor,
        "case.opened",
        case,
        before=None,
        after=CaseStatus.OPEN.value,
        unit_id=unit.id,
        proposed_minor=proposal.proposed_minor,
        currency=proposal.currency,
        grounds=list(proposal.grounds),
    )
    events.record(
        session,
        actor,
        "refund.proposed",
        unit,
        before=before,
        after=unit.refund_state,
        case_id=case.id,
        proposed_minor=proposal.proposed_minor,
    )
    _mail_case(
        session,
        case,
        links,
        "case_opened_partner",
        case_mail_key(case).removeprefix("mail:"),
        available_at=hold_until,
    )
    return case


def _repropose(
    session: Session,
    actor: events.Actor,
    case: Case,
    unit: Unit,
    proposal: Proposal,
    links: CaseLinks,
    hold_until: dt.datetime | None,
) -> None:
    before = case.proposed_minor
    # A mail of the earlier proposal still held back in the outbox (graded at a station a moment
    # ago) is withdrawn: the partner hears of the new one only.
    withdrawn = outbox.cancel(session, case_mail_key(case), held_only=True)
    case.grounds = list(proposal.grounds)
    case.proposed_minor = proposal.proposed_minor
    case.original_minor = proposal.original_minor
    # The links in the earlier email proposed another amount: they stop working.
    case.nonce = secrets.token_hex(16)
    events.record(
        session,
        actor,
        "case.reproposed",
        case,
        before=str(before),
        after=str(proposal.proposed_minor),
        grounds=list(proposal.grounds),
        unit_id=unit.id,
        earlier_mail_withdrawn=withdrawn,
    )
    _mail_case(
        session,
        case,
        links,
        "case_opened_partner",
        case_mail_key(case).removeprefix("mail:"),
        available_at=hold_until,
    )


def _mail_case(
    session: Session,
    case: Case,
    links: CaseLinks,
    template: str,
    key: str,
    *,
    available_at: dt.datetime | None = None,
) -> None:
    partner = case.unit.partner
    queue_mail(
        session,
        template=template,
        to=partner.contact_email,
        language=partner.language,
        context=_case_mail_context(session, case, links),
        key=key,
        available_at=available_at,
    )


# --- the partner's decision -----------------------------------------------------------------


def get_case(session: Session, case_id: int, *, partner_id: int | None = None) -> Case:
    """A case by id; another partner's case is not found."""
    case = (
        session.query(Case)
        .options(joinedload(Case.unit).joinedload(Unit.product), joinedload(Case.partner))
        .filter(Case.id == case_id)
        .one_or_none()
    )
    if case is None or (partner_id is not None and case.partner_id != partner_id):
        raise NotFound(_("no such case"), field="case")
    return case


def parse_decision_amount(text: str | int | None, currency: str) -> int:
    """An adjusted amount typed by a person ('12.50') or sent as minor units (1250)."""
    if text is None or (isinstance(text, str) and not text.strip()):
        raise InvalidInput(_("enter the amount to refund"), field="amount")
    if isinstance(text, bool):
        raise InvalidInput(_("the amount must be a number"), field="amount")
    if isinstance(text, int):
        return text
    try:
        return parse_amount(text, currency)
    except MoneyError as error:
        raise InvalidInput(
            _("the amount is not valid: %(error)s", error=error), field="amount"
        ) from None


def decide_case(
    session: Session,
    actor: events.Actor,
    case_id: int,
    *,
    action: Action | str,
    amount_minor: int | None = None,
    reason: str = "",
    via: str,
    partner_id: int | None = None,
    nonce: str | None = None,
    today: dt.date,
) -> Case:
    """Approve, adjust or reject an open case; refuses wrong amounts and missing reasons.

    `partner_id` limits the look-up to one partner (portal, API); `nonce` is the one a signed
    link carried: it must still be the case's, then it is consumed.
    """
    try:
        action = Action(action)
    except ValueError:
        raise InvalidInput(
            _("the decision must be approve, adjust or reject"), field="action"
        ) from None
    lock_row(session, Case, case_id)  # two clicks of one link at once: the second waits here
    case = get_case(session, case_id, partner_id=partner_id)
    session.refresh(case)
    if nonce is not None and (case.nonce != nonce or case.status != CaseStatus.OPEN):
        raise LinkRefused(_("This decision link was already used."))
    if case.status != CaseStatus.OPEN:
        raise Conflict(
            _(
                "this case was already decided (%(status)s by %(decided_by)s)",
                status=status_word(case.status),
                decided_by=case.decided_by,
            ),
            field="case",
        )
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            _("the reason is limited to %(most)s characters", most=REASON_MAX),
            field="reason",
        )
    if action == Action.APPROVE:
        amount = case.proposed_minor
    elif action == Action.ADJUST:
        if amount_minor is None:
            raise InvalidInput(_("enter the amount to refund"), field="amount")
        if amount_minor < 0:
            raise InvalidInput(_("the amount cannot be negative"), field="amount")
        if amount_minor > case.original_minor:
            raise InvalidInput(
                _(
                    "the amount cannot be more than the price paid, %(price)s",
                    price=i18n.money(case.original_minor, case.currency),
                ),
                field="amount",
            )
        if not reason:
            raise InvalidInput(
                _("say why you adjust the amount; the customer reads it"), field="reason"
            )
        amount = amount_minor
    else:
        if not reason:
            raise InvalidInput(
                _("say why you reject the refund; the customer reads it"), field="reason"
            )
        amount = 0

    case.status = {
        Action.APPROVE: CaseStatus.APPROVED,
        Action.ADJUST: CaseStatus.ADJUSTED,
        Action.REJECT: CaseStatus.REJECTED,
    }[action]
    case.approved_minor = amount
    case.decision_reason = reason
    case.decided_at = utcnow()
    case.decided_by = actor.label[:120]
    case.decided_by_id = actor.user_id
    case.decided_via = via
    case.nonce = None  # every link of this case is now used up
    events.record(
        session,
        actor,
        "case.decided",
        case,
        before=CaseStatus.OPEN.value,
        after=case.status.value,
        amount_minor=amount,
        currency=case.currency,
        reason=reason,
        via=via,
    )
    unit = case.unit
    customer_reason = reason or "; ".join(case.grounds)
    if action == Action.APPROVE and unit.return_line.remedy != Remedy.REFUND:
        granted = remedies.grant(
            session, actor, unit, verdict=assessment_for(unit).verdict, full_refund=True
        )
        if granted.granted:
            case.approved_minor = 0
            session.flush()
            return case
        customer_reason = f"{granted.note}; {customer_reason}"
    if action == Action.REJECT:
        _reject(session, actor, unit, reason=customer_reason, currency=case.currency)
    else:
        _approve(
            session,
            actor,
            unit,
            amount,
            case.currency,
            today,
            reason=customer_reason,
            notify_partner=False,
            full_minor=case.original_minor,
        )
    session.flush()
    return case


def escalate_case(session: Session, actor: events.Actor, case_id: int, *, reason: str) -> Case:
    """A supervisor escalates an open case to the marketplace's admins (by mail), saying why;
    the case stays open for the partner (or for the supervisor to decide on its behalf)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("say why you escalate the case"), field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(
            _("the reason is limited to %(most)s characters", most=REASON_MAX),
            field="reason",
        )
    lock_row(session, Case, case_id)
    case = get_case(session, case_id)
    session.refresh(case)
    if case.status != CaseStatus.OPEN:
        raise Conflict(
            _("case #%(id)s is %(status)s already", id=case.id, status=status_word(case.status)),
            field="case",
        )
    first = case.escalated_at is None
    case.escalated_at = case.escalated_at or utcnow()
    admins = session.query(User).filter(User.role == Role.ADMIN, User.active.is_(True)).all()
    events.record(
        session,
        actor,
        "case.escalated",
        case,
        reason=reason,
        by_supervisor=True,
        again=not first,
        admins=[user.email for user in admins],
    )
    for user in admins:
        _mail_escalation(
            session,
            case,
            user,
            days_open=(utcnow() - case.opened_at).days,
            case_path=f"/lookup?q={case.unit.lpn}",
            key=f"case-escalated-by-supervisor:{case.id}:{user.id}:{utcnow().isoformat()}",
        )
    session.flush()
    return case


def _mail_escalation(
    session: Session, case: Case, user: User, *, days_open: int, case_path: str, key: str
) -> None:
    """Tell a supervisor or admin of an escalated case, with the page to open it on."""
    queue_mail(
        session,
        template="case_escalated_supervisor",
        to=user.email,
        language=user.language,
        context={
            "case_id": case.id,
            "partner": case.partner.name,
            "rma": case.return_request.rma,
            "lpn": case.unit.lpn,
            "days_open": days_open,
            "proposed_minor": case.proposed_minor,
            "currency": case.currency,
            "refund_due_on": case.refund_due_on.isoformat(),
            "case_path": case_path,
        },
        key=key,
    )


# --- reminders, escalation, refund-due risk -------------------------------------------------


@dataclass(frozen=True)
class EscalationRun:
    """The cases one escalation run reminded and escalated."""

    reminded: list[int]
    escalated: list[int]


def escalate_due_cases(
    session: Session,
    today: dt.date | None = None,
    *,
    links: CaseLinks,
    now: dt.datetime | None = None,
) -> EscalationRun:
    """Remind partners of cases open `consult_escalate_days` days, and escalate those open twice
    as long to the supervisors of the unit's site. Each case is reminded and escalated once.

    Days count by calendar date: `today`, or else `now` in the time zone of each unit's site.
    """
    from warehouse.deadlines import local_date

    now = now or utcnow()
    reminded, escalated = [], []
    open_cases = (
        session.query(Case)
        .options(joinedload(Case.partner), joinedload(Case.unit))
        .filter(Case.status == CaseStatus.OPEN)
        .order_by(Case.id)
        .all()
    )
    for case in open_cases:
        timezone = case.unit.site.timezone
        day = today or local_date(now, timezone)
        days_open = (day - local_date(case.opened_at, timezone)).days
        after = max(1, case.partner.consult_escalate_days)
        if case.reminded_at is None and days_open >= after:
            case.reminded_at = now
            events.record(session, events.SYSTEM, "case.reminded", case, days_open=days_open)
            _mail_case(session, case, links, "case_reminder_partner", f"case-reminder:{case.id}")
            reminded.append(case.id)
        if case.escalated_at is None and days_open >= 2 * after:
            case.escalated_at = now
            supervisors = (
                session.query(User)
                .filter(
                    User.role == Role.SUPERVISOR,
                    User.active.is_(True),
                    User.site_id == case.unit.site_id,
                )
                .order_by(User.id)
                .all()
            ) or session.query(User).filter(User.role == Role.ADMIN, User.active.is_(True)).all()
            events.record(
                session,
                events.SYSTEM,
                "case.escalated",
                case,
                days_open=days_open,
                supervisors=[user.email for user in supervisors],
            )
            for user in supervisors:
                _mail_escalation(
                    session,
                    case,
                    user,
                    days_open=days_open,
                    case_path=f"/cases/{case.id}",
                    key=f"case-escalated:{case.id}:{user.id}",
                )
            escalated.append(case.id)
    session.flush()
    return EscalationRun(reminded, escalated)


def open_cases(
    session: Session,
    *,
    partner_id: int | None = None,
    site_id: int | None = None,
    due_by: dt.date | None = None,
) -> list[Case]:
    """Open cases, soonest refund-due first; `due_by` keeps those due on or before a day."""
    query = (
        session.query(Case)
        .options(
            joinedload(Case.unit).joinedload(Unit.product),
            joinedload(Case.partner),
            joinedload(Case.return_request),
        )
        .filter(Case.status == CaseStatus.OPEN)
        .order_by(Case.refund_due_on, Case.id)
    )
    if partner_id is not None:
        query = query.filter(Case.partner_id == partner_id)
    if site_id is not None:
        query = query.join(Case.unit).filter(Unit.site_id == site_id)
    if due_by is not None:
        query = query.filter(Case.refund_due_on <= due_by)
    return list(query)


def cases_near_due(
    session: Session,
    today: dt.date,
    *,
    within_days: int = NEAR_DUE_DAYS,
    site_id: int | None = None,
) -> list[Case]:
    """Open cases whose refund is due within `within_days` (or overdue): the risk list."""
    return open_cases(session, site_id=site_id, due_by=today + dt.timedelta(days=within_days))


def is_near_due(case: Case, today: dt.date, within_days: int = NEAR_DUE_DAYS) -> bool:
    """True when an open case's refund is due within `within_days` or overdue."""
    return case.status == CaseStatus.OPEN and case.refund_due_on <= today + dt.timedelta(
        days=within_days
    )


@dataclass(frozen=True)
class RefundSummary:
    """Where one unit's refund stands, for screens and the API."""

    state: RefundState | None
    amount_minor: int | None
    currency: str
    case: Case | None


def refund_summary(session: Session, rma: ReturnRequest) -> dict[int, RefundSummary]:
    """The refund decision of each unit of a return, by unit id (one query for the cases)."""
    currency = rma.order.currency
    found = {case.unit_id: case for case in session.query(Case).filter_by(return_id=rma.id)}
    return {
        unit.id: RefundSummary(unit.refund_state, unit.refund_minor, currency, found.get(unit.id))
        for unit in rma.units
    }


# --- the scheduled job ----------------------------------------------------------------------

ESCALATION_EVERY = dt.timedelta(hours=1)


@periodic("escalate_consult_cases", every=ESCALATION_EVERY)
def escalate_consult_cases(job, payload: dict) -> str:
    """Hourly: remind and escalate unanswered refund cases; each case once per step."""
    links = CaseLinks.from_settings(job.settings)
    run = escalate_due_cases(job.session, links=links, now=job.now)
    return f"reminded {len(run.reminded)}, escalated {len(run.escalated)}"
