"""Partners and their return policies (a partner token reads its own only)."""

from __future__ import annotations

from typing import Any, Literal

from flask import current_app
from pydantic import BaseModel, Field
from sqlalchemy import select

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from warehouse import accounts, partners
from warehouse.db import db
from warehouse.errors import NotFound
from warehouse.models import (
    ApprovalMode,
    DefectiveHandling,
    Destination,
    OutOfWindowPolicy,
    Partner,
    RejectedReturns,
    Role,
)
from warehouse.money import Currency
from warehouse.partners import PartnerFields, get_partner
from warehouse.reference import Language
from warehouse.validation import Email, Input, OptionalText


class PolicyOut(BaseModel):
    """A partner's return policy (SPEC 2 and 4)."""

    window_days: int = Field(description="Right of withdrawal, days from delivery (≥ 14)")
    grace_days: int
    approval_mode: ApprovalMode
    destination: Destination
    defective_handling: DefectiveHandling
    out_of_window: OutOfWindowPolicy
    rejected_returns: RejectedReturns = Field(
        description="The goods of a refused return: send_back to the customer, or keep"
    )
    consult_escalate_days: int
    refund_deduction_bp: dict[str, int] = Field(
        description="Diminished-value deduction per grade (and missing_parts), basis points"
    )
    resale_discount_bp: dict[str, int] = Field(description="Resale discount per grade, bp")


class PartnerOut(BaseModel):
    """A partner selling through the marketplace."""

    code: str
    name: str
    contact_email: str
    language: Language
    commission_rate_bp: int = Field(description="Basis points of sold revenue (1000 = 10 %)")
    currencies: list[Currency]
    address: str | None = Field(description="Its own return address (destination partner)")
    refund_paid_by: str
    active: bool
    policy: PolicyOut

    @classmethod
    def of(cls, partner: Partner) -> PartnerOut:
        """The API's view of a partner and its policy."""
        return cls(
            code=partner.code,
            name=partner.name,
            contact_email=partner.contact_email,
            language=partner.language,
            commission_rate_bp=partner.commission_rate_bp,
            currencies=list(partner.currencies or []),
            address=partner.address or None,
            refund_paid_by=partner.refund_paid_by,
            active=partner.active,
            policy=PolicyOut(
                window_days=partner.window_days,
                grace_days=partner.grace_days,
                approval_mode=partner.approval_mode,
                destination=partner.destination,
                defective_handling=partner.defective_handling,
                out_of_window=partner.out_of_window,
                rejected_returns=partner.rejected_returns,
                consult_escalate_days=partner.consult_escalate_days,
                refund_deduction_bp=dict(partner.refund_deduction_bp),
                resale_discount_bp=dict(partner.resale_discount_bp),
            ),
        )


class PartnerList(BaseModel):
    """The partners the caller may see."""

    partners: list[PartnerOut]


@bp.get("/partners")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Partners and their return policies (a partner token: its own only)",
    operation_id="listPartners",
    answers={200: Answer("The partners", PartnerList)},
    errors=(401, 403),
)
def list_partners():
    """All partners, or a partner token's own."""
    query = select(Partner).order_by(Partner.code)
    partner_id = partner_scope()
    if partner_id is not None:
        query = query.where(Partner.id == partner_id)
    partners = [PartnerOut.of(p) for p in db.session.scalars(query)]
    return answer(PartnerList(partners=partners))


class InviteIn(Input):
    """The partner's first user."""

    email: Email
    name: OptionalText(120) = None


class PartnerIn(PartnerFields):
    """A new partner; `invite` also creates its first user and mails them a set-password link."""

    invite: InviteIn | None = None


class PartnerPatch(Input):
    """The fields to change; the result is checked whole. A partner token may change its
    policy only (window, grace, approval, destination, address, defective and out-of-window
    handling, escalation days, deductions, resale discounts), never commission or code."""

    name: str | None = None
    contact_email: str | None = None
    language: str | None = None
    commission_rate_bp: int | None = None
    currencies: list[str] | None = None
    approval_mode: ApprovalMode | None = None
    destination: Destination | None = None
    address: str | None = None
    defective_handling: DefectiveHandling | None = None
    out_of_window: OutOfWindowPolicy | None = None
    rejected_returns: RejectedReturns | None = None
    window_days: int | None = None
    grace_days: int | None = None
    consult_escalate_days: int | None = None
    refund_deduction_bp: dict[str, int] | None = None
    resale_discount_bp: dict[str, int] | None = None
    refund_paid_by: Literal["partner", "marketplace"] | None = None
    active: bool | None = None


class PartnerChanged(BaseModel):
    """The partner as stored now, and what changed: {field: [before, after]}."""

    partner: PartnerOut
    changed: dict[str, list[Any]]


def _visible_partner(code: str) -> Partner:
    partner = get_partner(db.session, code)
    scope = partner_scope()
    if scope is not None and partner.id != scope:
        raise NotFound(f"no partner with code {code!r}", field="partner")
    return partner


@bp.post("/partners")
@token_required()
@operation(
    "Onboard a partner (admin)",
    operation_id="createPartner",
    description="Commission 5-20 % (500-2000 bp), a window of at least 14 days. With `invite`, "
    "its first user gets a mail with a set-password link valid for 3 days.",
    body=PartnerIn,
    answers={201: Answer("The partner was created", PartnerOut)},
    errors=(400, 401, 403, 409),
)
def create_partner(body: PartnerIn):
    """Create a partner (and invite its first user)."""
    actor = api_actor()
    fields = body.model_dump(exclude={"invite"})
    partner = partners.create_partner(db.session, actor, fields)
    if body.invite is not None:
        invite_user(partner, body.invite, actor)
    db.session.commit()
    return answer(PartnerOut.of(partner), 201)


def invite_user(partner: Partner, invite: InviteIn, actor) -> None:
    """The partner's first user, mailed a set-password link."""
    accounts.invite(
        db.session,
        actor,
        current_app.config,
        email=invite.email,
        name=invite.name or "",
        role=Role.PARTNER,
        partner=partner,
        language=partner.language,
    )


@bp.get("/partners/<code>")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "One partner and its policy (a partner token: its own only)",
    operation_id="getPartner",
    answers={200: Answer("The partner", PartnerOut)},
    errors=(401, 403, 404),
)
def get_one(code: str):
    """A partner by its code."""
    return answer(PartnerOut.of(_visible_partner(code)))


@bp.patch("/partners/<code>")
@token_required(Role.PARTNER)
@operation(
    "Change a partner (admin: any field but the code; a partner token: its own policy)",
    operation_id="updatePartner",
    body=PartnerPatch,
    answers={200: Answer("The partner as stored now", PartnerChanged)},
    errors=(400, 401, 403, 404),
)
def patch_partner(code: str, body: PartnerPatch):
    """Apply the fields sent; the result is checked as a whole partner."""
    partner = _visible_partner(code)
    allowed = None if partner_scope() is None else partners.POLICY_FIELDS
    changed = partners.update_partner(
        db.session, api_actor(), partner, body.model_dump(exclude_unset=True), allowed=allowed
    )
    db.session.commit()
    return answer(
        PartnerChanged(
            partner=PartnerOut.of(partner),
            changed={name: [before, after] for name, (before, after) in changed.items()},
        )
    )
