"""Parcels from the warehouse to customers (`CustomerParcel`): making one for a returned unit.

Routing makes the parcel of a repaired or refused unit when it is put on the to-customer shelf;
`warehouse.remedies` makes those of replacements and exchanges, and ships them all.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import codes
from warehouse.errors import Conflict
from warehouse.i18n import gettext as _
from warehouse.models import CustomerParcel, ParcelPurpose, ParcelStatus, Product, Unit


def new_parcel(
    session: Session, unit: Unit, purpose: ParcelPurpose, product: Product | None = None
) -> CustomerParcel:
    """A waiting parcel to the customer of `unit`'s order with `product` (default: the unit's
    own product, the item itself going back)."""
    rma = unit.return_request
    product = product or unit.product
    parcel = CustomerParcel(
        code=_free_code(session),
        purpose=purpose,
        status=ParcelStatus.WAITING,
        unit_id=unit.id,
        return_id=rma.id,
        order_id=rma.order_id,
        partner_id=unit.partner_id,
        site_id=unit.site_id,
        product_id=product.id,
        ship_to=rma.order.postal_address,
    )
    session.add(parcel)
    session.flush()
    return parcel


def _free_code(session: Session) -> str:
    for _attempt in range(20):
        code = codes.new_parcel_code()
        if session.scalar(sa.select(CustomerParcel.id).where(CustomerParcel.code == code)) is None:
            return code
    raise Conflict(_("could not find a free parcel code; try again"))  # pragma: no cover
