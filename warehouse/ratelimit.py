"""Fixed-window attempt counters in Redis, to slow down guessing (customer order look-ups).

Redis rather than the database: counting a failed guess must not need a write transaction,
and the counters expire on their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from warehouse.errors import DomainError


class TooManyAttempts(DomainError):
    """Too many attempts from one place or at one thing; try again after `retry_after` s."""

    status = 429
    code = "too_many_attempts"


class LimiterUnavailable(DomainError):
    """The counters cannot be read, so the guarded action is refused rather than left open."""

    status = 503
    code = "temporarily_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "This page cannot check your details right now. Please try again in a few minutes."
        )


@dataclass(frozen=True)
class Limit:
    """At most `attempts` per `window` seconds for one key."""

    name: str
    attempts: int
    window: int


class RateLimiter:
    """Counts attempts per (limit, key) in the current window of each limit."""

    def __init__(self, redis: Redis, prefix: str = "ry:rate") -> None:
        self.redis = redis
        self.prefix = prefix

    def _key(self, limit: Limit, key: str, now: float) -> tuple[str, int]:
        window_start = int(now // limit.window) * limit.window
        return f"{self.prefix}:{limit.name}:{key}:{window_start}", window_start + limit.window

    def check(self, *checks: tuple[Limit, str], now: float | None = None) -> None:
        """Raise `TooManyAttempts` if any (limit, key) has used up its attempts."""
        now = time.time() if now is None else now
        keys = [self._key(limit, key, now) for limit, key in checks]
        try:
            counts = self.redis.mget([redis_key for redis_key, _ in keys])
        except RedisError:
            # Failing closed: an outage must not become a window for guessing.
            raise LimiterUnavailable() from None
        for (limit, _key), (_redis_key, ends), count in zip(checks, keys, counts, strict=True):
            if count is not None and int(count) >= limit.attempts:
                wait = max(1, int(ends - now))
                raise TooManyAttempts(
                    f"Too many attempts. Please wait {_minutes(wait)} and try again.",
                    retry_after=wait,
                )

    def hit(self, *checks: tuple[Limit, str], now: float | None = None) -> None:
        """Count one attempt against each (limit, key)."""
        now = time.time() if now is None else now
        pipe = self.redis.pipeline()
        for limit, key in checks:
            redis_key, ends = self._key(limit, key, now)
            pipe.incr(redis_key)
            pipe.expireat(redis_key, int(ends) + 1)
        try:
            pipe.execute()
        except RedisError:
            raise LimiterUnavailable() from None


def _minutes(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
