"""What resale channels report back: a listed unit sold (the partner is credited the proceeds,
less commission, `warehouse.ledger.book_resale`), one by one (the API) or as a channel's sold
report (CSV)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from warehouse import channels, codes, events, ledger
from warehouse.csvfiles import read_csv
from warehouse.db import CLOCK_SKEW, utcnow
from warehouse.deadlines import local_date
from warehouse.errors import Conflict, DomainError, InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.models import Listing, ListingStatus, Unit
from warehouse.money import MoneyError, parse_amount
from warehouse.vocabulary import status_word

MAX_PRICE_MINOR = 10**10


def listing_of(session: Session, lpn: str, *, partner_id: int | None = None) -> Listing:
    """The listing of the unit with this LPN; another partner's is not found."""
    wanted = codes.normalise(lpn)
    listing = session.scalar(
        sa.select(Listing)
        .join(Unit, Unit.id == Listing.unit_id)
        .where(Unit.lpn == wanted)
        .options(joinedload(Listing.unit).joinedload(Unit.site))
    )
    if listing is None or (partner_id is not None and listing.partner_id != partner_id):
        raise NotFound(_("no resale listing for %(wanted)s", wanted=repr(wanted)), field="lpn")
    return listing


def record_sale(
    session: Session,
    actor: events.Actor,
    lpn: str,
    *,
    price_minor: int,
    currency: str,
    channel: str,
    sold_at: dt.datetime,
    partner_id: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[Listing, bool]:
    """A channel sold a listed unit: the listing is sold and the partner credited. Returns
    (listing, changed); the same sale reported again changes nothing, another one is refused."""
    listing = listing_of(session, lpn, partner_id=partner_id)
    channel = channels.check_channel(session, channel)
    now = now or utcnow()
    if listing.status == ListingStatus.SOLD:
        same = (listing.sold_minor, listing.currency, listing.sold_at) == (
            price_minor,
            currency,
            sold_at,
        )
        if same:
            return listing, False
        raise Conflict(
            _(
                "%(lpn)s was sold already on %(day)s for %(amount)s %(currency)s minor units",
                lpn=listing.unit.lpn,
                day=f"{listing.sold_at:%Y-%m-%d}",
                amount=listing.sold_minor,
                currency=listing.currency,
            ),
            field="lpn",
        )
    if listing.status != ListingStatus.LISTED:
        raise Conflict(
            _(
                "%(lpn)s is not listed (%(status)s)",
                lpn=listing.unit.lpn,
                status=status_word(listing.status),
            ),
            field="lpn",
        )
    if currency != listing.currency:
        raise InvalidInput(
            _(
                "%(lpn)s is listed in %(currency)s, not %(currency2)s",
                lpn=listing.unit.lpn,
                currency=listing.currency,
                currency2=currency,
            ),
            field="currency",
        )
    if not 0 < price_minor <= MAX_PRICE_MINOR:
        raise InvalidInput(_("the price must be more than 0"), field="price_minor")
    if sold_at > now + CLOCK_SKEW:
        raise InvalidInput(_("the sale cannot be in the future"), field="sold_at")
    if sold_at < listing.created_at:
        raise InvalidInput(_("the sale is before the unit was listed"), field="sold_at")
    claimed = session.execute(
        sa.update(Listing)
        .where(Listing.id == listing.id, Listing.status == ListingStatus.LISTED)
        .values(status=ListingStatus.SOLD)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # another report of a sale won just now: judge this one against it
        session.expire(listing)
        return record_sale(
            session,
            actor,
            lpn,
            price_minor=price_minor,
            currency=currency,
            channel=channel,
            sold_at=sold_at,
            partner_id=partner_id,
            now=now,
        )
    listing.status = ListingStatus.SOLD
    listing.sold_at = sold_at.astimezone(dt.UTC)
    listing.sold_minor = price_minor
    # Booked the day it is reported (a month already stated or invoiced never changes).
    booked_on = local_date(now, listing.unit.site.timezone)
    ledger.book_resale(
        session, listing, proceeds_minor=price_minor, channel=channel, booked_on=booked_on
    )
    events.record(
        session,
        actor,
        "listing.sold",
        listing.unit,
        before=ListingStatus.LISTED.value,
        after=ListingStatus.SOLD.value,
        site_id=listing.unit.site_id,
        price_minor=price_minor,
        currency=currency,
        channel=channel,
        listed_price_minor=listing.price_minor,
    )
    session.flush()
    return listing, True


SALES_COLUMNS = ("lpn", "price", "currency", "channel", "sold_at")
MAX_SALES_ROWS = 100_000  # the command line; an upload on the screen takes fewer (WEB_SALES_ROWS)
WEB_SALES_ROWS = 5_000  # booked inside one web request: a larger report goes by the CLI


@dataclass
class SalesImport:
    """What a channel's sold report did: rows booked, rows reported before, refused rows."""

    booked: int = 0
    repeated: int = 0
    problems: list[tuple[int, str | None, str]] = field(default_factory=list)


def import_sales(
    session: Session,
    actor: events.Actor,
    data: bytes,
    *,
    now: dt.datetime | None = None,
    max_rows: int = MAX_SALES_ROWS,
) -> SalesImport:
    """Book a channel's sold report (CSV: lpn, price as 12.34, currency, channel, sold_at in
    ISO 8601 with its zone). A bad row is reported with its row and column and left out; the
    others are booked (each in a savepoint); the same report again books nothing."""
    report = SalesImport()
    rows, problems = read_csv(data, SALES_COLUMNS, SALES_COLUMNS, max_rows=max_rows)
    if problems:
        report.problems = problems
        return report
    for line, values, problem in rows:
        if problem:
            report.problems.append((line, None, problem))
            continue
        values = {name: values.get(name, "") for name in SALES_COLUMNS}
        try:
            currency = values["currency"].upper()
            try:
                price = parse_amount(values["price"], currency)
            except (MoneyError, KeyError) as error:
                raise InvalidInput(
                    _("the price is not valid: %(error)s", error=error), field="price"
                ) from None
            try:
                sold_at = dt.datetime.fromisoformat(values["sold_at"])
            except ValueError:
                raise InvalidInput(
                    _("sold_at is not a date and time (2026-11-30T14:05:00+01:00)"), field="sold_at"
                ) from None
            if sold_at.tzinfo is None:
                raise InvalidInput(_("give sold_at with its time zone"), field="sold_at")
            with session.begin_nested():
                _sale, changed = record_sale(
                    session,
                    actor,
                    values["lpn"],
                    price_minor=price,
                    currency=currency,
                    channel=values["channel"],
                    sold_at=sold_at,
                    now=now,
                )
        except DomainError as error:
            report.problems.append((line, error.field, error.message))
            continue
        if changed:
            report.booked += 1
        else:
            report.repeated += 1
    return report
