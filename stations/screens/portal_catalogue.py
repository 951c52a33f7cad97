"""The partner's catalogue in the portal: its products, and their list price and resale floor
per currency, which the partner sets itself (the admin loads the catalogue; commission and
everything else of the agreement stay the admin's)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from stations import nav
from stations.auth import current_actor, roles_required
from stations.params import page_number
from stations.screens.portal import partner_id
from warehouse import catalogue
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Partner, Product, Role
from warehouse.money import MoneyError, format_minor, parse_amount

bp = Blueprint("portal_catalogue", __name__, url_prefix="/portal/catalogue")
PAGE = 50

nav.register(
    _l("Catalogue"), "portal_catalogue.index", {Role.PARTNER}, _l("Your prices and floors"), 15
)


def _amount(minor: int | None, currency: str) -> str:
    if minor is None:
        return ""
    return format_minor(minor, currency).split(" ", 1)[1].replace(",", "")


@bp.get("")
@roles_required(Role.PARTNER)
def index():
    """The partner's products (search by SKU or title), 50 a page."""
    partner = db.session.get(Partner, partner_id())
    text = request.args.get("q", "").strip()[:64]
    page = page_number()
    query = sa.select(Product).where(Product.partner_id == partner.id)
    if text:
        like = f"%{text.lower()}%"
        query = query.where(
            sa.or_(sa.func.lower(Product.sku).like(like), sa.func.lower(Product.title).like(like))
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    products = db.session.scalars(
        query.options(selectinload(Product.prices))
        .order_by(Product.sku)
        .limit(PAGE)
        .offset((page - 1) * PAGE)
    ).all()
    return render_template(
        "portal/catalogue.html",
        partner=partner,
        products=products,
        q=text,
        page=page,
        pages=max(1, -(-total // PAGE)),
        total=total,
        amount=_amount,
    )


@bp.post("/<int:product_id>")
@roles_required(Role.PARTNER)
def prices(product_id: int):
    """Set this product's price and floor in each of the partner's currencies."""
    partner = db.session.get(Partner, partner_id())
    product = db.session.get(Product, product_id)
    if product is None or product.partner_id != partner.id:
        raise NotFound(_("no product #%(id)s", id=product_id), field="product")
    given = []
    try:
        for currency in partner.currencies or []:
            price = (request.form.get(f"price_{currency}") or "").strip()
            floor = (request.form.get(f"floor_{currency}") or "").strip()
            if not price:
                if floor:
                    raise InvalidInput(
                        _("a floor without a price in %(currency)s", currency=currency),
                        field=currency,
                    )
                continue
            try:
                entry = {"currency": currency, "price_minor": parse_amount(price, currency)}
                entry["min_price_minor"] = parse_amount(floor or "0", currency)
            except MoneyError as error:
                raise InvalidInput(
                    _("%(currency)s: %(error)s", currency=currency, error=error), field=currency
                ) from None
            given.append(entry)
        item = {
            "partner": partner.code,
            "sku": product.sku,
            "gtin": product.gtin,
            "title": product.title,
            "category": product.category.value,
            "weight_grams": product.weight_grams,
            "serial_tracked": product.serial_tracked,
            "prices": given,
        }
        done = catalogue.upsert_products(
            db.session, current_actor("portal"), [item], partner_id=partner.id
        )
    except DomainError as error:
        db.session.rollback()
        message = error.message.removeprefix("[0].")
        flash(
            _("%(sku)s: nothing was saved: %(problem)s", sku=product.sku, problem=message), "error"
        )
        return redirect(url_for("portal_catalogue.index", q=product.sku), 303)
    db.session.commit()
    if done.updated:
        flash(_("%(sku)s: prices saved.", sku=product.sku), "ok")
    else:
        flash(_("%(sku)s: nothing changed.", sku=product.sku), "ok")
    return redirect(url_for("portal_catalogue.index", q=request.args.get("q", "")), 303)
