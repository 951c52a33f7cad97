"""`/healthz`: is the database reachable, is Redis reachable, do job workers run, is the outbox
keeping up."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, current_app, jsonify

from stations.extensions import redis_client
from stations.worker import worker_states
from warehouse.db import db, utcnow
from warehouse.relay import backlog as outbox_backlog
from warehouse.relay import in_flight, queue_names


def init_app(app: Flask) -> None:
    """Register `/healthz`."""
    app.add_url_rule("/healthz", "healthz", healthz)


def healthz():
    """The instance's health as JSON: 200 while the database answers, 503 when it does not."""
    status = {"database": "ok", "redis": "ok"}
    extra = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        now = utcnow()
        backlog = outbox_backlog(db.session, now)
        extra["outbox_backlog"] = {
            "count": backlog.count,
            "oldest_age_seconds": backlog.oldest_age_seconds(now),
        }
        running = in_flight(db.session)
        extra["outbox_in_flight"] = {
            "count": running.count,
            "oldest_age_seconds": running.oldest_age_seconds(now),
        }
    except sa.exc.SQLAlchemyError as error:
        status["database"] = f"error: {type(error).__name__}"
    try:
        connection = redis_client()
        connection.ping()
        workers = worker_states(connection, queue_names(current_app.config))
        alive = [w for w in workers if w["alive"]]
        extra["workers"] = {
            "alive": len(alive),
            "busy": sum(1 for w in alive if w["state"] == "busy"),
            "last_heartbeat_age_seconds": min(
                (w["heartbeat_age"] for w in alive if w["heartbeat_age"] is not None),
                default=None,
            ),
        }
    except Exception as error:
        status["redis"] = f"error: {type(error).__name__}"
        extra["workers"] = "unknown: Redis unreachable"
    # Without Redis the app still takes scans (the outbox holds the mail), so only a
    # database failure makes this instance unhealthy. No live worker means mail waits:
    # degraded, not down.
    healthy = status["database"] == "ok"
    overall = "ok" if all(v == "ok" for v in status.values()) else "degraded"
    if isinstance(extra.get("workers"), dict) and extra["workers"]["alive"] == 0:
        overall = "degraded"
    return jsonify(status=overall, **status, **extra), (200 if healthy else 503)
