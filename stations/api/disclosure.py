"""GET /api/v1/disclosure?year=: the yearly disclosure of discarded units (ESPR Art. 24)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from stations.api.blueprint import answer, bp, token_required
from stations.api.openapi import Answer, operation
from warehouse import espr
from warehouse.db import db, utcnow
from warehouse.models import Role


class DisclosureQuery(BaseModel):
    """Which year (this one by default)."""

    model_config = ConfigDict(extra="ignore")

    year: int | None = Field(None, ge=2000, le=2100)


class DiscardedOut(BaseModel):
    """Units of one category that went one route for one reason."""

    category: str
    reason: str = Field(description="The recorded derogation, else the unit's grade")
    route: str = Field(description="destroyed, recycled or donated")
    units: int
    weight_grams: int
    units_without_weight: int


class DisclosureOut(BaseModel):
    """The year's discarded returns."""

    year: int
    enterprise_size: str
    lines: list[DiscardedOut]


@bp.get("/disclosure")
@token_required(Role.SUPERVISOR)
@operation(
    "Discarded returns of a year (ESPR Art. 24)",
    operation_id="disclosure",
    query=DisclosureQuery,
    answers={200: Answer("The report", DisclosureOut)},
    errors=(400, 401, 403),
)
def disclosure(query: DisclosureQuery):
    """Destroyed, recycled and donated units by category, reason and route."""
    year = query.year or utcnow().year
    lines = espr.disclosure(db.session, year)
    return answer(
        DisclosureOut(
            year=year,
            enterprise_size=espr.enterprise_size(),
            lines=[DiscardedOut(**line.__dict__) for line in lines],
        )
    )
