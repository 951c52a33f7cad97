"""`GET /api/v1/resale-listings`: the resale export for channels and partners, streamed; and
`POST /api/v1/resale-listings/<lpn>/sale`: a channel reports a sale."""

from __future__ import annotations

import datetime as dt
import enum

from flask import current_app, stream_with_context
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from stations.htmx import file_response
from warehouse import channels, exports, ledger, listings
from warehouse.db import db
from warehouse.errors import InvalidInput
from warehouse.models import Role
from warehouse.money import Currency
from warehouse.photos import PictureLinks
from warehouse.reference import Language
from warehouse.validation import Input, Text

ExportFormat = enum.StrEnum("ExportFormat", [(name, name) for name in exports.FORMATS])
ExportFormat.__doc__ = "eBay-style CSV, a generic CSV, or a JSON feed."


class ListingQuery(BaseModel):
    """Which listings, in which format."""

    model_config = ConfigDict(extra="ignore")

    format: ExportFormat = ExportFormat("json")
    channel: str | None = Field(
        None, max_length=40, description="The sales channel (default: the resale channel)"
    )
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
    channel = (query.channel or "").strip() or channels.resale_channel(db.session)
    if not channel:
        raise InvalidInput("Name the sales channel, e.g. ebay.", field="channel")
    language = query.language.value if query.language else None
    selection = exports.Selection(channel, partner_scope(), language)
    exports.require_listings(db.session, selection)
    items = exports.rows(
        db.session,
        selection,
        public_url=current_app.config["PUBLIC_URL"],
        pictures=PictureLinks.from_settings(current_app.config),
    )
    return file_response(
        stream_with_context(exports.stream(fmt, selection, items)),
        exports.MEDIA_TYPES[fmt],
        exports.filename(fmt, selection),
    )


class SaleIn(Input):
    """A channel's report that a listed unit sold."""

    price_minor: StrictInt = Field(gt=0, le=10**10, description="What it sold for, minor units")
    currency: Currency
    channel: Text(40) = Field(description="Where it sold: ebay, own_shop, b2b_outlet, ...")
    sold_at: AwareDatetime = Field(description="When it sold, with its time zone")


class SaleOut(BaseModel):
    """The listing as sold, and what the partner is credited."""

    lpn: str
    status: str
    sold_minor: int
    currency: str
    sold_at: dt.datetime
    partner_credited_minor: int = Field(description="Proceeds less the commission")


@bp.post("/resale-listings/<lpn>/sale")
@token_required(Role.SUPERVISOR)
@operation(
    "Report that a listed unit sold",
    operation_id="reportResaleSale",
    description=(
        "For the resale channels' integration (a supervisor or admin token; a partner cannot "
        "report sales that credit itself). The listing is sold and the partner credited the "
        "proceeds less its commission (on its statement and in the journal). The same sale "
        "reported again answers 200 and books nothing; a different sale of the unit is a 409."
    ),
    body=SaleIn,
    answers={201: Answer("Booked", SaleOut), 200: Answer("Reported before", SaleOut)},
    errors=(400, 401, 403, 404, 409),
)
def report_sale(lpn: str, body: SaleIn):
    """Book a channel's sale of a returned unit."""
    listing, changed = listings.record_sale(
        db.session,
        api_actor(),
        lpn,
        price_minor=body.price_minor,
        currency=str(body.currency),
        channel=body.channel,
        sold_at=body.sold_at,
    )
    credited = ledger.resale_credit(db.session, listing.unit_id)
    db.session.commit()
    return answer(
        SaleOut(
            lpn=listing.unit.lpn,
            status=listing.status.value,
            sold_minor=listing.sold_minor,
            currency=listing.currency,
            sold_at=listing.sold_at,
            partner_credited_minor=credited,
        ),
        201 if changed else 200,
    )
