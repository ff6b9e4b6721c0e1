"""Source health on a real SQLite store and the fixture portal: a failed crawl is retried within minutes,
with backoff capped below the source's interval, so the operators' alert after repeated failures comes
within the hour; `fiscalwatch status` shows it all."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from pipeline_support import fiscalwatch, rows, write_config
from portal import FixturePortal

from fiscalwatch.settings import load_settings
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Alert, CrawlRun, Source
from fiscalwatch.workers.crawl import run_crawl
from fiscalwatch.workers.runner import prepare
from fiscalwatch.workers.sources import retry_delay, take_due_sources


@pytest.fixture
def failing(tmp_path):
    """Settings for one source whose list page answers 503 until told otherwise."""
    with FixturePortal() as portal:
        portal.add_document("czyjs", "2023年度部门决算", date(2024, 9, 1))
        portal.fail_next(portal.section_url("czyjs").removeprefix(portal.base_url), times=100, status=503)
        config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"},
                              [{"id": "czyjs", "name": "示例门户", "url": portal.section_url("czyjs"), "interval": "6h"}],
                              [{"url": "json://127.0.0.1:9/ops", "categories": ["operations"]}], fetch_retries=0)
        settings = load_settings(config)
        prepare(settings)
        yield settings, config


def _take(settings, now: datetime) -> list[str]:
    """What the scheduler's tick does: take due sources and record their crawl runs as queued."""
    with session_scope(settings.database_url) as session:
        due = take_due_sources(session, settings, now)
        session.add_all(CrawlRun(source_id=source_id, status="queued", queued_at=now) for source_id in due)
    return due


def _crawl_claimed(settings) -> None:
    [run] = rows(settings.database_url, CrawlRun, CrawlRun.status == "queued")
    run_crawl(settings, run.id)


def _age(settings, delta: timedelta) -> None:
    """Move the source's last crawl (and its runs) back in time, as if ``delta`` had passed."""
    with session_scope(settings.database_url) as session:
        source = session.get(Source, "czyjs")
        source.last_crawl_at -= delta
        for run in session.query(CrawlRun):
            run.queued_at -= delta


def test_a_failed_crawl_is_retried_with_backoff_and_alerted_within_the_hour(failing):
    settings, _ = failing
    start = datetime.now(timezone.utc)
    assert _take(settings, start) == ["czyjs"]  # never crawled: due at once
    _crawl_claimed(settings)
    source = rows(settings.database_url, Source)[0]
    assert source.consecutive_failures == 1 and "503" in source.last_error
    assert source.next_crawl_at > start + timedelta(hours=5)  # the interval alone would wait six hours

    waited = timedelta(0)
    for failures in (1, 2):
        delay = retry_delay(settings, failures, timedelta(hours=6))
        now = datetime.now(timezone.utc)
        assert _take(settings, now + delay - timedelta(seconds=30)) == []  # not yet
        _age(settings, delay)
        now = datetime.now(timezone.utc)
        assert _take(settings, now) == ["czyjs"]
        assert _take(settings, now) == []  # its retry is queued: not taken twice
        _crawl_claimed(settings)
        waited += delay
        assert rows(settings.database_url, Source)[0].consecutive_failures == failures + 1

    assert waited == timedelta(minutes=15)  # 5 + 10 minutes: the third failure comes a quarter of an hour in
    [alert] = rows(settings.database_url, Alert)
    assert alert.title.startswith("采集连续失败") and "已连续3次采集失败" in alert.body


def test_backoff_doubles_and_stays_below_the_interval(failing):
    settings, _ = failing
    delays = [retry_delay(settings, n, timedelta(hours=6)) for n in range(1, 8)]
    assert delays == [timedelta(minutes=m) for m in (5, 10, 20, 40, 60, 60, 60)]
    assert retry_delay(settings, 5, timedelta(minutes=30)) == timedelta(minutes=30)  # never later than the interval


def test_status_shows_sources_queues_documents_and_undelivered_alerts(failing):
    settings, config = failing
    _take(settings, datetime.now(timezone.utc))
    _crawl_claimed(settings)
    with session_scope(settings.database_url) as session:
        session.get(Source, "czyjs").consecutive_failures = 2  # a third failure alerts operators
    _take(settings, datetime.now(timezone.utc) + timedelta(hours=7))
    _crawl_claimed(settings)

    completed = fiscalwatch("status", "--config", str(config))
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert "数据源1个：" in out and "示例门户（czyjs）：连续失败3次：" in out and "503" in out
    assert "（北京时间）" in out and "最近成功—" in out
    assert "队列待处理：crawl 0，parse 0，alert 0" in out
    assert "公开文件：无" in out
    assert "未送达提醒1条：" in out and "[待发送，已尝试0次] 采集连续失败：示例门户 → json://127.0.0.1" in out
