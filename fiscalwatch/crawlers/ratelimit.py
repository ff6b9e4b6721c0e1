"""Per-host politeness: one request per host every ``1 / settings.requests_per_second`` seconds.

Both limiters atomically reserve the next free slot of a host and then sleep until it comes,
so concurrent callers queue up in order instead of stampeding when a slot frees up.
``LocalRateLimiter`` spaces the threads of one process; ``RedisRateLimiter`` spaces every
worker sharing the Redis server (slots are computed from the Redis clock, so worker clocks
need not agree). While Redis cannot be reached, ``RedisRateLimiter`` spaces this process's
requests on its own instead of failing the crawl: politeness degrades to per-worker, nothing
is lost, and the shared slots are used again as soon as Redis answers.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

import redis

from fiscalwatch.settings import Settings

REDIS_PREFIX = "fiscalwatch:ratelimit:"
REDIS_TIMEOUT = 2.0  # seconds; a hung Redis must not hold a crawl longer than a dead one

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    def wait(self, host: str) -> None:
        """Block until a request to ``host`` may be sent."""


class LocalRateLimiter:
    """In-process, thread-safe limiter."""

    def __init__(self, interval: float):
        self.interval = interval
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot.get(host, now))
            self._next_slot[host] = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


# KEYS[1]: the host's key; ARGV[1]: interval in ms. Returns how many ms the caller must wait.
_RESERVE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or 0))
local interval = tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', slot + interval), 'PX', slot - now + interval + 1000)
return slot - now
"""


class RedisRateLimiter:
    """Limiter shared by all processes using the same Redis server and key prefix."""

    def __init__(self, client: redis.Redis, interval: float, prefix: str = REDIS_PREFIX):
        self.interval_ms = round(interval * 1000)
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE_SLOT)
        self._fallback = LocalRateLimiter(interval)
        self._degraded = False

    def wait(self, host: str) -> None:
        try:
            delay_ms = int(self._reserve(keys=[self.prefix + host], args=[self.interval_ms]))
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if not self._degraded:
                log.warning("rate limiter: Redis unreachable (%s), spacing requests in this process", exc)
            self._degraded = True
            self._fallback.wait(host)
            return
        self._degraded = False
        if delay_ms > 0:
            time.sleep(delay_ms / 1000)


def make_rate_limiter(settings: Settings) -> RateLimiter:
    """Redis-backed when the broker is Redis (several workers), else in-process."""
    rate = settings.requests_per_second
    interval = 1.0 / rate if rate > 0 else 0.0
    if settings.broker_url.startswith(("redis://", "rediss://")):
        client = redis.Redis.from_url(settings.broker_url, socket_timeout=REDIS_TIMEOUT,
                                      socket_connect_timeout=REDIS_TIMEOUT)
        return RedisRateLimiter(client, interval)
    return LocalRateLimiter(interval)
