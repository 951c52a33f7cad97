"""Refund cases: partner systems list their cases and decide them with their token. Another
partner's case is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from warehouse import cases
from warehouse.cases import REASON_MAX, Action
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.models import Case, CaseStatus, Role
from warehouse.money import Currency
from warehouse.validation import Input

LIST_LIMIT = 500


class CaseOut(BaseModel):
    """A refund the partner decides, and how it was decided."""

    id: int
    status: CaseStatus
    unit_lpn: str
    rma: str
    grounds: list[str] = Field(description="Why the partner is asked, sentences for people")
    currency: Currency
    original_minor: int = Field(description="Price paid, minor units")
    proposed_minor: int
    approved_minor: int | None
    reason: str | None
    refund_due_on: dt.date
    opened_at: dt.datetime
    decided_at: dt.datetime | None
    decided_via: Literal["link", "portal", "api", "supervisor"] | None

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        """The API's view of a case."""
        return cls(
            id=case.id,
            status=case.status,
            unit_lpn=case.unit.lpn,
            rma=case.return_request.rma,
            grounds=list(case.grounds),
            currency=case.currency,
            original_minor=case.original_minor,
            proposed_minor=case.proposed_minor,
            approved_minor=case.approved_minor,
            reason=case.decision_reason or None,
            refund_due_on=case.refund_due_on,
            opened_at=case.opened_at,
            decided_at=case.decided_at,
            decided_via=case.decided_via,
        )


class CaseList(BaseModel):
    """The partner's cases, newest first (at most 500)."""

    cases: list[CaseOut]


class CaseQuery(BaseModel):
    """Which cases."""

    model_config = ConfigDict(extra="ignore")

    status: CaseStatus | None = None


class DecisionIn(Input):
    """The partner's decision on an open case."""

    action: Action = Field(
        description=(
            "`approve` refunds the proposed amount; `adjust` refunds `amount_minor` and needs "
            "a `reason`; `reject` refunds nothing and needs a `reason`"
        )
    )
    # The range is the decision's own rule (`decide_case`, which names the field `amount`);
    # the schema states it for integrators.
    amount_minor: StrictInt | None = Field(
        None,
        description="For adjust: 0 up to the price paid, in minor units",
        json_schema_extra={"minimum": 0},
    )
    reason: str = Field("", max_length=REASON_MAX, description="The customer reads it")


@bp.get("/cases")
@token_required(Role.PARTNER)
@operation(
    "The partner's refund cases",
    operation_id="listCases",
    query=CaseQuery,
    answers={200: Answer("Cases", CaseList)},
    errors=(400, 401, 403),
)
def list_cases(query: CaseQuery):
    """The token's partner's cases, newest first; `?status=open` filters."""
    statement = db.session.query(Case)
    partner_id = partner_scope()
    if partner_id is not None:
        statement = statement.filter(Case.partner_id == partner_id)
    if query.status is not None:
        statement = statement.filter(Case.status == query.status)
    rows = statement.order_by(Case.id.desc()).limit(LIST_LIMIT)
    return answer(CaseList(cases=[CaseOut.of(case) for case in rows]))


@bp.get("/cases/<int:case_id>")
@token_required(Role.PARTNER)
@operation(
    "One refund case",
    operation_id="getCase",
    answers={200: Answer("The case", CaseOut)},
    errors=(401, 403, 404),
)
def get_case(case_id: int):
    """One case."""
    case = cases.get_case(db.session, case_id, partner_id=partner_scope())
    return answer(CaseOut.of(case))


@bp.post("/cases/<int:case_id>/decision")
@token_required(Role.PARTNER)
@operation(
    "Decide a refund case",
    operation_id="decideCase",
    description=(
        "The customer is emailed the outcome with the reason. A decided case answers 409."
    ),
    body=DecisionIn,
    answers={200: Answer("The decided case", CaseOut)},
    errors=(400, 401, 403, 404, 409),
)
def decide(case_id: int, body: DecisionIn):
    """Approve, adjust (amount_minor + reason) or reject (reason) an open case."""
    partner_id = partner_scope()
    case = cases.get_case(db.session, case_id, partner_id=partner_id)
    decided = cases.decide_case(
        db.session,
        api_actor(),
        case.id,
        action=body.action,
        amount_minor=body.amount_minor if body.action == Action.ADJUST else None,
        reason=body.reason,
        via="api",
        partner_id=partner_id,
        today=local_date(utcnow(), case.unit.site.timezone),
    )
    db.session.commit()
    return answer(CaseOut.of(decided))
