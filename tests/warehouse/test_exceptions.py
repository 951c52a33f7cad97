"""The exceptions queue: raised where receiving flags a parcel or unit, taken back with the flag,
resolved with a recorded reason; refunds past due join it; supervisors hear of refunds at risk."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.helpers import row_counts
from warehouse import exceptions, receiving, routing
from warehouse.alerts import alert_refund_risk
from warehouse.db import db, utcnow
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.events import Actor, history
from warehouse.models import (
    Event,
    ExceptionKind,
    ExceptionStatus,
    Grade,
    Outbox,
    Reason,
    RefundState,
    ReturnException,
    Role,
    UnitException,
)

GTIN = "4006381333931"


@pytest.fixture
def parcel(app):
    partner = factories.partner(language="de")
    shoe = factories.product(partner, title="Trail shoe", gtin=GTIN)
    order = factories.order([(shoe, 2)], delivered_days_ago=5, language="nl")
    rma = factories.return_request(order, [(order.lines[0], 2, Reason.CHANGED_MIND)])
    operator = factories.user(Role.OPERATOR)
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    return {"rma": rma, "operator": operator, "supervisor": supervisor, "partner": partner}


def _actor(user, station="receive"):
    return Actor(label=user.email, user_id=user.id, station=station, site_id=user.site_id)


def _queue(**filters):
    rows, _total = exceptions.queue(db.session, exceptions.Filters(**filters), limit=100)
    return [(row.kind, row.lpn) for row in rows]


def _resolve(parcel, row, resolution, note="checked by hand"):
    actor = _actor(parcel["supervisor"], "exceptions")
    return exceptions.resolve(
        db.session,
        actor,
        row.id,
        resolution=resolution,
        note=note,
        site_id=parcel["supervisor"].site_id,
        quarantine_unit=lambda unit: routing.quarantine(db.session, actor, unit),
    )


def _extra_unit(parcel):
    actor = _actor(parcel["operator"])
    for _ in range(3):
        confirmed = receiving.confirm_unit(db.session, parcel["rma"].id, actor=actor, gtin=GTIN)
    db.session.commit()
    return confirmed.unit


def test_an_extra_unit_is_queued_and_withdrawn_when_it_is_removed(parcel):
    unit = _extra_unit(parcel)
    assert unit.exception == UnitException.EXTRA
    assert _queue() == [(ExceptionKind.EXTRA_UNIT, unit.lpn)]
    assert exceptions.open_count(db.session, site_id=unit.site_id) == 1
    receiving.remove_unit(db.session, unit.id, actor=_actor(parcel["operator"]))
    db.session.commit()
    assert _queue() == []
    [row] = db.session.query(ReturnException).all()
    assert row.status == ExceptionStatus.WITHDRAWN
    assert row.unit_id is None
    assert row.lpn == unit.lpn  # the LPN stays to say what it was
    with pytest.raises(Conflict, match=rf"#{row.id} was withdrawn already, by {row.resolved_by}"):
        _resolve(parcel, row, "accept")


def test_an_extra_unit_is_never_refunded(parcel):
    unit = _extra_unit(parcel)
    factories.grade(unit, Grade.NEW)
    db.session.commit()
    assert unit.refund_state != RefundState.APPROVED
    assert not unit.refund_minor
    assert not factories.mails("case_partner")
    assert not db.session.query(Event).filter_by(kind="refund.approved", subject_id=unit.id).all()


def test_missing_units_wrong_items_and_damaged_parcels_are_queued(parcel):
    actor = _actor(parcel["operator"])
    rma = parcel["rma"]
    receiving.confirm_unit(db.session, rma.id, actor=actor, gtin=GTIN)
    wrong = receiving.confirm_unit(db.session, rma.id, actor=actor, gtin="5901234123457")
    receiving.mark_damaged(db.session, rma.id, actor=actor)
    receiving.close_parcel(db.session, rma.id, actor=actor)
    db.session.commit()
    kinds = {kind for kind, _lpn in _queue()}
    assert kinds >= {
        ExceptionKind.MISSING_UNIT,
        ExceptionKind.PARCEL_DAMAGED,
        (wrong.unit.exception == UnitException.WRONG_ITEM and ExceptionKind.WRONG_ITEM)
        or ExceptionKind.FOREIGN_ITEM,
    }
    assert _queue(kind=ExceptionKind.MISSING_UNIT) == [(ExceptionKind.MISSING_UNIT, None)]
    receiving.clear_parcel_damaged(db.session, rma.id, actor=actor)
    db.session.commit()
    assert _queue(kind=ExceptionKind.PARCEL_DAMAGED) == []


def test_flagging_again_keeps_one_row(parcel):
    actor = _actor(parcel["operator"])
    for _ in range(2):
        exceptions.flag(db.session, actor, ExceptionKind.UNANNOUNCED, parcel["rma"])
    db.session.commit()
    assert db.session.query(ReturnException).count() == 1


def test_resolving_tells_the_customer_in_their_language_and_records_why(parcel):
    actor = _actor(parcel["operator"])
    receiving.confirm_unit(db.session, parcel["rma"].id, actor=actor, gtin=GTIN)
    receiving.close_parcel(db.session, parcel["rma"].id, actor=actor)
    db.session.commit()
    row = db.session.query(ReturnException).one()
    _resolve(parcel, row, "notify_customer", "one shoe not in the parcel")
    db.session.commit()
    [mail] = factories.mails("exception_customer")
    assert mail.payload["to"] == parcel["rma"].order.customer_email
    assert mail.payload["language"] == "nl"
    assert row.status == ExceptionStatus.RESOLVED
    assert (row.resolution.value, row.note) == ("notify_customer", "one shoe not in the parcel")
    assert row.resolved_by == parcel["supervisor"].email
    [event] = [e for e in history(db.session, row) if e.kind == "exception.resolved"]
    assert (event.before, event.after) == ("open", "notify_customer")


def test_quarantine_sends_the_unit_to_a_quarantine_bin(parcel):
    unit = _extra_unit(parcel)
    row = db.session.query(ReturnException).one()
    _resolve(parcel, row, "quarantine")
    db.session.commit()
    assert unit.quarantined
    factories.grade(unit, Grade.NEW)
    assert routing.route_for(db.session, unit).outcome.value == "quarantine"


def test_a_partner_is_told_in_the_partners_language(parcel):
    unit = _extra_unit(parcel)
    _resolve(parcel, db.session.query(ReturnException).one(), "notify_partner")
    db.session.commit()
    [mail] = factories.mails("exception_partner")
    assert (mail.payload["to"], mail.payload["language"]) == (
        parcel["partner"].contact_email,
        "de",
    )
    assert mail.payload["context"]["lpn"] == unit.lpn


@pytest.mark.parametrize(
    ("resolution", "note", "error", "match"),
    [
        ("shred", "why", InvalidInput, "not a resolution"),
        ("carrier_claim", "why", InvalidInput, "cannot be resolved with carrier_claim"),
        ("accept", "   ", InvalidInput, "say why"),
        ("accept", "x" * 1001, InvalidInput, "limited to 1000"),
    ],
)
def test_a_bad_resolution_is_refused_and_changes_nothing(parcel, resolution, note, error, match):
    _extra_unit(parcel)
    row = db.session.query(ReturnException).one()
    before = row_counts(Event, Outbox)
    with pytest.raises(error, match=match):
        _resolve(parcel, row, resolution, note)
    db.session.rollback()
    assert row_counts(Event, Outbox) == before
    assert db.session.get(ReturnException, row.id).status == ExceptionStatus.OPEN


def test_an_exception_is_resolved_once_and_only_within_the_site(parcel):
    _extra_unit(parcel)
    row = db.session.query(ReturnException).one()
    _resolve(parcel, row, "accept")
    db.session.commit()
    with pytest.raises(Conflict, match="resolved already"):
        _resolve(parcel, row, "accept")
    db.session.rollback()
    with pytest.raises(NotFound):
        exceptions.get_exception(db.session, row.id, site_id=row.site_id + 1, partner_id=None)
    with pytest.raises(NotFound):
        exceptions.get_exception(db.session, row.id, site_id=None, partner_id=row.partner_id + 1)


def test_filters_refuse_unknown_kinds_and_statuses():
    with pytest.raises(InvalidInput, match="not an exception kind"):
        exceptions.Filters.parse(kind="lost")
    with pytest.raises(InvalidInput, match="not a status"):
        exceptions.Filters.parse(status="pending")
    assert exceptions.Filters.parse(status="all").status is None


# --- refunds running late ----------------------------------------------------------------------


def _due(unit, days_from_today):
    unit.return_request.refund_due_on = utcnow().date() + dt.timedelta(days=days_from_today)


def test_refunds_past_due_are_queued_once(app):
    late = factories.received()
    _due(late, -2)
    soon = factories.received()
    _due(soon, 1)
    db.session.commit()
    assert exceptions.flag_overdue(db.session, now=utcnow()) == 1
    assert exceptions.flag_overdue(db.session, now=utcnow()) == 0
    db.session.commit()
    assert _queue() == [(ExceptionKind.REFUND_OVERDUE, late.lpn)]


def test_supervisors_hear_of_refunds_at_risk_once_a_day(app):
    supervisor = factories.user(Role.SUPERVISOR)
    at_risk = factories.received()
    _due(at_risk, 2)
    later = factories.received()
    _due(later, 9)
    db.session.commit()
    # Noon of the day the due dates count from: two hours later is still the same day at the
    # site (from 21:00 UTC on, "now + 2 h" was tomorrow in Amsterdam and mailed everything again).
    now = dt.datetime.combine(utcnow().date(), dt.time(12, 0), dt.UTC)
    assert alert_refund_risk(db.session, now=now) == 1
    db.session.commit()
    [mail] = factories.mails("refund_due_alert_supervisor")
    assert mail.payload["to"] == supervisor.email
    assert [row["lpn"] for row in mail.payload["context"]["rows"]] == [at_risk.lpn]
    assert alert_refund_risk(db.session, now=now + dt.timedelta(hours=1)) == 0
    # a second return at risk the same day is mailed alone
    _due(later, 0)
    db.session.commit()
    assert alert_refund_risk(db.session, now=now + dt.timedelta(hours=2)) == 1
    db.session.commit()
    assert [
        row["lpn"]
        for row in factories.mails("refund_due_alert_supervisor")[1].payload["context"]["rows"]
    ] == [later.lpn]
