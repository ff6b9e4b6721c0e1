"""Failures the pipeline must survive: a worker killed mid-parse, bad files, a dead broker."""

from __future__ import annotations

import os
import signal
import time
from datetime import date, datetime, timedelta, timezone

import pypdfium2 as pdfium
import pytest
from pipeline_support import backend, fiscalwatch, rows, spawn, wait_for, write_config
from portal import FixturePortal
from render_seeds import render
from webhook import WebhookReceiver

from fiscalwatch.settings import Settings, load_settings
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Alert, Blob, CrawlRun, DocumentUrl
from fiscalwatch.workers.app import configure
from fiscalwatch.workers.dispatch import dispatch_due_alerts, recover, start_crawls
from fiscalwatch.workers.runner import prepare


def _long_pdf(path, copies: int) -> bytes:
    """Seed 000 repeated: a real document that takes several seconds to parse."""
    seed = pdfium.PdfDocument(render("000", "pdf"))
    merged = pdfium.PdfDocument.new()
    for _ in range(copies):
        merged.import_pages(seed)
    merged.save(path)
    return path.read_bytes()


def _stop(process) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except Exception:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.mark.slow
def test_worker_killed_mid_parse_is_processed_and_alerted_exactly_once(tmp_path):
    """Nothing here depends on the machine's speed: the worker is killed as soon as the parse has begun (a
    244-page file cannot finish between two polls), the time limit is far above any parse, every wait is
    on a condition with a generous limit, and "several scheduler ticks later" is counted in crawl runs."""
    with FixturePortal() as portal, WebhookReceiver() as hooks, backend("embedded", tmp_path) as store:
        db = store["database_url"]
        portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算（合订本）", date(2024, 10, 20),
                            attachments=[("合订本.pdf", _long_pdf(tmp_path / "long.pdf", 4))])
        portal.add_document("czyjs", "损坏的附件", date(2024, 10, 21),
                            attachments=[("损坏.pdf", render("001", "pdf").read_bytes()[:5000])])
        # A short lease brings the killed parse back soon; with one worker process a lease running out
        # during the second parse only re-sends a message that then finds the file already done.
        config = write_config(tmp_path, store, [{"id": "czyjs", "name": "示例门户", "url": portal.section_url("czyjs"),
                                                 "interval": "1s"}],
                              [{"url": hooks.url_for("/ngo")}], tick_seconds=1, crawl_jitter=0, parse_lease_seconds=20,
                              parse_time_limit=1800, worker_concurrency=1)

        assert fiscalwatch("migrate", "--config", str(config)).returncode == 0
        first = spawn("watch", "--config", str(config), "--loglevel", "WARNING")
        try:
            long_blob = wait_for(lambda: [b for b in rows(db, Blob) if b.status == "processing" and b.size > 10**6],
                              600, "the long document to be parsing")[0]
            os.killpg(first.pid, signal.SIGKILL)  # the worker, its pool child and the scheduler, mid-parse
            first.wait(timeout=60)
        finally:
            if first.poll() is None:
                os.killpg(first.pid, signal.SIGKILL)
        killed = rows(db, Blob, Blob.sha256 == long_blob.sha256)[0]
        assert killed.status == "processing" and killed.attempts == 1
        assert not [m for m in hooks.messages() if "合订本" in m.message]

        second = spawn("watch", "--config", str(config), "--loglevel", "WARNING")
        try:
            wait_for(lambda: [m for m in hooks.messages() if "合订本" in m.message], 1200, "the alert after recovery")
            crawled = len(rows(db, CrawlRun, CrawlRun.status == "ok"))
            # Several scheduler ticks later (each starts a crawl of the 1 s source): a second alert or parse
            # would have shown up by now.
            wait_for(lambda: len(rows(db, CrawlRun, CrawlRun.status == "ok")) >= crawled + 3, 600, "three more ticks")
        finally:
            _stop(second)
        done = rows(db, Blob, Blob.sha256 == long_blob.sha256)[0]
        assert done.status == "ok" and done.attempts == 2
        assert len([m for m in hooks.messages() if "合订本" in m.message]) == 1
        alerts = rows(db, Alert)
        assert len(alerts) == 1 and alerts[0].status == "sent" and alerts[0].attempts == 1

        # The truncated attachment ended as a recorded failure with its reason, parsed once, never alerted.
        broken = [b for b in rows(db, Blob) if b.sha256 != long_blob.sha256]
        assert len(broken) == 1 and broken[0].status == "failed" and broken[0].attempts == 1
        assert broken[0].error_code and broken[0].error
        # Every attachment was downloaded (a re-check of the 1 s source may still be queued at the stop).
        urls = rows(db, DocumentUrl)
        assert all(u.fetch_status in ("ok", "queued", "fetching") and u.fetched_at for u in urls), [
            (u.url, u.fetch_status, u.fetch_error, u.fetched_at) for u in urls]


def test_dead_broker_is_a_clear_error_and_loses_nothing(tmp_path):
    config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}",
                                     "broker_url": "redis://127.0.0.1:1/0"},
                          [{"id": "s", "name": "门户", "url": "http://127.0.0.1:1/index.html"}], [])
    started = time.monotonic()
    result = fiscalwatch("watch", "--once", "--config", str(config), timeout=120)
    assert result.returncode == 2
    assert "无法连接消息队列" in result.stderr
    assert time.monotonic() - started < 60


def test_work_sent_to_a_dead_broker_stays_recorded_for_the_scheduler(tmp_path):
    config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}",
                                     "broker_url": "redis://127.0.0.1:1/0"},
                          [{"id": "s", "name": "门户", "url": "http://127.0.0.1:1/index.html"}], [])
    settings = load_settings(config)
    configure(settings)
    try:
        prepare(settings)
        [run_id] = start_crawls(settings, ["s"])  # the broker refuses; the run stays recorded as queued
        assert rows(settings.database_url, CrawlRun, CrawlRun.id == run_id)[0].status == "queued"
        assert recover(settings, stale=timedelta(0))["crawls"] == 1  # and the scheduler sends it again
    finally:
        configure(Settings())


def test_an_alert_queued_by_an_interrupted_run_is_queued_again_by_the_next(tmp_path):
    """`watch --once` starts with recover(stale=0): an alert queued a minute ago by a run that was then
    killed (its message held by the dead worker) goes out now, not when its 10 min queue lease runs out."""
    config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"},
                          [{"id": "s", "name": "门户", "url": "http://127.0.0.1:1/index.html"}], [])
    settings = load_settings(config)
    configure(settings)
    try:
        prepare(settings)
        now = datetime.now(timezone.utc)
        with session_scope(settings.database_url) as session:
            session.add(Alert(key="k", channel="json://127.0.0.1:1/", category="document", severity="error",
                              title="文件被替换", body="…", status="pending", created_at=now - timedelta(minutes=1),
                              next_attempt_at=now - timedelta(minutes=1), lease_until=now + timedelta(minutes=9)))
        assert dispatch_due_alerts(settings) == 0  # within its queue lease: its message is on its way
        assert recover(settings)["alerts"] == 0
        assert recover(settings, stale=timedelta(0))["alerts"] == 1
    finally:
        configure(Settings())
