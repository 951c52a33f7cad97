"""The accounting journal: every ledger entry of a period as a balanced double entry.

Each ledger entry (`warehouse.ledger`; amounts seen from the partner) posts one debit and one
credit of its absolute amount, so the journal balances per currency by construction, and the
account "Payable to partners" nets, per partner, to the partner's statement balance:

| ledger entry | debit | credit |
|---|---|---|
| sale | 1100 Customer payments received | 2100 Payable to partners |
| commission, resale commission | 2100 Payable to partners | 4000 Commission revenue |
| refund paid by the marketplace | 2100 Payable to partners | 1000 Bank: refunds paid |
| commission credited back | 4010 Commission credited back | 2100 Payable to partners |
| resale proceeds | 1200 Receivable from resale channels | 2100 Payable to partners |
| refund paid by the partner | 9100 Refunds paid by partners (memo) | 9900 Memorandum contra |

A refund the partner pays its customer directly never passes the marketplace: it is kept on memo
accounts so the journal still lists every entry. The journal is read in id order in batches and
written as it is read (CSV or JSON), so its size does not grow the memory it needs; a period
with more entries than a browser should wait for is written in the background (`export_journal`,
with progress, downloaded from its export page).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import events, ledger
from warehouse.errors import InvalidInput, NotFound
from warehouse.exports import write_export
from warehouse.i18n import gettext as _
from warehouse.jobs import job_kind
from warehouse.models import Country, Export, ExportStatus, LedgerEntry, Order, Partner, Site
from warehouse.money import to_decimal_string
from warehouse.outbox import enqueue

ACCOUNTS = {
    "1000": "Bank: refunds paid",
    "1100": "Customer payments received",
    "1200": "Receivable from resale channels",
    "2100": "Payable to partners",
    "4000": "Commission revenue",
    "4010": "Commission credited back",
    "9100": "Refunds paid by partners (memo)",
    "9900": "Memorandum contra",
}
PAYABLE = "2100"
POSTINGS = {  # kind: (debit account, credit account) for the entry's absolute amount
    ledger.SALE: ("1100", PAYABLE),
    ledger.COMMISSION: (PAYABLE, "4000"),
    ledger.RESALE_COMMISSION: (PAYABLE, "4000"),
    ledger.REFUND_BY_MARKETPLACE: (PAYABLE, "1000"),
    ledger.COMMISSION_CREDIT: ("4010", PAYABLE),
    ledger.RESALE_PROCEEDS: ("1200", PAYABLE),
    ledger.REFUND_BY_PARTNER: ("9100", "9900"),
}
FORMATS = ("csv", "json")
COLUMNS = (
    "entry",
    "booked_on",
    "account",
    "account_name",
    "debit",
    "credit",
    "debit_minor",
    "credit_minor",
    "currency",
    "partner",
    "reference",
    "kind",
    "memo",
)
BATCH = 1000
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class JournalLine:
    """One side of a ledger entry's double entry."""

    entry: int
    booked_on: str
    account: str
    account_name: str
    debit: str
    credit: str
    debit_minor: int
    credit_minor: int
    currency: str
    partner: str
    reference: str  # the order number
    kind: str
    memo: str


def period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """A checked period: both days given, in order, at most three years."""
    if start is None or end is None:
        raise InvalidInput(_("give the period: from and to (YYYY-MM-DD)"), field="from")
    if end < start:
        raise InvalidInput(_("the period ends before it starts"), field="to")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(_("a journal covers at most three years; ask for less"), field="to")
    return start, end


def _query(start: dt.date, end: dt.date, partner_id: int | None, site_id: int | None):
    query = (
        sa.select(LedgerEntry, Order.number, Partner.code)
        .join(Partner, Partner.id == LedgerEntry.partner_id)
        .outerjoin(Order, Order.id == LedgerEntry.order_id)
        .where(LedgerEntry.booked_on >= start, LedgerEntry.booked_on <= end)
    )
    if partner_id is not None:
        query = query.where(LedgerEntry.partner_id == partner_id)
    if site_id is not None:
        query = query.join(Country, Country.code == Order.country_code).where(
            Country.site_id == site_id
        )
    return query


def count(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    partner_id: int | None = None,
    site_id: int | None = None,
) -> int:
    """How many ledger entries the journal of the period has (two lines each)."""
    inner = _query(start, end, partner_id, site_id).with_only_columns(LedgerEntry.id).subquery()
    return session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0


def lines(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    partner_id: int | None = None,
    site_id: int | None = None,
) -> Iterator[JournalLine]:
    """The journal of the period, entry by entry (debit line, then credit line), read in
    batches by id so it streams."""
    after = 0
    while True:
        rows = session.execute(
            _query(start, end, partner_id, site_id)
            .where(LedgerEntry.id > after)
            .order_by(LedgerEntry.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for entry, number, partner_code in rows:
            yield from postings(entry, number or "", partner_code)
        after = rows[-1][0].id
        session.expunge_all()  # a journal of millions of entries does not pile up in memory


def postings(entry: LedgerEntry, reference: str, partner_code: str) -> tuple[JournalLine, ...]:
    """The two lines of one ledger entry."""
    debit_account, credit_account = POSTINGS[entry.kind]
    amount = abs(entry.amount_minor)
    shown = to_decimal_string(amount, entry.currency)
    common = {
        "entry": entry.id,
        "booked_on": entry.booked_on.isoformat(),
        "currency": entry.currency,
        "partner": partner_code,
        "reference": reference,
        "kind": entry.kind,
        "memo": entry.memo,
    }
    return (
        JournalLine(
            account=debit_account,
            account_name=ACCOUNTS[debit_account],
            debit=shown,
            credit="",
            debit_minor=amount,
            credit_minor=0,
            **common,
        ),
        JournalLine(
            account=credit_account,
            account_name=ACCOUNTS[credit_account],
            debit="",
            credit=shown,
            debit_minor=0,
            credit_minor=amount,
            **common,
        ),
    )


def scope_of(
    session: Session, partner_code: str | None, site_code: str | None
) -> tuple[int | None, int | None]:
    """The partner and site a journal is limited to, named by their codes (None: all)."""
    partner_id = site_id = None
    if partner_code:
        code = partner_code.strip().upper()
        partner_id = session.scalar(sa.select(Partner.id).where(Partner.code == code))
        if partner_id is None:
            raise NotFound(
                _("no partner %(partner_code)s", partner_code=repr(partner_code)), field="partner"
            )
    if site_code:
        code = site_code.strip().upper()
        site_id = session.scalar(sa.select(Site.id).where(Site.code == code))
        if site_id is None:
            raise NotFound(_("no site %(site_code)s", site_code=repr(site_code)), field="site")
    return partner_id, site_id


def render(journal: Iterator[JournalLine], fmt: str, start: dt.date, end: dt.date):
    """The journal as the file `fmt` names: CSV, or one JSON document with its period and the
    accounts; text chunks as they are written."""
    if fmt == "json":
        meta = {"from": start.isoformat(), "to": end.isoformat(), "accounts": ACCOUNTS}
        return as_json(journal, meta)
    return as_csv(journal)


def as_csv(journal: Iterator[JournalLine]) -> Iterator[str]:
    """The journal as CSV text, a chunk at a time (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for index, line in enumerate(journal, 1):
        writer.writerow([getattr(line, column) for column in COLUMNS])
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def as_json(journal: Iterator[JournalLine], meta: dict) -> Iterator[str]:
    """The journal as one JSON document `{..meta, "lines": [...]}`, a line at a time."""
    head = json.dumps(meta)[:-1]
    yield head + (', "lines": [' if meta else '"lines": [')
    first = True
    for line in journal:
        yield ("" if first else ",") + json.dumps(asdict(line))
        first = False
    yield "]}"


JOURNAL_JOB = "export_journal"


def request_background(
    session: Session,
    actor: events.Actor,
    start: dt.date,
    end: dt.date,
    fmt: str,
    *,
    partner_id: int | None,
    site_id: int | None,
    total: int,
) -> Export:
    """Queue a journal export too large to stream to a browser (through the outbox, in the
    caller's transaction); its page shows the progress and the download."""
    if fmt not in FORMATS:
        raise InvalidInput(
            _("the format is one of %(value)s", value=", ".join(FORMATS)), field="format"
        )
    export = Export(
        kind="journal",
        format=fmt,
        period_start=start,
        period_end=end,
        partner_id=partner_id,
        site_id=site_id,
        total=2 * total,
        requested_by_id=actor.user_id,
    )
    session.add(export)
    session.flush()
    enqueue(session, JOURNAL_JOB, {"export_id": export.id}, f"export:{export.id}")
    events.record(
        session,
        actor,
        "export.requested",
        export,
        after=ExportStatus.QUEUED.value,
        export="journal",
        period=f"{start}..{end}",
        entries=total,
    )
    return export


def journal_filename(export: Export) -> str:
    """The file name of a journal export."""
    return f"journal-{export.period_start}-{export.period_end}-{export.id}.{export.format}"


@job_kind(JOURNAL_JOB, queue="exports", timeout=3600)
def export_journal(job, payload: dict) -> str:
    """Write the file of one journal export, with progress (lines written)."""
    session = job.session
    export = session.get(Export, int(payload["export_id"]))
    if export is None or export.status == ExportStatus.DONE:
        return "nothing to do"
    start, end = export.period_start, export.period_end
    scope = {"partner_id": export.partner_id, "site_id": export.site_id}

    def chunks(counted):
        return render(counted(lines(session, start, end, **scope)), export.format, start, end)

    directory = Path(job.settings["INSTANCE_PATH"]) / "exports"
    written = write_export(
        session,
        export,
        directory / journal_filename(export),
        2 * count(session, start, end, **scope),
        chunks,
    )
    return written.file_path or ""
