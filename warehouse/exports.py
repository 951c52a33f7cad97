"""Resale exports: an eBay-style CSV, a generic CSV and a JSON feed of listed units per channel.

Everything streams: the query runs with `yield_per` (a server-side cursor on PostgreSQL), rows
are turned into text one at a time through a csv writer on a small buffer, and the caller writes
the chunks to a response or a file as they come. Memory stays flat however many units are
listed. Exports above the RESALE_EXPORT_BACKGROUND_ROWS setting are written by a background job
that stamps its progress on an `Export` row the page polls.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import resale
from warehouse.db import utcnow
from warehouse.errors import InvalidInput, NotFound
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.jobs import job_kind
from warehouse.models import (
    Export,
    ExportStatus,
    Listing,
    ListingStatus,
    Partner,
    Product,
    Unit,
    UnitPhoto,
)
from warehouse.money import to_decimal_string
from warehouse.outbox import enqueue
from warehouse.photos import PictureLinks

FORMATS = ("ebay", "csv", "json")
EXTENSIONS = {"ebay": "csv", "csv": "csv", "json": "json"}
MEDIA_TYPES = {"ebay": "text/csv", "csv": "text/csv", "json": "application/json"}
EBAY_COLUMNS = (
    "Action",
    "CustomLabel",
    "Title",
    "ConditionID",
    "ConditionDescription",
    "StartPrice",
    "Quantity",
    "Currency",
    "PicURL",
)
GENERIC_COLUMNS = (
    "lpn",
    "sku",
    "gtin",
    "title",
    "partner",
    "grade",
    "condition_id",
    "condition_description",
    "language",
    "price",
    "original_price",
    "discount_percent",
    "currency",
    "channel",
    "listed_at",
    "picture_url",
)
JOB_KIND = "export_resale"
BUFFER_BYTES = 16 * 1024  # a csv chunk is handed out once the buffer holds this much


@dataclass(frozen=True)
class Selection:
    """Which listings an export holds."""

    channel: str = "ebay"
    partner_id: int | None = None  # a partner's own listings only; None = every partner
    language: str | None = None  # rewrite descriptions in this language; None = as listed


def _where(selection: Selection):
    conditions = [Listing.status == ListingStatus.LISTED, Listing.channel == selection.channel]
    if selection.partner_id is not None:
        conditions.append(Listing.partner_id == selection.partner_id)
    return conditions


def count(session: Session, selection: Selection) -> int:
    """How many listings the export would hold."""
    return session.scalar(sa.select(sa.func.count()).select_from(Listing).where(*_where(selection)))


def check_format(fmt: str) -> str:
    """The format if we write it, else InvalidInput naming the choices."""
    if fmt not in FORMATS:
        raise InvalidInput(
            _(
                "Unknown export format %(fmt)s: choose %(value)s.",
                fmt=repr(fmt),
                value=", ".join(FORMATS),
            ),
            field="format",
        )
    return fmt


def rows(
    session: Session,
    selection: Selection,
    *,
    public_url: str = "",
    pictures: PictureLinks | None = None,
    yield_per: int = 500,
) -> Iterator[dict]:
    """The listings as plain dicts, fetched `yield_per` at a time (never all at once)."""
    first_photo = (
        sa.select(sa.func.min(UnitPhoto.id))
        .where(UnitPhoto.unit_id == Listing.unit_id)
        .correlate(Listing)
        .scalar_subquery()
    )
    query = (
        sa.select(
            Listing.id,
            Listing.title,
            Listing.condition_id,
            Listing.condition_description,
            Listing.language,
            Listing.price_minor,
            Listing.original_minor,
            Listing.discount_bp,
            Listing.currency,
            Listing.channel,
            Listing.created_at,
            Unit.lpn,
            Unit.grade,
            Unit.checklist,
            Unit.notes,
            Unit.disposition,
            Product.sku,
            Product.gtin,
            Partner.code.label("partner_code"),
            first_photo.label("photo_id"),
        )
        .join(Unit, Unit.id == Listing.unit_id)
        .join(Partner, Partner.id == Listing.partner_id)
        .outerjoin(Product, Product.id == Unit.product_id)
        .where(*_where(selection))
        .order_by(Listing.id)
        .execution_options(yield_per=yield_per)
    )
    base = public_url.rstrip("/")
    for row in session.execute(query):
        description = row.condition_description
        if selection.language and selection.language != row.language and row.grade:
            description = resale.condition_description(
                row.grade,
                row.checklist,
                row.notes,
                language=selection.language,
                refurbished=row.condition_id == resale.SELLER_REFURBISHED,
            )
        yield {
            "lpn": row.lpn,
            "sku": row.sku or "",
            "gtin": row.gtin or "",
            "title": row.title,
            "partner": row.partner_code,
            "grade": row.grade.value if row.grade else "",
            "condition_id": row.condition_id,
            "condition_description": description,
            "language": selection.language or row.language,
            "price": to_decimal_string(row.price_minor, row.currency),
            "original_price": to_decimal_string(row.original_minor, row.currency),
            "discount_percent": f"{row.discount_bp / 100:g}",
            "currency": row.currency,
            "channel": row.channel,
            "listed_at": row.created_at.isoformat(timespec="seconds"),
            # A public signed link a channel can fetch (the login-only one without `pictures`).
            "picture_url": (
                (
                    base + pictures.path(row.photo_id)
                    if pictures
                    else f"{base}/photos/{row.photo_id}"
                )
                if row.photo_id
                else ""
            ),
        }


def _ebay(row: dict) -> list:
    return [
        "Add",
        row["lpn"],
        row["title"][:80],  # eBay titles are at most 80 characters
        row["condition_id"],
        row["condition_description"],
        row["price"],
        1,
        row["currency"],
        row["picture_url"],
    ]


def _csv_chunks(header: tuple[str, ...], lines: Iterator[list]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for line in lines:
        writer.writerow(line)
        if buffer.tell() >= BUFFER_BYTES:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_chunks(selection: Selection, items: Iterator[dict]) -> Iterator[str]:
    head = {"channel": selection.channel, "generated_at": utcnow().isoformat(timespec="seconds")}
    yield json.dumps(head)[:-1] + ', "items": ['
    pending: list[str] = []
    size = 0
    separator = "\n"
    for item in items:
        text = separator + json.dumps(item, ensure_ascii=False)
        separator = ",\n"
        pending.append(text)
        size += len(text)
        if size >= BUFFER_BYTES:
            yield "".join(pending)
            pending, size = [], 0
    yield "".join(pending) + "\n]}\n"


def stream(fmt: str, selection: Selection, items: Iterator[dict]) -> Iterator[str]:
    """The export as text chunks of at most ~16 KB (one row may be more), row by row."""
    check_format(fmt)
    if fmt == "ebay":
        return _csv_chunks(EBAY_COLUMNS, (_ebay(item) for item in items))
    if fmt == "csv":
        return _csv_chunks(
            GENERIC_COLUMNS, ([item[name] for name in GENERIC_COLUMNS] for item in items)
        )
    return _json_chunks(selection, items)


def filename(fmt: str, selection: Selection, export_id: int | None = None) -> str:
    """A download name such as resale-ebay-20261126-0001.csv."""
    stamp = utcnow().strftime("%Y%m%d")
    suffix = f"-{export_id:04d}" if export_id else ""
    return f"resale-{selection.channel}-{fmt}-{stamp}{suffix}.{EXTENSIONS[fmt]}"


def require_listings(session: Session, selection: Selection) -> int:
    """The number of listings, or InvalidInput when there is nothing to export."""
    total = count(session, selection)
    if total == 0:
        raise InvalidInput(
            _(
                "Nothing to export: no units are listed for resale on channel %(channel)s.",
                channel=repr(selection.channel),
            ),
            field="channel",
        )
    return total


def request_background(
    session: Session, fmt: str, selection: Selection, total: int, actor: Actor
) -> Export:
    """Create a queued export and its job (through the outbox, in the caller's transaction)."""
    export = Export(
        format=check_format(fmt),
        channel=selection.channel,
        partner_id=selection.partner_id,
        language=selection.language,
        total=total,
        requested_by_id=actor.user_id,
    )
    session.add(export)
    session.flush()
    enqueue(session, JOB_KIND, {"export_id": export.id}, f"export:{export.id}")
    record(
        session,
        actor,
        "export.requested",
        export,
        after=ExportStatus.QUEUED,
        format=fmt,
        channel=selection.channel,
        total=total,
    )
    return export


def get_export(session: Session, export_id: int, *, partner_id: int | None) -> Export:
    """An export by id; another partner's export is NotFound."""
    export = session.get(Export, export_id)
    if export is None or (partner_id is not None and export.partner_id != partner_id):
        raise NotFound(_("No such export."))
    return export


def run_export(
    session: Session,
    export_id: int,
    directory: Path,
    *,
    public_url: str = "",
    pictures: PictureLinks | None = None,
    progress_every: int = 500,
    yield_per: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> Export:
    """The background job: write the export file row by row, stamping progress as it goes.

    Progress is committed on a separate connection, so the page sees it while the streaming
    query's transaction stays open; `on_progress(rows)` is called after each stamp (a worker's
    heartbeat). Safe to run twice: a finished export is left alone.
    """
    export = session.get(Export, export_id)
    if export is None:
        raise NotFound(_("No export %(export_id)s.", export_id=export_id))
    if export.status == ExportStatus.DONE:
        return export
    selection = Selection(export.channel, export.partner_id, export.language)
    path = directory / filename(export.format, selection, export.id)
    return write_export(
        session,
        export,
        path,
        count(session, selection),
        lambda counted: stream(
            export.format,
            selection,
            counted(
                rows(
                    session,
                    selection,
                    public_url=public_url,
                    pictures=pictures,
                    yield_per=yield_per,
                )
            ),
        ),
        progress_every=progress_every,
        on_progress=on_progress,
    )


def write_export(
    session: Session,
    export: Export,
    path: Path,
    total: int,
    chunks: Callable[[Callable[[Iterator], Iterator]], Iterator[str]],
    *,
    progress_every: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> Export:
    """Write an export's file from `chunks(counted)` (the file's text, its rows passed through
    `counted`), stamping progress on a separate connection as rows go by; the file appears
    whole or not at all (written as `.part`, then renamed). Shared by every kind of export."""
    export_id = export.id
    engine = session.get_bind()

    def stamp(**values) -> None:
        with engine.begin() as connection:
            connection.execute(sa.update(Export).where(Export.id == export_id).values(**values))

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    stamp(status=ExportStatus.RUNNING, progress=0, total=total)
    done = 0

    def counted(items: Iterator) -> Iterator:
        nonlocal done
        for item in items:
            yield item
            done += 1
            if done % progress_every == 0:
                stamp(progress=done)
                if on_progress is not None:
                    on_progress(done)

    try:
        with partial.open("w", encoding="utf-8", newline="") as out:
            for chunk in chunks(counted):
                out.write(chunk)
        partial.replace(path)
    except Exception as error:
        partial.unlink(missing_ok=True)
        stamp(status=ExportStatus.FAILED, error=str(error)[:2000], finished_at=utcnow())
        raise
    stamp(
        status=ExportStatus.DONE,
        progress=done,
        total=done,
        file_path=str(path),
        finished_at=utcnow(),
    )
    # Read again: a writer may have emptied the session to keep its memory flat.
    return session.get(Export, export_id, populate_existing=True)


@job_kind(JOB_KIND, queue="exports", timeout=3600)
def export_resale(job, payload: dict) -> str:
    """The background export job: write the file of one `Export` row."""
    export = run_export(
        job.session,
        int(payload["export_id"]),
        Path(job.settings["INSTANCE_PATH"]) / "exports",
        public_url=job.settings["PUBLIC_URL"],
        pictures=PictureLinks.from_settings(job.settings),
    )
    return export.file_path or ""
