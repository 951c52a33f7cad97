"""The rules screen: save, refuse bad tables naming the field, preview, partner boundaries."""

from __future__ import annotations

from tests import factories
from tests.helpers import csrf_from, login_as, row_counts
from warehouse.db import db
from warehouse.models import Disposition, DispositionRule, Event, Grade, Role


def form(token, rows):
    data = {"csrf_token": token, "row_count": str(len(rows))}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"rows-{index}-{name}"] = value
    return data


def open_screen(client, user):
    login_as(client, user)
    page = client.get("/rules/")
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def test_supervisor_saves_an_ordered_table(client):
    partner = factories.partner("ACME")
    token = open_screen(client, factories.user(Role.SUPERVISOR))
    rows = [
        {"position": "2", "grade": "used", "outcome": "resale", "discount": "20"},
        {"position": "1", "partner": "ACME", "grade": "defective", "outcome": "rtv", "quota": "5"},
        {"position": "", "outcome": ""},  # a blank row is ignored
    ]
    response = client.post("/rules/", data=form(token, rows))
    assert response.status_code == 303
    stored = db.session.query(DispositionRule).order_by(DispositionRule.position).all()
    assert [(r.partner_id, r.outcome, r.discount_bp, r.monthly_quota) for r in stored] == [
        (partner.id, Disposition.RTV, None, 5),
        (None, Disposition.RESALE, 2000, None),
    ]
    page = client.get("/rules/").get_data(as_text=True)
    assert 'value="ACME" selected' in page


def refused(client, token, rows):
    before = row_counts(DispositionRule, Event)
    response = client.post("/rules/", data=form(token, rows))
    assert response.status_code == 422
    assert row_counts(DispositionRule, Event) == before
    return response.get_data(as_text=True)


def test_bad_tables_are_refused_naming_the_field(client):
    token = open_screen(client, factories.user(Role.SUPERVISOR))
    assert "The rule table is empty" in refused(client, token, [{"outcome": ""}])
    unknown_grade = refused(client, token, [{"grade": "broken", "outcome": "rtv"}])
    assert "unknown grade" in unknown_grade
    assert 'name="rows-0-grade" aria-label="Rule 1 grade"\n        aria-invalid="true"' in (
        unknown_grade
    )
    assert "no partner &#39;GHOST&#39;" in refused(
        client, token, [{"partner": "GHOST", "outcome": "rtv"}]
    )
    contradictory = refused(
        client, token, [{"currency": "EUR", "min_value": "50", "max_value": "10", "outcome": "rtv"}]
    )
    assert "minimum value is above its maximum" in contradictory
    shadowed = refused(
        client, token, [{"outcome": "destroy"}, {"grade": "new", "outcome": "restock"}]
    )
    assert "Rule 2 is shadowed by rule 1" in shadowed


def test_numbers_no_database_holds_are_refused_naming_the_field(client):
    token = open_screen(client, factories.user(Role.SUPERVISOR))
    huge = refused(client, token, [{"grade": "defective", "outcome": "rtv", "quota": "9" * 30}])
    assert "quota" in huge
    assert "is not a number this field takes" in huge
    garbled = client.post("/rules/", data={**form(token, []), "row_count": "abc"})
    assert garbled.status_code == 422  # no rows at all: the empty table is refused
    assert "The rule table is empty" in garbled.get_data(as_text=True)


def test_a_partner_edits_only_its_own_rules(client):
    mine, theirs = factories.partner("MINE"), factories.partner("THEIRS")
    db.session.add(
        DispositionRule(
            partner_id=theirs.id, position=1, outcome=Disposition.DONATE, grade=Grade.USED
        )
    )
    db.session.add(
        DispositionRule(
            partner_id=None, position=2, outcome=Disposition.RECYCLE, grade=Grade.HEAVY_DAMAGE
        )
    )
    token = open_screen(client, factories.user(Role.PARTNER, mine))
    page = client.get("/rules/").get_data(as_text=True)
    assert "THEIRS" not in page
    assert "donate</td>" not in page
    assert "recycle</td>" in page  # the warehouse defaults are shown read-only
    refusal = refused(client, token, [{"partner": "THEIRS", "grade": "new", "outcome": "destroy"}])
    assert "route only your own units" in refusal
    assert (
        client.post(
            "/rules/", data=form(token, [{"grade": "new", "outcome": "donate"}])
        ).status_code
        == 303
    )
    own = db.session.query(DispositionRule).filter_by(partner_id=mine.id).one()
    assert own.outcome == Disposition.DONATE
    assert db.session.query(DispositionRule).filter_by(partner_id=theirs.id).count() == 1
    assert client.post("/rules/reset", data={"csrf_token": token}).status_code == 303
    assert db.session.query(DispositionRule).filter_by(partner_id=mine.id).count() == 0


def test_preview_lists_recent_units_the_rule_matches_within_the_partner(client):
    mine, theirs = factories.partner("MINE"), factories.partner("THEIRS")
    used = factories.graded(Grade.USED, partner=mine)
    factories.graded(Grade.NEW, partner=mine)
    other = factories.graded(Grade.USED, partner=theirs)
    token = open_screen(client, factories.user(Role.PARTNER, mine))
    response = client.post(
        "/rules/preview?row=0",
        data=form(token, [{"grade": "used", "outcome": "resale"}]),
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert used.lpn in html
    assert other.lpn not in html
    assert "1 of the 2 most recent graded units" in html
