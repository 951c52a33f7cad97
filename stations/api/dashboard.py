"""GET /api/v1/dashboard: the control room's figures for integrations. A supervisor or admin
token sees any site and partner; a partner token sees its own partner only, whatever it asks."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stations.api.blueprint import answer, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from stations.dashboards import scope_from
from warehouse import figures
from warehouse.db import db, utcnow
from warehouse.models import Role


class DashboardQuery(BaseModel):
    """Filters; months are calendar months (a date names its month)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    site: str | None = Field(None, description="Site code; all sites when absent")
    partner: str | None = Field(None, description="Partner code (ignored for partner tokens)")
    category: str | None = None
    from_: str | None = Field(None, alias="from", description="First month, YYYY-MM")
    to: str | None = Field(None, description="Last month, YYYY-MM (default: this month)")


class Waiting(BaseModel):
    """One stage of the backlog."""

    count: int
    oldest_hours: int | None = Field(description="Whole hours the oldest one has waited")


class Backlog(BaseModel):
    """What waits now, per stage."""

    announced: Waiting
    received: Waiting
    graded: Waiting
    routed: Waiting
    cases: Waiting


class AtRisk(BaseModel):
    """A unit whose refund is due within 3 days or overdue, not decided yet."""

    rma: str
    lpn: str
    refund_due_on: dt.date
    stage: Literal[
        "received_not_graded",
        "case_open",
        "case_escalated",
        "approved_not_paid",
        "dispatched_not_received",
    ]


class Rate(BaseModel):
    """Returned units over sold units."""

    key: str = Field(description="Partner code, SKU, category or delivery month")
    sold: int
    returned: int
    rate: float | None
    title: str | None = None
    partner: str | None = None


class ReturnRates(BaseModel):
    """Return rates, by delivery month of the shipment."""

    by_partner: list[Rate]
    by_product: list[Rate] = Field(description="The 50 products with most returned units")
    by_category: list[Rate]
    by_month: list[Rate]


class KeyCount(BaseModel):
    """How many of one reason or grade, and its share."""

    key: str
    count: int
    share: float | None


class StageHours(BaseModel):
    """Time per stage in whole hours (whole days past two days)."""

    label: str
    p50: int | None
    p90: int | None
    count: int


class PerHour(BaseModel):
    """Units a station handled in one local hour of the day over the period."""

    station: Literal["receive", "grade", "route"]
    hour: int
    count: int


class Operator(BaseModel):
    """One person's work at one station over the period."""

    station: Literal["receive", "grade", "route"]
    operator: str
    units: int
    hours: int = Field(description="Clock hours in which they handled at least one unit")
    per_hour: float | None


class Throughput(BaseModel):
    """Station and operator throughput."""

    per_hour: list[PerHour]
    operators: list[Operator]


class Timeliness(BaseModel):
    """Refunds decided in a month, before and after their refund-due date."""

    month: str
    on_time: int
    late: int


class Score(BaseModel):
    """Quality figures of a partner (or of the marketplace as a whole)."""

    sold: int
    returned: int
    return_rate: float | None
    not_as_described_rate: float | None
    defective_rate: float | None
    consult_response_hours_p50: int | None
    within_sla_share: float | None
    cases_answered: int
    cases_escalated: int
    refunds_late: int


class PartnerScore(Score):
    """One partner's scorecard."""

    partner: str
    partner_id: int


class Scorecard(BaseModel):
    """Per partner, with the marketplace's figures to compare."""

    partners: list[PartnerScore]
    marketplace: Score


class Resale(BaseModel):
    """Money recovered by resale in one currency."""

    listed_count: int
    listed_minor: int
    sold_count: int
    sold_minor: int


class Scope(BaseModel):
    """What the figures cover."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: str = Field(alias="from")
    to: str
    site_id: int | None
    partner_id: int | None
    category: str | None
    figures_refreshed_at: dt.datetime | None = Field(
        description="When the oldest month shown was last rebuilt (figures lag by minutes)"
    )


class Dashboard(BaseModel):
    """The dashboard: live backlog and risk, monthly figures for the period."""

    scope: Scope
    backlog: Backlog
    refund_due_risk: list[AtRisk]
    return_rate: ReturnRates
    reasons: list[KeyCount]
    grades: list[KeyCount]
    stage_hours: dict[str, StageHours]
    throughput: Throughput
    refund_timeliness: list[Timeliness]
    scorecard: Scorecard
    resale: dict[str, Resale] = Field(description="Per currency")
    refunded: dict[str, int] = Field(description="Refunds approved, per currency, minor units")
    revenue: dict[str, int] = Field(description="Delivered orders, per currency, minor units")


@bp.get("/dashboard")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "The control room's figures",
    operation_id="getDashboard",
    query=DashboardQuery,
    answers={200: Answer("Figures", Dashboard)},
    errors=(400, 401, 403, 404),
)
def get_dashboard(query: DashboardQuery):
    """Backlog, refund-due risk, return rates, reasons, grades, time per stage, throughput,
    refund timeliness, the partner scorecard and resale money."""
    now = utcnow()
    args = query.model_dump(by_alias=True, exclude_none=True)
    partner = partner_scope()
    scope, today = scope_from(args, now=now, partner_id=partner)
    data = figures.dashboard(db.session, scope, today=today, now=now, staff=partner is None)
    return answer(Dashboard.model_validate(data))
