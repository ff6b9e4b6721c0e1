"""Worker processes under fault (issue 13), with real `fiscalwatch` processes on the embedded store: a crawl
that runs away is stopped at its task's time limit, and a killed `watch` leaves no worker child or
scheduler running on."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from pipeline_support import backend, rows, spawn, wait_for, write_config
from portal import FixturePortal

from fiscalwatch.settings import load_settings
from fiscalwatch.store.models import CrawlRun
from fiscalwatch.workers.app import configure
from fiscalwatch.workers.dispatch import start_crawls
from fiscalwatch.workers.runner import prepare

pytestmark = pytest.mark.slow
HANG = 900  # seconds the hanging page takes to answer: far beyond every wait below


def _kill_group(process) -> None:
    """The process and whatever is left of its group (its children, even after it died)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=60)


def test_a_crawl_past_its_time_limit_is_stopped_and_its_run_recorded(tmp_path):
    with FixturePortal() as portal, backend("embedded", tmp_path) as store:
        portal.add_file("/hang/index.html", b"<html><body></body></html>", content_type="text/html", delay=HANG)
        config = write_config(tmp_path, store, [{"id": "hang", "name": "挂起的门户", "url": portal.url("/hang/index.html")}],
                              [], crawl_time_limit=2, request_timeout=HANG * 2, fetch_retries=0)
        settings = load_settings(config)
        configure(settings)
        prepare(settings)
        worker = spawn("worker", "--config", str(config), "--loglevel", "WARNING")
        try:
            [run_id] = start_crawls(settings, ["hang"])
            started = time.monotonic()
            [run] = wait_for(lambda: rows(settings.database_url, CrawlRun, CrawlRun.id == run_id,
                                       CrawlRun.status.in_(("ok", "failed"))), 180, "the crawl to end")
            print(f"\nhanging crawl stopped {time.monotonic() - started:.1f} s after it was queued (limit 2 s)")
        finally:
            _kill_group(worker)
    assert run.status == "failed" and run.lease_until is None and run.attempts == 1
    assert [e["code"] for e in run.errors] == ["timeout"] and "2秒" in run.errors[0]["message"]


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has ended; only its parent (here: init) has not reaped it yet


def test_a_killed_watch_leaves_no_worker_child_or_scheduler_running(tmp_path):
    with backend("embedded", tmp_path) as store:
        config = write_config(tmp_path, store, [], [], worker_concurrency=2)
        watch = spawn("watch", "--config", str(config), "--loglevel", "WARNING")
        children: set[int] = set()
        try:
            # Two pool processes and the embedded scheduler.
            children = wait_for(lambda: found if len(found := _children(watch.pid)) >= 3 else None, 180,
                             "the worker's pool and scheduler to start")
            os.kill(watch.pid, signal.SIGKILL)  # the main process only, as the OOM killer would
            watch.wait(timeout=60)
            wait_for(lambda: not any(_alive(child) for child in children), 60, f"children {children} to end")
        finally:
            _kill_group(watch)  # its process group: whatever outlived it, so nothing is left on failure
            for child in children:
                if _alive(child):
                    os.kill(child, signal.SIGKILL)
