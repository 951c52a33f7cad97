"""The attempt counters against guessing, on the real Redis."""

from __future__ import annotations

import time

import pytest
from redis import Redis

from warehouse.ratelimit import Limit, RateLimiter, TooManyAttempts


@pytest.fixture
def limiter(redis_server, request):
    client = Redis.from_url(redis_server.url)
    yield RateLimiter(client, prefix=f"test:{request.node.name}")
    for key in client.scan_iter(f"test:{request.node.name}:*"):
        client.delete(key)


def test_attempts_are_counted_per_key_and_window(limiter):
    three = Limit("t", attempts=3, window=60)
    start = (int(time.time()) // 60 + 1) * 60  # the start of the next minute: keys stay alive
    for _ in range(3):
        limiter.check((three, "a"), now=start)
        limiter.hit((three, "a"), now=start)
    with pytest.raises(TooManyAttempts, match="wait 1 minute") as refused:
        limiter.check((three, "a"), now=start + 50)
    assert refused.value.details["retry_after"] == 10
    limiter.check((three, "b"), now=start + 50)  # another key is not affected
    limiter.check((three, "a"), now=start + 60)  # the next window starts afresh


def test_any_exhausted_limit_refuses(limiter):
    loose, tight = Limit("loose", 100, 600), Limit("tight", 1, 600)
    limiter.hit((loose, "ip"), (tight, "order"))
    limiter.check((loose, "ip"))
    with pytest.raises(TooManyAttempts):
        limiter.check((loose, "ip"), (tight, "order"))
