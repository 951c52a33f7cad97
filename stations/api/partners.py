"""Partners and their return policies (a partner token reads its own only)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import select

from stations.api.blueprint import answer, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from warehouse.db import db
from warehouse.models import (
    ApprovalMode,
    DefectiveHandling,
    Destination,
    OutOfWindowPolicy,
    Partner,
    Role,
)
from warehouse.reference import Language


class PolicyOut(BaseModel):
    """A partner's return policy (SPEC 2 and 4)."""

    window_days: int = Field(description="Right of withdrawal, days from delivery (≥ 14)")
    grace_days: int
    approval_mode: ApprovalMode
    destination: Destination
    defective_handling: DefectiveHandling
    out_of_window: OutOfWindowPolicy
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
            policy=PolicyOut(
                window_days=partner.window_days,
                grace_days=partner.grace_days,
                approval_mode=partner.approval_mode,
                destination=partner.destination,
                defective_handling=partner.defective_handling,
                out_of_window=partner.out_of_window,
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
