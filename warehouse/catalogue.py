"""The catalogue: partners' products with a price and a resale min-price floor per currency.

Products are upserted by partner + SKU: a new SKU is created, a known one updated (title, GTIN,
category, weight, serial tracking, and the prices given; prices in other currencies stay). The
same checks hold for the API's bulk upsert and the CSV import: a GTIN with a correct check
digit, not used by another product of the same partner; prices only in the partner's currencies;
a floor not above its price.

**A CSV import keeps the good rows.** A catalogue of 100 000 rows is not held back by one typo: a
bad row is reported (row number and column) and left out, every other row goes in, and importing
the corrected file again only changes what differs. A problem with the file itself (not UTF-8, a
missing or unknown column, more than `MAX_ROWS` rows) refuses the whole file before any row is
read. The API's bulk upsert is a single request: one bad product refuses the request whole.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy.orm import Session, selectinload

from warehouse import codes, events
from warehouse.csvfiles import read_csv
from warehouse.db import utcnow
from warehouse.errors import DomainError, InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.jobs import job_kind
from warehouse.models import (
    Category,
    ImportStatus,
    Partner,
    Product,
    ProductImport,
    ProductPrice,
)
from warehouse.money import MINOR_DIGITS, Currency, MoneyError, parse_amount
from warehouse.outbox import enqueue
from warehouse.validation import Input, Text, code_of, validated

MAX_ROWS = 200_000  # per CSV file
MAX_BATCH = 1000  # products per API request
CHUNK = 1000  # rows per transaction of a background import (and per progress step)
ERRORS_KEPT = 200
MAX_PRICE_MINOR = 10**10

PRICE_COLUMNS = tuple(
    f"{kind}_{currency.lower()}" for currency in MINOR_DIGITS for kind in ("price", "min_price")
)
COLUMNS = (
    "partner",
    "sku",
    "gtin",
    "title",
    "category",
    "weight_grams",
    "serial_tracked",
    "style",
    *PRICE_COLUMNS,
)
REQUIRED = ("sku", "gtin", "title", "category")
_TRUE = {"1", "true", "yes", "y", "ja", "oui", "x"}
_FALSE = {"", "0", "false", "no", "n", "nee", "nein", "non"}


class PriceFields(Input):
    """A list price and the lowest price it may be resold at, in one currency."""

    currency: code_of(Currency)
    price_minor: int = Field(ge=0, le=MAX_PRICE_MINOR)
    min_price_minor: int = Field(0, ge=0, le=MAX_PRICE_MINOR)

    @field_validator("min_price_minor", mode="after")
    @classmethod
    def _floor_below_price(cls, value: int, info: ValidationInfo) -> int:
        price = info.data.get("price_minor")
        if price is not None and value > price:
            raise ValueError(
                _("the floor (%(floor)s) is above the price (%(price)s)", floor=value, price=price)
            )
        return value


class ProductFields(Input):
    """One product of a partner's catalogue (upserted by partner + SKU)."""

    partner: Text(32) = Field(description="The partner's code (a partner token: its own)")
    sku: Text(64)
    gtin: Text(14) = Field(description="EAN-8, UPC-A, EAN-13 or GTIN-14 with its check digit")
    title: Text(200)
    category: code_of(Category, lower=True)
    weight_grams: int | None = Field(None, ge=0, le=1_000_000)
    serial_tracked: bool = Field(False, description="Receiving scans each unit's serial")
    style: Text(64) | None = Field(
        None, description="Style code the product's sizes and colours share (for exchanges)"
    )
    prices: list[PriceFields] = Field(min_length=1, max_length=len(MINOR_DIGITS))

    @field_validator("partner", mode="after")
    @classmethod
    def _partner_upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("gtin", mode="after")
    @classmethod
    def _gtin(cls, value: str) -> str:
        if not codes.is_gtin(value):
            if codes.looks_like_gtin(value):
                raise ValueError(_("%(gtin)s has a wrong check digit", gtin=value))
            raise ValueError(_("%(gtin)s is not a GTIN (8, 12, 13 or 14 digits)", gtin=repr(value)))
        return value

    @field_validator("prices", mode="after")
    @classmethod
    def _one_price_per_currency(cls, value: list[PriceFields]) -> list[PriceFields]:
        seen = [str(price.currency) for price in value]
        for currency in seen:
            if seen.count(currency) > 1:
                raise ValueError(_("two prices in %(currency)s", currency=currency))
        return value


@dataclass
class Upserted:
    """What a batch of products did."""

    created: list[Product] = field(default_factory=list)
    updated: list[Product] = field(default_factory=list)
    unchanged: list[Product] = field(default_factory=list)


class _Catalogue:
    """The partners and products a batch touches, loaded a chunk at a time (five queries)."""

    def __init__(self, session: Session, items: list[ProductFields], partner_id: int | None):
        self.session = session
        wanted = {item.partner for item in items}
        self.partners = {
            p.code: p
            for p in session.scalars(sa.select(Partner).where(Partner.code.in_(wanted or [""])))
        }
        if partner_id is not None:  # a partner's own catalogue: other codes do not exist for it
            self.partners = {c: p for c, p in self.partners.items() if p.id == partner_id}
        keys = {(item.partner, item.sku) for item in items}
        ids = [p.id for p in self.partners.values()]
        self.by_sku: dict[tuple[int, str], Product] = {}
        self.by_gtin: dict[tuple[int, str], Product] = {}
        if ids:
            skus = {sku for _code, sku in keys}
            gtins = {item.gtin for item in items}
            # By SKU and by GTIN apart, each through its own index: one query with an OR of
            # the two makes SQLite read all of the partner's products, a chunk of 1 000 rows
            # slower the larger the catalogue.
            for column, values in ((Product.sku, skus), (Product.gtin, gtins)):
                found = session.scalars(
                    sa.select(Product)
                    .where(Product.partner_id.in_(ids), column.in_(values))
                    .options(selectinload(Product.prices))
                )
                for product in found:
                    self.by_sku[(product.partner_id, product.sku)] = product
                    self.by_gtin[(product.partner_id, product.gtin)] = product

    def check(self, item: ProductFields) -> Partner:
        """The item's partner, after the checks that need the database; or DomainError."""
        partner = self.partners.get(item.partner)
        if partner is None:
            raise NotFound(
                _("no partner with code %(partner)s", partner=repr(item.partner)), field="partner"
            )
        for index, price in enumerate(item.prices):
            if str(price.currency) not in (partner.currencies or []):
                raise InvalidInput(
                    _(
                        "%(code)s does not sell in %(currency)s (it sells in %(value)s)",
                        code=partner.code,
                        currency=price.currency,
                        value=", ".join(partner.currencies or []),
                    ),
                    field=f"prices[{index}].currency",
                )
        other = self.by_gtin.get((partner.id, item.gtin))
        if other is not None and other.sku != item.sku:
            raise InvalidInput(
                _(
                    "GTIN %(gtin)s is already product %(sku)s of %(code)s",
                    gtin=item.gtin,
                    sku=other.sku,
                    code=partner.code,
                ),
                field="gtin",
            )
        return partner

    def apply(self, partner: Partner, item: ProductFields) -> tuple[Product, str]:
        """Create or update the product; answers it and 'created', 'updated' or 'unchanged'."""
        product = self.by_sku.get((partner.id, item.sku))
        outcome = "updated"
        if product is None:
            product = Product(partner=partner, sku=item.sku, stock=0)
            product.prices = []
            self.session.add(product)
            outcome = "created"
        before = _fields_of(product) if outcome == "updated" else None
        if product.gtin and product.gtin != item.gtin:
            self.by_gtin.pop((partner.id, product.gtin), None)
        product.gtin = item.gtin
        product.title = item.title
        product.category = item.category
        product.weight_grams = item.weight_grams
        product.serial_tracked = item.serial_tracked
        product.style = item.style or None
        prices = {price.currency: price for price in product.prices}
        for given in item.prices:
            row = prices.get(str(given.currency))
            if row is None:
                product.prices.append(
                    ProductPrice(
                        currency=str(given.currency),
                        price_minor=given.price_minor,
                        min_price_minor=given.min_price_minor,
                    )
                )
            else:
                row.price_minor, row.min_price_minor = given.price_minor, given.min_price_minor
        self.by_sku[(partner.id, item.sku)] = product
        self.by_gtin[(partner.id, item.gtin)] = product
        if before is not None and before == _fields_of(product):
            outcome = "unchanged"
        return product, outcome


def _fields_of(product: Product) -> tuple:
    return (
        product.gtin,
        product.title,
        product.category,
        product.weight_grams,
        product.serial_tracked,
        product.style,
        tuple(sorted((p.currency, p.price_minor, p.min_price_minor) for p in product.prices)),
    )


def upsert_products(
    session: Session,
    actor: events.Actor,
    data: Iterable[dict[str, Any] | ProductFields],
    *,
    partner_id: int | None = None,
) -> Upserted:
    """Create or update every product of `data`, all or none (the first problem is raised,
    its field prefixed with the product's index). Flushes, never commits."""
    items = []
    for index, raw in enumerate(data):
        try:
            items.append(raw if isinstance(raw, ProductFields) else validated(ProductFields, raw))
        except InvalidInput as error:
            raise _at(error, index) from None
    seen: dict[tuple[str, str], int] = {}
    for index, item in enumerate(items):
        key = (item.partner, item.sku)
        if key in seen:
            raise InvalidInput(
                _(
                    "SKU %(sku)s of %(partner)s appears twice (products %(seen)s and %(index)s)",
                    sku=item.sku,
                    partner=item.partner,
                    seen=seen[key],
                    index=index,
                ),
                field=f"[{index}].sku",
            )
        seen[key] = index
    catalogue = _Catalogue(session, items, partner_id)
    done = Upserted()
    for index, item in enumerate(items):
        try:
            partner = catalogue.check(item)
        except DomainError as error:
            raise _at(error, index) from None
        product, outcome = catalogue.apply(partner, item)
        getattr(done, outcome).append(product)
    session.flush()
    if done.created or done.updated:
        events.record(
            session,
            actor,
            "catalogue.upserted",
            done.created[0] if done.created else done.updated[0],
            partner_id=partner_id,
            created=len(done.created),
            updated=len(done.updated),
        )
    return done


def _at(error: DomainError, index: int) -> DomainError:
    """The error with its field placed in the batch: `[3].gtin`."""
    error.field = f"[{index}]" + (f".{error.field}" if error.field else "")
    return error


# --- CSV files -------------------------------------------------------------------------------


def _row_fields(values: dict[str, str], partner_code: str | None) -> dict[str, Any]:
    """The API's product dict from one CSV row (amounts in major units: 49.99)."""
    row: dict[str, Any] = {
        "partner": values.get("partner") or partner_code or "",
        "sku": values.get("sku", ""),
        "gtin": values.get("gtin", ""),
        "title": values.get("title", ""),
        "category": values.get("category", ""),
    }
    weight = values.get("weight_grams", "")
    if weight:
        if not (weight.isascii() and weight.isdigit()):
            raise InvalidInput(
                _("%(weight)s is not a whole number of grams", weight=repr(weight)),
                field="weight_grams",
            )
        row["weight_grams"] = int(weight)
    tracked = values.get("serial_tracked", "").lower()
    if tracked not in _TRUE | _FALSE:
        raise InvalidInput(
            _("%(tracked)s is not yes or no", tracked=repr(tracked)), field="serial_tracked"
        )
    row["serial_tracked"] = tracked in _TRUE
    if values.get("style"):
        row["style"] = values["style"]
    prices = []
    for currency in MINOR_DIGITS:
        price_column, floor_column = f"price_{currency.lower()}", f"min_price_{currency.lower()}"
        price, floor = values.get(price_column, ""), values.get(floor_column, "")
        if not price:
            if floor:
                raise InvalidInput(
                    _("a floor without a price in %(currency)s", currency=currency),
                    field=price_column,
                )
            continue
        try:
            entry = {"currency": currency, "price_minor": parse_amount(price, currency)}
            if floor:
                entry["min_price_minor"] = parse_amount(floor, currency)
        except MoneyError as error:
            raise InvalidInput(str(error), field=price_column if price else floor_column) from None
        prices.append(entry)
    if not prices:
        raise InvalidInput(
            _("give at least one price (price_eur, price_gbp, ...)"), field="price_eur"
        )
    row["prices"] = prices
    return row


def _column_of(field_name: str | None, row: dict[str, Any]) -> str | None:
    """The CSV column a refusal's field came from."""
    if not field_name:
        return None
    name = field_name.split("]", 1)[-1].lstrip(".") if field_name.startswith("[") else field_name
    if name.startswith("prices["):
        index = int(name[7 : name.index("]")])
        currency = row.get("prices", [{}])[index].get("currency", "eur").lower()
        part = name.split(".", 1)[1] if "." in name else "price_minor"
        return f"min_price_{currency}" if part.startswith("min_price") else f"price_{currency}"
    return name


@dataclass
class ImportReport:
    """What a CSV import did: rows in, rows refused (row and column), and file problems."""

    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    refused_rows: int = 0
    file_refused: bool = False

    def add(self, row: int, column: str | None, message: str) -> None:
        """Note a refused row (or, at row 1, a problem with the file)."""
        self.refused_rows += 1
        where = f"row {row}" + (f", column {column}" if column else "")
        self.errors.append(f"{where}: {message}")


def import_products(
    session: Session,
    actor: events.Actor,
    data: bytes,
    record: ProductImport,
    *,
    progress: Callable[[ImportReport, int], None] | None = None,
) -> ImportReport:
    """Import a catalogue CSV (see the module docstring) for the import `record`. With the
    record's partner, rows without a partner column are that partner's and others' rows are
    refused. `progress(report, done)` is called after each chunk, and may commit."""
    partner = record.partner
    report = ImportReport()
    rows, problems = read_csv(data, COLUMNS, REQUIRED, max_rows=MAX_ROWS)
    if problems:
        report.file_refused = True
        for row, column, message in problems:
            report.add(row, column, message)
        report.refused_rows = 0
        return report
    report.total = len(rows)
    seen: dict[tuple[str, str], int] = {}
    for start in range(0, len(rows), CHUNK):
        chunk: list[tuple[int, dict[str, Any], ProductFields]] = []
        for line, values, problem in rows[start : start + CHUNK]:
            if problem:
                report.add(line, None, problem)
                continue
            fields: dict[str, Any] = {}
            try:
                fields = _row_fields(values, partner.code if partner else None)
                item = validated(ProductFields, fields)
            except InvalidInput as error:
                # the column is named already: the message need not repeat the field
                message = error.message.removeprefix(f"{error.field}: ")
                report.add(line, _column_of(error.field, fields), message)
                continue
            key = (item.partner, item.sku)
            if key in seen:
                report.add(line, "sku", f"SKU {item.sku} is also on row {seen[key]}")
                continue
            seen[key] = line
            chunk.append((line, fields, item))
        catalogue = _Catalogue(
            session, [item for _key, _row, item in chunk], partner and partner.id
        )
        for line, fields, item in chunk:
            try:
                found = catalogue.check(item)
            except DomainError as error:
                report.add(line, _column_of(error.field, fields), error.message)
                continue
            _product, outcome = catalogue.apply(found, item)
            setattr(report, outcome, getattr(report, outcome) + 1)
        session.flush()
        if progress is not None:
            progress(report, min(start + CHUNK, len(rows)))
    events.record(
        session,
        actor,
        "catalogue.imported",
        record,
        rows=report.total,
        created=report.created,
        updated=report.updated,
        refused=report.refused_rows,
    )
    return report


# --- in the background ------------------------------------------------------------------------


def new_import(
    session: Session, actor: events.Actor, *, filename: str, partner: Partner | None
) -> ProductImport:
    """Record a catalogue file about to be imported (its file is stored as `stored_name`)."""
    row = ProductImport(
        partner=partner,
        filename=(filename or "catalogue.csv")[:200],
        stored_name=f"{secrets.token_hex(16)}.csv",
        created_by=actor.label[:120],
    )
    session.add(row)
    session.flush()
    return row


def queue_import(session: Session, actor: events.Actor, row: ProductImport) -> None:
    """Queue the import of an uploaded file (the worker runs `run_import`)."""
    enqueue(
        session,
        "import_products",
        {"import_id": row.id, "actor": actor.label},
        f"import-products:{row.id}",
    )


@job_kind("import_products", timeout=3600)
def run_import(job_context, payload: dict) -> str:
    """Import an uploaded catalogue file, committing each chunk with the progress."""
    session = job_context.session
    row = session.get(ProductImport, payload["import_id"])
    if row is None or row.status in (ImportStatus.DONE, ImportStatus.FAILED):
        return "nothing to do"
    path = Path(job_context.settings["INSTANCE_PATH"]) / "imports" / row.stored_name
    actor = events.Actor(label=payload.get("actor") or row.created_by or "import")
    row.status, row.started_at = ImportStatus.RUNNING, utcnow()
    row.done_rows = row.created = row.updated = row.refused = 0
    session.commit()

    def progress(report: ImportReport, done: int) -> None:
        row.total_rows, row.done_rows = report.total, done
        row.created, row.updated, row.refused = report.created, report.updated, report.refused_rows
        row.errors = report.errors[:ERRORS_KEPT]
        session.commit()

    try:
        data = path.read_bytes()
    except OSError:
        row.status, row.problem = ImportStatus.FAILED, "the uploaded file is gone"
        row.finished_at = utcnow()
        return row.problem
    report = import_products(session, actor, data, row, progress=progress)
    finish(row, report)
    return f"{report.created} created, {report.updated} updated, {report.refused_rows} refused"


def finish(row: ProductImport, report: ImportReport) -> None:
    """Write the import's outcome on its record."""
    row.total_rows, row.done_rows = report.total, report.total
    row.created, row.updated, row.refused = report.created, report.updated, report.refused_rows
    row.errors = report.errors[:ERRORS_KEPT]
    if report.file_refused:
        row.status, row.problem = ImportStatus.FAILED, "; ".join(report.errors[:5])
    else:
        row.status = ImportStatus.DONE
    row.finished_at = utcnow()


def elapsed(row: ProductImport) -> dt.timedelta | None:
    """How long the import ran (so far)."""
    if row.started_at is None:
        return None
    return (row.finished_at or utcnow()) - row.started_at
