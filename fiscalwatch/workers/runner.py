"""The long-running roles (worker, beat, both) and `watch --once`: one full cycle, then exit."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kombu.exceptions import OperationalError
from sqlalchemy import func, select

from fiscalwatch.alerts import validate_url
from fiscalwatch.compliance import refresh_compliance
from fiscalwatch.parsers.limits import die_with_parent
from fiscalwatch.settings import FEED_URL, Settings
from fiscalwatch.store.db import migrate, session_scope
from fiscalwatch.store.models import (CRAWL_UNFINISHED, FETCH_UNFINISHED, PARSE_UNFINISHED, Alert, Blob, CrawlRun,
                                      DocumentUrl, Source)
from fiscalwatch.workers.app import CONFIG_ENV, QUEUES, app
from fiscalwatch.workers.console import crawl_reason
from fiscalwatch.workers.delivery import queue_digests
from fiscalwatch.workers.dispatch import dispatch_due_alerts, read_unfinished_scans, recover, send, start_crawls
from fiscalwatch.workers.sources import sync_sources

log = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    pass


def prepare(settings: Settings) -> None:
    """Schema up to date and sources mirrored from the config: every role does this first."""
    migrate(settings.database_url)
    with session_scope(settings.database_url) as session:
        sync_sources(session, settings)


def warn_about_channels(settings: Settings) -> None:
    """Say at start which alert URLs cannot work (an example left in place, a typo) rather than at the first alert."""
    channels = [route for route in settings.alerts if route.url != FEED_URL]  # the feed is no Apprise URL
    if not channels:
        log.warning("未配置提醒渠道（alerts）：发现的问题只记录在库中，不会发送提醒")
    for route in channels:
        problem = validate_url(route.url)
        if problem:
            log.warning("提醒渠道地址不可用（%s://…）：%s；请在配置的 alerts 中替换", route.url.split("://")[0], problem)


def check_broker() -> None:
    """Fail fast on a dead broker, and declare the queues so nothing sent before a worker starts is lost."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=2, interval_start=0.5, interval_step=0.5)
            for queue in app.conf.task_queues:
                queue.bind(connection.default_channel).declare()
    except OperationalError as exc:
        raise BrokerUnavailable(str(exc)) from exc


def run_worker(settings: Settings, *, beat: bool, loglevel: str = "INFO", queues: tuple[str, ...] = QUEUES) -> None:
    prepare(settings)
    if beat:
        warn_about_channels(settings)
    argv = [*_quiet(loglevel), "worker", f"--queues={','.join(queues)}", f"--loglevel={loglevel}",
            f"--hostname=fiscalwatch-{os.getpid()}@%h"]
    if beat:
        argv.append("--beat")
        send("tick")  # crawl due sources now, not one tick interval after start
    app.start(argv)


def run_beat(settings: Settings, loglevel: str = "INFO") -> None:
    prepare(settings)
    warn_about_channels(settings)
    send("tick")
    app.start([*_quiet(loglevel), "beat", f"--loglevel={loglevel}"])


def _quiet(loglevel: str) -> list[str]:
    """Celery's banner and start-up chatter only when debugging."""
    return [] if loglevel.upper() == "DEBUG" else ["--quiet"]


def outstanding(settings: Settings, cycle: str) -> int:
    """Work of this cycle not yet done: crawls, fetches, parses and first delivery attempts."""
    with session_scope(settings.database_url) as session:
        counts = [
            select(func.count()).select_from(CrawlRun).where(CrawlRun.cycle == cycle,
                                                             CrawlRun.status.in_(CRAWL_UNFINISHED)),
            select(func.count()).select_from(DocumentUrl).where(DocumentUrl.fetch_status.in_(FETCH_UNFINISHED)),
            # A scan read in part is read whole once the parse queue is idle; its alerts wait for that.
            select(func.count()).select_from(Blob).where(Blob.status.in_(PARSE_UNFINISHED) | (Blob.ocr_unread > 0)),
            # Deliveries that already failed wait for their backoff; a later run or `watch` retries them.
            select(func.count()).select_from(Alert).where(
                (Alert.status == "sending") | ((Alert.status == "pending") & (Alert.attempts == 0))),
        ]
        return sum(session.scalar(query) for query in counts)


@dataclass
class SourceResult:
    id: str
    name: str
    ok: bool
    reason: str | None  # why the crawl failed, in Chinese
    pages: int
    documents: int
    new: int


@dataclass
class OnceReport:
    """What one `watch --once` cycle did; ``ok`` is what its exit status says."""

    finished: bool = False
    sources: list[SourceResult] = field(default_factory=list)
    processed: Counter = field(default_factory=Counter)  # blob status → files processed in this cycle
    alerts_sent: int = 0
    alerts_failed: list[str] = field(default_factory=list)  # "title：error" of deliveries that failed

    @property
    def ok(self) -> bool:
        return self.finished and all(s.ok for s in self.sources) and not self.alerts_failed


def run_once(settings: Settings, config_path: Path | None, loglevel: str = "WARNING") -> OnceReport:
    """Crawl every source, process everything found, send the alerts, exit; the report says what happened."""
    prepare(settings)
    warn_about_channels(settings)
    check_broker()
    env = dict(os.environ)
    if config_path is not None:
        env[CONFIG_ENV] = str(config_path.resolve())
    started = datetime.now(timezone.utc)
    attempts_before = _undelivered_attempts(settings)
    # The worker's lines go to stderr (logging); its stdout only has Celery's shutdown notices.
    worker = subprocess.Popen([sys.executable, "-m", "fiscalwatch.cli", "worker", f"--loglevel={loglevel}"],
                              env=env, stdout=subprocess.DEVNULL, start_new_session=True,
                              preexec_fn=lambda: die_with_parent(signal.SIGTERM))
    report = OnceReport()
    try:
        cycle = uuid.uuid4().hex
        recover(settings, stale=timedelta(0))  # leftovers of an interrupted earlier run
        start_crawls(settings, [source.id for source in settings.sources], cycle)
        deadline = time.monotonic() + settings.once_timeout
        if _settle(settings, cycle, worker, deadline):
            # Standings use what this cycle found; their overdue/late alerts and digests go out in the same run.
            refresh_compliance(settings)
            queue_digests(settings)
            dispatch_due_alerts(settings)
            report.finished = _settle(settings, cycle, worker, deadline)
    finally:
        _stop(worker)
    _fill(report, settings, cycle, started, attempts_before)
    return report


def _undelivered_attempts(settings: Settings) -> dict[int, int]:
    with session_scope(settings.database_url) as session:
        return dict(session.execute(select(Alert.id, Alert.attempts).where(Alert.status != "sent")).all())


def _fill(report: OnceReport, settings: Settings, cycle: str, started: datetime, attempts_before: dict[int, int]) -> None:
    with session_scope(settings.database_url) as session:
        for run, source in session.execute(select(CrawlRun, Source).join(Source, CrawlRun.source_id == Source.id)
                                           .where(CrawlRun.cycle == cycle).order_by(CrawlRun.id)):
            ok = run.status == "ok"
            report.sources.append(SourceResult(
                source.id, source.name, ok, None if ok else (crawl_reason(run, source.url) if run.errors
                                                          else _unfinished(run)),
                run.pages_fetched, run.documents_found, run.new_documents))
        report.processed = Counter(dict(session.execute(select(Blob.status, func.count()).where(
            Blob.processed_at >= started).group_by(Blob.status)).all()))
        report.alerts_sent = session.scalar(select(func.count()).select_from(Alert).where(Alert.sent_at >= started))
        for alert in session.scalars(select(Alert).where(Alert.status != "sent", Alert.attempts > 0)):
            if alert.attempts > attempts_before.get(alert.id, 0):
                report.alerts_failed.append(f"{alert.title}：{alert.last_error or '未知错误'}")


def _unfinished(run: CrawlRun) -> str:
    return {"queued": "本轮未开始（超时）", "running": "本轮未完成（超时）"}.get(run.status, f"状态为{run.status}")


def _settle(settings: Settings, cycle: str, worker: subprocess.Popen, deadline: float) -> bool:
    """Wait until the cycle's work is done and stays done; False when the deadline passes first."""
    quiet_since = None
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"worker exited unexpectedly with status {worker.returncode}")
        if outstanding(settings, cycle):
            read_unfinished_scans(settings)  # no beat here: the whole reads of long scans are sent from this loop
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:  # stays quiet: nothing was about to be queued
            return True
        time.sleep(0.3)
    log.error("watch --once: work still outstanding after %s s", settings.once_timeout)
    return False


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()  # warm shutdown: the main process stops its pool children itself
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()

