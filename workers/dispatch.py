"""Putting work on the queues. The database row is the record of work to do; the queue message only
wakes a worker. Each row is stamped when dispatched, so the scheduler re-sends only what was lost
(a dead broker, a killed worker) and never floods the queue with duplicates."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from kombu.exceptions import OperationalError
from sqlalchemy import or_, select

from fiscalwatch.settings import Settings
from store.db import session_scope
from store.models import Alert, Blob, CrawlRun, DocumentUrl
from workers.app import app

log = logging.getLogger(__name__)

# Work queued longer than this without being done is sent again (its tasks are idempotent).
STALE = timedelta(minutes=10)
_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}


def send(task: str, *args) -> bool:
    """Enqueue a task; False (logged, nothing raised) when the broker is unreachable."""
    try:
        app.send_task(f"workers.tasks.{task}", args=args, retry=True, retry_policy=_RETRY)
        return True
    except OperationalError as exc:
        log.error("broker unreachable, %s%r stays recorded for the scheduler: %s", task, args, exc)
        return False


def start_crawls(settings: Settings, source_ids: list[str], cycle: str | None = None) -> list[int]:
    """Record a crawl run per source and queue it; returns the run ids."""
    now = datetime.now(timezone.utc)
    with session_scope(settings.database_url) as session:
        runs = [CrawlRun(source_id=source_id, cycle=cycle, status="queued", queued_at=now) for source_id in source_ids]
        session.add_all(runs)
        session.flush()
        ids = [run.id for run in runs]
    for run_id in ids:
        send("crawl_source", run_id)
    return ids


def dispatch_due_alerts(settings: Settings) -> int:
    now = datetime.now(timezone.utc)
    with session_scope(settings.database_url) as session:
        rows = list(session.scalars(select(Alert).where(
            Alert.status == "pending", Alert.next_attempt_at <= now,
            or_(Alert.lease_until.is_(None), Alert.lease_until < now))))
        for row in rows:
            row.lease_until = now + STALE
        ids = [row.id for row in rows]
    return sum(send("deliver_alert", alert_id) for alert_id in ids)


def recover(settings: Settings, stale: timedelta = STALE) -> dict[str, int]:
    """Re-send work queued longer than ``stale`` ago (its message was lost); returns counts per kind."""
    now = datetime.now(timezone.utc)
    stale = now - stale
    with session_scope(settings.database_url) as session:
        runs = list(session.scalars(select(CrawlRun).where(CrawlRun.status == "queued", CrawlRun.queued_at < stale)))
        urls = list(session.scalars(select(DocumentUrl).where(DocumentUrl.fetch_status == "queued",
                                                              DocumentUrl.queued_at < stale)))
        blobs = list(session.scalars(select(Blob).where(or_(
            (Blob.status == "pending") & ((Blob.queued_at.is_(None)) | (Blob.queued_at < stale)),
            (Blob.status == "processing") & (Blob.lease_until < now)))))
        for row in [*runs, *urls, *blobs]:
            row.queued_at = now
        work = ([("crawl_source", r.id) for r in runs] + [("fetch_document", u.url) for u in urls]
                + [("process_blob", b.sha256) for b in blobs])
    for task, key in work:
        send(task, key)
    return {"crawls": len(runs), "fetches": len(urls), "parses": len(blobs),
            "alerts": dispatch_due_alerts(settings)}
