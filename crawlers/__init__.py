"""Crawling: polite guarded fetching (``http``) and document discovery on sources (``discover``)."""

from crawlers.discover import CacheEntry, Discovery, FoundDocument, MemoryPageCache, PageCache, discover
from crawlers.http import Fetcher, FetchResult
from crawlers.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter, make_rate_limiter
from crawlers.robots import RobotsCache

__all__ = [
    "CacheEntry", "Discovery", "FetchResult", "Fetcher", "FoundDocument", "LocalRateLimiter", "MemoryPageCache",
    "PageCache", "RateLimiter", "RedisRateLimiter", "RobotsCache", "discover", "make_rate_limiter",
]
