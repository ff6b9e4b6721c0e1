"""Stage 1, crawl: discover what a source lists now, record every listed URL, judge the crawl's health,
and name the URLs to fetch (new, possibly changed, or no longer listed)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select

from fiscalwatch.alerts import Event
from fiscalwatch.alerts.outbox import enqueue_event
from fiscalwatch.crawlers import Discovery, FoundDocument, discover
from fiscalwatch.settings import CRAWL_LEASE, Settings
from fiscalwatch.store import leases
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import CRAWL_UNFINISHED, CrawlRun, DocumentRow, DocumentUrl, Source
from fiscalwatch.store.page_cache import StorePageCache
from fiscalwatch.workers.fetching import fetcher_for, followed_files
from fiscalwatch.workers.sources import source_config

log = logging.getLogger(__name__)

# A list that suddenly shows less than this share of the links it used to is a broken crawl, not a purge.
SUSPICIOUS_DROP = 0.5
SUSPICIOUS_MIN_BEFORE = 4
# A running crawl's lease (CRAWL_LEASE) is longer than its task's hard time limit, after which the run is
# taken up again (its worker died); a run that kills its worker this often ends as failed.
MAX_CRAWL_ATTEMPTS = 3


@dataclass
class CrawlOutcome:
    to_fetch: list[str]  # URLs to (re)fetch, new ones first
    healthy: bool


def take_lease(settings: Settings, run_id: int) -> int | None:
    """Take a queued run, or a running one whose worker's lease ran out; returns the attempt, None if not ours
    (a redelivered crawl that finished, or that another worker is doing)."""
    return leases.take(settings.database_url, CrawlRun.id, run_id, status=CrawlRun.status,
                       free=CrawlRun.status == "queued", taken="running", attempts=CrawlRun.attempts,
                       lease=CRAWL_LEASE, started_at=datetime.now(timezone.utc))


def run_crawl(settings: Settings, run_id: int) -> CrawlOutcome:
    attempt = take_lease(settings, run_id)
    if attempt is None:
        return CrawlOutcome([], True)
    if attempt > MAX_CRAWL_ATTEMPTS:
        message = f"抓取时工作进程已异常退出{attempt - 1}次，本次不再重试"
        return _finish(settings, run_id, Discovery(errors=[("", "worker_crashed", message)]), failure=message)
    with session_scope(settings.database_url) as session:
        source_id = session.get(CrawlRun, run_id).source_id
    config = source_config(settings, source_id)
    if config is None:
        message = "配置中已没有该数据源"
        return _finish(settings, run_id, Discovery(errors=[("", "unknown_source", message)]), failure=message)
    discovery = discover(config, fetcher_for(settings), StorePageCache(settings.database_url),
                         files=followed_files())
    # The source page failed, or is no source of disclosures (a homepage, a challenge): its error says why.
    source_error = discovery.source_error(config.url)
    return _finish(settings, run_id, discovery, failure=source_error[1] if source_error else None)


def record_crawl_error(settings: Settings, run_id: int, code: str, message: str) -> None:
    """The run ends as failed (a crash: ``internal_error``; its time limit: ``timeout``), unless it ended already."""
    with session_scope(settings.database_url) as session:
        if session.get(CrawlRun, run_id).status not in CRAWL_UNFINISHED:
            return
    _finish(settings, run_id, Discovery(errors=[("", code, message)]), failure=message)


def _finish(settings: Settings, run_id: int, discovery: Discovery, failure: str | None) -> CrawlOutcome:
    now = datetime.now(timezone.utc)
    with session_scope(settings.database_url) as session:
        run = session.get(CrawlRun, run_id)
        source = session.get(Source, run.source_id)
        run.finished_at, run.lease_until, run.pages_fetched = now, None, discovery.pages_fetched
        run.documents_found, run.list_links = len(discovery.documents), discovery.list_links
        run.errors = [{"url": url, "code": code, "message": message} for url, code, message in discovery.errors]
        source.last_crawl_at = now
        if failure is not None:
            run.status = "failed"
            _record_failure(session, settings, source, failure)
            return CrawlOutcome([], False)
        run.status = "ok"
        suspicious = _suspicious(source, discovery)
        if suspicious:
            enqueue_event(session, f"crawl_suspicious|{source.id}|{run.id}", Event(
                kind="crawl_suspicious", source_id=source.id, source_name=source.name, region=source.region,
                url=source.url, before=source.last_link_count, after=discovery.list_links), settings.alerts)
        else:
            source.last_link_count = discovery.list_links
        source.last_success_at, source.consecutive_failures, source.last_error = now, 0, None
        new, changed = _record_listings(session, source, discovery.documents, now)
        run.new_documents = len(new)
        # Documents no longer listed are re-checked, unless the list itself looks broken.
        unlisted = [] if suspicious else _unlisted(session, source.id, run.started_at)
        # A fetch in flight is left to finish (it gets the current file); a new queuing starts its attempts anew.
        listed = new + changed + unlisted
        rows = _rows(session, listed)
        to_fetch = [url for url in listed if rows[url].fetch_status != "fetching"]
        for url in to_fetch:
            rows[url].fetch_status, rows[url].queued_at, rows[url].fetch_attempts = "queued", now, 0
        return CrawlOutcome(to_fetch, True)


def _record_failure(session, settings: Settings, source: Source, error: str) -> None:
    source.consecutive_failures += 1
    source.last_error = error
    if source.consecutive_failures >= settings.crawl_failure_alert:
        # One alert per streak of failures: the key names the last success the streak started after.
        since = source.last_success_at.isoformat() if source.last_success_at else "never"
        enqueue_event(session, f"crawl_failing|{source.id}|{since}", Event(
            kind="crawl_failing", source_id=source.id, source_name=source.name, region=source.region,
            url=source.url, failures=source.consecutive_failures, error=error), settings.alerts)


def _suspicious(source: Source, discovery: Discovery) -> bool:
    before = source.last_link_count or 0
    return before >= SUSPICIOUS_MIN_BEFORE and discovery.list_links < before * SUSPICIOUS_DROP


def _record_listings(session, source: Source, found: list[FoundDocument],
                     now: datetime) -> tuple[list[str], list[str]]:
    new, known = [], []
    rows = _rows(session, [item.url for item in found])
    for item in found:
        row = rows.get(item.url)
        if row is None:
            row = DocumentUrl(url=item.url, source_id=source.id, first_seen_at=now, fetch_status="queued",
                              queued_at=now)
            new.append(item.url)
        else:
            known.append(item.url)
        row.kind, row.title, row.page_title = item.kind, item.title, item.page_title
        row.published = item.published or row.published
        row.detail_url, row.list_url, row.file_ext = item.detail_url, item.list_url, item.file_ext
        row.last_listed_at = now
        session.add(row)
    session.flush()
    return new, known


def _rows(session, urls: list[str], chunk: int = 500) -> dict[str, DocumentUrl]:
    """The known rows of these URLs, loaded in a few queries (one query per URL, each flushing a growing
    session, made a crawl of a page with 200,000 links quadratic)."""
    found = {}
    for start in range(0, len(urls), chunk):
        found.update((row.url, row) for row in session.scalars(
            select(DocumentUrl).where(DocumentUrl.url.in_(urls[start:start + chunk]))))
    return found


def _unlisted(session, source_id: str, since: datetime) -> list[str]:
    rows = session.scalars(select(DocumentUrl.url).join(DocumentRow).where(
        DocumentUrl.source_id == source_id, DocumentUrl.last_listed_at < since,
        DocumentUrl.fetch_status == "ok", DocumentRow.status == "active"))
    return list(rows)
