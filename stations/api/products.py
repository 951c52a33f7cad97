"""The catalogue: products with their price and resale floor per currency."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, RootModel
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from stations.api.blueprint import answer, api_actor, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
from warehouse.catalogue import MAX_BATCH, ProductFields, upsert_products
from warehouse.db import db
from warehouse.errors import NotFound
from warehouse.models import Category, Partner, Product, Role
from warehouse.money import Currency

MAX_PAGE = 500


class PriceOut(BaseModel):
    """A product's list price and resale min-price floor in one currency."""

    currency: Currency
    price_minor: int
    min_price_minor: int


class ProductOut(BaseModel):
    """A partner's SKU."""

    partner: str
    sku: str
    gtin: str
    title: str
    category: Category
    weight_grams: int | None
    serial_tracked: bool
    stock: int
    prices: list[PriceOut]

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        """The API's view of a product."""
        return cls(
            partner=product.partner.code,
            sku=product.sku,
            gtin=product.gtin,
            title=product.title,
            category=product.category,
            weight_grams=product.weight_grams,
            serial_tracked=product.serial_tracked,
            stock=product.stock,
            prices=[
                PriceOut(
                    currency=price.currency,
                    price_minor=price.price_minor,
                    min_price_minor=price.min_price_minor,
                )
                for price in sorted(product.prices, key=lambda p: p.currency)
            ],
        )


class ProductPage(BaseModel):
    """One page of products; `next_offset` is null on the last page."""

    products: list[ProductOut]
    next_offset: int | None


class ProductQuery(BaseModel):
    """Which products: one partner's (a partner token: its own), one page."""

    model_config = ConfigDict(extra="ignore")

    partner: str | None = Field(None, description="A partner code")
    limit: int = Field(100, ge=0, le=MAX_PAGE, description="0 means the default, 100")
    offset: int = Field(0, ge=0, le=10**9)


@bp.get("/products")
@token_required(Role.SUPERVISOR, Role.PARTNER)
@operation(
    "Products with prices and min-price floors per currency",
    operation_id="listProducts",
    query=ProductQuery,
    answers={200: Answer("One page of products", ProductPage)},
    errors=(400, 401, 403, 404),
)
def list_products(query: ProductQuery):
    """One page of products, of one partner or all the caller may see."""
    partner_id = partner_scope()
    limit = query.limit or 100
    statement = (
        select(Product)
        .order_by(Product.partner_id, Product.sku)
        .options(selectinload(Product.prices), selectinload(Product.partner))
    )
    if query.partner is not None:
        partner = db.session.scalars(
            select(Partner).where(Partner.code == query.partner.strip().upper())
        ).one_or_none()
        if partner is None or (partner_id is not None and partner.id != partner_id):
            raise NotFound(f"no partner {query.partner!r}", field="partner")
        statement = statement.where(Product.partner_id == partner.id)
    elif partner_id is not None:
        statement = statement.where(Product.partner_id == partner_id)
    products = list(db.session.scalars(statement.offset(query.offset).limit(limit + 1)))
    more = len(products) > limit
    page = ProductPage(
        products=[ProductOut.of(p) for p in products[:limit]],
        next_offset=query.offset + limit if more else None,
    )
    return answer(page)


class ProductBatch(RootModel[list[ProductFields]]):
    """Products to create or update by partner + SKU (at most 1000 per request)."""

    root: list[ProductFields] = Field(min_length=1, max_length=MAX_BATCH)


class UpsertOut(BaseModel):
    """What the request did, by SKU."""

    created: list[str]
    updated: list[str]
    unchanged: list[str]


@bp.post("/products")
@token_required(Role.PARTNER)
@operation(
    "Create or update products by partner + SKU (admin; a partner token: its own)",
    operation_id="upsertProducts",
    description=(
        "A JSON array of products. Prices are in minor units per currency; a currency the "
        "partner does not sell in, a floor above its price, a GTIN with a wrong check digit or "
        "one already used by another product of the partner refuses the whole request, naming "
        "the product: `[3].gtin`. Posting the same list again changes nothing."
    ),
    body=ProductBatch,
    answers={200: Answer("The products were stored", UpsertOut)},
    errors=(400, 401, 403, 404),
)
def upsert(body: ProductBatch):
    """Upsert a batch of products, all or none."""
    done = upsert_products(db.session, api_actor(), body.root, partner_id=partner_scope())
    db.session.commit()
    return answer(
        UpsertOut(
            created=[p.sku for p in done.created],
            updated=[p.sku for p in done.updated],
            unchanged=[p.sku for p in done.unchanged],
        )
    )
