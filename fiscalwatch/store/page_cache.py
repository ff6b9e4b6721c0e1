"""The crawler's page cache kept in the store, so conditional GETs survive restarts and are shared by workers."""

from __future__ import annotations

from datetime import datetime, timezone

from fiscalwatch.crawlers import CacheEntry
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import PageCache


class StorePageCache:
    def __init__(self, database_url: str):
        self.database_url = database_url

    def get(self, url: str) -> CacheEntry | None:
        with session_scope(self.database_url) as session:
            row = session.get(PageCache, url)
            return CacheEntry(row.etag, row.last_modified, row.links) if row else None

    def put(self, url: str, entry: CacheEntry) -> None:
        with session_scope(self.database_url) as session:
            row = session.get(PageCache, url) or PageCache(url=url)
            row.etag, row.last_modified, row.links = entry.etag, entry.last_modified, entry.links
            row.fetched_at = datetime.now(timezone.utc)
            session.add(row)
