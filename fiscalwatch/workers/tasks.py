"""Celery tasks: thin wrappers that run one stage each and queue the next. Every task is idempotent
(keyed by crawl run, URL, content hash or alert row), so a retry or a redelivery repeats nothing.
Each stage logs one readable Chinese line (at INFO) from what it recorded in the store."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select
from sqlalchemy.exc import OperationalError as DatabaseUnavailable

from fiscalwatch.compliance import refresh_compliance
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import CRAWL_UNFINISHED, Blob, CrawlRun, DocumentRow, DocumentUrl, Source
from fiscalwatch.workers import console
from fiscalwatch.workers.app import app, current_settings
from fiscalwatch.workers.crawl import record_crawl_error, run_crawl
from fiscalwatch.workers.delivery import queue_digests, run_delivery
from fiscalwatch.workers.dispatch import dispatch_due_alerts, read_unfinished_scans, recover, send, start_crawls
from fiscalwatch.workers.fetching import record_fetch_error, run_fetch
from fiscalwatch.workers.processing import record_failure, run_process
from fiscalwatch.workers.sources import sync_sources, take_due_sources

log = logging.getLogger(__name__)

# A database that is briefly away (restart, failover) is waited out; everything else is recorded by the stage.
_RESILIENT = {"autoretry_for": (DatabaseUnavailable,), "retry_backoff": 5, "retry_backoff_max": 300,
              "max_retries": 8, "acks_late": True}


def _recorded(work, record, what: str, settings):
    """Run a crawl stage; a crash other than a database outage, or running past the task's time limit, is logged
    and recorded on its row (``record(code, reason)``), not retried blindly."""
    try:
        return work()
    except DatabaseUnavailable:
        raise
    except SoftTimeLimitExceeded:
        log.warning("%s stopped at its time limit (%s s)", what, settings.crawl_time_limit)
        record("timeout", f"超过时限（{settings.crawl_time_limit}秒），已停止")
    except Exception as exc:
        log.exception("%s crashed", what)
        record("internal_error", f"程序内部错误（{type(exc).__name__}）")
    return None


@app.task(**_RESILIENT)
def crawl_source(run_id: int) -> None:
    settings = current_settings()
    outcome = _recorded(lambda: run_crawl(settings, run_id), lambda code, reason: record_crawl_error(
        settings, run_id, code, f"抓取{reason}"), f"crawl run {run_id}", settings)
    to_fetch = outcome.to_fetch if outcome else []
    _tell_crawl(settings, run_id, len(to_fetch))
    for url in to_fetch:
        send("fetch_document", url)
    dispatch_due_alerts(settings)


@app.task(**_RESILIENT)
def fetch_document(url: str) -> None:
    settings = current_settings()
    sha256 = _recorded(lambda: run_fetch(settings, url), lambda code, reason: record_fetch_error(
        settings, url, code, f"下载{reason}"), f"fetching {url}", settings)
    _tell_fetch(settings, url)
    if sha256 is not None:
        send("process_blob", sha256)
    dispatch_due_alerts(settings)


@app.task(**_RESILIENT)
def process_blob(sha256: str) -> None:
    settings = current_settings()
    started, clock = datetime.now(timezone.utc), time.monotonic()
    try:
        run_process(settings, sha256)
    except SoftTimeLimitExceeded:
        record_failure(settings, sha256, "timeout", f"解析和校验超过时限（{settings.parse_time_limit}秒），已停止")
    _tell_processed(settings, sha256, started, time.monotonic() - clock)
    dispatch_due_alerts(settings)


@app.task(**_RESILIENT)
def deliver_alert(alert_id: int) -> None:
    run_delivery(current_settings(), alert_id)


@app.task(**_RESILIENT)
def refresh_standings() -> None:
    """Publication compliance per entity × year × kind, and its overdue/late alerts."""
    settings = current_settings()
    log.info("compliance: %s", refresh_compliance(settings))
    dispatch_due_alerts(settings)


@app.task(**_RESILIENT)
def tick() -> None:
    """The scheduler's heartbeat: crawl due sources, re-send lost work, retry alerts."""
    settings = current_settings()
    with session_scope(settings.database_url) as session:
        sync_sources(session, settings)
        due = take_due_sources(session, settings)
    if due:
        start_crawls(settings, due)
    recovered = recover(settings) | {"whole_scans": read_unfinished_scans(settings)}
    if any(recovered.values()):
        log.debug("tick: %d due sources, re-sent %s", len(due), recovered)
    if queue_digests(settings):
        dispatch_due_alerts(settings)


# --- console lines ----------------------------------------------------------------------------------

def _tell_crawl(settings, run_id: int, to_fetch: int) -> None:
    with session_scope(settings.database_url) as session:
        run = session.get(CrawlRun, run_id)
        if run is None or run.status in CRAWL_UNFINISHED:
            return  # a redelivered crawl of a run that another worker is doing
        source = session.get(Source, run.source_id)
        line = console.crawl_line(run, source, max(to_fetch - run.new_documents, 0))
    (log.info if run.status == "ok" else log.warning)(line)


def _tell_fetch(settings, url: str) -> None:
    with session_scope(settings.database_url) as session:
        row = session.get(DocumentUrl, url)
        if row is None or row.fetched_at is None:
            return
        versions = row.document.versions if row.document else []
        replaced = len(versions) > 1 and any(v.seen_at == row.fetched_at and v.superseded_at is None for v in versions)
        line = console.fetch_line(row, replaced)
        failed = row.fetch_status == "failed"
    if line:
        (log.warning if failed else log.info)(line)


def _tell_processed(settings, sha256: str, started: datetime, seconds: float) -> None:
    """The file's line; the parse time is kept with its report for /metrics."""
    with session_scope(settings.database_url) as session:
        blob = session.get(Blob, sha256)
        if blob is None or blob.processed_at is None or blob.processed_at < started:
            return  # not processed by this task (a redelivery, or someone else's lease)
        blob.report = {**(blob.report or {}), "parse_seconds": round(seconds, 3)}
        title = session.scalar(select(DocumentRow.title).where(DocumentRow.current_sha256 == sha256).limit(1))
        line = console.blob_line(blob, title)
    (log.warning if blob.status == "failed" else log.info)(line)
