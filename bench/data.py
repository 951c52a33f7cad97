"""A warehouse at scale for measuring: `flask --app wsgi bench-data --units N`.

It fills an empty database with a year of a returns centre: partners and their catalogue,
delivered orders (about three per returned unit), returns at every stage with their units and
events, partner cases, resale listings and the ledger, then builds the dashboards' monthly
figures. Rows go in with bulk inserts a chunk at a time (no ORM objects), with ids assigned
here, so the same seed always gives the same database.

The shape follows the flow the stations write: a return is announced, arrives two to five days
later, is graded within hours to three days, routed, and closed once its refund is decided.
Returns of the last days are still on their way or in the building (the backlog an overview
shows); a few cases wait for their partner.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import figures, ledger
from warehouse.codes import ALPHABET, check_symbol
from warehouse.db import bulk_insert
from warehouse.deadlines import local_date
from warehouse.errors import Conflict
from warehouse.models import (
    Case,
    CaseStatus,
    Category,
    Disposition,
    Event,
    Grade,
    LedgerEntry,
    Listing,
    ListingStatus,
    Location,
    LocationKind,
    Order,
    OrderLine,
    Partner,
    Placement,
    Product,
    ProductPrice,
    Reason,
    RefundState,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Role,
    Shipment,
    Unit,
    UnitStatus,
    User,
)
from warehouse.reference import ensure_countries, ensure_site

CHUNK = 20_000  # returns per bulk insert
ORDERS_PER_RETURN = 3  # one returned, two kept: a return rate of about a third
DAYS = 365
UTC = dt.UTC

GRADES = (
    (Grade.NEW, 40),
    (Grade.OPENED, 20),
    (Grade.USED, 20),
    (Grade.LIGHT_DAMAGE, 8),
    (Grade.HEAVY_DAMAGE, 5),
    (Grade.DEFECTIVE, 7),
)
REASONS = (
    (Reason.CHANGED_MIND, 35),
    (Reason.WRONG_SIZE, 25),
    (Reason.NOT_AS_DESCRIBED, 12),
    (Reason.DEFECTIVE, 10),
    (Reason.DAMAGED_ON_ARRIVAL, 6),
    (Reason.WRONG_ITEM_SENT, 4),
    (Reason.OTHER, 8),
)
ROUTE_OF = {
    Grade.NEW: Disposition.RESTOCK,
    Grade.OPENED: Disposition.RESTOCK,
    Grade.USED: Disposition.RESALE,
    Grade.LIGHT_DAMAGE: Disposition.RESALE,
    Grade.HEAVY_DAMAGE: Disposition.RTV,
    Grade.DEFECTIVE: Disposition.DESTROY,
}
DEDUCTION_BP = {Grade.USED: 1000, Grade.LIGHT_DAMAGE: 3000, Grade.HEAVY_DAMAGE: 5000}
COMMISSION_BP = 1000  # the partners' default rate (SPEC 2: 5-20 %)
COUNTRIES = (("NL", "EUR", "nl"), ("DE", "EUR", "de"), ("BE", "EUR", "nl"), ("FR", "EUR", "fr"))


# The tables a chunk fills, in the order their rows go in (foreign keys first).
CHUNK_MODELS = (
    Order,
    Shipment,
    OrderLine,
    ReturnRequest,
    ReturnLine,
    Unit,
    Placement,
    Event,
    Case,
    Listing,
    LedgerEntry,
)
BIN_CAPACITY = 500


def _code(number: int, length: int) -> str:
    """The `number`-th code of `length` symbols plus its check symbol, skipping bodies whose
    check symbol would be punctuation (as `warehouse.codes` does for random ones): of every 37
    consecutive bodies the 33 with a letter or digit check are used, in order."""
    rest = number % 33
    value = (number // 33) * 37 + (rest if rest < 32 else 36)
    symbols = []
    for _ in range(length):
        value, digit = divmod(value, len(ALPHABET))
        symbols.append(ALPHABET[digit])
    body = "".join(reversed(symbols))
    return body + check_symbol(body)


def _weighted(rng: random.Random, table) -> object:
    return rng.choices([value for value, _ in table], [weight for _, weight in table])[0]


class _Ids:
    """The next free id of each table (the database may hold reference rows already)."""

    def __init__(self, session: Session, models) -> None:
        self.next = {
            model: (session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1 for model in models
        }

    def take(self, model) -> int:
        value = self.next[model]
        self.next[model] = value + 1
        return value


def generate(
    session: Session,
    *,
    units: int,
    seed: int = 1,
    today: dt.date | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, int]:
    """Fill an empty database with about `units` returned units (and everything around them);
    commits chunk by chunk and answers how many rows each table got."""
    if session.scalar(sa.select(sa.func.count()).select_from(Order)):
        raise Conflict("the database has orders already: bench data goes into an empty one")
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    started = time.monotonic()
    site = ensure_site(session)
    ensure_countries(session, site)
    today = today or local_date(dt.datetime.now(UTC), site.timezone)
    now = dt.datetime.combine(today, dt.time(17, 0), UTC)

    partner_count = max(5, min(200, units // 20_000))
    partners = []
    for n in range(partner_count):
        partner = Partner(
            code=f"B{n:03d}",
            name=f"Bench partner {n}",
            contact_email=f"partner{n}@bench.example",
            refund_deduction_bp={g.value: bp for g, bp in DEDUCTION_BP.items()},
            resale_discount_bp={"opened": 1000, "used": 2500, "light_damage": 4000},
            commission_rate_bp=COMMISSION_BP,
        )
        session.add(partner)
        partners.append(partner)
    operators = []
    for n in range(20):
        user = User(
            email=f"operator{n}@bench.example",
            name=f"Operator {n}",
            password_hash="!",  # noqa: S106 - no hash matches: these operators cannot log in
            role=Role.OPERATOR,
            site=site,
        )
        session.add(user)
        operators.append(user)
    session.flush()

    product_rows, price_rows = [], []
    ids = _Ids(session, (Product,))
    categories = list(Category)
    products = []  # (id, partner_id, price_minor)
    for n in range(max(20, units // 200)):
        partner = partners[n % partner_count]
        product_id = ids.take(Product)
        price = rng.choice((1499, 2499, 3999, 4999, 7999, 12999, 24999))
        gtin12 = f"87{n:010d}"
        product_rows.append(
            {
                "id": product_id,
                "partner_id": partner.id,
                "sku": f"{partner.code}-{n:06d}",
                "gtin": gtin12 + _gtin_check(gtin12),
                "title": f"Bench product {n}",
                "category": categories[n % len(categories)],
                "stock": 0,
            }
        )
        price_rows.append(
            {
                "product_id": product_id,
                "currency": "EUR",
                "price_minor": price,
                "min_price_minor": price // 5,
            }
        )
        products.append((product_id, partner.id, price))
    session.execute(sa.insert(Product), product_rows)
    session.execute(sa.insert(ProductPrice), price_rows)
    session.commit()

    _add_bins(session, site, max(20, units // 5_000))
    bins = _bins(session, site)
    ids = _Ids(session, CHUNK_MODELS)
    counts = dict.fromkeys(
        ("orders", "returns", "units", "events", "cases", "listings", "ledger"), 0
    )
    returns_wanted = max(1, round(units / 1.15))
    made = 0
    with keys_checked_after(session, CHUNK_MODELS, echo):
        while made < returns_wanted:
            batch = min(CHUNK, returns_wanted - made)
            rows = _chunk(rng, ids, batch, made, products, operators, site, bins, today, now)
            insert_rows(session, rows)
            session.commit()
            made += batch
            counts["orders"] += len(rows[Order])
            counts["returns"] += len(rows[ReturnRequest])
            counts["units"] += len(rows[Unit])
            counts["events"] += len(rows[Event])
            counts["cases"] += len(rows[Case])
            counts["listings"] += len(rows[Listing])
            counts["ledger"] += len(rows[LedgerEntry])
            echo(
                f"{counts['units']:>10} units, {counts['orders']:>10} orders "
                f"({time.monotonic() - started:.0f} s)"
            )
    _sync_sequences(session, (Product, *CHUNK_MODELS))
    session.commit()

    loaded = time.monotonic()
    for month in figures.months_between(
        figures.month_key(today - dt.timedelta(days=DAYS + 30)), figures.month_key(today)
    ):
        figures.refresh_month(session, site, month, now=now)
        session.commit()
    echo(f"figures built in {time.monotonic() - loaded:.0f} s")
    return counts


def fill(
    session: Session, *, units: int, seed: int = 1, echo: Callable[[str], None] = print
) -> dict[str, int]:
    """What `bench-data` does: `generate`, then on PostgreSQL a vacuum, as autovacuum leaves
    a database that has been running. A bulk load leaves no visibility map (every index-only
    read would go to the table) and stale statistics (PostgreSQL's advice after populating a
    database). The vacuum runs on a connection of its own, outside any transaction, so
    `generate` must have committed."""
    started = time.monotonic()
    counts = generate(session, units=units, seed=seed, echo=echo)
    if session.get_bind().dialect.name == "postgresql":
        vacuumed = time.monotonic()
        with session.get_bind().engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM (ANALYZE, TRUNCATE false)"
            )
        echo(f"vacuumed and analysed in {time.monotonic() - vacuumed:.0f} s")
    echo(f"{time.monotonic() - started:.0f} s in all")
    return counts


@contextlib.contextmanager
def keys_checked_after(session: Session, models, echo: Callable[[str], None] = print):
    """On PostgreSQL, `models`' foreign keys are dropped while the block loads rows and are
    added back after it: PostgreSQL then checks each key once over its whole table, where a
    key in place runs a look-up for every row that goes in (100,000 units: 49 s of load
    instead of 100). A row the block leaves dangling makes the adding fail with an
    IntegrityError. The block commits as it likes; on an error it is rolled back and the keys
    still go back. Elsewhere (SQLite) nothing changes."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    keys = [key for model in models for key in model.__table__.foreign_key_constraints]
    for key in keys:
        session.execute(sa.schema.DropConstraint(key))
    session.commit()
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    finally:
        checked = time.monotonic()
        for key in keys:
            session.execute(sa.schema.AddConstraint(key))
        session.commit()
        echo(f"{len(keys)} foreign keys checked in {time.monotonic() - checked:.0f} s")


def _add_bins(session: Session, site, per_kind: int) -> None:
    """`per_kind` bins of every kind at the site (RTV pallets open to any partner)."""
    rows = [
        {
            "site_id": site.id,
            "code": f"BIN-{kind.value.upper().replace('_', '-')}-{n:04d}",
            "name": f"{kind.value} {n}",
            "kind": kind,
            "capacity": BIN_CAPACITY,
            "partner_id": None,
            "active": True,
        }
        for kind in LocationKind
        for n in range(1, per_kind + 1)
    ]
    session.execute(sa.insert(Location), rows)


def _bins(session: Session, site) -> dict[LocationKind, list[tuple[int, str]]]:
    """The site's bins by kind: (id, code), in the order they were made."""
    found: dict[LocationKind, list[tuple[int, str]]] = {kind: [] for kind in LocationKind}
    for location_id, kind, code in session.execute(
        sa.select(Location.id, Location.kind, Location.code)
        .where(Location.site_id == site.id)
        .order_by(Location.id)
    ):
        found[kind].append((location_id, code))
    return found


def insert_rows(session: Session, rows: dict) -> None:
    """Bulk-insert rows per model, in the dict's order (foreign keys first), with COPY on
    PostgreSQL (`warehouse.db.bulk_insert`). Whatever the session holds unflushed goes in
    first."""
    session.flush()
    for model, table_rows in rows.items():
        bulk_insert(session, model.__table__, table_rows)


QUEUE_STAGES = ("announced", "received", "graded", "kept")


def work_queue(
    session: Session, *, count: int, seed: int = 2, now: dt.datetime | None = None
) -> dict[str, list[dict]]:
    """Today's work on top of a generated warehouse, `count` of each: parcels on their way
    (announced), units waiting for a grade (received), units graded as new waiting for their
    bin (graded), and delivered orders nobody returned yet (kept, three per count). Each
    request of a write scan in `make bench` takes one of them. Answers per stage what a
    station scans: `rma`, `rma_id`, `gtin`; `unit_id`, `lpn`, `bin` (a restock bin with room);
    `order`, `line_id`, `quantity`."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    site = ensure_site(session)
    now = now or dt.datetime.now(UTC).replace(microsecond=0)
    today = local_date(now, site.timezone)
    operators = session.scalars(sa.select(User).where(User.role == Role.OPERATOR)).all()
    products, gtins = [], {}
    for product_id, partner_id, price, gtin in session.execute(
        sa.select(Product.id, Product.partner_id, ProductPrice.price_minor, Product.gtin)
        .join(ProductPrice, ProductPrice.product_id == Product.id)
        .where(ProductPrice.currency == "EUR")
        .order_by(Product.id)
    ):
        products.append((product_id, partner_id, price))
        gtins[product_id] = gtin
    orders = session.scalar(sa.select(sa.func.count()).select_from(Order)) or 0
    first = orders // ORDERS_PER_RETURN + 1
    bins = _bins(session, site)
    restock = [code for _id, code in bins[LocationKind.RESTOCK]]
    ids = _Ids(session, CHUNK_MODELS)
    made: dict[str, list[dict]] = {}
    for index, stage in enumerate(QUEUE_STAGES):
        rows = _chunk(
            rng,
            ids,
            count,
            first + index * count,
            products,
            operators,
            site,
            bins,
            today,
            now,
            stage,
        )
        insert_rows(session, rows)
        if stage == "kept":
            numbers = {row["id"]: row["number"] for row in rows[Order]}
            made[stage] = [
                {"order": numbers[row["order_id"]], "line_id": row["id"], "quantity": 1}
                for row in rows[OrderLine]
            ]
        elif stage == "announced":
            product_of = {row["id"]: row["product_id"] for row in rows[OrderLine]}
            line_of = {row["return_id"]: row["order_line_id"] for row in rows[ReturnLine]}
            made[stage] = [
                {
                    "rma": row["rma"],
                    "rma_id": row["id"],
                    "gtin": gtins[product_of[line_of[row["id"]]]],
                }
                for row in rows[ReturnRequest]
            ]
        else:  # a graded unit goes to one of the restock bins, spread over all of them
            made[stage] = [
                {"unit_id": row["id"], "lpn": row["lpn"], "bin": restock[i % len(restock)]}
                for i, row in enumerate(rows[Unit])
            ]
    _sync_sequences(session, CHUNK_MODELS)
    session.commit()
    return made


def _gtin_check(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _chunk(rng, ids, count, first, products, operators, site, bins, today, now, stage=None):
    """`count` returns (and the orders around them) as rows per table: of any age and stage,
    or all at `stage` today (`QUEUE_STAGES`; "kept" makes the orders without a return)."""
    rows: dict = {model: [] for model in CHUNK_MODELS}
    for n in range(first, first + count):
        product_id, partner_id, price = products[rng.randrange(len(products))]
        country, currency, language = COUNTRIES[n % len(COUNTRIES)]
        age_days = rng.random() * DAYS if stage is None else 3 / 24
        announced_at = now - dt.timedelta(days=age_days)
        delivered_at = announced_at - dt.timedelta(days=rng.uniform(1, 12))
        quantity = 2 if rng.random() < 0.15 else 1
        order_id = None
        for kept in range(ORDERS_PER_RETURN):
            order_id = ids.take(Order)
            shipment_id = ids.take(Shipment)
            line_id = ids.take(OrderLine)
            number = n * ORDERS_PER_RETURN + kept
            placed = delivered_at - dt.timedelta(days=2, hours=kept)
            rows[Order].append(
                {
                    "id": order_id,
                    "number": f"BN-{number:09d}",
                    "channel": "marketplace",
                    "customer_name": f"Customer {number % 250_000}",
                    "customer_email": f"customer{number % 250_000}@bench.example",
                    "customer_postcode": "1011 AB",
                    "customer_address": "",
                    "country_code": country,
                    "currency": currency,
                    "language": language,
                    "placed_at": placed,
                    "withdrawal_informed": True,
                }
            )
            rows[Shipment].append(
                {
                    "id": shipment_id,
                    "order_id": order_id,
                    "partner_id": partner_id,
                    "tracking_number": f"3SBN{number:010d}",
                    "carrier": "postnl",
                    "delivered_at": delivered_at - dt.timedelta(hours=kept),
                }
            )
            rows[OrderLine].append(
                {
                    "id": line_id,
                    "order_id": order_id,
                    "shipment_id": shipment_id,
                    "product_id": product_id,
                    "quantity": quantity,
                    "unit_price_minor": price,
                    "serial_numbers": [],
                }
            )
        if stage == "kept":
            continue
        # The last of the three orders comes back.
        _return(
            rng,
            ids,
            rows,
            n,
            order_id,
            shipment_id,
            line_id,
            product_id,
            partner_id,
            price,
            currency,
            quantity,
            announced_at,
            operators,
            site,
            bins,
            today,
            now,
            stage,
        )
    return rows


def _event(rows, ids, kind, at, subject_type, subject_id, site, partner_id, actor, before, after):
    rows[Event].append(
        {
            "id": ids.take(Event),
            "at": at,
            "kind": kind,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "actor_id": actor.id if actor else None,
            "actor_label": actor.email if actor else "customer",
            "station": None,
            "site_id": site.id,
            "partner_id": partner_id,
            "before": before,
            "after": after,
            "data": {},
        }
    )


def _return(
    rng,
    ids,
    rows,
    n,
    order_id,
    shipment_id,
    line_id,
    product_id,
    partner_id,
    price,
    currency,
    quantity,
    announced_at,
    operators,
    site,
    bins,
    today,
    now,
    stage=None,
):
    return_id = ids.take(ReturnRequest)
    return_line_id = ids.take(ReturnLine)
    announced_on = announced_at.date()
    received_at = announced_at + dt.timedelta(days=rng.uniform(2, 5))
    if stage in ("received", "graded"):
        received_at = now - dt.timedelta(hours=1)
    arrived = received_at <= now
    received_on = received_at.date() if arrived else None
    refund_due = max(announced_on + dt.timedelta(days=14), received_on) if arrived else None
    reason = _weighted(rng, REASONS)
    rows[ReturnLine].append(
        {
            "id": return_line_id,
            "return_id": return_id,
            "order_line_id": line_id,
            "quantity": quantity,
            "reason": reason,
            "comment": "",
            "missing_quantity": 0,
        }
    )
    _event(
        rows,
        ids,
        "return.announced",
        announced_at,
        "return",
        return_id,
        site,
        partner_id,
        None,
        None,
        "announced",
    )
    all_closed = arrived
    closed_at = None
    for slot in range(1, quantity + 1 if arrived else 1):
        unit_id = ids.take(Unit)
        operator = operators[rng.randrange(len(operators))]
        graded_at = received_at + dt.timedelta(hours=rng.uniform(0.2, 72))
        routed_at = graded_at + dt.timedelta(hours=rng.uniform(0.1, 30))
        grade = _weighted(rng, GRADES)
        if stage == "received":
            graded_at = now + dt.timedelta(hours=1)
        elif stage == "graded":  # as new, refunded in full: waiting for its restock bin
            graded_at = now - dt.timedelta(minutes=30)
            routed_at, grade = now + dt.timedelta(hours=1), Grade.NEW
        unit = {
            "id": unit_id,
            "lpn": "LP" + _code(n * 2 + slot, 8),
            "return_id": return_id,
            "return_line_id": return_line_id,
            "product_id": product_id,
            "partner_id": partner_id,
            "site_id": site.id,
            "slot": slot,
            "status": UnitStatus.RECEIVED,
            "exception": None,
            "serial_number": None,
            "serial_mismatch": False,
            "quarantined": False,
            "received_at": received_at,
            "received_by_id": operator.id,
            "received_station": "receive",
            "grade": None,
            "checklist": {},
            "notes": "",
            "graded_at": None,
            "refund_state": None,
            "refund_minor": None,
            "refund_decided_at": None,
            "refund_paid_at": None,
            "refund_paid_by": None,
            "disposition": None,
            "routed_at": None,
            "closed_at": None,
        }
        _event(
            rows,
            ids,
            "unit.received",
            received_at,
            "unit",
            unit_id,
            site,
            partner_id,
            operator,
            None,
            "received",
        )
        if graded_at <= now:
            unit.update(status=UnitStatus.GRADED, grade=grade, graded_at=graded_at)
            _event(
                rows,
                ids,
                "unit.graded",
                graded_at,
                "unit",
                unit_id,
                site,
                partner_id,
                operator,
                "received",
                grade.value,
            )
            deduction = DEDUCTION_BP.get(grade, 0)
            refund = price - price * deduction // 10_000
            waits_for_partner = deduction > 0
            decided_at = graded_at + dt.timedelta(hours=rng.uniform(1, 120))
            if waits_for_partner:
                case_open = decided_at > now
                rows[Case].append(
                    {
                        "id": ids.take(Case),
                        "unit_id": unit_id,
                        "partner_id": partner_id,
                        "return_id": return_id,
                        "status": CaseStatus.OPEN if case_open else CaseStatus.APPROVED,
                        "grounds": [f"graded {grade.value}"],
                        "currency": currency,
                        "original_minor": price,
                        "proposed_minor": refund,
                        "approved_minor": None if case_open else refund,
                        "decision_reason": "",
                        "refund_due_on": refund_due,
                        "opened_at": graded_at,
                        "decided_at": None if case_open else decided_at,
                        "decided_by": None if case_open else f"partner{partner_id}@bench.example",
                        "decided_via": None if case_open else rng.choice(("link", "portal")),
                    }
                )
            else:
                decided_at, case_open = graded_at, False
            if not case_open:
                unit.update(
                    refund_state=RefundState.APPROVED,
                    refund_minor=refund,
                    refund_decided_at=decided_at,
                )
                paid_at = decided_at + dt.timedelta(hours=rng.uniform(1, 30))
                if paid_at <= now:  # the partner pays within the day or so
                    unit.update(refund_paid_at=paid_at, refund_paid_by="partner")
                credit = ledger.commission_credit(refund, COMMISSION_BP)
                for kind, amount in (
                    (ledger.REFUND_BY_PARTNER, -refund),
                    (ledger.COMMISSION_CREDIT, credit),
                ):
                    rows[LedgerEntry].append(
                        {
                            "id": ids.take(LedgerEntry),
                            "partner_id": partner_id,
                            "kind": kind,
                            "amount_minor": amount,
                            "currency": currency,
                            "return_id": return_id,
                            "unit_id": unit_id,
                            "booked_on": decided_at.date(),
                            "created_at": decided_at,
                            "memo": "",
                        }
                    )
            else:
                unit.update(refund_state=RefundState.OPEN, refund_minor=refund)
            if routed_at <= now:
                disposition = ROUTE_OF[grade]
                unit.update(
                    status=UnitStatus.ROUTED, disposition=disposition.value, routed_at=routed_at
                )
                _event(
                    rows,
                    ids,
                    "unit.routed",
                    routed_at,
                    "unit",
                    unit_id,
                    site,
                    partner_id,
                    operator,
                    grade.value,
                    disposition.value,
                )
                kind = LocationKind(disposition.value)
                rows[Placement].append(
                    {
                        "id": ids.take(Placement),
                        "unit_id": unit_id,
                        "location_id": bins[kind][unit_id % len(bins[kind])][0],
                        "disposition": disposition,
                        "rule_id": None,
                        "placed_at": routed_at,
                        "placed_month": local_date(routed_at, site.timezone).strftime("%Y-%m"),
                        "placed_by_id": operator.id,
                        "left_at": None,  # set below once the unit leaves with its close
                    }
                )
                if disposition == Disposition.RESALE:
                    listed_price = price * 7 // 10
                    sold = routed_at + dt.timedelta(days=rng.uniform(1, 40))
                    rows[Listing].append(
                        {
                            "id": ids.take(Listing),
                            "unit_id": unit_id,
                            "partner_id": partner_id,
                            "channel": "ebay",
                            "language": "en",
                            "title": f"Bench product, {grade.value}",
                            "condition_id": 3000,
                            "condition_description": grade.value,
                            "original_minor": price,
                            "discount_bp": 3000,
                            "price_minor": listed_price,
                            "currency": currency,
                            "created_at": routed_at,
                            "status": ListingStatus.SOLD if sold <= now else ListingStatus.LISTED,
                            "sold_at": sold if sold <= now else None,
                            "sold_minor": listed_price if sold <= now else None,
                        }
                    )
                if not case_open:
                    closed = max(routed_at, decided_at)
                    if closed <= now:
                        unit.update(status=UnitStatus.CLOSED, closed_at=closed)
                        rows[Placement][-1]["left_at"] = closed
                        closed_at = max(closed_at or closed, closed)
        if unit["status"] != UnitStatus.CLOSED:
            all_closed = False
        rows[Unit].append(unit)
    if not arrived:
        status = ReturnStatus.ANNOUNCED
    elif all_closed:
        status = ReturnStatus.CLOSED
    else:
        status = ReturnStatus.RECEIVED
    rows[ReturnRequest].append(
        {
            "id": return_id,
            "rma": "RMA-" + _code(n, 6),
            "order_id": order_id,
            "shipment_id": shipment_id,
            "partner_id": partner_id,
            "site_id": site.id,
            "status": status,
            "source": "customer",
            "unannounced": False,
            "return_tracking_number": f"3SRT{n:010d}",
            "customer_comment": "",
            "announced_at": announced_at,
            "announced_on": announced_on,
            "received_at": received_at if arrived else None,
            "received_on": received_on,
            "closed_at": closed_at if status == ReturnStatus.CLOSED else None,
            "parcel_damaged": False,
            "receipt_closed_at": received_at if arrived else None,
            "refund_due_on": refund_due,
            "refund_alerted_on": None,
        }
    )


def _sync_sequences(session: Session, models) -> None:
    """PostgreSQL's id sequences past the ids given here (SQLite needs nothing)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        highest = session.scalar(sa.select(sa.func.max(model.id))) or 1
        session.execute(
            sa.text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :highest)"),
            {"table": f'"{model.__table__.name}"', "highest": highest},
        )
