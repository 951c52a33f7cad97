"""The ESPR ban on screen: a supervisor records a derogation for a returned jacket from the
look-up, and reads the year's disclosure as a page, a CSV and over the API."""

from __future__ import annotations

import csv
import io

from tests import factories
from tests.helpers import csrf_from, login_as
from warehouse import routing
from warehouse.db import db
from warehouse.models import (
    Category,
    DefectiveHandling,
    DestructionException,
    Grade,
    LocationKind,
    Role,
)


def test_a_supervisor_records_a_derogation_and_the_jacket_is_destroyed(app, client):
    partner = factories.partner(defective_handling=DefectiveHandling.DESTROY)
    unit = factories.graded(Grade.DEFECTIVE, partner=partner, category=Category.FASHION)
    target = factories.location(LocationKind.DESTROY)
    login_as(client, factories.user(Role.SUPERVISOR))
    page = client.get("/lookup", query_string={"q": unit.lpn}).get_data(as_text=True)
    assert "Destruction banned" in page
    token = csrf_from(page)
    short = client.post(
        f"/lookup/units/{unit.id}/destruction-exception",
        data={"csrf_token": token, "derogation": "damaged", "note": "bad"},
        follow_redirects=True,
    )
    assert "give the evidence" in short.get_data(as_text=True)
    assert db.session.query(DestructionException).count() == 0
    client.post(
        f"/lookup/units/{unit.id}/destruction-exception",
        data={"csrf_token": token, "derogation": "damaged", "note": "Soaked in oil, torn."},
    )
    assert db.session.query(DestructionException).count() == 1
    routing.put_away(db.session, unit.lpn, target.code, factories.operator_actor())
    db.session.commit()
    year = unit.routed_at.year
    report = client.get(f"/disclosure?year={year}").get_data(as_text=True)
    assert "destroyed" in report
    rows = list(csv.DictReader(io.StringIO(client.get(f"/disclosure/{year}.csv").get_data(True))))
    assert [(r["category"], r["reason"], r["route"], r["units"]) for r in rows] == [
        ("fashion", "damaged", "destroyed", "1")
    ]
    token_api = factories.token(Role.SUPERVISOR)
    db.session.commit()
    body = client.get(
        f"/api/v1/disclosure?year={year}", headers={"Authorization": f"Bearer {token_api}"}
    ).get_json()
    assert body["lines"][0]["route"] == "destroyed"
    assert client.get("/disclosure?year=20x6").status_code == 400
    assert client.get(f"/lookup/units/{unit.id}/destruction-exception").status_code == 405
