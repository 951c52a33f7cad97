"""The warehouse's records: sites, partners, orders, returns, units, events, money, outbox.

Money is always an integer amount of minor units next to its ISO currency code.
Timestamps are UTC (see `UTCDateTime`); calendar dates are dates in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warehouse.db import UTCDateTime, db, utcnow


class Role(enum.StrEnum):
    """What a login or API token may do (SPEC 1)."""

    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    PARTNER = "partner"
    ADMIN = "admin"


class Category(enum.StrEnum):
    """A product category; electronics and hygiene have extra grading checks."""

    ELECTRONICS = "electronics"
    FASHION = "fashion"
    HOME = "home"
    HYGIENE = "hygiene"


class Grade(enum.StrEnum):
    """A returned unit's condition, from new to defective (SPEC 6)."""

    NEW = "new"
    OPENED = "opened"
    USED = "used"
    LIGHT_DAMAGE = "light_damage"
    HEAVY_DAMAGE = "heavy_damage"
    DEFECTIVE = "defective"


class Reason(enum.StrEnum):
    """Why the customer sends an item back."""

    CHANGED_MIND = "changed_mind"
    WRONG_SIZE = "wrong_size"
    NOT_AS_DESCRIBED = "not_as_described"
    DEFECTIVE = "defective"
    DAMAGED_ON_ARRIVAL = "damaged_on_arrival"
    WRONG_ITEM_SENT = "wrong_item_sent"
    OTHER = "other"


# Reasons covered by the 2-year legal guarantee rather than the 14-day right of withdrawal.
GUARANTEE_REASONS = frozenset(
    {Reason.NOT_AS_DESCRIBED, Reason.DEFECTIVE, Reason.DAMAGED_ON_ARRIVAL, Reason.WRONG_ITEM_SENT}
)


class Remedy(enum.StrEnum):
    """What the customer asks for a returned line. For a lack of conformity the consumer chooses
    repair or replacement, else a refund (Directive (EU) 2019/771 Art. 13(2) and 13(4)); for a
    withdrawal, an exchange for another variant of the same partner's product (SPEC)."""

    REFUND = "refund"
    REPAIR = "repair"
    REPLACEMENT = "replacement"
    EXCHANGE = "exchange"


class RejectedReturns(enum.StrEnum):
    """What happens to the goods of a return whose refund the partner rejected."""

    SEND_BACK = "send_back"  # the customer's property: back to them, at the partner's cost
    KEEP = "keep"  # the partner keeps them (routed like any other unit)


class ApprovalMode(enum.StrEnum):
    """Whether full refunds are approved at once or the partner is asked."""

    AUTO = "auto"
    CONSULT = "consult"


class Destination(enum.StrEnum):
    """Where a partner's returns go: our warehouse or the partner itself."""

    WAREHOUSE = "warehouse"
    PARTNER = "partner"


class DefectiveHandling(enum.StrEnum):
    """What happens to a partner's defective units."""

    DESTROY = "destroy"
    RETURN_TO_VENDOR = "return_to_vendor"


class OutOfWindowPolicy(enum.StrEnum):
    """What a partner does with a return that came back too late."""

    REJECT = "reject"
    CONSULT = "consult"
    GOODWILL = "goodwill"


class ReturnStatus(enum.StrEnum):
    """Where an RMA stands."""

    ANNOUNCED = "announced"
    RECEIVED = "received"
    CLOSED = "closed"


class UnitStatus(enum.StrEnum):
    """Where a returned unit stands in the flow."""

    RECEIVED = "received"
    GRADED = "graded"
    ROUTED = "routed"
    CLOSED = "closed"


# The station recorded for work a partner does in the portal on returns sent to it (receiving
# and grading at the partner): not the warehouse's work, and not the warehouse's units to touch.
PARTNER_PORTAL_STATION = "portal"

# A unit whose refund is not decided is never closed: the open part of the flow is
# `status != 'closed'`, which the live figures read through the ix_unit_open partial index. The
# value is written into the SQL, not bound: a planner proves a query matches a partial index's
# condition only from what it can read in the statement.
OPEN_UNIT_SQL = "status != 'closed'"
# Approved refunds not paid out yet (the refund-due clock watches them too), in the SQL for the
# ix_unit_refund_unpaid partial index.
UNPAID_REFUND_SQL = "refund_state = 'approved' AND refund_paid_at IS NULL"
# Received and not closed yet (a return closes when its last unit does), for the
# ix_return_request_received_due partial index of the refund-due risk list.
RECEIVED_RETURN_SQL = "status = 'received'"
# Sent back with a proof of dispatch and not arrived (the refund may not wait for the goods),
# for the ix_return_request_dispatched partial index of the same list.
DISPATCHED_RETURN_SQL = "status = 'announced' AND dispatch_proof_at IS NOT NULL"


class RefundState(enum.StrEnum):
    """Where a unit's refund stands; routing never waits for it, closing does."""

    OPEN = "open"  # proposed, waiting for the partner (a case)
    APPROVED = "approved"  # full or partial amount approved
    REJECTED = "rejected"
    REMEDY = "remedy"  # no money: repaired, replaced or exchanged instead (see Remedy)


# Refund states a unit can close with: the customer's claim is settled.
SETTLED_REFUND_STATES = (RefundState.APPROVED, RefundState.REJECTED, RefundState.REMEDY)


class UnitException(enum.StrEnum):
    """Why a unit was flagged at receiving."""

    WRONG_ITEM = "wrong_item"
    EXTRA = "extra"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    FOREIGN = "foreign"  # an item of another marketplace: quarantine


# Flags of units the customer is owed no refund for: nothing of them was bought in the order
# (one more than was ordered, something else, another marketplace's item).
NO_REFUND_FLAGS = (UnitException.EXTRA, UnitException.WRONG_ITEM, UnitException.FOREIGN)


def _enum(cls: type[enum.StrEnum], name: str) -> sa.Enum:
    """A portable enum column: VARCHAR + CHECK on both SQLite and PostgreSQL."""
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Site(db.Model):
    """A warehouse site (or consolidation point) with its own time zone."""

    __tablename__ = "site"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Europe/Amsterdam")
    country_code: Mapped[str] = mapped_column(sa.String(2))
    address: Mapped[str] = mapped_column(sa.Text, default="")
    # Days a withdrawn item may take in transit beyond the 14 days to send it back (Directive
    # 2011/83/EU Art. 14(1)) before receiving calls it late.
    transit_grace_days: Mapped[int] = mapped_column(default=1, server_default="1")

    def __repr__(self) -> str:
        return f"<Site {self.code}>"


class Country(db.Model):
    """A served country, its currency and the local return address customers send parcels to."""

    __tablename__ = "country"
    code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    currency: Mapped[str] = mapped_column(sa.String(3))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    return_address: Mapped[str] = mapped_column(sa.Text)

    site: Mapped[Site] = relationship()


# The currencies of the served countries (EUR, GBP, DKK, SEK): a new partner sells in all.
PARTNER_CURRENCIES = ("EUR", "GBP", "DKK", "SEK")


class Partner(db.Model):
    """A vendor selling through the marketplace, with its return policy."""

    __tablename__ = "partner"
    __table_args__ = (
        sa.CheckConstraint("commission_rate_bp BETWEEN 500 AND 2000", name="commission_rate_range"),
        sa.CheckConstraint("window_days >= 14", name="window_at_least_14"),
        sa.CheckConstraint("grace_days >= 0", name="grace_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    contact_email: Mapped[str] = mapped_column(sa.String(254))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    address: Mapped[str] = mapped_column(sa.Text, default="")
    # Commission in basis points of sold revenue (500 = 5 %, 2000 = 20 %).
    commission_rate_bp: Mapped[int] = mapped_column(default=1000)
    window_days: Mapped[int] = mapped_column(default=14)
    grace_days: Mapped[int] = mapped_column(default=0)
    approval_mode: Mapped[ApprovalMode] = mapped_column(
        _enum(ApprovalMode, "approval_mode"), default=ApprovalMode.AUTO
    )
    destination: Mapped[Destination] = mapped_column(
        _enum(Destination, "destination"), default=Destination.WAREHOUSE
    )
    defective_handling: Mapped[DefectiveHandling] = mapped_column(
        _enum(DefectiveHandling, "defective_handling"), default=DefectiveHandling.DESTROY
    )
    out_of_window: Mapped[OutOfWindowPolicy] = mapped_column(
        _enum(OutOfWindowPolicy, "out_of_window_policy"), default=OutOfWindowPolicy.CONSULT
    )
    # The goods of a return whose refund was rejected: back to the customer, or kept.
    rejected_returns: Mapped[RejectedReturns] = mapped_column(
        _enum(RejectedReturns, "rejected_returns"),
        default=RejectedReturns.SEND_BACK,
        server_default=RejectedReturns.SEND_BACK.value,
    )
    # Diminished-value deduction on the refund, basis points per grade: {"used": 1000, ...}.
    refund_deduction_bp: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    # Resale discount off the original price, basis points per grade.
    resale_discount_bp: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    # Who pays the customer: the partner itself, or the marketplace on its behalf.
    refund_paid_by: Mapped[str] = mapped_column(sa.String(16), default="partner")
    consult_escalate_days: Mapped[int] = mapped_column(default=3)
    # Currencies the partner sells in (prices are refused in others); a deactivated partner takes
    # no new orders or returns, its records stay.
    currencies: Mapped[list[str]] = mapped_column(
        sa.JSON,
        default=lambda: list(PARTNER_CURRENCIES),
        server_default=sa.text('\'["EUR", "GBP", "DKK", "SEK"]\''),
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    def __repr__(self) -> str:
        return f"<Partner {self.code}>"


class Product(db.Model):
    """A partner's SKU as sold on the marketplace."""

    __tablename__ = "product"
    __table_args__ = (sa.UniqueConstraint("partner_id", "sku", name="uq_product_partner_sku"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    sku: Mapped[str] = mapped_column(sa.String(64))
    gtin: Mapped[str] = mapped_column(sa.String(14), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[Category] = mapped_column(_enum(Category, "category"))
    weight_grams: Mapped[int | None]
    # Sellable stock at the marketplace warehouse; restocked returns raise it.
    stock: Mapped[int] = mapped_column(default=0)
    # Units carry a serial number / IMEI that receiving scans (electronics always do).
    serial_tracked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The partner's style (model) code its sizes and colours share: a customer may exchange a
    # withdrawn item for another product of the same style.
    style: Mapped[str | None] = mapped_column(sa.String(64))

    partner: Mapped[Partner] = relationship()
    prices: Mapped[list[ProductPrice]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )

    @property
    def needs_serial(self) -> bool:
        """Whether receiving asks for each unit's serial number."""
        return self.serial_tracked or self.category == Category.ELECTRONICS

    def price_in(self, currency: str) -> ProductPrice | None:
        """This product's list price and resale floor in one currency, if it is sold in it."""
        return next((p for p in self.prices if p.currency == currency), None)


class ProductPrice(db.Model):
    """List price and resale min-price floor of a product in one currency."""

    __tablename__ = "product_price"
    __table_args__ = (
        sa.CheckConstraint("price_minor >= 0", name="price_not_negative"),
        sa.CheckConstraint("min_price_minor >= 0", name="floor_not_negative"),
    )
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    price_minor: Mapped[int]
    min_price_minor: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="prices")


class Order(db.Model):
    """A marketplace order as the customer sees it: one number, possibly several partners."""

    __tablename__ = "order"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(40), default="marketplace")
    customer_name: Mapped[str] = mapped_column(sa.String(120))
    customer_email: Mapped[str] = mapped_column(sa.String(254), index=True)
    customer_postcode: Mapped[str] = mapped_column(sa.String(16))
    customer_address: Mapped[str] = mapped_column(sa.Text, default="")
    country_code: Mapped[str] = mapped_column(sa.ForeignKey("country.code"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # False when the customer was never told of the right of withdrawal (+12 months window).
    withdrawal_informed: Mapped[bool] = mapped_column(default=True)

    country: Mapped[Country] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", order_by="Shipment.id", cascade="all, delete-orphan"
    )

    @property
    def total_minor(self) -> int:
        """What the customer paid: its shipments' totals (an exchange sent later adds nothing),
        minor units of the order currency."""
        return sum(shipment.total_minor for shipment in self.shipments)

    @property
    def ordered_lines(self) -> list[OrderLine]:
        """The lines the customer ordered (not those of exchanges sent since)."""
        return [line for line in self.lines if line.shipment.exchange_for_unit_id is None]

    @property
    def postal_address(self) -> str:
        """The customer's address as a label prints it: name, street lines, postcode, country."""
        lines = [self.customer_name, *self.customer_address.splitlines()]
        if self.customer_postcode and self.customer_postcode not in self.customer_address:
            lines.append(self.customer_postcode)
        lines.append(self.country.name)
        return "\n".join(line for line in lines if line.strip())


class Shipment(db.Model):
    """One partner's part of an order: one parcel, its own tracking number and delivery date."""

    __tablename__ = "shipment"
    __table_args__ = (
        # One parcel per partner and order, besides the exchanges sent later.
        sa.Index(
            "uq_shipment_order_partner",
            "order_id",
            "partner_id",
            unique=True,
            sqlite_where=sa.text("exchange_for_unit_id IS NULL"),
            postgresql_where=sa.text("exchange_for_unit_id IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    tracking_number: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    carrier: Mapped[str | None] = mapped_column(sa.String(40))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    # An exchange sent to the customer in place of this returned unit (nothing is charged for
    # it: the sale was booked on the original shipment).
    exchange_for_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("unit.id", use_alter=True)  # unit -> return -> shipment: a cycle
    )

    order: Mapped[Order] = relationship(back_populates="shipments")
    partner: Mapped[Partner] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="shipment", order_by="OrderLine.id"
    )

    @property
    def total_minor(self) -> int:
        """What its lines cost, minor units of the order currency (an exchange: nothing)."""
        if self.exchange_for_unit_id is not None:
            return 0
        return sum(line.total_minor for line in self.lines)


class OrderLine(db.Model):
    """A product bought in an order, priced in the order's currency."""

    __tablename__ = "order_line"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id"), index=True)
    shipment_id: Mapped[int] = mapped_column(sa.ForeignKey("shipment.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    quantity: Mapped[int]
    unit_price_minor: Mapped[int]
    # Serial numbers / IMEIs shipped, when the partner told us (electronics).
    serial_numbers: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Months added to the legal guarantee of these goods: 12 once they came back repaired
    # (Directive (EU) 2019/771 Art. 10(1a), inserted by Directive (EU) 2024/1799 Art. 16).
    guarantee_extended_months: Mapped[int] = mapped_column(default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")
    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    @property
    def total_minor(self) -> int:
        """Quantity times the unit price, minor units of the order currency."""
        return self.quantity * self.unit_price_minor


class ReturnRequest(db.Model):
    """An RMA: the units of one shipment a customer sends back, and why."""

    __tablename__ = "return_request"
    __table_args__ = (
        # Parcels announced and not arrived (the overview's first stage), whatever the number of
        # returns that arrived long ago: a partial index, like ix_unit_open.
        sa.Index(
            "ix_return_request_announced",
            "site_id",
            "announced_at",
            sqlite_where=sa.text("status = 'announced'"),
            postgresql_where=sa.text("status = 'announced'"),
        ),
        # Received and not closed yet, by the day the refund is due: the refund-due risk list
        # reads the returns due soon (or overdue) from this index alone, not every open unit
        # and its return.
        sa.Index(
            "ix_return_request_received_due",
            "refund_due_on",
            "id",
            "rma",
            sqlite_where=sa.text(RECEIVED_RETURN_SQL),
            postgresql_where=sa.text(RECEIVED_RETURN_SQL),
        ),
        # Sent back with a proof of dispatch and not arrived (the refund may not wait for the
        # goods): the few of them, out of every parcel on its way, for the same list.
        sa.Index(
            "ix_return_request_dispatched",
            "refund_due_on",
            "id",
            "rma",
            "site_id",
            "partner_id",
            sqlite_where=sa.text(DISPATCHED_RETURN_SQL),
            postgresql_where=sa.text(DISPATCHED_RETURN_SQL),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rma: Mapped[str] = mapped_column(sa.String(20), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id"), index=True)
    shipment_id: Mapped[int] = mapped_column(sa.ForeignKey("shipment.id"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    status: Mapped[ReturnStatus] = mapped_column(
        _enum(ReturnStatus, "return_status"), default=ReturnStatus.ANNOUNCED, index=True
    )
    source: Mapped[str] = mapped_column(sa.String(16), default="customer")
    # Created at the receiving station for a parcel nobody announced.
    unannounced: Mapped[bool] = mapped_column(default=False)
    return_tracking_number: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    customer_comment: Mapped[str] = mapped_column(sa.Text, default="")
    announced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    announced_on: Mapped[dt.date]
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    received_on: Mapped[dt.date | None]
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    parcel_damaged: Mapped[bool] = mapped_column(default=False)
    # When the operator closed the parcel at receiving (units still expected were declared missing).
    receipt_closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The later of (announced_on + 14 days) and received_on: SPEC section 4.
    refund_due_on: Mapped[dt.date | None] = mapped_column(index=True)
    # The site day its supervisors were last mailed this return as at risk (once a day at most).
    refund_alerted_on: Mapped[dt.date | None]
    # Where the customer's label sends the parcel, as it was when the return was announced (a
    # partner changing its policy later does not move parcels already on their way).
    destination: Mapped[Destination] = mapped_column(
        _enum(Destination, "return_destination"),
        default=Destination.WAREHOUSE,
        server_default=Destination.WAREHOUSE.value,
    )
    # The customer's withdrawal from the contract this return carries out, if it came as one.
    withdrawal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("withdrawal.id"), index=True)
    # The carrier's first scan of the return parcel: proof the goods were sent back, after which
    # a withdrawal's refund may no longer be withheld (Directive 2011/83/EU Art. 13(3)).
    dispatch_proof_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    withdrawal: Mapped[Withdrawal | None] = relationship()
    order: Mapped[Order] = relationship()
    shipment: Mapped[Shipment] = relationship()
    partner: Mapped[Partner] = relationship()
    site: Mapped[Site] = relationship()
    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="return_request", order_by="ReturnLine.id", cascade="all, delete-orphan"
    )
    units: Mapped[list[Unit]] = relationship(back_populates="return_request", order_by="Unit.id")


# Announced and not arrived, its value in the SQL (for the ix_return_request_announced index).
ANNOUNCED_RETURN = ReturnRequest.__table__.c.status == sa.literal_column(
    f"'{ReturnStatus.ANNOUNCED.value}'"
)
RECEIVED_RETURN = sa.text(RECEIVED_RETURN_SQL)
DISPATCHED_RETURN = sa.text(DISPATCHED_RETURN_SQL)


class ReturnLine(db.Model):
    """A line of an RMA: how many of one order line go back, and the customer's reason."""

    __tablename__ = "return_line"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("return_request.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_line.id"), index=True)
    quantity: Mapped[int]
    reason: Mapped[Reason] = mapped_column(_enum(Reason, "reason"))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    # Units the operator declared missing from the parcel at receiving.
    missing_quantity: Mapped[int] = mapped_column(default=0)
    # What the customer asked for (refund, repair, replacement, exchange) and, for an exchange,
    # the variant they want instead.
    remedy: Mapped[Remedy] = mapped_column(
        _enum(Remedy, "remedy"), default=Remedy.REFUND, server_default=Remedy.REFUND.value
    )
    exchange_product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"))
    # Units the customer has again (repaired, replaced or sent back refused): announceable again.
    sent_back_quantity: Mapped[int] = mapped_column(default=0, server_default="0")

    return_request: Mapped[ReturnRequest] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()
    exchange_product: Mapped[Product | None] = relationship()
    units: Mapped[list[Unit]] = relationship(back_populates="return_line", order_by="Unit.id")


class Unit(db.Model):
    """One physical returned item, known by its licence plate (LPN)."""

    __tablename__ = "unit"
    __table_args__ = (
        sa.UniqueConstraint("return_line_id", "slot", name="uq_unit_line_slot"),
        # The overview's backlog: units of a site per stage, oldest first.
        sa.Index("ix_unit_site_status_received", "site_id", "status", "received_at"),
        # The open part of the flow (refund-due risk, overdue sweep): a partial index holds only
        # units not closed yet, so a planner sees how few they are at any database size.
        sa.Index(
            "ix_unit_refund_unpaid",
            "return_id",
            sqlite_where=sa.text(UNPAID_REFUND_SQL),
            postgresql_where=sa.text(UNPAID_REFUND_SQL),
        ),
        sa.Index(
            "ix_unit_open",
            "site_id",
            "status",
            sqlite_where=sa.text(OPEN_UNIT_SQL),
            postgresql_where=sa.text(OPEN_UNIT_SQL),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    lpn: Mapped[str] = mapped_column(sa.String(24), unique=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("return_request.id"), index=True)
    return_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("return_line.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    # Which expected unit of the return line this is (1..quantity), so the same confirmation
    # from two stations collides on the unique constraint instead of creating two units.
    slot: Mapped[int | None]
    status: Mapped[UnitStatus] = mapped_column(
        _enum(UnitStatus, "unit_status"), default=UnitStatus.RECEIVED, index=True
    )
    exception: Mapped[UnitException | None] = mapped_column(_enum(UnitException, "unit_exception"))
    serial_number: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    serial_mismatch: Mapped[bool] = mapped_column(default=False)
    # Sent to quarantine by a supervisor resolving an exception: routed there, not by the rules.
    quarantined: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    received_station: Mapped[str | None] = mapped_column(sa.String(40))
    grade: Mapped[Grade | None] = mapped_column(_enum(Grade, "grade"))
    checklist: Mapped[dict[str, bool]] = mapped_column(sa.JSON, default=dict)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    graded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Set by the decision stage: None until graded, then open / approved / rejected.
    refund_state: Mapped[RefundState | None] = mapped_column(_enum(RefundState, "refund_state"))
    refund_minor: Mapped[int | None]  # in the order's currency
    refund_decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The approved refund paid out to the customer: when, by whom (partner or marketplace, as
    # the partner's agreement says) and the payment's reference.
    refund_paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    refund_paid_by: Mapped[str | None] = mapped_column(sa.String(16))
    refund_payment_ref: Mapped[str | None] = mapped_column(sa.String(80))
    disposition: Mapped[str | None] = mapped_column(sa.String(16))
    routed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    return_request: Mapped[ReturnRequest] = relationship(back_populates="units")
    return_line: Mapped[ReturnLine | None] = relationship(back_populates="units")
    product: Mapped[Product | None] = relationship()
    partner: Mapped[Partner] = relationship()
    site: Mapped[Site] = relationship()


# The open part of the flow as a query condition, its value in the SQL (see OPEN_UNIT_SQL).
OPEN_UNIT = Unit.__table__.c.status != sa.literal_column(f"'{UnitStatus.CLOSED.value}'")
UNPAID_REFUND = sa.text(UNPAID_REFUND_SQL)


class Event(db.Model):
    """An append-only record of a scan or state change: who, when, where, before → after."""

    __tablename__ = "event"
    __table_args__ = (
        sa.Index("ix_event_subject", "subject_type", "subject_id", "id"),
        # A site's activity by time (throughput), its kinds read from the index alone.
        sa.Index("ix_event_site_at_kind", "site_id", "at", "kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(48), index=True)
    subject_type: Mapped[str] = mapped_column(sa.String(24))
    subject_id: Mapped[int]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    actor_label: Mapped[str] = mapped_column(sa.String(120), default="system")
    station: Mapped[str | None] = mapped_column(sa.String(40))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    before: Mapped[str | None] = mapped_column(sa.String(32))
    after: Mapped[str | None] = mapped_column(sa.String(32))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class Printer(db.Model):
    """A network label printer at a site that takes ZPL over raw TCP (port 9100, the Zebra
    convention). Supervisors add them; operators pick one for their stations."""

    __tablename__ = "printer"
    __table_args__ = (
        sa.UniqueConstraint("site_id", "name", name="uq_printer_site_name"),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name="port_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    host: Mapped[str] = mapped_column(sa.String(253))
    port: Mapped[int] = mapped_column(default=9100)
    active: Mapped[bool] = mapped_column(default=True)

    site: Mapped[Site] = relationship()


class StationScan(db.Model):
    """A scan or tap a station sent with its own client id, and the answer it got.

    The station client gives every scan an id and resends it after a network failure; a scan
    whose id is here was done already, so the stored answer is given again and nothing changes
    twice. The row is written in the transaction of the scan's effect.
    """

    __tablename__ = "station_scan"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"), primary_key=True)
    scan_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    endpoint: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status_code: Mapped[int | None]
    headers: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    body: Mapped[str | None] = mapped_column(sa.Text)


class User(UserMixin, db.Model):
    """A person who logs in: operator, supervisor, partner user or admin."""

    __tablename__ = "user"
    # A partner user always belongs to a partner: without one, it would see no boundary at all.
    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'partner' OR partner_id IS NOT NULL", name="partner_user_has_partner"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Part of every session cookie: raising it (logout, password change, deactivation) ends
    # every session of the user at once.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Where this user's stations print unit labels: a network label printer, or None for the
    # browser's own print dialog (PDF).
    label_printer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("printer.id"))

    partner: Mapped[Partner | None] = relationship()
    site: Mapped[Site | None] = relationship()
    label_printer: Mapped[Printer | None] = relationship()

    @property
    def is_active(self) -> bool:
        """Whether the user may log in (Flask-Login reads this)."""
        return self.active

    def get_id(self) -> str:
        """What the session cookie holds: the id and the session version it was issued under."""
        return f"{self.id}:{self.session_version}"


class ApiToken(db.Model):
    """An API token; only its SHA-256 is stored. A partner token sees its partner only."""

    __tablename__ = "api_token"
    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'partner' OR partner_id IS NOT NULL", name="partner_token_has_partner"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"))
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # When it was last used, to the hour (written at most once an hour, off the hot path).
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    partner: Mapped[Partner | None] = relationship()


class Outbox(db.Model):
    """A message or job caused by a state change, written in the same transaction.

    The relay moves due rows to RQ and stamps `dispatched_at`; the job stamps `done_at` in the
    transaction of its own work. A row dispatched but not done after the lease is dispatched
    again (the job may have been lost with Redis's data); the idempotency key makes the job
    itself safe to run twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_due", "dispatched_at", "available_at"),
        sa.Index("ix_outbox_in_flight", "done_at", "dispatched_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(48))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    job_id: Mapped[str | None] = mapped_column(sa.String(64))


class SentMail(db.Model):
    """A mail that has left through SMTP; a retried job finds it here and does not resend."""

    __tablename__ = "sent_mail"
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(160), unique=True)
    message_id: Mapped[str] = mapped_column(sa.String(200))
    recipient: Mapped[str] = mapped_column(sa.String(254), index=True)
    subject: Mapped[str] = mapped_column(sa.String(250))
    template: Mapped[str] = mapped_column(sa.String(64))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # What left, as rendered then: the mailbox page shows it even without the local sink.
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    body_text: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str | None] = mapped_column(sa.Text)


class LedgerEntry(db.Model):
    """A money movement booked to a partner: refund, commission credit, resale proceeds."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        sa.Index("ix_ledger_partner_booked", "partner_id", "booked_on"),
        # A shipment's sale and a unit's resale are booked once, whatever races.
        sa.Index(
            "uq_ledger_sale_per_shipment",
            "shipment_id",
            unique=True,
            postgresql_where=sa.text("kind = 'sale'"),
            sqlite_where=sa.text("kind = 'sale'"),
        ),
        sa.Index(
            "uq_ledger_resale_per_unit",
            "unit_id",
            unique=True,
            postgresql_where=sa.text("kind = 'resale_proceeds'"),
            sqlite_where=sa.text("kind = 'resale_proceeds'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"))
    kind: Mapped[str] = mapped_column(sa.String(32))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    return_id: Mapped[int | None] = mapped_column(sa.ForeignKey("return_request.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    # The order and shipment the money belongs to (sales, commission, refunds and credits).
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shipment.id"), index=True)
    # The commission rate an entry was computed with (commission and its credits).
    rate_bp: Mapped[int | None]
    booked_on: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    memo: Mapped[str] = mapped_column(sa.String(250), default="")

    order: Mapped[Order | None] = relationship()


class Invoice(db.Model):
    """A commission invoice: one per partner, month and currency, numbered without gaps."""

    __tablename__ = "invoice"
    __table_args__ = (
        sa.UniqueConstraint("partner_id", "period_start", "currency", name="one_per_period"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    sequence: Mapped[int] = mapped_column(unique=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    currency: Mapped[str] = mapped_column(sa.String(3))
    commission_minor: Mapped[int]  # commission on sales and resales of the month
    credited_minor: Mapped[int]  # commission credited back on refunds of the month
    net_minor: Mapped[int]  # commission_minor - credited_minor: what the partner is invoiced
    partner_details: Mapped[str] = mapped_column(sa.Text)  # name and address as issued
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The invoice date: the marketplace's calendar day of issue (warehouse.invoices.invoicing_day),
    # always after the period; the UTC day of issued_at is the day before just after midnight.
    issued_on: Mapped[dt.date]
    issued_by: Mapped[str] = mapped_column(sa.String(120))

    partner: Mapped[Partner] = relationship()


class DocumentCounter(db.Model):
    """The last number given out per numbered document kind; its row lock makes numbers gap-free:
    the next number is taken in the transaction that issues the document, and given back if
    that transaction rolls back."""

    __tablename__ = "document_counter"
    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


# --- Stage 3 and 4: grading, refund decisions and partner cases (issue 5) ---------------------


class CaseStatus(enum.StrEnum):
    """Where a refund case stands."""

    OPEN = "open"
    APPROVED = "approved"  # the proposed amount, as is
    ADJUSTED = "adjusted"  # another amount, with a reason
    REJECTED = "rejected"


class UnitPhoto(db.Model):
    """A photo taken at grading, re-encoded as JPEG under instance/photos/ with a thumbnail."""

    __tablename__ = "unit_photo"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    unit: Mapped[Unit] = relationship()


class Case(db.Model):
    """A refund the partner decides: partial refunds, `consult` partners, out-of-window returns.

    `nonce` is in every signed link of the case; deciding clears it, so each link works once.
    """

    __tablename__ = "refund_case"
    __table_args__ = (
        sa.CheckConstraint("original_minor >= 0", name="original_not_negative"),
        sa.CheckConstraint(
            "proposed_minor BETWEEN 0 AND original_minor", name="proposed_within_original"
        ),
        sa.CheckConstraint(
            "approved_minor IS NULL OR approved_minor BETWEEN 0 AND original_minor",
            name="approved_within_original",
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), unique=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("return_request.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(
        _enum(CaseStatus, "case_status"), default=CaseStatus.OPEN, index=True
    )
    # Why the partner is asked (e.g. "partial refund: used, -10 %"), for people to read.
    grounds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    currency: Mapped[str] = mapped_column(sa.String(3))
    original_minor: Mapped[int]
    proposed_minor: Mapped[int]
    approved_minor: Mapped[int | None]
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")
    refund_due_on: Mapped[dt.date] = mapped_column(index=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(sa.String(120))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    decided_via: Mapped[str | None] = mapped_column(sa.String(16))  # link, portal, api
    nonce: Mapped[str | None] = mapped_column(sa.String(32))

    unit: Mapped[Unit] = relationship()
    partner: Mapped[Partner] = relationship()
    return_request: Mapped[ReturnRequest] = relationship()


# ---------------------------------------------------------------------------------------------
# Stage 5 (issue 6): routing. Disposition rules, locations, put-away, stock ledger, resale
# listings, exports and RTV / destruction batches.
# ---------------------------------------------------------------------------------------------


class Disposition(enum.StrEnum):
    """Where a graded unit goes (SPEC section 7). Quarantine is never chosen by a rule."""

    RESTOCK = "restock"
    REFURBISH = "refurbish"
    RESALE = "resale"
    RTV = "rtv"
    DONATE = "donate"
    RECYCLE = "recycle"
    DESTROY = "destroy"
    QUARANTINE = "quarantine"
    TO_CUSTOMER = "to_customer"  # repaired or refused: the customer's item goes back to them


# Outcomes a rule may name: quarantine is only for items of another marketplace, and what goes
# back to the customer follows from the remedy or the partner's policy, never from a rule.
RULE_OUTCOMES = tuple(
    d for d in Disposition if d not in (Disposition.QUARANTINE, Disposition.TO_CUSTOMER)
)


class DispositionRule(db.Model):
    """One row of an ordered rule table: conditions (None = any) and the outcome.

    `partner_id` None is the warehouse's default table; a partner's own rules come before it.
    """

    __tablename__ = "disposition_rule"
    __table_args__ = (
        sa.Index("ix_disposition_rule_partner_position", "partner_id", "position"),
        sa.CheckConstraint("discount_bp BETWEEN 0 AND 10000", name="discount_range"),
        sa.CheckConstraint("monthly_quota > 0", name="quota_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"))
    position: Mapped[int]
    grade: Mapped[Grade | None] = mapped_column(_enum(Grade, "grade"))
    category: Mapped[Category | None] = mapped_column(_enum(Category, "category"))
    reason: Mapped[Reason | None] = mapped_column(_enum(Reason, "reason"))
    # Value = the original unit price; bounds are inclusive minor units of `currency`.
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    min_value_minor: Mapped[int | None]
    max_value_minor: Mapped[int | None]
    outcome: Mapped[Disposition] = mapped_column(_enum(Disposition, "disposition"))
    # Resale only: discount off the original price; None = the partner's discount for the grade.
    discount_bp: Mapped[int | None]
    # At most this many units a calendar month; past it the next rule applies.
    monthly_quota: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    partner: Mapped[Partner | None] = relationship()


class LocationKind(enum.StrEnum):
    """What a bin or pallet collects."""

    RESTOCK = "restock"
    RESALE = "resale"
    REFURBISH = "refurbish"
    RTV = "rtv"
    DESTROY = "destroy"
    QUARANTINE = "quarantine"
    DONATE = "donate"
    RECYCLE = "recycle"
    TO_CUSTOMER = "to_customer"  # the repair bench / outgoing shelf for parcels to customers


class Location(db.Model):
    """A bin, shelf or pallet at a site; its code is the barcode on its label."""

    __tablename__ = "location"
    __table_args__ = (sa.CheckConstraint("capacity > 0", name="capacity_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    kind: Mapped[LocationKind] = mapped_column(_enum(LocationKind, "location_kind"))
    capacity: Mapped[int] = mapped_column(default=50)
    # An RTV pallet collects one partner's units only.
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"))
    active: Mapped[bool] = mapped_column(default=True)

    site: Mapped[Site] = relationship()
    partner: Mapped[Partner | None] = relationship()


class Placement(db.Model):
    """A unit put away in a location by a route; `left_at` is set when it leaves again."""

    __tablename__ = "placement"
    __table_args__ = (sa.Index("ix_placement_location_open", "location_id", "left_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("location.id"))
    disposition: Mapped[Disposition] = mapped_column(_enum(Disposition, "disposition"))
    rule_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("disposition_rule.id", ondelete="SET NULL"), index=True
    )
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Calendar month in the site's time zone, 'YYYY-MM', for monthly quotas.
    placed_month: Mapped[str] = mapped_column(sa.String(7))
    placed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship()
    location: Mapped[Location] = relationship()


class StockEntry(db.Model):
    """The stock ledger: each change of a SKU's sellable stock and why."""

    __tablename__ = "stock_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    quantity: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(32))
    stock_after: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ListingStatus(enum.StrEnum):
    """Where a resale listing stands."""

    LISTED = "listed"
    SOLD = "sold"
    WITHDRAWN = "withdrawn"


class Listing(db.Model):
    """A unit offered for discounted resale: price, eBay condition and the listing text."""

    __tablename__ = "listing"
    __table_args__ = (
        sa.Index("ix_listing_channel_status", "channel", "status", "id"),
        sa.CheckConstraint("price_minor >= 0", name="price_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), unique=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(40), default="ebay")
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    title: Mapped[str] = mapped_column(sa.String(200))
    condition_id: Mapped[int]
    condition_description: Mapped[str] = mapped_column(sa.Text)
    original_minor: Mapped[int]
    discount_bp: Mapped[int]
    price_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[ListingStatus] = mapped_column(
        _enum(ListingStatus, "listing_status"), default=ListingStatus.LISTED
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    sold_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sold_minor: Mapped[int | None]  # what the channel reported it sold for, in `currency`

    unit: Mapped[Unit] = relationship()


class ExportStatus(enum.StrEnum):
    """Where a background export stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Export(db.Model):
    """An export file being written in the background (a large resale export or accounting
    journal) and its progress."""

    __tablename__ = "export"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16), default="resale", server_default="resale")
    format: Mapped[str] = mapped_column(sa.String(8))
    # A journal's period and site (its partner is `partner_id`).
    period_start: Mapped[dt.date | None]
    period_end: Mapped[dt.date | None]
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    channel: Mapped[str | None] = mapped_column(sa.String(40))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    # Descriptions rewritten in this language; None keeps each listing's own language.
    language: Mapped[str | None] = mapped_column(sa.String(2))
    status: Mapped[ExportStatus] = mapped_column(
        _enum(ExportStatus, "export_status"), default=ExportStatus.QUEUED
    )
    progress: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    file_path: Mapped[str | None] = mapped_column(sa.String(400))
    error: Mapped[str | None] = mapped_column(sa.Text)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class BatchKind(enum.StrEnum):
    """A return-to-vendor shipment or a destruction batch."""

    RTV = "rtv"
    DESTRUCTION = "destruction"


class BatchStatus(enum.StrEnum):
    """Where a batch stands."""

    OPEN = "open"
    PACKED = "packed"
    SHIPPED = "shipped"  # RTV
    DESTROYED = "destroyed"  # destruction


class Batch(db.Model):
    """An RTV shipment to one partner or a destruction batch of one site."""

    __tablename__ = "batch"
    __table_args__ = (sa.Index("ix_batch_open", "kind", "site_id", "partner_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)
    kind: Mapped[BatchKind] = mapped_column(_enum(BatchKind, "batch_kind"))
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    status: Mapped[BatchStatus] = mapped_column(
        _enum(BatchStatus, "batch_status"), default=BatchStatus.OPEN
    )
    carrier: Mapped[str | None] = mapped_column(sa.String(40))
    tracking_number: Mapped[str | None] = mapped_column(sa.String(64))
    responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    packed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()
    partner: Mapped[Partner | None] = relationship()
    responsible: Mapped[User | None] = relationship()
    items: Mapped[list[BatchUnit]] = relationship(
        back_populates="batch", order_by="BatchUnit.id", cascade="all, delete-orphan"
    )


class BatchUnit(db.Model):
    """A unit in a batch (a unit is in at most one batch)."""

    __tablename__ = "batch_unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("batch.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), unique=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    batch: Mapped[Batch] = relationship(back_populates="items")
    unit: Mapped[Unit] = relationship()


# --- the exceptions queue -------------------------------------------------------------------


class ExceptionKind(enum.StrEnum):
    """What went wrong with a parcel or unit (SPEC section 5), or a refund running late."""

    WRONG_ITEM = "wrong_item"
    EXTRA_UNIT = "extra_unit"
    MISSING_UNIT = "missing_unit"
    PARCEL_DAMAGED = "parcel_damaged"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    SERIAL_MISMATCH = "serial_mismatch"
    UNANNOUNCED = "unannounced"
    FOREIGN_ITEM = "foreign_item"
    REFUND_OVERDUE = "refund_overdue"


class ExceptionStatus(enum.StrEnum):
    """Open until someone resolves it; withdrawn when the flag itself was taken back."""

    OPEN = "open"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


class Resolution(enum.StrEnum):
    """How an exception was resolved."""

    NOTIFY_CUSTOMER = "notify_customer"
    NOTIFY_PARTNER = "notify_partner"
    CARRIER_CLAIM = "carrier_claim"
    QUARANTINE = "quarantine"
    ACCEPT = "accept"


class ReturnException(db.Model):
    """One flagged parcel or unit waiting for a supervisor, and how it was resolved.

    `key` names what is flagged (e.g. ``missing_unit:line:7``), so flagging it again reopens the
    same row instead of adding a second one.
    """

    __tablename__ = "return_exception"
    __table_args__ = (sa.Index("ix_return_exception_queue", "site_id", "status", "opened_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80), unique=True)
    kind: Mapped[ExceptionKind] = mapped_column(_enum(ExceptionKind, "exception_kind"))
    status: Mapped[ExceptionStatus] = mapped_column(
        _enum(ExceptionStatus, "exception_status"), default=ExceptionStatus.OPEN
    )
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("return_request.id"), index=True)
    # The unit is kept as its LPN too: a unit removed at receiving leaves its exception behind.
    unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("unit.id", ondelete="SET NULL"), index=True
    )
    lpn: Mapped[str | None] = mapped_column(sa.String(24))
    return_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("return_line.id"))
    detail: Mapped[str] = mapped_column(sa.String(250), default="")
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by: Mapped[str] = mapped_column(sa.String(120), default="system")
    resolution: Mapped[Resolution | None] = mapped_column(_enum(Resolution, "resolution"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(sa.String(120))
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    return_request: Mapped[ReturnRequest] = relationship()
    unit: Mapped[Unit | None] = relationship()
    partner: Mapped[Partner] = relationship()
    return_line: Mapped[ReturnLine | None] = relationship()


# --- figures ----------------------------------------------------------------------------------


class Figure(db.Model):
    """One cell of the dashboards' monthly roll-up: how many (and how much) of `metric` with
    `key` happened in `month` at a site for a partner and category (and product, where the
    figure is per product). Rebuilt from the records by `warehouse.figures.refresh_month`;
    never the source of truth, always reproducible from it.

    Each cell is also kept summed: over all partners (`partner_id` NULL), over all categories
    (`category` ''), and over both, so a dashboard reads as few rows as its filters need.
    """

    __tablename__ = "figure"
    __table_args__ = (
        # Two covering indexes for the dashboards' reads, answered from an index alone: by
        # months first (sums over many partners, per product) and by level first (one
        # partner's, or the sums over partners and categories).
        sa.Index(
            "ix_figure_level",
            "metric",
            "partner_id",
            "category",
            "month",
            "site_id",
            "product_id",
            "key",
            "currency",
            "count",
            "amount_minor",
        ),
        sa.Index(
            "ix_figure_read",
            "metric",
            "month",
            "site_id",
            "partner_id",
            "category",
            "product_id",
            "key",
            "currency",
            "count",
            "amount_minor",
        ),
        # The sums over categories per partner (the return rate and the scorecard by partner):
        # the level first, so they read those cells and not every partner's per-product ones.
        sa.Index(
            "ix_figure_summed",
            "metric",
            "category",
            "partner_id",
            "month",
            "site_id",
            "key",
            "currency",
            "count",
            "amount_minor",
        ),
        sa.Index("ix_figure_month_site", "month", "site_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM, in the site's time zone
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"))  # None: all
    category: Mapped[str] = mapped_column(sa.String(32), default="")  # '': all
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id"))
    metric: Mapped[str] = mapped_column(sa.String(24))
    key: Mapped[str] = mapped_column(sa.String(48), default="")
    count: Mapped[int] = mapped_column(default=0)
    amount_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), default="")


class FigureRefresh(db.Model):
    """When each site's month of figures was last rebuilt (the dashboards say how fresh)."""

    __tablename__ = "figure_refresh"
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    month: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- master data ------------------------------------------------------------------------------


class ImportStatus(enum.StrEnum):
    """Where a background catalogue import stands."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ProductImport(db.Model):
    """A catalogue CSV imported in the background: its progress and what it refused."""

    __tablename__ = "product_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[ImportStatus] = mapped_column(
        _enum(ImportStatus, "import_status"), default=ImportStatus.QUEUED
    )
    total_rows: Mapped[int] = mapped_column(default=0)
    done_rows: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # the first 200
    problem: Mapped[str] = mapped_column(sa.Text, default="")  # why the whole file failed
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(120), default="")
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    partner: Mapped[Partner | None] = relationship()


# --- EU law: the ESPR destruction ban -------------------------------------------------------


class Derogation(enum.StrEnum):
    """Why destroying an apparel or footwear unit is allowed after all (Regulation (EU)
    2024/1781 Art. 25(5): the cases its delegated act lists)."""

    SAFETY = "safety"  # a health, hygiene or safety risk
    DAMAGED = "damaged"  # damage that cannot be repaired at a reasonable cost
    UNFIT = "unfit"  # unfit for its intended purpose, even after repair
    DONATION_REFUSED = "donation_refused"  # offered for donation and refused
    NOT_REUSABLE = "not_reusable"  # unsuitable for preparing for reuse or remanufacturing
    INFRINGING = "infringing"  # counterfeit or infringing intellectual property
    LEAST_IMPACT = "least_impact"  # destruction is the option of least environmental impact


class DestructionException(db.Model):
    """A supervisor's record that a returned apparel or footwear unit may be destroyed, why,
    and the evidence (a photo of the unit and/or a note)."""

    __tablename__ = "destruction_exception"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), unique=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    derogation: Mapped[Derogation] = mapped_column(_enum(Derogation, "derogation"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    photo_id: Mapped[int | None] = mapped_column(sa.ForeignKey("unit_photo.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(sa.String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    unit: Mapped[Unit] = relationship()
    photo: Mapped[UnitPhoto | None] = relationship()


# --- EU law: the withdrawal function --------------------------------------------------------


class Withdrawal(db.Model):
    """A customer's withdrawal from a distance contract (Directive 2011/83/EU Art. 9 and 11a):
    when the notice was given, through which channel, for which lines, and what the customer
    said. The notice starts the 14-day clocks of Art. 13(1) (refund) and 14(1) (goods back)."""

    __tablename__ = "withdrawal"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id"), index=True)
    notified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    notified_on: Mapped[dt.date]  # in the site's time zone
    channel: Mapped[str] = mapped_column(sa.String(40))  # customer_page, or the API channel
    statement: Mapped[str] = mapped_column(sa.Text, default="")
    lines: Mapped[list[dict]] = mapped_column(sa.JSON, default=list)  # order line, quantity

    order: Mapped[Order] = relationship()


# --- EU law: remedies beyond refund and refused returns --------------------------------------


class ParcelPurpose(enum.StrEnum):
    """Why the warehouse sends a parcel to a customer."""

    REPAIR = "repair"  # their own item, repaired (Directive 2019/771 Art. 13(2), 14)
    REPLACEMENT = "replacement"  # a new one of the same product (Art. 13(2), 14)
    EXCHANGE = "exchange"  # another variant of the partner's product, instead of a refund
    REJECTED = "rejected"  # their own item: the refund was refused, the goods are theirs


class ParcelStatus(enum.StrEnum):
    """Where an outgoing customer parcel stands."""

    WAITING = "waiting"  # to repair / pick, label and pack
    SHIPPED = "shipped"


class CustomerParcel(db.Model):
    """A parcel from the warehouse to a customer: a repaired, replacement, exchanged or refused
    item. `unit_id` is the returned unit it answers; `product_id` what goes in the box."""

    __tablename__ = "customer_parcel"
    __table_args__ = (sa.Index("ix_customer_parcel_site_status", "site_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    purpose: Mapped[ParcelPurpose] = mapped_column(_enum(ParcelPurpose, "parcel_purpose"))
    status: Mapped[ParcelStatus] = mapped_column(
        _enum(ParcelStatus, "parcel_status"), default=ParcelStatus.WAITING
    )
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), unique=True)
    return_id: Mapped[int] = mapped_column(sa.ForeignKey("return_request.id"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id"), index=True)
    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partner.id"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    ship_to: Mapped[str] = mapped_column(sa.Text)  # the customer's address when it was made
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    tracking_number: Mapped[str | None] = mapped_column(sa.String(64))
    repair_note: Mapped[str] = mapped_column(sa.Text, default="")
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    shipped_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    unit: Mapped[Unit] = relationship()
    product: Mapped[Product] = relationship()
    order: Mapped[Order] = relationship()
    return_request: Mapped[ReturnRequest] = relationship()
    partner: Mapped[Partner] = relationship()
    site: Mapped[Site] = relationship()

    @property
    def own_item(self) -> bool:
        """Whether the box holds the returned unit itself (repaired, or refused), not stock."""
        return self.purpose in (ParcelPurpose.REPAIR, ParcelPurpose.REJECTED)


# --- The marketplace hears without polling: signed webhooks per sales channel ----------------


class WebhookEndpoint(db.Model):
    """Where a sales channel (the marketplace, a shop) wants to hear of return events, signed
    with its own secret (HMAC-SHA256)."""

    __tablename__ = "webhook_endpoint"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(40), index=True)
    url: Mapped[str] = mapped_column(sa.String(500))
    secret: Mapped[str] = mapped_column(sa.String(64))
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(120), default="")


class WebhookDelivery(db.Model):
    """One event for one endpoint: what was sent and how each attempt went (the delivery log)."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (sa.Index("ix_webhook_delivery_endpoint", "endpoint_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoint.id"))
    event: Mapped[str] = mapped_column(sa.String(48))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    endpoint: Mapped[WebhookEndpoint] = relationship()


class SalesChannel(db.Model):
    """A channel the marketplace sells through (eBay, its own shop, a B2B outlet, ...): where
    resale listings go (the default one) and whose sales it reports back."""

    __tablename__ = "sales_channel"
    code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    resale_default: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
