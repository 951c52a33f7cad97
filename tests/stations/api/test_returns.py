"""POST /api/v1/returns and GET /api/v1/returns/<rma>: the contract, refusals, partner isolation."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.helpers import row_counts
from tests.zbar import decode_pdf
from warehouse.db import db, utcnow
from warehouse.models import Event, Outbox, ReturnLine, ReturnRequest, Role


@pytest.fixture
def world(app):
    first, second = factories.partner(code="FJELL"), factories.partner(code="KOOK")
    shoe, tent = factories.product(first, sku="SHOE-43"), factories.product(second, sku="TENT-2")
    order = factories.order([(shoe, 2), (tent, 1)], number="MP-424242")
    tokens = {
        "admin": factories.token(Role.ADMIN),
        "first": factories.token(Role.PARTNER, first),
        "second": factories.token(Role.PARTNER, second),
        "operator": factories.token(Role.OPERATOR),
    }
    db.session.commit()
    return {"order": order, "shoe": shoe, "tent": tent, "tokens": tokens}


def _auth(token):
    return {"Authorization": f"Bearer {token}"}


def test_announce_a_multi_partner_order(client, world):
    response = client.post(
        "/api/v1/returns",
        json={
            "order_number": "MP-424242",
            "lines": [
                {"sku": "SHOE-43", "quantity": 2, "reason": "wrong_size", "comment": "small"},
                {"line_id": world["order"].lines[1].id, "quantity": 1, "reason": "defective"},
            ],
        },
        headers=_auth(world["tokens"]["admin"]),
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert [r["partner"] for r in body["returns"]] == ["FJELL", "KOOK"]
    assert body["rma"] == body["returns"][0]["rma"]
    assert body["label_url"] == body["returns"][0]["label_url"]
    assert body["returns"][1]["lines"][0]["reason"] == "defective"
    # The label link works without a token and carries the RMA as Code128.
    path = body["label_url"].removeprefix("http://localhost")
    label = client.get(path)
    assert label.status_code == 200
    assert label.mimetype == "application/pdf"
    assert decode_pdf(label.data, dpi=200) == [[("CODE128", body["rma"])]]
    # A PDF gets no page policy that would box in the browser's viewer; still never framed.
    assert label.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    # The RMA number alone does not open the label.
    assert client.get(f"/returns/label/{body['rma']}.pdf").status_code == 404

    shown = client.get(f"/api/v1/returns/{body['rma']}", headers=_auth(world["tokens"]["admin"]))
    assert shown.status_code == 200
    assert shown.json["status"] == "announced"
    assert shown.json["units"] == []
    assert shown.json["verdict"] == "in_time"


def test_partner_tokens_see_and_announce_only_their_own(client, world):
    first, second = world["tokens"]["first"], world["tokens"]["second"]
    refused = client.post(
        "/api/v1/returns",
        json={
            "order_number": "MP-424242",
            "lines": [{"sku": "TENT-2", "quantity": 1, "reason": "other"}],
        },
        headers=_auth(first),
    )
    assert refused.status_code == 404
    made = client.post(
        "/api/v1/returns",
        json={
            "order_number": "MP-424242",
            "lines": [{"sku": "SHOE-43", "quantity": 1, "reason": "other"}],
        },
        headers=_auth(first),
    )
    assert made.status_code == 201
    rma = made.json["rma"]
    assert client.get(f"/api/v1/returns/{rma}", headers=_auth(first)).status_code == 200
    assert client.get(f"/api/v1/returns/{rma}", headers=_auth(second)).status_code == 404
    other_order = factories.order([(factories.product(factories.partner()), 1)])
    db.session.commit()
    assert (
        client.post(
            "/api/v1/returns",
            json={
                "order_number": other_order.number,
                "lines": [{"line_id": 1, "quantity": 1, "reason": "other"}],
            },
            headers=_auth(first),
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"lines": []}, 400, "order_number"),
        ({"order_number": "MP-424242"}, 400, "lines"),
        ({"order_number": "MP-424242", "lines": ["x"]}, 400, "lines[0]"),
        (
            {"order_number": "MP-424242", "lines": [{"quantity": 1, "reason": "other"}]},
            400,
            "lines[0]",
        ),
        (
            {
                "order_number": "MP-424242",
                "lines": [{"sku": "SHOE-43", "quantity": "2", "reason": "other"}],
            },
            400,
            "lines[0].quantity",
        ),
        (
            {
                "order_number": "MP-424242",
                "lines": [{"sku": "SHOE-43", "quantity": 3, "reason": "other"}],
            },
            400,
            "lines[0].quantity",
        ),
        (
            {
                "order_number": "MP-424242",
                "lines": [{"sku": "SHOE-43", "quantity": 1, "reason": "bored"}],
            },
            400,
            "lines[0].reason",
        ),
        (
            {
                "order_number": "MP-424242",
                "lines": [{"sku": "NOPE", "quantity": 1, "reason": "other"}],
            },
            404,
            "lines[0]",
        ),
        (
            {
                "order_number": "MP-000000",
                "lines": [{"sku": "SHOE-43", "quantity": 1, "reason": "other"}],
            },
            404,
            "order_number",
        ),
    ],
)
def test_bad_announcements_are_refused_and_write_nothing(client, world, body, status, field):
    before = row_counts(ReturnRequest, ReturnLine, Event, Outbox)
    response = client.post("/api/v1/returns", json=body, headers=_auth(world["tokens"]["admin"]))
    assert response.status_code == status
    assert response.json["field"] == field
    assert response.json["message"]
    assert row_counts(ReturnRequest, ReturnLine, Event, Outbox) == before


def test_tokens_are_required_and_roles_checked(client, world):
    assert client.get("/api/v1/returns/RMA-0000000").status_code == 401
    assert (
        client.get(
            "/api/v1/returns/RMA-0000000", headers=_auth(world["tokens"]["operator"])
        ).status_code
        == 403
    )
    assert (
        client.get(
            "/api/v1/returns/RMA-0000000", headers=_auth(world["tokens"]["admin"])
        ).status_code
        == 404
    )


def _announce(client, world, sku="SHOE-43"):
    response = client.post(
        "/api/v1/returns",
        json={
            "order_number": "MP-424242",
            "lines": [{"sku": sku, "quantity": 1, "reason": "changed_mind"}],
        },
        headers=_auth(world["tokens"]["admin"]),
    )
    assert response.status_code == 201, response.json
    return response.json["rma"]


def test_return_tracking_number_is_set_and_then_opens_the_parcel_at_receiving(client, world):
    from warehouse.events import Actor
    from warehouse.receiving import find_parcel

    rma = _announce(client, world)
    path = f"/api/v1/returns/{rma}/tracking"
    first = _auth(world["tokens"]["first"])
    response = client.post(path, json={"tracking_number": "3SRET0001234"}, headers=first)
    assert response.status_code == 200, response.json
    assert response.json["return_tracking_number"] == "3SRET0001234"
    again = client.post(path, json={"tracking_number": "3SRET0001234"}, headers=first)
    assert again.status_code == 200
    events = db.session.query(Event).filter_by(kind="return.tracking_set").count()
    assert events == 1  # the same number twice changes nothing

    operator = factories.user(Role.OPERATOR)
    actor = Actor(label=operator.email, user_id=operator.id, site_id=operator.site_id)
    found = find_parcel(db.session, "3SRET0001234", actor)
    assert (found.rma.rma, found.via) == (rma, "tracking")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "tracking_number"),
        ({"tracking_number": 12345}, 400, "tracking_number"),
        ({"tracking_number": "a b"}, 400, "tracking_number"),
        ({"tracking_number": "x" * 65}, 400, "tracking_number"),
        ({"tracking_number": "3SRET-TAKEN"}, 409, "tracking_number"),
    ],
)
def test_bad_return_tracking_is_refused_and_changes_nothing(client, world, body, status, field):
    taken = _announce(client, world)
    admin = _auth(world["tokens"]["admin"])
    path = f"/api/v1/returns/{taken}/tracking"
    assert (
        client.post(path, json={"tracking_number": "3SRET-TAKEN"}, headers=admin).status_code == 200
    )
    rma = _announce(client, world, sku="TENT-2")
    before = row_counts(Event)
    response = client.post(f"/api/v1/returns/{rma}/tracking", json=body, headers=admin)
    assert response.status_code == status, response.json
    assert response.json["field"] == field
    assert row_counts(Event) == before
    db.session.expire_all()
    assert db.session.query(ReturnRequest).filter_by(rma=rma).one().return_tracking_number is None


def test_another_partners_return_tracking_cannot_be_set(client, world):
    rma = _announce(client, world)  # FJELL's return
    response = client.post(
        f"/api/v1/returns/{rma}/tracking",
        json={"tracking_number": "3SRET0009999"},
        headers=_auth(world["tokens"]["second"]),
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.query(ReturnRequest).filter_by(rma=rma).one().return_tracking_number is None


def test_a_line_asks_for_a_repair_and_the_return_says_so(client, world):
    """Directive (EU) 2019/771 Art. 13(2): the consumer's choice travels with the line."""
    response = client.post(
        "/api/v1/returns",
        json={
            "order_number": "MP-424242",
            "lines": [{"sku": "TENT-2", "quantity": 1, "reason": "defective", "remedy": "repair"}],
        },
        headers=_auth(world["tokens"]["admin"]),
    )
    assert response.status_code == 201, response.json
    line = response.json["returns"][0]["lines"][0]
    assert (line["remedy"], line["exchange_sku"]) == ("repair", None)


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ({"reason": "changed_mind", "remedy": "repair"}, "lines[0].remedy", "not possible"),
        ({"reason": "defective", "remedy": "exchange"}, "lines[0].remedy", "not possible"),
        ({"reason": "wrong_size", "remedy": "exchange"}, "lines[0].exchange_sku", "choose the"),
        ({"reason": "wrong_size", "remedy": "swap"}, "lines[0].remedy", "input should be"),
        (
            {"reason": "defective", "remedy": "repair", "exchange_sku": "X"},
            "lines[0].exchange_sku",
            "only",
        ),
    ],
)
def test_a_remedy_the_reason_does_not_allow_is_refused(client, world, line, field, message):
    before = row_counts(ReturnRequest, ReturnLine, Event)
    response = client.post(
        "/api/v1/returns",
        json={"order_number": "MP-424242", "lines": [{"sku": "SHOE-43", "quantity": 1, **line}]},
        headers=_auth(world["tokens"]["admin"]),
    )
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    assert message in response.json["message"]
    assert row_counts(ReturnRequest, ReturnLine, Event) == before


def test_the_carriers_first_scan_is_proof_of_dispatch(client, world):
    """Directive 2011/83/EU Art. 13(3): the trader may withhold the refund until the goods are
    back or the consumer proved they sent them; the carrier's first scan is that proof, and
    the refund is then due 14 days from the notice (Art. 13(1)) or at the proof if later."""
    rma = _announce(client, world)
    first = _auth(world["tokens"]["first"])
    shown = client.get(f"/api/v1/returns/{rma}", headers=first).json
    assert shown["refund_may_be_withheld"] is True
    assert shown["dispatch_proof_at"] is None
    path = f"/api/v1/returns/{rma}/tracking"
    future = client.post(
        path,
        json={"tracking_number": "3SRET0005555", "first_scan_at": "2999-01-01T10:00:00Z"},
        headers=first,
    )
    assert future.status_code == 400
    assert future.json["field"] == "first_scan_at"
    naive = client.post(
        path,
        json={"tracking_number": "3SRET0005555", "first_scan_at": "2026-01-01T10:00:00"},
        headers=first,
    )
    assert naive.status_code == 400
    when = (utcnow() + dt.timedelta(seconds=5)).replace(microsecond=0)
    local = when.astimezone(dt.timezone(dt.timedelta(hours=1)))
    scanned = client.post(
        path,
        json={"tracking_number": "3SRET0005555", "first_scan_at": local.isoformat()},
        headers=first,
    )
    assert scanned.status_code == 200, scanned.json
    assert scanned.json["refund_may_be_withheld"] is False
    assert scanned.json["dispatch_proof_at"].startswith(when.strftime("%Y-%m-%dT%H:%M:%S"))
    # From the proof the refund is due 14 days from the notice, goods or not (Art. 13(1), (3)).
    notice = dt.date.fromisoformat(scanned.json["announced_on"])
    assert scanned.json["refund_due_on"] == (notice + dt.timedelta(days=14)).isoformat()
    # A later scan told again does not move the proof.
    later = (when + dt.timedelta(minutes=2)).isoformat()
    client.post(
        path, json={"tracking_number": "3SRET0005555", "first_scan_at": later}, headers=first
    )
    proofs = db.session.query(Event).filter_by(kind="return.dispatch_proved").count()
    assert proofs == 1
