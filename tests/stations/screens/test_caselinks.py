"""The one-click decision links from the case email, clicked through the app."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.helpers import csrf_from, row_counts
from warehouse.cases import Action
from warehouse.db import db
from warehouse.models import Case, CaseStatus, Event, LedgerEntry, Outbox, RefundState, Unit

WATCHED = (Case, Event, LedgerEntry, Outbox, Unit)


def mailed_path(case, action: str) -> str:
    """The link path of `action` in the case email (as the partner receives it)."""
    [mail] = [
        m
        for m in factories.mails("case_opened_partner")
        if m.payload["context"]["case_id"] == case.id
    ]
    return mail.payload["context"]["link_paths"][action]


def post(client, path, **form):
    page = client.get(path)
    return client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **form})


def test_get_shows_the_case_and_changes_nothing(client):
    case = factories.open_case()
    before = row_counts(*WATCHED)
    response = client.get(mailed_path(case, "approve"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Approve €44.99" in html
    assert "diminished value, used: -10 %" in html
    assert row_counts(*WATCHED) == before
    assert db.session.get(Case, case.id).status == CaseStatus.OPEN


def test_approve_link_decides_the_case_once(client):
    case = factories.open_case()
    path = mailed_path(case, "approve")
    response = post(client, path)
    assert response.status_code == 200
    assert "decision saved" in response.get_data(as_text=True)
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.status, case.approved_minor, case.decided_via) == (
        CaseStatus.APPROVED,
        4499,
        "link",
    )
    assert case.unit.refund_state == RefundState.APPROVED
    before = row_counts(*WATCHED)
    # The same link again, and the other links of the same email: refused, nothing changes.
    for action in ("approve", "adjust", "reject"):
        again = client.get(mailed_path(case, action))
        assert again.status_code == 403
        assert "already used" in again.get_data(as_text=True)
    replay = client.post(path, data={"csrf_token": "x"})
    assert replay.status_code == 400  # the form token is checked first: a CSRF refusal
    assert row_counts(*WATCHED) == before


def test_adjust_link_with_a_bad_amount_shows_the_form_again(client):
    case = factories.open_case()
    path = mailed_path(case, "adjust")
    before = row_counts(*WATCHED)
    for amount, message in (
        ("60.00", "cannot be more than the price paid"),
        ("-1", "cannot be negative"),
        ("12.345", "not valid"),
        ("abc", "not valid"),
    ):
        response = post(client, path, amount=amount, reason="marks")
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert message in html
        assert 'name="amount"' in html
    response = post(client, path, amount="20.00", reason="")
    assert "say why you adjust" in response.get_data(as_text=True)
    assert row_counts(*WATCHED) == before
    response = post(client, path, amount="20,00", reason="deep scratch")
    assert response.status_code == 200
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.status, case.approved_minor, case.decision_reason) == (
        CaseStatus.ADJUSTED,
        2000,
        "deep scratch",
    )


def test_reject_link_needs_a_reason(client):
    case = factories.open_case()
    path = mailed_path(case, "reject")
    assert post(client, path, reason=" ").status_code == 400
    assert post(client, path, reason="used for weeks").status_code == 200
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == CaseStatus.REJECTED


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p[:-3] + "abc",
        lambda p: p.replace("/case-link/", "/case-link/x"),
        lambda p: re.sub(r"\.[^.]+\.", ".AAAA.", p, count=1),
    ],
    ids=["signature", "prefix", "timestamp"],
)
def test_tampered_links_are_refused(client, mangle):
    case = factories.open_case()
    before = row_counts(*WATCHED)
    bad = mangle(mailed_path(case, "approve"))
    response = client.get(bad)
    assert response.status_code == 403
    assert "not valid" in response.get_data(as_text=True)
    assert client.post(bad, data={}).status_code == 400  # no form token: a CSRF refusal
    assert row_counts(*WATCHED) == before


def test_expired_links_are_refused(app, client):
    case = factories.open_case()
    path = mailed_path(case, "approve")
    app.config["CASE_LINK_MAX_AGE"] = -1  # every link is older than this
    before = row_counts(*WATCHED)
    response = client.get(path)
    assert response.status_code == 403
    assert "expired" in response.get_data(as_text=True)
    assert row_counts(*WATCHED) == before


def test_links_name_their_action(client):
    case = factories.open_case()
    token = factories.LINKS.token(case, Action.REJECT)
    html = client.get(f"/case-link/{token}").get_data(as_text=True)
    assert "Reject the refund" in html
    assert "Refund this amount" not in html
