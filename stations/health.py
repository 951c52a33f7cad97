"""`/healthz`: is the database reachable, is Redis reachable, do job workers run, is the outbox
keeping up."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify

from stations.background import worker_states
from warehouse.db import db, utcnow
from warehouse.relay import backlog as outbox_backlog
from warehouse.relay import queue_names


def redis_connection():
    """A Redis client for this app's REDIS_URL, created once per app."""
    from redis import Redis

    client = current_app.extensions.get("returnyard.redis")
    if client is None:
        client = Redis.from_url(
            current_app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=2
        )
        current_app.extensions["returnyard.redis"] = client
    return client


def init_app(app) -> None:
    """Register `/healthz`."""

    @app.get("/healthz")
    def healthz():
        status = {"database": "ok", "redis": "ok"}
        extra = {}
        try:
            db.session.execute(sa.text("SELECT 1"))
            backlog = outbox_backlog(db.session)
            extra["outbox_backlog"] = {
                "count": backlog.count,
                "oldest_age_seconds": backlog.oldest_age_seconds(utcnow()),
            }
        except sa.exc.SQLAlchemyError as error:
            status["database"] = f"error: {type(error).__name__}"
        try:
            connection = redis_connection()
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
