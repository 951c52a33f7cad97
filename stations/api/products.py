"""The catalogue: products with their price and resale floor per currency."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from stations.api.blueprint import answer, bp, token_required
from stations.api.openapi import Answer, operation
from stations.auth import partner_scope
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
            select(Partner).where(Partner.code == query.partner)
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
