"""The bulk document jobs measured in-process, for the benchmark report.

1. 1 000 unit labels in one PDF with the app's code (`labels.unit_label`), against reportlab
   alone drawing the same pages (`raw_labels_pdf`: the same bytes, see the test).
2. The resale export job of 100 000 rows: wall time, and tracemalloc peak against an export of a
   tenth of the rows (flat memory: ten times the rows, not ten times the peak).
3. The catalogue import job of 100 000 new products, then the same file again (all unchanged).

Jobs run as a worker runs them (`export_resale`, `run_import` with a `JobContext`), on the
database they are given. The rows they need go in with bulk inserts, ids assigned, the way
`bench.data` fills a warehouse; they belong to partners of their own (`BENCH-EXPORT-<rows>`,
`BENCH-IMPORT-<n>`), so a row count is exact whatever else the database holds, and a second
run finds the listings in place. `bench/run.py` appends `table(measure_all(url))` to its report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch, mm
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session

from bench.data import _code, _gtin_check, _Ids, _sync_sequences, insert_rows
from labels.unit_label import UnitLabel, unit_labels_pdf
from stations import create_app
from warehouse import catalogue, exports
from warehouse.db import db, utcnow
from warehouse.events import SYSTEM
from warehouse.jobs import JobContext
from warehouse.models import (
    Category,
    Export,
    Grade,
    ImportStatus,
    Listing,
    ListingStatus,
    Order,
    OrderLine,
    Partner,
    Product,
    ProductImport,
    ProductPrice,
    Reason,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    Unit,
    UnitStatus,
)
from warehouse.reference import ensure_countries, ensure_site

LABELS_MAX_RATIO = 1.5  # the target: the app's labels at most 1.5 x raw reportlab
EXPORT_MAX_SECONDS = 5.0  # the target for 100 000 rows
EXPORT_MAX_GROWTH = 2.0  # flat memory: ten times the rows, at most twice the peak
RUNS = 3  # labels: the median of this many runs each
CHUNK = 20_000  # listed units per bulk insert
LINE_UNITS = 200  # listed units per order line (one product each)
PRODUCTS_PER_PARTNER = 100  # the export partner's catalogue its units are spread over
MIB = 1024 * 1024
LISTED_MODELS = (Order, Shipment, OrderLine, ReturnRequest, ReturnLine, Unit, Listing)

TITLES = (
    "Trail running shoe, size {size}",
    "Espresso machine Barista Pro, stainless steel, 15 bar, with milk frother",
    "Wool blend winter coat, navy, size {size}",
    "Noise cancelling headphones",
    "Cast iron casserole 28 cm, enamelled, oven safe up to 250 degrees",
)
CATEGORIES = tuple(Category)
PRICES = (1499, 2499, 3999, 4999, 7999, 12999, 24999)
CATALOGUE_COLUMNS = (
    "sku",
    "gtin",
    "title",
    "category",
    "weight_grams",
    "serial_tracked",
    "price_eur",
    "min_price_eur",
)


@dataclass(frozen=True)
class Measurement:
    """One job's numbers, what they are compared with, and the table row they make."""

    name: str
    seconds: float
    count: int  # labels printed, rows exported, products imported
    unit: str  # what `count` counts: "labels", "rows"
    compared: str  # the comparison, in words: "raw reportlab", "10 000 rows"
    compared_seconds: float
    peak_mib: float | None = None
    compared_peak_mib: float | None = None
    target: str = "-"
    met: bool | None = None  # None: no target
    output: Path | None = None  # the file the job wrote (gone unless measure_all got a folder)

    @property
    def time_ratio(self) -> float:
        """This job's time over the compared one's."""
        return self.seconds / self.compared_seconds

    @property
    def peak_ratio(self) -> float | None:
        """This job's peak over the compared one's, when both were measured."""
        if self.peak_mib is None or not self.compared_peak_mib:
            return None
        return self.peak_mib / self.compared_peak_mib

    def row(self) -> str:
        """The markdown row: | job | time | compared with | peak memory | target | met |."""
        time_text = f"{self.seconds:.2f} s ({self.count / self.seconds:,.0f} {self.unit}/s)"
        compared = (
            f"{self.compared}: {self.compared_seconds:.2f} s (this one {self.time_ratio:.2f} x)"
        )
        if self.compared_peak_mib is not None:
            compared += f", peak {self.compared_peak_mib:.2f} MiB"
            if self.peak_ratio is not None:
                compared += f" (this one {self.peak_ratio:.2f} x)"
        peak = "-" if self.peak_mib is None else f"{self.peak_mib:.2f} MiB"
        met = "-" if self.met is None else ("yes" if self.met else "no")
        return f"| {self.name} | {time_text} | {compared} | {peak} | {self.target} | {met} |"


def table(measurements: list[Measurement]) -> str:
    """The measurements as a markdown table, header first."""
    lines = [
        "| job | time | compared with | peak memory | target | met |",
        "|---|---|---|---|---|---|",
        *(measurement.row() for measurement in measurements),
    ]
    return "\n".join(lines) + "\n"


def measure_all(
    database_url: str,
    *,
    labels: int = 1000,
    export_rows: int = 100_000,
    import_rows: int = 100_000,
    directory: Path | None = None,
) -> list[Measurement]:
    """The three jobs on a migrated database (empty or full), through the app; the files they
    write go to `directory` (a temporary folder, removed afterwards, when None)."""
    with tempfile.TemporaryDirectory(prefix="ry-documents-") as scratch:
        folder = Path(directory or scratch)
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(folder / "instance")}
        )
        with app.app_context():
            try:
                return [
                    measure_labels(labels, folder),
                    measure_export(db.session, app.config, export_rows),
                    measure_import(db.session, app.config, import_rows),
                ]
            finally:
                db.session.remove()
                db.engine.dispose()


def _seconds(job: Callable[[], object]) -> float:
    started = time.perf_counter()
    job()
    return time.perf_counter() - started


def _spelled(number: int) -> str:
    return f"{number:,}".replace(",", " ")


# --- unit labels ------------------------------------------------------------------------------


def sample_labels(count: int) -> list[dict]:
    """`count` unit labels' values as receiving prints them (synthetic: no database)."""
    values = []
    for n in range(count):
        title = TITLES[n % len(TITLES)].format(size=36 + n % 12)
        values.append(
            {
                "lpn": "LP" + _code(n, 8),
                "title": title,
                "sku": f"B{n % 5:03d}-{n:06d}",
                "rma": "RMA-" + _code(n // 2, 6),
                "partner": f"Bench partner {n % 5}",
                "received_on": (dt.date(2026, 11, 2) + dt.timedelta(days=n % 28)).isoformat(),
                "flags": ("serial mismatch",) if n % 10 == 9 else (),
            }
        )
    return values


def raw_labels_pdf(labels: list[dict], *, title: str = "Unit labels") -> bytes:
    """The labels of `sample_labels` drawn with reportlab alone, no app code: the same 100 x
    50 mm pages, the same barcode and text lines at the same places and fonts."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(100 * mm, 50 * mm))
    canvas.setTitle(title)
    for label in labels:
        _raw_code128(canvas, label["lpn"], 4 * mm, 30 * mm, 92 * mm, 16 * mm)
        lines = [
            label["lpn"],
            label["title"][:44],
            f"SKU {label['sku']} · {label['partner']}"[:52],
            f"{label['rma']} · received {label['received_on']}",
        ]
        if label["flags"]:
            lines.append("! " + ", ".join(label["flags"]).upper())
        y = 25 * mm
        for index, line in enumerate(lines):
            canvas.setFont(
                "Helvetica-Bold" if index == 0 else "Helvetica", 11 if index == 0 else 8.5
            )
            canvas.drawString(5 * mm, y, line)
            y -= 4.6 * mm
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _raw_code128(
    canvas: Canvas, value: str, x: float, y: float, max_width: float, height: float
) -> None:
    """Code 128 as filled rectangles: reportlab's encoder, encoded once, then the bars."""
    symbol = Code128(value)
    symbol.validate()
    symbol.encode()
    symbol.decompose()
    # One letter per element, its width in modules: lower case a space, upper case a bar.
    widths = [ord(letter.lower()) - 96 for letter in symbol.decomposed]
    # The widest module that fits with reportlab's quiet zones (a quarter inch, or ten modules).
    module = min(max_width / (sum(widths) + 2 * max(0.25 * inch, 10.0)), 2.5)
    left = max(0.25 * inch, 10 * module)
    canvas.saveState()
    canvas.translate(x, y)
    for letter, width in zip(symbol.decomposed, widths, strict=True):
        if letter.isupper():
            canvas.rect(left, 0, width * module, height, stroke=0, fill=1)
        left += width * module
    canvas.restoreState()


def measure_labels(count: int, directory: Path) -> Measurement:
    """`count` labels in one PDF, the app's code against raw reportlab (median of 3 each);
    the app's PDF is written to `directory`/unit-labels.pdf."""
    values = sample_labels(count)
    labels = [UnitLabel(**label) for label in values]
    unit_labels_pdf(labels[:1])  # load the fonts and the barcode tables before timing
    raw_labels_pdf(values[:1])
    app_times, raw_times = [], []
    for _ in range(RUNS):  # taken in turns, so a busy moment of the machine hits both alike
        app_times.append(_seconds(lambda: unit_labels_pdf(labels)))
        raw_times.append(_seconds(lambda: raw_labels_pdf(values)))
    app_seconds, raw_seconds = statistics.median(app_times), statistics.median(raw_times)
    path = directory / "unit-labels.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(unit_labels_pdf(labels))
    return Measurement(
        name=f"{_spelled(count)} unit labels, one PDF",
        seconds=app_seconds,
        count=count,
        unit="labels",
        compared="raw reportlab",
        compared_seconds=raw_seconds,
        target=f"≤ {LABELS_MAX_RATIO:g} x raw",
        met=app_seconds <= LABELS_MAX_RATIO * raw_seconds,
        output=path,
    )


# --- resale export ----------------------------------------------------------------------------


def measure_export(session: Session, settings, rows: int) -> Measurement:
    """The eBay export of `rows` listed units, and of a tenth of them, as the background job
    writes it: wall time in one run, tracemalloc peak in another (tracing slows it down)."""
    tenth = max(1, rows // 10)
    large = listed_selection(session, rows)
    small = listed_selection(session, tenth)
    _export(session, settings, small)  # warm SQLAlchemy's statement caches first
    small_seconds, _peak, _path = _export(session, settings, small)
    large_seconds, _peak, path = _export(session, settings, large)
    _time, small_peak, _path = _export(session, settings, small, traced=True)
    _time, large_peak, _path = _export(session, settings, large, traced=True)
    return Measurement(
        name=f"resale export, {_spelled(rows)} rows",
        seconds=large_seconds,
        count=exports.count(session, large),  # what each run wrote (checked in `_export`)
        unit="rows",
        compared=f"{_spelled(tenth)} rows",
        compared_seconds=small_seconds,
        peak_mib=large_peak / MIB,
        compared_peak_mib=small_peak / MIB,
        target=f"≤ {EXPORT_MAX_SECONDS:g} s, peak ≤ {EXPORT_MAX_GROWTH:g} x a tenth's",
        met=large_seconds <= EXPORT_MAX_SECONDS and large_peak <= EXPORT_MAX_GROWTH * small_peak,
        output=path,
    )


def listed_selection(session: Session, rows: int) -> exports.Selection:
    """What an export of partner BENCH-EXPORT-<rows> holds (its units listed on eBay), with
    listed units added until there are `rows`."""
    partner = _partner(session, f"BENCH-EXPORT-{rows}")
    selection = exports.Selection("ebay", partner_id=partner.id)
    missing = rows - exports.count(session, selection)
    if missing > 0:
        _list_units(session, partner, missing)
    return selection


def _export(
    session: Session, settings, selection: exports.Selection, *, traced: bool = False
) -> tuple[float, int | None, Path]:
    """Request an export as the screen does, then run its job: seconds, peak bytes (when
    `traced`) and the file."""
    total = exports.require_listings(session, selection)
    export = exports.request_background(session, "ebay", selection, total, SYSTEM)
    session.commit()
    context = JobContext(session, settings, f"export:{export.id}", utcnow())
    if traced:
        tracemalloc.start()
    try:
        started = time.perf_counter()
        path = exports.export_resale(context, {"export_id": export.id})
        session.commit()  # the worker commits what the job leaves open
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if traced else None
    finally:
        if traced:
            tracemalloc.stop()
    written = session.get(Export, export.id).progress
    if written != total:
        raise RuntimeError(f"export {export.id} wrote {written} of {total} rows")
    return seconds, peak, Path(path)


def _partner(session: Session, code: str) -> Partner:
    partner = session.scalar(sa.select(Partner).where(Partner.code == code))
    if partner is None:
        partner = Partner(
            code=code,
            name=f"Bench {code.lower()}",
            contact_email=f"{code.lower()}@bench.example",
            currencies=["EUR"],
        )
        session.add(partner)
        session.commit()
    return partner


def _list_units(session: Session, partner: Partner, count: int) -> None:
    """`count` more units of `partner` listed on eBay, each graded used and routed to resale,
    inserted in bulk a chunk at a time; each chunk comes back as one order line."""
    site = ensure_site(session)
    ensure_countries(session, site)
    products = _products(session, partner)
    ids = _Ids(session, LISTED_MODELS)
    now = utcnow().replace(microsecond=0)
    for start in range(0, count, CHUNK):
        size = min(CHUNK, count - start)
        rows = _listed_chunk(ids, partner, site.id, products, size, now)
        insert_rows(session, rows)
        session.commit()
    _sync_sequences(session, LISTED_MODELS)
    session.commit()


def _products(session: Session, partner: Partner) -> list[tuple[int, str, int]]:
    """The partner's products (id, title, EUR price), a catalogue inserted if it has none."""
    query = (
        sa.select(Product.id, Product.title, ProductPrice.price_minor)
        .join(ProductPrice, ProductPrice.product_id == Product.id)
        .where(Product.partner_id == partner.id, ProductPrice.currency == "EUR")
        .order_by(Product.id)
    )
    found = [tuple(row) for row in session.execute(query)]
    if found:
        return found
    ids = _Ids(session, (Product,))
    products, prices = [], []
    for n in range(PRODUCTS_PER_PARTNER):
        gtin12 = f"29{n:010d}"
        product_id = ids.take(Product)
        products.append(
            {
                "id": product_id,
                "partner_id": partner.id,
                "sku": f"{partner.code}-{n:04d}",
                "gtin": gtin12 + _gtin_check(gtin12),
                "title": TITLES[n % len(TITLES)].format(size=36 + n % 12),
                "category": CATEGORIES[n % len(CATEGORIES)],
                "stock": 0,
            }
        )
        price = PRICES[n % len(PRICES)]
        prices.append(
            {
                "product_id": product_id,
                "currency": "EUR",
                "price_minor": price,
                "min_price_minor": price // 5,
            }
        )
    session.execute(sa.insert(Product), products)
    session.execute(sa.insert(ProductPrice), prices)
    _sync_sequences(session, (Product,))
    session.commit()
    return [tuple(row) for row in session.execute(query)]


def _listed_chunk(ids: _Ids, partner: Partner, site_id: int, products, count: int, now) -> dict:
    """One order of `count` units returned, graded used, routed to resale and listed, its lines
    of `LINE_UNITS` units of one product each: rows per table."""
    order_id, shipment_id, return_id = ids.take(Order), ids.take(Shipment), ids.take(ReturnRequest)
    received = now - dt.timedelta(days=3)
    rows: dict = {model: [] for model in LISTED_MODELS}
    rows[Order].append(
        {
            "id": order_id,
            "number": f"BX-{order_id:09d}",
            "channel": "marketplace",
            "customer_name": f"Customer {order_id}",
            "customer_email": f"customer{order_id}@bench.example",
            "customer_postcode": "1011 AB",
            "customer_address": "",
            "country_code": "NL",
            "currency": "EUR",
            "language": "nl",
            "placed_at": now - dt.timedelta(days=10),
            "withdrawal_informed": True,
        }
    )
    rows[Shipment].append(
        {
            "id": shipment_id,
            "order_id": order_id,
            "partner_id": partner.id,
            "tracking_number": f"3SBX{shipment_id:010d}",
            "carrier": "postnl",
            "delivered_at": now - dt.timedelta(days=8),
        }
    )
    rows[ReturnRequest].append(
        {
            "id": return_id,
            "rma": f"RMA-BX{return_id:08d}",
            "order_id": order_id,
            "shipment_id": shipment_id,
            "partner_id": partner.id,
            "site_id": site_id,
            "status": ReturnStatus.RECEIVED,
            "announced_at": now - dt.timedelta(days=6),
            "announced_on": (now - dt.timedelta(days=6)).date(),
            "received_at": received,
            "received_on": received.date(),
            "refund_due_on": (now + dt.timedelta(days=8)).date(),
        }
    )
    for first in range(0, count, LINE_UNITS):
        quantity = min(LINE_UNITS, count - first)
        line_id, return_line_id = ids.take(OrderLine), ids.take(ReturnLine)
        product_id, title, price = products[line_id % len(products)]
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
        rows[ReturnLine].append(
            {
                "id": return_line_id,
                "return_id": return_id,
                "order_line_id": line_id,
                "quantity": quantity,
                "reason": Reason.CHANGED_MIND,
                "comment": "",
                "missing_quantity": 0,
            }
        )
        for slot in range(1, quantity + 1):
            unit_id = ids.take(Unit)
            rows[Unit].append(
                {
                    "id": unit_id,
                    "lpn": "LX" + _code(unit_id, 8),  # LX: never one of bench.data's LP codes
                    "return_id": return_id,
                    "return_line_id": return_line_id,
                    "product_id": product_id,
                    "partner_id": partner.id,
                    "site_id": site_id,
                    "slot": slot,
                    "status": UnitStatus.ROUTED,
                    "grade": Grade.USED,
                    "checklist": {"accessories_complete": True, "tested": True},
                    "notes": "",
                    "received_at": received,
                    "graded_at": received + dt.timedelta(hours=2),
                    "disposition": "resale",
                    "routed_at": received + dt.timedelta(hours=3),
                }
            )
            rows[Listing].append(
                {
                    "id": ids.take(Listing),
                    "unit_id": unit_id,
                    "partner_id": partner.id,
                    "channel": "ebay",
                    "language": "en",
                    "title": f"{title} - used",
                    "condition_id": 3000,
                    "condition_description": "Used: signs of use, works as it should, complete.",
                    "original_minor": price,
                    "discount_bp": 2500,
                    "price_minor": price - price // 4,
                    "currency": "EUR",
                    "status": ListingStatus.LISTED,
                    "created_at": received + dt.timedelta(hours=3),
                }
            )
    return rows


# --- catalogue import -------------------------------------------------------------------------


def catalogue_csv(rows: int) -> bytes:
    """A partner's catalogue file of `rows` products with their GTINs and euro prices (no
    partner column: the rows are the importing partner's)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CATALOGUE_COLUMNS)
    for n in range(rows):
        gtin12 = f"20{n:010d}"
        price = PRICES[n % len(PRICES)]
        writer.writerow(
            (
                f"IMP-{n:06d}",
                gtin12 + _gtin_check(gtin12),
                TITLES[n % len(TITLES)].format(size=36 + n % 12),
                CATEGORIES[n % len(CATEGORIES)].value,
                100 + n % 900,
                "yes" if n % 7 == 0 else "no",
                _euros(price),
                _euros(price // 5),
            )
        )
    return buffer.getvalue().encode()


def _euros(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def measure_import(session: Session, settings, rows: int) -> Measurement:
    """A catalogue file of `rows` new products imported as the worker runs it, then the same
    file again (every row unchanged); for a new partner BENCH-IMPORT-<n> each call."""
    taken = session.scalar(
        sa.select(sa.func.count()).select_from(Partner).where(Partner.code.like("BENCH-IMPORT-%"))
    )
    partner = _partner(session, f"BENCH-IMPORT-{taken + 1}")
    data = catalogue_csv(rows)
    first_seconds, first = _import(session, settings, partner, data)
    second_seconds, second = _import(session, settings, partner, data)
    outcomes = [(row.status, row.created, row.updated, row.refused) for row in (first, second)]
    if outcomes != [(ImportStatus.DONE, rows, 0, 0), (ImportStatus.DONE, 0, 0, 0)]:
        raise RuntimeError(f"imports did (status, created, updated, refused) {outcomes}")
    return Measurement(
        name=f"product import, {_spelled(rows)} rows",
        seconds=first_seconds,
        count=first.created,
        unit="rows",
        compared="the same file again (unchanged)",
        compared_seconds=second_seconds,
        output=Path(settings["INSTANCE_PATH"]) / "imports" / first.stored_name,
    )


def _import(session: Session, settings, partner: Partner, data: bytes):
    """Store the file and time its import job (`run_import`); its seconds and record."""
    record = catalogue.new_import(session, SYSTEM, filename="bench-catalogue.csv", partner=partner)
    session.commit()
    folder = Path(settings["INSTANCE_PATH"]) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / record.stored_name).write_bytes(data)
    context = JobContext(session, settings, f"import-products:{record.id}", utcnow())
    started = time.perf_counter()
    catalogue.run_import(context, {"import_id": record.id, "actor": SYSTEM.label})
    session.commit()  # the worker commits what the job leaves open
    seconds = time.perf_counter() - started
    return seconds, session.get(ProductImport, record.id)
