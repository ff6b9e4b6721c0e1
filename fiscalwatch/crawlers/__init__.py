"""Crawling: polite guarded fetching (``http``) and document discovery on sources (``discover``)."""

from fiscalwatch.crawlers.discover import (CacheEntry, Discovery, FileTypes, FoundDocument, MemoryPageCache, PageCache,
                                           discover)
from fiscalwatch.crawlers.http import Fetcher, FetchResult
from fiscalwatch.crawlers.ratelimit import LocalRateLimiter, RateLimiter, RedisRateLimiter, make_rate_limiter
from fiscalwatch.crawlers.robots import RobotsCache

__all__ = [
    "CacheEntry", "Discovery", "FetchResult", "Fetcher", "FileTypes", "FoundDocument", "LocalRateLimiter", "MemoryPageCache",
    "PageCache", "RateLimiter", "RedisRateLimiter", "RobotsCache", "discover", "make_rate_limiter",
]
