"""Fixed-window attempt counters in Redis, to slow down guessing (customer order look-ups,
logins).

Redis rather than the database: counting a failed guess must not need a write transaction,
and the counters expire on their own. When Redis cannot be reached, a limiter either refuses
(the customer look-up: an outage must not open a window for guessing) or counts in this
process's memory (`LocalCounters`, for logins: staff must still get in, and guessing stays
slowed down per process).
"""

from __future__ import annotations

import threading
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


class LocalCounters:
    """Window counters in this process's memory: the stand-in while Redis is unreachable."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get(self, keys: list[str], now: float) -> list[int | None]:
        """The count of each key whose window has not ended (None for the others)."""
        with self._lock:
            found = [self._counts.get(key) for key in keys]
        return [entry[0] if entry is not None and entry[1] > now else None for entry in found]

    def add(self, keys: list[tuple[str, float]], now: float) -> None:
        """Count one attempt against each (key, window end); ended windows are dropped."""
        with self._lock:
            for key, ends in keys:
                count, _ = self._counts.get(key, (0, ends))
                self._counts[key] = (count + 1, ends)
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}


class RateLimiter:
    """Counts attempts per (limit, key) in the current window of each limit.

    With `fallback` counters, a Redis outage counts in memory instead of refusing.
    """

    def __init__(
        self, redis: Redis, prefix: str = "ry:rate", fallback: LocalCounters | None = None
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.fallback = fallback

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
            if self.fallback is None:
                # Failing closed: an outage must not become a window for guessing.
                raise LimiterUnavailable() from None
            counts = self.fallback.get([redis_key for redis_key, _ in keys], now)
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
        keys = [self._key(limit, key, now) for limit, key in checks]
        pipe = self.redis.pipeline()
        for redis_key, ends in keys:
            pipe.incr(redis_key)
            pipe.expireat(redis_key, int(ends) + 1)
        try:
            pipe.execute()
        except RedisError:
            if self.fallback is None:
                raise LimiterUnavailable() from None
            self.fallback.add(keys, now)


def _minutes(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"
