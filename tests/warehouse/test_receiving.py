"""Receiving in the domain: receipt, refund-due date, events, mail, exceptions and races."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy.exc import IntegrityError

from tests import factories
from tests.helpers import row_counts
from warehouse import receiving
from warehouse.db import db
from warehouse.errors import DomainError, UnitAlreadyClaimed, UnknownBarcode
from warehouse.events import Actor, history
from warehouse.models import (
    Event,
    Outbox,
    Reason,
    ReturnRequest,
    ReturnStatus,
    Role,
    Unit,
    UnitException,
)


@pytest.fixture
def parcel(app):
    partner = factories.partner(grace_days=2)
    shoe = factories.product(partner, title="Trail shoe", gtin="4006381333931")
    order = factories.order([(shoe, 2)], delivered_days_ago=20)
    rma = factories.return_request(order, [(order.lines[0], 2, Reason.CHANGED_MIND)])
    operators = [factories.user(Role.OPERATOR), factories.user(Role.OPERATOR)]
    db.session.commit()
    return {"rma": rma, "operators": operators, "line": rma.lines[0]}


def _actor(user, station="A"):
    return Actor(label=user.email, user_id=user.id, station=station, site_id=user.site_id)


def test_first_unit_receives_the_return_sets_refund_due_and_queues_one_mail(parcel):
    rma, operator = parcel["rma"], parcel["operators"][0]
    now = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)  # already the 27th in Amsterdam
    receiving.confirm_unit(
        db.session, rma.id, actor=_actor(operator), gtin="4006381333931", now=now
    )
    receiving.confirm_unit(
        db.session, rma.id, actor=_actor(operator), gtin="4006381333931", now=now, seen_unit_id=1
    )
    db.session.commit()
    rma = db.session.get(ReturnRequest, rma.id)
    assert rma.status == ReturnStatus.RECEIVED
    assert rma.received_on == dt.date(2026, 11, 27)
    assert rma.refund_due_on == max(rma.announced_on + dt.timedelta(days=14), rma.received_on)
    kinds = [event.kind for event in history(db.session, rma)]
    assert kinds == ["return.received"]
    assert db.session.query(Event).filter_by(kind="unit.received").count() == 2
    [mail] = db.session.query(Outbox).all()
    assert mail.payload["context"]["refund_due_on"] == rma.refund_due_on.isoformat()


def test_verdict_uses_the_partner_grace_days(parcel):
    rma = parcel["rma"]  # delivered 20 days ago, announced yesterday: 5 days late, grace 2
    verdict = receiving.verdict_of(rma)
    assert verdict.verdict.value == "out_of_window"
    assert verdict.colour == "red"
    assert verdict.days_over == 5


def test_unknown_codes_write_nothing(parcel):
    before = row_counts(ReturnRequest, Unit, Event, Outbox)
    for code in ["", "???", "RMA-AAAAAAA", "LP000000000"]:
        with pytest.raises(DomainError):
            receiving.scan_parcel(db.session, code, _actor(parcel["operators"][0]))
    assert row_counts(ReturnRequest, Unit, Event, Outbox) == before


def test_a_product_barcode_with_a_wrong_check_digit_is_refused(parcel):
    with pytest.raises(UnknownBarcode, match="check digit"):
        receiving.confirm_unit(
            db.session, parcel["rma"].id, actor=_actor(parcel["operators"][0]), gtin="4006381333932"
        )
    assert db.session.query(Unit).count() == 0


def test_extra_units_beyond_the_announced_quantity_are_flagged(parcel):
    actor = _actor(parcel["operators"][0])
    for _ in range(3):
        last = receiving.confirm_unit(
            db.session, parcel["rma"].id, actor=actor, gtin="4006381333931"
        )
    assert last.unit.exception == UnitException.EXTRA
    assert last.unit.slot is None


def test_closing_declares_the_rest_missing(parcel):
    actor = _actor(parcel["operators"][0])
    receiving.confirm_unit(db.session, parcel["rma"].id, actor=actor, gtin="4006381333931")
    rma = receiving.close_parcel(db.session, parcel["rma"].id, actor=actor)
    assert rma.lines[0].missing_quantity == 1
    assert rma.receipt_closed_at is not None
    [event] = [e for e in history(db.session, rma) if e.kind == "parcel.closed"]
    assert event.data["missing"] == {str(rma.lines[0].id): 1}


def test_the_unit_slot_is_unique_in_the_database(parcel):
    line = parcel["line"]
    factories.received_unit(line, slot=1)
    db.session.commit()
    with pytest.raises(IntegrityError):
        factories.received_unit(line, slot=1)
    db.session.rollback()


@pytest.mark.commits
def test_two_stations_confirming_the_last_unit_at_once_one_wins(app, parcel):
    """Two connections, two threads: both saw the card with one unit left; one gets it."""
    rma, line = parcel["rma"], parcel["line"]
    first = receiving.confirm_unit(
        db.session, rma.id, actor=_actor(parcel["operators"][0], "A"), line_id=line.id
    )
    db.session.commit()
    seen = first.unit.id  # both stations show 1 of 2 confirmed
    operators = [(user.id, user.email, user.site_id) for user in parcel["operators"]]
    rma_id, line_id = rma.id, line.id
    db.session.remove()

    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def station(name, operator):
        with app.app_context():
            user_id, email, site_id = operator
            actor = Actor(label=email, user_id=user_id, station=name, site_id=site_id)
            start.wait()
            try:
                done = receiving.confirm_unit(
                    db.session, rma_id, actor=actor, line_id=line_id, seen_unit_id=seen
                )
                db.session.commit()
                outcomes[name] = done.unit.lpn
            except UnitAlreadyClaimed as error:
                db.session.rollback()
                outcomes[name] = error
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=station, args=(name, operator))
        for name, operator in zip(["B", "C"], operators, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    winners = {k: v for k, v in outcomes.items() if isinstance(v, str)}
    losers = {k: v for k, v in outcomes.items() if isinstance(v, UnitAlreadyClaimed)}
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    [(winner_station, lpn)] = winners.items()
    [error] = losers.values()
    assert lpn in error.message
    assert f"at {winner_station}" in error.message
    units = db.session.query(Unit).filter_by(return_line_id=line_id).all()
    assert sorted(u.slot for u in units) == [1, 2]
