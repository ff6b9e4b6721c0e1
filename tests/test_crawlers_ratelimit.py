"""Per-host rate limiters: in-process and Redis-backed (Redis on 127.0.0.1:6379)."""

from __future__ import annotations

import itertools
import threading
import time
import uuid

import pytest
import redis

from fiscalwatch.crawlers.ratelimit import LocalRateLimiter, RedisRateLimiter, make_rate_limiter
from fiscalwatch.settings import Settings

INTERVAL = 0.15
TOLERANCE = 0.02  # timer and scheduling jitter


def run_concurrently(limiters, host: str, calls_each: int) -> list[float]:
    """Each limiter waits ``calls_each`` times in its own thread; returns sorted release times."""
    released: list[float] = []
    lock = threading.Lock()

    def worker(limiter):
        for _ in range(calls_each):
            limiter.wait(host)
            with lock:
                released.append(time.monotonic())

    threads = [threading.Thread(target=worker, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(released)


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


@pytest.fixture
def redis_client():
    client = redis.Redis(host="127.0.0.1", port=6379)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client):
    prefix = f"fiscalwatch-test:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(redis_client.scan_iter(match=prefix + "*"))
    if keys:
        redis_client.delete(*keys)


def test_local_limiter_spaces_threads_per_host():
    limiter = LocalRateLimiter(INTERVAL)
    times = run_concurrently([limiter, limiter, limiter], "a.example.gov.cn", 2)
    assert len(times) == 6 and min(gaps(times)) >= INTERVAL - TOLERANCE
    assert times[-1] - times[0] < 5 * INTERVAL + 0.1  # no needless waiting either


def test_local_limiter_keeps_hosts_independent():
    limiter = LocalRateLimiter(1.0)
    start = time.monotonic()
    for host in ("a.example.gov.cn", "b.example.gov.cn", "c.example.gov.cn"):
        limiter.wait(host)
    assert time.monotonic() - start < 0.1


def test_redis_limiter_is_shared_between_instances(redis_client, prefix):
    other_client = redis.Redis(host="127.0.0.1", port=6379)  # as another worker would have
    first = RedisRateLimiter(redis_client, INTERVAL, prefix=prefix)
    second = RedisRateLimiter(other_client, INTERVAL, prefix=prefix)
    times = run_concurrently([first, second], "shared.example.gov.cn", 3)
    other_client.close()
    assert len(times) == 6 and min(gaps(times)) >= INTERVAL - TOLERANCE
    assert times[-1] - times[0] < 5 * INTERVAL + 0.15
    ttl = redis_client.pttl(prefix + "shared.example.gov.cn")
    assert 0 < ttl <= INTERVAL * 1000 + 1000  # keys expire on their own


def test_redis_limiter_keeps_hosts_independent(redis_client, prefix):
    limiter = RedisRateLimiter(redis_client, 1.0, prefix=prefix)
    start = time.monotonic()
    for host in ("a.example.gov.cn", "b.example.gov.cn"):
        limiter.wait(host)
    assert time.monotonic() - start < 0.1


def test_factory_picks_redis_for_a_redis_broker():
    assert isinstance(make_rate_limiter(Settings(broker_url="redis://127.0.0.1:6379/0")), RedisRateLimiter)
    local = make_rate_limiter(Settings(broker_url="", requests_per_second=4))
    assert isinstance(local, LocalRateLimiter) and local.interval == 0.25
