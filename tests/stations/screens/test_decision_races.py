"""Two people (or one double click) deciding the same thing at once, on both databases: one
decision wins, the others are refused, nothing is booked twice (SQLite ignores FOR UPDATE, so
each of these takes a real write lock first)."""

from __future__ import annotations

import threading

import pytest

from tests import factories
from tests.helpers import csrf_from
from tests.stations.screens.test_caselinks import mailed_path
from warehouse.db import db
from warehouse.models import Case, CaseStatus, Event, LedgerEntry

pytestmark = pytest.mark.commits


def _at_once(app, count, call) -> list[int]:
    start = threading.Barrier(count)
    statuses = [0] * count

    def run(index):
        client = app.test_client()
        prepared = call.prepare(client)
        start.wait(10)
        statuses[index] = call(client, prepared)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


class _Click:
    """The partner clicking the approve link of the case mail (the page, then its button)."""

    def __init__(self, path):
        self.path = path

    def prepare(self, client):
        return csrf_from(client.get(self.path).get_data(as_text=True))

    def __call__(self, client, token):
        return client.post(self.path, data={"csrf_token": token}).status_code


def test_four_clicks_of_one_approve_link_at_once_decide_the_case_once(app):
    case = factories.open_case()
    path = mailed_path(case, "approve")
    db.session.commit()
    case_id = case.id
    db.session.remove()
    statuses = _at_once(app, 4, _Click(path))
    assert sorted(statuses) == [200, 403, 403, 403], statuses
    case = db.session.get(Case, case_id)
    assert case.status == CaseStatus.APPROVED
    decided = db.session.query(Event).filter_by(kind="case.decided", subject_id=case_id).count()
    assert decided == 1
    booked = db.session.query(LedgerEntry).filter_by(unit_id=case.unit_id).count()
    assert booked == 2  # the refund and the commission credited back, once


def test_two_stations_grading_one_unit_at_once_book_its_refund_once(app):
    from warehouse.grading import grade_unit
    from warehouse.models import Grade

    unit = factories.received()
    db.session.commit()
    unit_id = unit.id
    db.session.remove()
    start = threading.Barrier(2)
    errors: list[Exception] = []

    def station():
        with app.app_context():
            try:
                start.wait(10)
                grade_unit(
                    db.session,
                    factories.OPERATOR,
                    unit_id,
                    grade=Grade.NEW,
                    checklist=factories.COMPLETE,
                    links=factories.LINKS,
                )
                db.session.commit()
            except Exception as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=station) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    booked = db.session.query(LedgerEntry).filter_by(unit_id=unit_id).count()
    assert booked == 2  # the refund and its commission credit, once
    approved = db.session.query(Event).filter_by(kind="refund.approved", subject_id=unit_id)
    assert approved.count() == 1
