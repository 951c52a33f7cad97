"""`GET /api/v1/resale-listings`: the resale export for channels and partners, streamed."""

from __future__ import annotations

import datetime as dt
import enum

from flask import current_app, stream_with_context
from pydantic import BaseModel, ConfigDict, Field

from stations.api.blueprint import bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from stations.htmx import file_response
from warehouse import exports
from warehouse.db import db
from warehouse.errors import InvalidInput
from warehouse.models import Role
from warehouse.reference import Language

ExportFormat = enum.StrEnum("ExportFormat", [(name, name) for name in exports.FORMATS])
ExportFormat.__doc__ = "eBay-style CSV, a generic CSV, or a JSON feed."


class ListingQuery(BaseModel):
    """Which listings, in which format."""

    model_config = ConfigDict(extra="ignore")

    format: ExportFormat = ExportFormat("json")
    channel: str = Field("ebay", max_length=40, description="The sales channel of the listings")
    language: Language | None = Field(
        None, description="Condition descriptions in this language (default: as listed)"
    )


class ListingItem(BaseModel):
    """One unit listed for resale (money as decimal strings in `currency`, as channels read).

    The feed itself is streamed by `warehouse.exports`; this model documents its shape (a test
    keeps the two equal).
    """

    lpn: str
    sku: str
    gtin: str
    title: str
    partner: str
    grade: str
    condition_id: int = Field(description="eBay condition ID (1000 new … 7000 for parts)")
    condition_description: str
    language: str
    price: str
    original_price: str
    discount_percent: str
    currency: str
    channel: str
    listed_at: str
    picture_url: str


class ListingFeed(BaseModel):
    """The JSON feed."""

    channel: str
    generated_at: dt.datetime
    items: list[ListingItem]


@bp.get("/resale-listings")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Units listed for discounted resale, streamed (JSON feed, CSV, eBay CSV)",
    operation_id="getResaleListings",
    query=ListingQuery,
    answers={
        200: Answer(
            "The listings; a partner token gets its own partner's only",
            ListingFeed,
            content={"text/csv": {"schema": {"type": "string"}}},
        )
    },
    errors=(400, 401, 403),
)
def resale_listings(query: ListingQuery):
    """Listed units of a channel as JSON feed, generic CSV or eBay CSV (a partner: its own)."""
    fmt = query.format.value
    channel = query.channel.strip()
    if not channel:
        raise InvalidInput("Name the sales channel, e.g. ebay.", field="channel")
    language = query.language.value if query.language else None
    selection = exports.Selection(channel, partner_scope(), language)
    exports.require_listings(db.session, selection)
    items = exports.rows(db.session, selection, public_url=current_app.config["PUBLIC_URL"])
    return file_response(
        stream_with_context(exports.stream(fmt, selection, items)),
        exports.MEDIA_TYPES[fmt],
        exports.filename(fmt, selection),
    )
