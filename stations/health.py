"""`/healthz`: is the database reachable, is Redis reachable."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify

from warehouse.db import db


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
        try:
            db.session.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:
            status["database"] = f"error: {type(error).__name__}"
        try:
            redis_connection().ping()
        except Exception as error:
            status["redis"] = f"error: {type(error).__name__}"
        # Without Redis the app still takes scans (the outbox holds the mail), so only a
        # database failure makes this instance unhealthy.
        healthy = status["database"] == "ok"
        overall = "ok" if all(v == "ok" for v in status.values()) else "degraded"
        return jsonify(status=overall, **status), (200 if healthy else 503)
