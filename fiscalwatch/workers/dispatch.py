"""Putting work on the queues. The database row is the record of work to do; the queue message only
wakes a worker. Each row is stamped when dispatched, so the scheduler re-sends only what was lost
(a dead broker, a killed worker) and never floods the queue with duplicates.

Lost messages come back without waiting out ``STALE``: a message the broker refused clears its row's
stamp (re-sent at the next tick, i.e. as soon as the broker takes the tick again), and a Redis broker
that lost its data (restarted without persistence, flushed) is recognised by a marker kept beside the
queues, gone with them, upon which everything queued is re-sent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import redis
from kombu.exceptions import OperationalError
from sqlalchemy import func, or_, select, update

from fiscalwatch.settings import Settings, broker_url_for
from fiscalwatch.store import leases
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import (CRAWL_UNFINISHED, FETCH_UNFINISHED, PARSE_UNFINISHED, Alert, Blob, CrawlRun,
                                      DocumentUrl)
from fiscalwatch.workers.app import app, current_settings

log = logging.getLogger(__name__)

# Work queued longer than this without being done is sent again (its tasks are idempotent).
STALE = timedelta(minutes=10)
_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
BROKER_MARKER = "fiscalwatch:broker-marker"


def send(task: str, *args, database_url: str | None = None) -> bool:
    """Enqueue a task; False (logged, nothing raised) when the broker is unreachable, the work's row
    then marked as on no queue (``database_url``: the store of that row, else this process's)."""
    try:
        app.send_task(f"fiscalwatch.workers.tasks.{task}", args=args, retry=True, retry_policy=_RETRY)
        return True
    except OperationalError as exc:
        log.error("broker unreachable, %s%r stays recorded for the scheduler: %s", task, args, exc)
        if task in _UNSENT:
            with session_scope(database_url or current_settings().database_url) as session:
                _UNSENT[task](session, *args)
        return False


_UNSENT = {
    "crawl_source": lambda session, run_id: session.execute(update(CrawlRun).where(
        CrawlRun.id == run_id, CrawlRun.status == "queued").values(queued_at=None)),
    "fetch_document": lambda session, url: session.execute(update(DocumentUrl).where(
        DocumentUrl.url == url, DocumentUrl.fetch_status == "queued").values(queued_at=None)),
    "process_blob": lambda session, sha256: session.execute(update(Blob).where(
        Blob.sha256 == sha256, Blob.status == "pending").values(queued_at=None)),
    "deliver_alert": lambda session, alert_id: session.execute(update(Alert).where(
        Alert.id == alert_id, Alert.status == "pending").values(lease_until=None)),
}


def start_crawls(settings: Settings, source_ids: list[str], cycle: str | None = None) -> list[int]:
    """Record a crawl run per source and queue it; returns the run ids."""
    now = datetime.now(timezone.utc)
    with session_scope(settings.database_url) as session:
        runs = [CrawlRun(source_id=source_id, cycle=cycle, status="queued", queued_at=now) for source_id in source_ids]
        session.add_all(runs)
        session.flush()
        ids = [run.id for run in runs]
    for run_id in ids:
        send("crawl_source", run_id, database_url=settings.database_url)
    return ids


def dispatch_due_alerts(settings: Settings, stale: datetime | None = None) -> int:
    """Queue the alerts due now, and again those queued before ``stale`` (default: STALE ago) whose message
    may be lost. A delivery whose worker died mid-send (its ``sending`` lease ran out) may have reached the
    receiver: it is due again, and sent with the same idempotency key."""
    now = datetime.now(timezone.utc)
    queued_before = (stale or now - STALE) + STALE  # a queued alert's lease runs to its queue time + STALE
    with session_scope(settings.database_url) as session:
        session.execute(update(Alert).where(leases.lapsed(Alert.status, "sending", now))
                        .values(status="pending", next_attempt_at=now, lease_until=None))
        rows = list(session.scalars(select(Alert).where(
            Alert.status == "pending", Alert.next_attempt_at <= now,
            or_(Alert.lease_until.is_(None), Alert.lease_until < queued_before))))
        for row in rows:
            row.lease_until = now + STALE
        ids = [row.id for row in rows]
    return sum(send("deliver_alert", alert_id, database_url=settings.database_url) for alert_id in ids)


def recover(settings: Settings, stale: timedelta = STALE) -> dict[str, int]:
    """Re-send work queued longer than ``stale`` ago (its message was lost), work whose message the broker
    refused, everything queued when the broker lost its data, and crawls, fetches and parses whose worker
    died (their lease ran out); counts per kind."""
    now = datetime.now(timezone.utc)
    if _broker_forgot(settings):
        log.warning("消息队列的数据已丢失（重启或清空），重新派发所有排队中的任务")
        stale = timedelta(0)
    stale = now - stale
    with session_scope(settings.database_url) as session:
        runs = list(session.scalars(select(CrawlRun).where(
            leases.stranded(CrawlRun.status, CRAWL_UNFINISHED, stale, now))))
        urls = list(session.scalars(select(DocumentUrl).where(
            leases.stranded(DocumentUrl.fetch_status, FETCH_UNFINISHED, stale, now))))
        blobs = list(session.scalars(select(Blob).where(
            leases.stranded(Blob.status, PARSE_UNFINISHED, stale, now))))
        for row in [*runs, *urls, *blobs]:
            row.queued_at = now
        work = ([("crawl_source", r.id) for r in runs] + [("fetch_document", u.url) for u in urls]
                + [("process_blob", b.sha256) for b in blobs])
    for task, key in work:
        send(task, key, database_url=settings.database_url)
    return {"crawls": len(runs), "fetches": len(urls), "parses": len(blobs),
            "alerts": dispatch_due_alerts(settings, stale)}


def read_unfinished_scans(settings: Settings) -> int:
    """Low priority: once no file waits to be parsed, the oldest one whose first read left scanned pages at
    the OCR budget goes back on the parse queue, to be read whole (workers.processing); 1 if one was sent."""
    with session_scope(settings.database_url) as session:
        if session.scalar(select(func.count()).select_from(Blob).where(Blob.status.in_(PARSE_UNFINISHED))):
            return 0
        blob = session.scalar(select(Blob).where(Blob.ocr_unread > 0).order_by(Blob.processed_at).limit(1))
        if blob is None:
            return 0
        blob.status, blob.attempts, blob.queued_at = "pending", 0, datetime.now(timezone.utc)
        sha256 = blob.sha256
    return int(send("process_blob", sha256, database_url=settings.database_url))


def _broker_forgot(settings: Settings) -> bool:
    """True once after a Redis broker lost its queues: the marker set beside them is gone with them."""
    url = broker_url_for(settings)
    if not url.startswith(("redis://", "rediss://")):
        return False
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(client.set(BROKER_MARKER, datetime.now(timezone.utc).isoformat(), nx=True))
    except redis.RedisError:
        return False
    finally:
        client.close()
