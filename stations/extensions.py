"""Flask extensions, created unbound here and bound to the app in `create_app`; the app's one
Redis client and the RQ queues on it."""

from __future__ import annotations

from flask import current_app
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf import CSRFProtect
from redis import Redis
from rq import Queue

htmx = HTMX()
csrf = CSRFProtect()
login = LoginManager()
migrate = Migrate()

REDIS_KEY = "returnyard.redis"


def redis_client() -> Redis:
    """The app's Redis client (one connection pool per app), with short timeouts so an outage
    is noticed in a second instead of hanging a request. rq raises the read timeout of its own
    worker connections above its blocking dequeue on its own."""
    client = current_app.extensions.get(REDIS_KEY)
    if client is None:
        client = Redis.from_url(
            current_app.config["REDIS_URL"], socket_connect_timeout=1, socket_timeout=5
        )
        current_app.extensions[REDIS_KEY] = client
    return client


def job_queue(name: str, connection: Redis | None = None) -> Queue:
    """The RQ queue `name` (already prefixed, see `warehouse.relay.queue_names`)."""
    return Queue(name, connection=connection or redis_client())
