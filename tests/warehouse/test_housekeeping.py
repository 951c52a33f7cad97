"""Housekeeping: old station scan ids are forgotten, recent ones kept."""

from __future__ import annotations

import datetime as dt

from tests import factories
from warehouse.db import db, utcnow
from warehouse.housekeeping import SCAN_IDS_KEPT, forget_old_scan_ids
from warehouse.jobs import PERIODIC, JobContext, run
from warehouse.models import Role, StationScan


def _scan(user, scan_id: str, age: dt.timedelta) -> None:
    db.session.add(
        StationScan(
            user_id=user.id,
            scan_id=scan_id,
            endpoint="receive.scan",
            created_at=utcnow() - age,
            status_code=200,
            body="",
        )
    )


def test_scan_ids_older_than_the_window_are_forgotten_and_recent_ones_kept(app):
    person = factories.user(Role.OPERATOR)
    _scan(person, "old-scan-0001", SCAN_IDS_KEPT + dt.timedelta(minutes=1))
    _scan(person, "new-scan-0001", SCAN_IDS_KEPT - dt.timedelta(minutes=1))
    db.session.flush()

    assert forget_old_scan_ids(db.session, now=utcnow()) == 1
    assert [row.scan_id for row in db.session.query(StationScan)] == ["new-scan-0001"]


def test_forgetting_runs_daily_as_a_job(app):
    assert PERIODIC["forget_old_scan_ids"].every == dt.timedelta(days=1)
    person = factories.user(Role.OPERATOR)
    _scan(person, "old-scan-0002", dt.timedelta(days=3))
    db.session.flush()
    job = JobContext(db.session, app.config, "forget_old_scan_ids:test", utcnow())
    assert run("forget_old_scan_ids", job, {}) == "forgot 1 scan ids"
    assert db.session.query(StationScan).count() == 0
