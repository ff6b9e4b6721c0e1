"""Source health, through the crawl and fetch stages run in-process on a real SQLite store: a list page
that suddenly shows far fewer links is an operator alert (not a mass withdrawal), and a source whose
crawls keep failing alerts operators once per streak."""

from __future__ import annotations

from datetime import date

import pytest
from pipeline_support import rows, write_config
from portal import FixturePortal
from render_seeds import render

from fiscalwatch.settings import load_settings
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Alert, CrawlRun, DocumentRow, DocumentUrl, Source
from fiscalwatch.workers.crawl import run_crawl
from fiscalwatch.workers.fetching import run_fetch
from fiscalwatch.workers.runner import prepare


def _crawl(settings) -> list[str]:
    with session_scope(settings.database_url) as session:
        run = CrawlRun(source_id=settings.sources[0].id, status="queued")
        session.add(run)
        session.flush()
        run_id = run.id
    fetched = run_crawl(settings, run_id).to_fetch
    for url in fetched:
        run_fetch(settings, url)
    return fetched


@pytest.fixture
def portal():
    with FixturePortal(per_page=20) as running:
        yield running


def _settings(tmp_path, portal):
    config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"},
                          [{"id": "czyjs", "name": "示例门户", "url": portal.section_url("czyjs")}],
                          [{"url": "json://127.0.0.1:9/ops", "categories": ["operations", "document"]}],
                          fetch_retries=0)
    settings = load_settings(config)
    prepare(settings)
    return settings


def test_a_list_that_suddenly_empties_is_suspicious_not_a_withdrawal(tmp_path, portal):
    pdf = render("004", "pdf").read_bytes()
    details = [portal.add_document("czyjs", f"第{n}号 2022年度部门决算", date(2023, 9, n + 1),
                                   attachments=[(f"决算{n}.pdf", pdf if n == 0 else pdf + bytes([n]))])
               for n in range(5)]
    settings = _settings(tmp_path, portal)
    _crawl(settings)
    assert len(rows(settings.database_url, DocumentRow)) == 5

    for detail in details[1:]:  # the list now shows one entry: a broken template, not four withdrawals
        portal.remove_document(detail)
    assert _crawl(settings) == [portal.attachment_urls(details[0])[0]]
    assert not rows(settings.database_url, DocumentRow, DocumentRow.status == "withdrawn")
    [alert] = rows(settings.database_url, Alert)
    assert alert.category == "operations" and alert.title.startswith("采集结果异常")
    assert "本次发现1个链接，上次为5个" in alert.body


def test_failing_source_alerts_once_per_streak(tmp_path, portal):
    portal.add_document("czyjs", "2022年度部门决算", date(2023, 9, 1), attachments=[("决算.pdf", b"%PDF-1.4 x")])
    settings = _settings(tmp_path, portal)
    _crawl(settings)
    list_path = portal.section_url("czyjs").removeprefix(portal.base_url)
    for _ in range(5):
        portal.fail_next(list_path, times=1, status=503)
        _crawl(settings)
    source = rows(settings.database_url, Source)[0]
    assert source.consecutive_failures == 5 and "503" in source.last_error
    [alert] = rows(settings.database_url, Alert)
    assert alert.category == "operations" and alert.severity == "error" and alert.title.startswith("采集连续失败")

    _crawl(settings)  # recovers; the next streak alerts again
    assert rows(settings.database_url, Source)[0].consecutive_failures == 0
    for _ in range(3):
        portal.fail_next(list_path, times=1, status=503)
        _crawl(settings)
    assert len(rows(settings.database_url, Alert)) == 2


def test_a_document_rechecked_on_every_crawl_stays_fetched(tmp_path, portal):
    """Each crawl re-checks the files it lists (a conditional GET); attempts count one queuing's tries, so
    the fourth re-check of a file is no 'worker crashed three times'."""
    detail = portal.add_document("czyjs", "2022年度部门决算", date(2023, 9, 1),
                                 attachments=[("决算.pdf", render("004", "pdf").read_bytes())])
    settings = _settings(tmp_path, portal)
    for _ in range(6):
        assert _crawl(settings) == portal.attachment_urls(detail)
    [url] = rows(settings.database_url, DocumentUrl)
    assert url.fetch_status == "ok" and url.fetch_error is None and url.fetch_attempts == 1
