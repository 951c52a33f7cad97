"""Demo data, stage 2: announced returns waiting at the receiving station, and received ones.

Everything goes through the real domain functions (`announce`, `confirm_unit`, `record_serial`,
`close_parcel`), so the demo holds only what the checks accept: quantities within what was
ordered, dates in the site's time zone, refund-due dates, events and queued mails.

- about 18 orders get announced returns, ready to receive (`flask --app wsgi demo-logins`
  prints a few RMA numbers to scan at /receive/);
- about 22 more were announced and received a few days later, with units and LPNs for the
  grading stage; a few carry the usual exceptions (a missing unit, a wrong item, an electronics
  serial that does not match, a parcel damaged in transit).
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, selectinload

from stations.screens.customer import label_url
from warehouse import announcements, receiving
from warehouse.announcements import LineRequest
from warehouse.deadlines import local_date
from warehouse.events import Actor
from warehouse.models import (
    GUARANTEE_REASONS,
    Category,
    Destination,
    Order,
    OrderLine,
    Product,
    Reason,
    Shipment,
    Site,
    User,
)

ANNOUNCED = 18
RECEIVED = 22
OPERATOR_EMAIL = "operator@returnyard.example"
WITHDRAWAL_REASONS = (Reason.CHANGED_MIND, Reason.WRONG_SIZE, Reason.CHANGED_MIND, Reason.OTHER)
COMMENTS = (
    "",
    "",
    "",
    "Too small, I need a size up",
    "Colour differs from the photos",
    "Stopped working after two days",
    "Arrived with a dent",
)


def _at(day: dt.date, hour: int, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=zone).astimezone(dt.UTC)


def _lines(rng: random.Random, order: Order, left: dict[int, int]) -> list[LineRequest]:
    open_lines = [line for line in order.lines if left.get(line.id, 0) > 0]
    chosen = rng.sample(open_lines, k=min(len(open_lines), rng.choice((1, 1, 2))))
    requests = []
    for line in chosen:
        category = line.product.category
        if category == Category.ELECTRONICS and rng.random() < 0.5:
            reason = rng.choice(sorted(GUARANTEE_REASONS))
        else:
            reason = rng.choice(WITHDRAWAL_REASONS)
        requests.append(
            LineRequest(
                order_line_id=line.id,
                quantity=rng.randint(1, left[line.id]),
                reason=reason,
                comment=rng.choice(COMMENTS),
            )
        )
    return requests


def load(session: Session, rng: random.Random, today: dt.date) -> None:
    """Announce returns on demo orders and receive some of them (needs stage `base`)."""
    site = session.query(Site).filter_by(code="WAL").one()
    zone = ZoneInfo(site.timezone)
    operator = session.query(User).filter_by(email=OPERATOR_EMAIL).one_or_none()
    station = Actor(
        label=operator.email if operator else "demo",
        user_id=operator.id if operator else None,
        station="receive:demo",
        site_id=site.id,
    )
    orders = (
        session.query(Order)
        .options(
            selectinload(Order.shipments).selectinload(Shipment.partner),
            selectinload(Order.lines).selectinload(OrderLine.product),
            selectinload(Order.lines).selectinload(OrderLine.shipment),
        )
        .order_by(Order.id)
        .all()
    )
    candidates = [o for o in orders if o.shipments and all(s.delivered_at for s in o.shipments)]
    rng.shuffle(candidates)
    announced = received = 0
    for order in candidates:
        if announced >= ANNOUNCED and received >= RECEIVED:
            break
        left = announcements.returnable(session, order)
        requests = _lines(rng, order, left)
        if not requests:
            continue
        delivered_on = min(local_date(s.delivered_at, site.timezone) for s in order.shipments)
        receive = received < RECEIVED and (announced >= ANNOUNCED or rng.random() < 0.55)
        latest = today - dt.timedelta(days=3 if receive else 0)
        if latest < delivered_on:
            continue
        announced_on = min(latest, delivered_on + dt.timedelta(days=rng.randint(1, 16)))
        done = announcements.announce(
            session,
            order,
            requests,
            actor=Actor(label=f"customer:{order.customer_email}"),
            label_url=label_url,
            comment=rng.choice(COMMENTS),
            now=_at(announced_on, rng.randint(8, 21), zone),
        )
        if not receive:
            announced += 1
            continue
        received += 1
        received_on = min(today, announced_on + dt.timedelta(days=rng.randint(2, 6)))
        for rma in done.returns:
            if rma.partner.destination == Destination.PARTNER:
                continue  # goes straight to the partner; stays announced here
            _receive(session, rng, rma, station, _at(received_on, rng.randint(8, 16), zone))


def _receive(session: Session, rng: random.Random, rma, station: Actor, now: dt.datetime) -> None:
    """Confirm the parcel's units as an operator would, with the odd exception."""
    luck = rng.random()
    if luck < 0.08:
        receiving.mark_damaged(session, rma.id, actor=station)
    for line in list(rma.lines):
        count = line.quantity - (1 if luck > 0.9 else 0)
        for _ in range(count):
            done = receiving.confirm_unit(session, rma.id, actor=station, line_id=line.id, now=now)
            if done.needs_serial:
                shipped = line.order_line.serial_numbers
                serial = (
                    shipped[0]
                    if shipped and rng.random() < 0.8
                    else f"SN{rng.randint(10**9, 10**10 - 1)}"
                )
                receiving.record_serial(session, done.unit.id, serial, actor=station)
    if 0.08 <= luck < 0.14:
        other = (
            session.query(Product)
            .filter(Product.partner_id != rma.partner_id)
            .order_by(Product.id)
            .first()
        )
        if other is not None:  # a wrong item in the box: labelled and flagged
            receiving.confirm_unit(session, rma.id, actor=station, gtin=other.gtin, now=now)
    receiving.close_parcel(session, rma.id, actor=station, now=now)
