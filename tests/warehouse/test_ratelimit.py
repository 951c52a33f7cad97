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
        limiter.take((three, "a"), now=start)
    with pytest.raises(TooManyAttempts, match="wait 1 minute") as refused:
        limiter.take((three, "a"), now=start + 50)
    assert refused.value.details["retry_after"] == 10
    limiter.take((three, "b"), now=start + 50)  # another key is not affected
    limiter.take((three, "a"), now=start + 60)  # the next window starts afresh


def test_any_exhausted_limit_refuses(limiter):
    loose, tight = Limit("loose", 100, 600), Limit("tight", 1, 600)
    limiter.take((loose, "ip"), (tight, "order"))
    limiter.take((loose, "ip"))
    with pytest.raises(TooManyAttempts):
        limiter.take((loose, "ip"), (tight, "order"))


def test_an_attempt_given_back_does_not_count(limiter):
    one = Limit("one", 1, 600)
    for _ in range(5):
        limiter.take((one, "k"))
        limiter.give_back((one, "k"))
    limiter.take((one, "k"))
    with pytest.raises(TooManyAttempts):
        limiter.take((one, "k"))


def test_in_memory_counters_count_alike_and_stay_bounded():
    from warehouse.ratelimit import LocalCounters

    counters = LocalCounters()
    counters.MAX_KEYS = 100
    assert counters.add([("a", 10.0)], now=1.0) == [1]
    assert counters.add([("a", 10.0)], now=2.0) == [2]
    assert counters.add([("a", 20.0)], now=11.0) == [1]  # a new window
    for n in range(500):
        counters.add([(f"k{n}", 1000.0)], now=12.0)
    assert len(counters._counts) <= 100
