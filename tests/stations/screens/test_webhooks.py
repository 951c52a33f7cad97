"""Webhooks through the outbox to a real receiver on loopback: signed, retried with backoff,
logged per endpoint; the admin screen registers endpoints and shows the secret once."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests import factories
from tests.helpers import csrf_from, drain, login_as, relay
from warehouse import webhooks
from warehouse.announcements import LineRequest, announce
from warehouse.db import db
from warehouse.errors import InvalidInput
from warehouse.events import Actor
from warehouse.models import Reason, Role, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.commits


class Receiver:
    """An HTTP server on 127.0.0.1 that records what it is sent and answers the given codes
    in turn (then 200)."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body})
                code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver(answers=[503])
    yield found
    found.close()


def _announced_order():
    order = factories.order([(factories.product(factories.partner(code="ACME")), 1)])
    announce(
        db.session,
        order,
        [LineRequest(order_line_id=order.lines[0].id, quantity=1, reason=Reason.CHANGED_MIND)],
        actor=Actor(label="customer"),
        label_url=lambda rma: f"/l/{rma}",
    )
    return order


def test_an_announcement_reaches_the_channel_signed_and_retried(app, jobs, receiver):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # the receiver is on loopback
    endpoint, secret = webhooks.register(
        db.session,
        Actor(label="admin"),
        channel="Marketplace",  # channels compare in lower case
        url=receiver.url,
        events=["return.announced"],
        allow_private=True,
    )
    other, _ = webhooks.register(
        db.session,
        Actor(label="admin"),
        channel="own_shop",
        url=receiver.url,
        events=list(webhooks.EVENTS),
        allow_private=True,
    )
    order = _announced_order()
    number = order.number
    db.session.commit()
    endpoint_id = endpoint.id
    relay(app, jobs)
    drain(app, jobs, until=lambda: len(receiver.received) >= 2, timeout=30)
    first, second = receiver.received[:2]
    assert first["headers"]["X-Returnyard-Delivery"] == second["headers"]["X-Returnyard-Delivery"]
    body = second["body"]
    sent = json.loads(body)
    assert sent["event"] == "return.announced"
    assert sent["data"]["order_number"] == number
    assert sent["data"]["partner"] == "ACME"
    timestamp, mac = second["headers"]["X-Returnyard-Signature"].split(",")
    expected = hmac.new(
        secret.encode(), f"{timestamp[2:]}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert mac == f"v1={expected}"
    db.session.expire_all()
    delivery = db.session.query(WebhookDelivery).filter_by(endpoint_id=endpoint_id).one()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 2, 200)
    # The other channel's endpoint heard nothing of this marketplace order.
    assert db.session.query(WebhookDelivery).filter_by(endpoint_id=other.id).count() == 0
    assert len(receiver.received) == 2


def test_a_refused_registration_says_why_and_changes_nothing(app):
    paid = ["refund.paid"]
    for fields, field, message in [
        ({"channel": "", "url": "https://x.example/h", "events": paid}, "channel", "name"),
        ({"channel": "m", "url": "ftp://x.example/h", "events": paid}, "url", "http or https"),
        ({"channel": "m", "url": "http://x.example:abc/h", "events": paid}, "url", "not a valid"),
        ({"channel": "m", "url": "http://[::1/h", "events": paid}, "url", "not a valid"),
        ({"channel": "m", "url": "http://127.0.0.1:6379/", "events": paid}, "url", "private"),
        ({"channel": "m", "url": "http://169.254.169.254/", "events": paid}, "url", "private"),
        ({"channel": "m", "url": "http://10.1.2.3/h", "events": paid}, "url", "private"),
        ({"channel": "m", "url": "http://10.1.2.3/h", "events": ["refund.lost"]}, "url", "priv"),
        ({"channel": "m", "url": "http://10.1.2.3/h", "events": []}, "url", "private"),
    ]:
        with pytest.raises(InvalidInput, match=message) as refused:
            webhooks.register(db.session, Actor(label="admin"), **fields)
        assert refused.value.field == field
    webhooks.register(
        db.session,
        Actor(label="admin"),
        channel="m",
        url="http://10.1.2.3/h",
        events=paid,
        allow_private=True,
    )
    with pytest.raises(InvalidInput, match="registered for m already"):
        webhooks.register(
            db.session,
            Actor(label="admin"),
            channel="M",
            url="http://10.1.2.3/h",
            events=paid,
            allow_private=True,
        )
    db.session.rollback()
    assert db.session.query(WebhookEndpoint).count() == 0


def test_the_admin_registers_an_endpoint_and_sees_its_secret_once(client, app):
    admin = factories.user(Role.ADMIN)
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    login_as(client, supervisor)
    assert client.get("/admin/webhooks").status_code == 403
    login_as(client, admin)
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True  # no DNS in the tests: the host is not resolved
    page = client.get("/admin/webhooks")
    token = csrf_from(page.get_data(as_text=True))
    added = client.post(
        "/admin/webhooks",
        data={
            "csrf_token": token,
            "channel": "marketplace",
            "url": "https://hooks.example/returnyard",
            "events": ["return.received", "refund.paid"],
        },
    )
    html = added.get_data(as_text=True)
    assert added.status_code == 200
    assert added.headers["Cache-Control"] == "no-store"
    endpoint = db.session.query(WebhookEndpoint).one()
    assert f">{endpoint.secret}<" in html
    assert endpoint.events == ["return.received", "refund.paid"]
    assert endpoint.secret not in client.get("/admin/webhooks").get_data(as_text=True)
    bad = client.post(
        "/admin/webhooks",
        data={"csrf_token": token, "channel": "x", "url": "javascript:alert(1)", "events": []},
    )
    assert bad.status_code == 400
    assert "http or https" in bad.get_data(as_text=True)


def test_sales_channels_are_data_the_admin_adds_and_resale_follows(client, app):
    """Returned units are listed on the resale channel an admin chose; sales reported for an
    unknown channel are refused."""
    from warehouse import channels, routing
    from warehouse.models import Grade, Listing, LocationKind, SalesChannel

    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(client, admin)
    token = csrf_from(client.get("/admin/webhooks").get_data(as_text=True))
    bad = client.post(
        "/admin/webhooks/channels", data={"csrf_token": token, "code": "Bad Code", "name": "x"}
    )
    assert bad.status_code == 400
    assert "lower-case letters" in bad.get_data(as_text=True)
    added = client.post(
        "/admin/webhooks/channels",
        data={"csrf_token": token, "code": "outlet_nl", "name": "Outlet NL", "resale_default": "1"},
    )
    assert added.status_code == 303
    assert channels.resale_channel(db.session) == "outlet_nl"
    assert db.session.get(SalesChannel, "ebay").resale_default is False
    unit = factories.graded(Grade.OPENED, category=factories.Category.ELECTRONICS)
    resale_bin = factories.location(LocationKind.RESALE)
    done = routing.put_away(db.session, unit.lpn, resale_bin.code, factories.operator_actor())
    assert done.listing.channel == "outlet_nl"
    with pytest.raises(InvalidInput, match="not a sales channel here"):
        channels.check_channel(db.session, "marktplaats")
    assert db.session.query(Listing).count() == 1


def test_a_grade_taken_back_at_the_station_takes_its_webhook_back(app):
    """The grade's event waits as long as the station may undo it; undone, it never leaves."""
    import datetime as dt

    from warehouse.db import utcnow
    from warehouse.grading import grade_unit, undo_grade
    from warehouse.models import Grade, Outbox

    webhooks.register(
        db.session,
        Actor(label="admin"),
        channel="marketplace",
        url="http://127.0.0.1:9/h",
        events=["unit.graded"],
        allow_private=True,
    )
    unit = factories.received()
    grade_unit(
        db.session,
        factories.OPERATOR,
        unit.id,
        grade=Grade.USED,
        checklist=factories.COMPLETE,
        links=factories.LINKS,
        hold_case_mail_until=utcnow() + dt.timedelta(minutes=2),
    )
    db.session.flush()
    held = db.session.query(Outbox).filter_by(kind=webhooks.SEND_WEBHOOK).one()
    assert held.available_at > utcnow()
    undo_grade(db.session, factories.OPERATOR, unit.id)
    db.session.flush()
    assert db.session.query(Outbox).filter_by(kind=webhooks.SEND_WEBHOOK).count() == 0
    assert db.session.query(WebhookDelivery).one().status == "withdrawn"
