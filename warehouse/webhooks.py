"""Webhooks: a sales channel hears of its returns without polling.

An admin registers endpoints per channel (the order's `channel`, e.g. "marketplace"): a URL, the
events it wants and a secret shown once. Each event is written, in the transaction of the state
change, as one delivery row per endpoint and one outbox message, so it is never lost; the
`send_webhook` job POSTs it, retried with the jobs' backoff (visible on the Jobs screen), and
every attempt is kept in the delivery log.

The request: `POST <url>` with the JSON body `{"id", "event", "created_at", "data"}` and headers
`X-Returnyard-Event`, `X-Returnyard-Delivery` (the id, the same on every retry: receivers drop
repeats by it) and `X-Returnyard-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>"
with the endpoint's secret>`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import events as event_log
from warehouse.db import db, utcnow
from warehouse.errors import InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.jobs import JobContext, job_kind
from warehouse.models import Outbox, WebhookDelivery, WebhookEndpoint
from warehouse.outbox import cancel, enqueue

SEND_WEBHOOK = "send_webhook"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A receiver's redirect is an answer, never followed (it could point anywhere)."""

    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)
EVENTS = (
    "return.announced",
    "return.received",
    "unit.graded",
    "refund.approved",
    "refund.paid",
    "exchange.created",
)
TIMEOUT_SECONDS = 10
URL_MAX = 500


class DeliveryFailed(RuntimeError):
    """The receiver did not answer 2xx: the job fails and is retried with backoff."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def check_url(url: str, *, allow_private: bool) -> str:
    """An http(s) URL whose host is public (resolved now): a webhook never reaches the
    warehouse's own network (loopback, private, link-local addresses) unless the setting
    WEBHOOK_ALLOW_PRIVATE allows it (tests, an on-premise marketplace)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(_("the URL is not a valid http or https address"), field="url") from None
    if len(url) > URL_MAX or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(_("the URL must be an http or https address"), field="url")
    if any(c.isspace() for c in url):
        raise InvalidInput(_("the URL may not hold spaces"), field="url")
    if allow_private:
        return url
    try:
        found = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise InvalidInput(
            _("the host %(hostname)s cannot be resolved", hostname=repr(parts.hostname)),
            field="url",
        ) from None
    for *_info, address in found:
        ip = ipaddress.ip_address(address[0].split("%")[0])
        if not ip.is_global:
            raise InvalidInput(
                _(
                    "%(hostname)s is an address of a private network (%(ip)s); "
                    "webhooks go to public addresses",
                    hostname=parts.hostname,
                    ip=ip,
                ),
                field="url",
            )
    return url


def register(
    session: Session,
    actor: event_log.Actor,
    *,
    channel: str,
    url: str,
    events: list[str],
    allow_private: bool = False,
) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; answers it and its secret (shown once to the admin)."""
    channel = (channel or "").strip().lower()
    if not channel or len(channel) > 40:
        raise InvalidInput(_("name the sales channel (1 to 40 characters)"), field="channel")
    url = check_url(url, allow_private=allow_private)
    twin = session.scalar(
        sa.select(WebhookEndpoint.id).where(
            WebhookEndpoint.channel == channel,
            WebhookEndpoint.url == url,
            WebhookEndpoint.active.is_(True),
        )
    )
    if twin is not None:
        raise InvalidInput(
            _("%(url)s is registered for %(channel)s already", url=url, channel=channel),
            field="url",
        )
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise InvalidInput(
            _(
                "choose the events among: %(events)s (%(unknown)s is not one)",
                events=", ".join(EVENTS),
                unknown=", ".join(unknown),
            )
            if unknown
            else _("choose the events among: %(events)s", events=", ".join(EVENTS)),
            field="events",
        )
    secret = secrets.token_hex(24)
    endpoint = WebhookEndpoint(
        channel=channel,
        url=url,
        secret=secret,
        events=[e for e in EVENTS if e in events],
        created_by=actor.label[:120],
    )
    session.add(endpoint)
    session.flush()
    event_log.record(
        session, actor, "webhook.registered", endpoint, after=url, channel=channel, events=events
    )
    return endpoint, secret


def deactivate(session: Session, actor: event_log.Actor, endpoint_id: int) -> WebhookEndpoint:
    """Stop sending to an endpoint (its log stays)."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(_("no such webhook"), field="endpoint")
    if endpoint.active:
        endpoint.active = False
        event_log.record(session, actor, "webhook.deactivated", endpoint, before=endpoint.url)
    return endpoint


def about(rma, unit=None, **extra) -> dict[str, Any]:
    """An event's data: the return (RMA, order number, partner), the unit if any, and `extra`."""
    data = {"rma": rma.rma, "order_number": rma.order.number, "partner": rma.partner.code}
    if unit is not None:
        data["lpn"] = unit.lpn
    return data | extra


def _message_key(endpoint_id: int, event: str, key: str) -> str:
    return f"webhook:{endpoint_id}:{event}:{key}"[:160]


def emit(
    session: Session,
    event: str,
    *,
    channel: str,
    key: str,
    data: Callable[[], dict[str, Any]],
    available_at: dt.datetime | None = None,
) -> int:
    """Queue `event` for every active endpoint of `channel` that wants it, in the current
    transaction; `key` names the occurrence so it is sent once; `available_at` holds it back
    (a grade the station may still take back). Answers how many.

    `data()` makes the event's data, only when an endpoint wants it: a scan with nobody
    listening costs the one look-up of the endpoints, nothing more."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    endpoints = session.scalars(
        sa.select(WebhookEndpoint).where(
            WebhookEndpoint.channel == (channel or "").lower(), WebhookEndpoint.active.is_(True)
        )
    ).all()
    sent, payload = 0, None
    for endpoint in endpoints:
        if event not in (endpoint.events or []):
            continue
        payload = payload if payload is not None else data()
        delivery = WebhookDelivery(
            delivery_id=secrets.token_hex(16),
            endpoint_id=endpoint.id,
            event=event,
            payload=payload,
        )
        session.add(delivery)
        enqueue(
            session,
            SEND_WEBHOOK,
            {"delivery": delivery.delivery_id},
            _message_key(endpoint.id, event, key),
            available_at=available_at,
        )
        sent += 1
    return sent


def withdraw(session: Session, event: str, *, channel: str, key: str) -> int:
    """Take back an event still held in the outbox (its occurrence was undone); its deliveries
    are logged as withdrawn. Answers how many were taken back."""
    endpoint_ids = session.scalars(
        sa.select(WebhookEndpoint.id).where(WebhookEndpoint.channel == (channel or "").lower())
    ).all()
    taken = 0
    for endpoint_id in endpoint_ids:
        message_key = _message_key(endpoint_id, event, key)
        message = session.scalar(sa.select(Outbox).where(Outbox.idempotency_key == message_key))
        if message is None or not cancel(session, message_key, held_only=True):
            continue
        session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.delivery_id == message.payload.get("delivery"))
            .values(status="withdrawn")
        )
        taken += 1
    return taken


def _attempted(delivery_id: int, *, status: str, code: int | None, error: str | None) -> None:
    """Log an attempt in its own transaction: a failed attempt stays logged when the job's own
    transaction rolls back for the retry."""
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(
                status=status,
                attempts=WebhookDelivery.attempts + 1,
                last_status_code=code,
                last_error=error,
                delivered_at=utcnow() if status == "delivered" else None,
            )
        )


@job_kind(SEND_WEBHOOK, timeout=60)
def send_webhook(job: JobContext, payload: dict[str, Any]) -> str:
    """POST one delivery, signed; a non-2xx answer or no answer fails the job (retried)."""
    delivery = job.session.scalar(
        sa.select(WebhookDelivery).where(WebhookDelivery.delivery_id == payload["delivery"])
    )
    if delivery is None:
        return "no such delivery"
    if delivery.status == "delivered":
        return f"delivered already at {delivery.delivered_at.isoformat()}"
    endpoint = delivery.endpoint
    if not endpoint.active:
        _attempted(delivery.id, status="skipped", code=None, error="the endpoint was deactivated")
        return "the endpoint was deactivated"
    body = json.dumps(
        {
            "id": delivery.delivery_id,
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        sort_keys=True,
    ).encode()
    timestamp = int(job.now.timestamp())
    if urlsplit(endpoint.url).scheme not in ("http", "https"):
        return f"not an http(s) URL: {endpoint.url}"  # refused at registration; never opened
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked just above
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Returnyard-Webhooks/1",
            "X-Returnyard-Event": delivery.event,
            "X-Returnyard-Delivery": delivery.delivery_id,
            "X-Returnyard-Signature": signature(endpoint.secret, timestamp, body),
        },
    )
    code, error = None, None
    try:
        check_url(endpoint.url, allow_private=job.settings["WEBHOOK_ALLOW_PRIVATE"])
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as answer:
            code = answer.status
    except urllib.error.HTTPError as refused:
        code, error = refused.code, f"answered {refused.code}"
    except InvalidInput as refused:
        error = refused.message
    except Exception as failed:
        error = f"no answer: {type(failed).__name__}: {failed}"[:500]
    if code is not None and 200 <= code < 300:
        _attempted(delivery.id, status="delivered", code=code, error=None)
        job.session.refresh(delivery)
        return f"delivered {delivery.event} to {endpoint.url} ({code})"
    _attempted(delivery.id, status="failed", code=code, error=error)
    raise DeliveryFailed(f"{endpoint.url}: {error}")


def recent(session: Session, endpoint_id: int, limit: int = 20) -> list[WebhookDelivery]:
    """An endpoint's latest deliveries, newest first."""
    return list(
        session.scalars(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )
