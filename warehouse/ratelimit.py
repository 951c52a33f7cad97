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
from warehouse.i18n import gettext as _
from warehouse.i18n import ngettext


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
            _("This page cannot check your details right now. Please try again in a few minutes.")
        )


@dataclass(frozen=True)
class Limit:
    """At most `attempts` per `window` seconds for one key."""

    name: str
    attempts: int
    window: int


class LocalCounters:
    """Window counters in this process's memory: the stand-in while Redis is unreachable.

    Bounded: past `MAX_KEYS` counters, ended windows are dropped, then the oldest ones.
    """

    MAX_KEYS = 50_000

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def add(self, keys: list[tuple[str, float]], now: float, step: int = 1) -> list[int]:
        """Add `step` to each (key, window end); the new counts."""
        counts = []
        with self._lock:
            for key, ends in keys:
                count, ended = self._counts.get(key, (0, ends))
                if ended <= now:
                    count = 0
                self._counts[key] = (max(0, count + step), ends)
                counts.append(self._counts[key][0])
            if len(self._counts) > self.MAX_KEYS:
                live = {k: v for k, v in self._counts.items() if v[1] > now}
                while len(live) > self.MAX_KEYS // 2:
                    live.pop(next(iter(live)))
                self._counts = live
        return counts


class RateLimiter:
    """Counts attempts per (limit, key) in the current window of each limit.

    An attempt is counted before it is judged (`take`), so requests arriving together cannot
    all pass before any of them is counted; one that turned out fine is given back
    (`give_back`). With `fallback` counters, a Redis outage counts in memory instead of
    refusing.
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

    def _add(self, keys: list[tuple[str, int]], now: float, step: int) -> list[int]:
        pipe = self.redis.pipeline()
        for redis_key, ends in keys:
            pipe.incrby(redis_key, step)
            pipe.expireat(redis_key, int(ends) + 1)
        try:
            return [int(count) for count in pipe.execute()[::2]]
        except RedisError:
            if self.fallback is None:
                # Failing closed: an outage must not become a window for guessing.
                raise LimiterUnavailable() from None
            return self.fallback.add(keys, now, step)

    def take(self, *checks: tuple[Limit, str], now: float | None = None) -> None:
        """Count one attempt against each (limit, key); refuse it with `TooManyAttempts` if
        that goes over any limit (the refused attempt stays counted)."""
        now = time.time() if now is None else now
        keys = [self._key(limit, key, now) for limit, key in checks]
        counts = self._add(keys, now, 1)
        for (limit, _key), (_redis_key, ends), count in zip(checks, keys, counts, strict=True):
            if count > limit.attempts:
                wait = max(1, int(ends - now))
                raise TooManyAttempts(
                    _(
                        "Too many attempts. Please wait %(wait)s and try again.",
                        wait=_minutes(wait),
                    ),
                    retry_after=wait,
                )

    def give_back(self, *checks: tuple[Limit, str], now: float | None = None) -> None:
        """Uncount an attempt taken in this window that turned out to be no guess."""
        now = time.time() if now is None else now
        self._add([self._key(limit, key, now) for limit, key in checks], now, -1)


def _minutes(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return ngettext("%(num)s minute", "%(num)s minutes", minutes)
