"""Configured sources mirrored into the store, and which of them are due for a crawl: on their interval
when healthy, soon after a failed crawl (exponential backoff, capped below the interval)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from fiscalwatch.settings import Settings, SourceConfig
from fiscalwatch.store.models import CrawlRun, Source


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


def retry_delay(settings: Settings, failures: int, interval: timedelta) -> timedelta:
    """How long after its ``failures``-th failed crawl in a row a source is crawled again."""
    delay = settings.crawl_retry_delay * 2 ** max(failures - 1, 0)
    return min(delay, settings.crawl_retry_max_delay, interval)


def take_due_sources(session: Session, settings: Settings, now: datetime | None = None) -> list[str]:
    """Sources whose next crawl time has come, or whose last crawl failed long enough ago; their next time
    is pushed out (interval + jitter) at once, so two schedulers ticking together do not both enqueue them."""
    now = now or datetime.now(timezone.utc)
    sources = session.scalars(select(Source).where(Source.active).with_for_update(skip_locked=True))
    taken = []
    for source in sources:
        if not (_on_interval(source, now) or _retry_due(session, settings, source, now)):
            continue
        jitter = random.uniform(0, settings.crawl_jitter) * source.interval_seconds
        source.next_crawl_at = now + timedelta(seconds=source.interval_seconds + jitter)
        taken.append(source.id)
    return taken


def _on_interval(source: Source, now: datetime) -> bool:
    return source.next_crawl_at is None or source.next_crawl_at <= now


def _retry_due(session: Session, settings: Settings, source: Source, now: datetime) -> bool:
    """A failing source whose backoff has passed and whose retry is not already queued or running."""
    if not source.consecutive_failures or source.last_crawl_at is None:
        return False
    delay = retry_delay(settings, source.consecutive_failures, timedelta(seconds=source.interval_seconds))
    if source.last_crawl_at + delay > now:
        return False
    retrying = session.scalar(select(CrawlRun.id).where(CrawlRun.source_id == source.id,
                                                        CrawlRun.queued_at > source.last_crawl_at).limit(1))
    return retrying is None
