"""Configured sources mirrored into the store, and which of them are due for a crawl."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from fiscalwatch.settings import Settings
from fiscalwatch.settings import Source as SourceConfig
from store.models import Source


def sync_sources(session: Session, settings: Settings) -> None:
    """Insert or update every configured source; sources removed from the config stop being crawled."""
    configured = {source.id: source for source in settings.sources}
    for row in session.scalars(select(Source)):
        row.active = row.id in configured
    for config in configured.values():
        row = session.get(Source, config.id) or Source(id=config.id, consecutive_failures=0)
        row.name, row.url, row.region = config.name, config.url, config.region
        row.interval_seconds = int(config.interval.total_seconds())
        row.active = True
        session.add(row)
    session.flush()


def source_config(settings: Settings, source_id: str) -> SourceConfig | None:
    return next((source for source in settings.sources if source.id == source_id), None)


def claim_due_sources(session: Session, settings: Settings, now: datetime | None = None) -> list[str]:
    """Sources whose next crawl time has come; their next time is pushed out (interval + jitter) at once,
    so two schedulers ticking together do not both enqueue them."""
    now = now or datetime.now(timezone.utc)
    due = session.scalars(select(Source).where(Source.active, (Source.next_crawl_at.is_(None))
                                               | (Source.next_crawl_at <= now)).with_for_update(skip_locked=True))
    claimed = []
    for source in due:
        jitter = random.uniform(0, settings.crawl_jitter) * source.interval_seconds
        source.next_crawl_at = now + timedelta(seconds=source.interval_seconds + jitter)
        claimed.append(source.id)
    return claimed
