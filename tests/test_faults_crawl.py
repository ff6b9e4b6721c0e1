"""Crawl faults (issue 13), through the crawl and fetch stages in-process on a real SQLite store and the fixture
portal: a detail page with tens of thousands of links, and a crawl run or a fetch taken while another worker
holds it, then recovered once that worker's lease ran out."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

from pipeline_support import rows, write_config
from portal import FixturePortal

from fiscalwatch.crawlers.discover import MAX_LINKS_PER_PAGE
from fiscalwatch.settings import load_settings
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Blob, CrawlRun, DocumentUrl, Version
from fiscalwatch.workers import fetching
from fiscalwatch.workers.crawl import run_crawl, take_lease
from fiscalwatch.workers.dispatch import recover
from fiscalwatch.workers.runner import prepare

LINKS = 20_000


def _settings(tmp_path, portal):
    config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}",
                                     "broker_url": "redis://127.0.0.1:1/0"},  # nothing is sent: no broker
                          [{"id": "czyjs", "name": "示例门户", "url": portal.section_url("czyjs")}], [],
                          fetch_retries=0)
    settings = load_settings(config)
    prepare(settings)
    return settings


def _run(settings) -> int:
    with session_scope(settings.database_url) as session:
        run = CrawlRun(source_id="czyjs", status="queued", queued_at=datetime.now(timezone.utc))
        session.add(run)
        session.flush()
        return run.id


def test_a_detail_page_with_twenty_thousand_links_is_capped_and_the_crawl_succeeds(tmp_path):
    with FixturePortal() as portal:
        links = "".join(f'<p><a href="/files/{n}.pdf">附件{n}.pdf</a></p>' for n in range(LINKS))
        portal.add_document("czyjs", "某县财政局2024年度部门预算", date(2025, 2, 1), body=links)
        settings = _settings(tmp_path, portal)
        run_id = _run(settings)
        started = time.process_time()
        outcome = run_crawl(settings, run_id)
        print(f"\ncrawl of a detail page with {LINKS} links: {time.process_time() - started:.1f} CPU-s")
    [run] = rows(settings.database_url, CrawlRun)
    assert run.status == "ok" and outcome.healthy
    assert len(rows(settings.database_url, DocumentUrl)) == MAX_LINKS_PER_PAGE == run.documents_found
    assert [e["code"] for e in run.errors] == ["too_many_links"]
    assert f"{LINKS}" in run.errors[0]["message"]


def test_a_running_crawl_is_not_taken_twice_and_a_dead_workers_run_is_recovered(tmp_path):
    with FixturePortal() as portal:
        portal.add_document("czyjs", "某县财政局2024年度部门预算", date(2025, 2, 1),
                            attachments=[("预算.pdf", b"%PDF-1.4 placeholder")])
        settings = _settings(tmp_path, portal)
        run_id = _run(settings)
        assert take_lease(settings, run_id) == 1  # a worker takes it, then dies
        assert run_crawl(settings, run_id).to_fetch == []  # a redelivered message while the lease holds
        assert rows(settings.database_url, CrawlRun)[0].status == "running"
        assert recover(settings)["crawls"] == 0
        with session_scope(settings.database_url) as session:  # the lease's time passes
            session.get(CrawlRun, run_id).lease_until = datetime.now(timezone.utc) - timedelta(seconds=1)
        assert recover(settings)["crawls"] == 1  # re-sent (the broker refuses here; the row is what counts)
        outcome = run_crawl(settings, run_id)
    [run] = rows(settings.database_url, CrawlRun)
    assert run.status == "ok" and run.attempts == 2 and run.lease_until is None
    assert len(outcome.to_fetch) == 1


def _one_listed(tmp_path, portal):
    """The settings, and the one attachment URL a crawl listed (queued to be fetched)."""
    portal.add_document("czyjs", "某县财政局2024年度部门预算", date(2025, 2, 1),
                        attachments=[("预算.pdf", b"%PDF-1.4 placeholder")])
    settings = _settings(tmp_path, portal)
    [url] = run_crawl(settings, _run(settings)).to_fetch
    return settings, url


def _lease_runs_out(settings, url: str) -> None:
    with session_scope(settings.database_url) as session:
        session.get(DocumentUrl, url).lease_until = datetime.now(timezone.utc) - timedelta(seconds=1)


def test_a_fetch_whose_worker_died_is_recovered_and_done_once(tmp_path):
    with FixturePortal() as portal:
        settings, url = _one_listed(tmp_path, portal)
        assert fetching.take_lease(settings, url) == 1  # a worker takes the fetch, then dies mid-download
        assert fetching.run_fetch(settings, url) is None  # a redelivered message while the lease holds
        assert rows(settings.database_url, DocumentUrl)[0].fetch_status == "fetching"
        assert recover(settings)["fetches"] == 0
        _lease_runs_out(settings, url)
        assert recover(settings)["fetches"] == 1  # re-sent (the broker refuses here; the row is what counts)
        sha256 = fetching.run_fetch(settings, url)
        assert fetching.run_fetch(settings, url) is None  # done once: a late redelivery changes nothing
    [row] = rows(settings.database_url, DocumentUrl)
    assert (row.fetch_status, row.fetch_attempts, row.lease_until) == ("ok", 2, None)
    assert [b.sha256 for b in rows(settings.database_url, Blob)] == [sha256]
    assert len(rows(settings.database_url, Version)) == 1


def test_a_fetch_that_keeps_killing_its_worker_ends_as_failed(tmp_path):
    with FixturePortal() as portal:
        settings, url = _one_listed(tmp_path, portal)
        for attempt in range(1, fetching.MAX_FETCH_ATTEMPTS + 1):
            assert fetching.take_lease(settings, url) == attempt  # a worker takes it and dies
            _lease_runs_out(settings, url)
        assert fetching.run_fetch(settings, url) is None
    [row] = rows(settings.database_url, DocumentUrl)
    assert row.fetch_status == "failed" and row.fetch_error.startswith("worker_crashed")
    assert rows(settings.database_url, Blob) == []
