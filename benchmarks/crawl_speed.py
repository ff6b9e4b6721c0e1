"""Crawling throughput and end-to-end latency against the local fixture portal.

    .venv/bin/python benchmarks/crawl_speed.py [--sources 20] [--documents 6] [--interval 10]

1. Unchanged-source checks per second: every source is crawled once (cold), then again with nothing
   changed; the second pass costs only conditional GETs (304) for list pages, detail pages and files.
   Runs the crawl and fetch stages in-process on a SQLite store (no queue), rate limit off.
2. End-to-end seconds from a new file appearing on the portal to its alert reaching the webhook, with
   `fiscalwatch watch` (embedded default) running and the source crawled every --interval seconds;
   split into detection (waiting for the next crawl) and processing (fetch, parse, validate, alert).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "fixtures")]

from pipeline_support import backend, rows, spawn, write_config  # noqa: E402
from portal import FixturePortal  # noqa: E402
from render_seeds import render  # noqa: E402
from webhook import WebhookReceiver  # noqa: E402

from fiscalwatch.settings import load_settings  # noqa: E402
from fiscalwatch.store.db import session_scope  # noqa: E402
from fiscalwatch.store.models import Alert, CrawlRun, DocumentUrl  # noqa: E402
from fiscalwatch.workers.crawl import run_crawl  # noqa: E402
from fiscalwatch.workers.fetching import run_fetch  # noqa: E402
from fiscalwatch.workers.runner import prepare  # noqa: E402


def crawl_pass(settings) -> tuple[int, int]:
    """Crawl every source and fetch what it names, in-process; returns (sources, URLs fetched)."""
    fetched = 0
    for source in settings.sources:
        with session_scope(settings.database_url) as session:
            run = CrawlRun(source_id=source.id, status="queued")
            session.add(run)
            session.flush()
            run_id = run.id
        for url in run_crawl(settings, run_id).to_fetch:
            run_fetch(settings, url)
            fetched += 1
    return len(settings.sources), fetched


def unchanged_checks(work: Path, sources: int, documents: int) -> None:
    pdf = render("004", "pdf").read_bytes()
    with FixturePortal(per_page=5) as portal:
        for s in range(sources):
            for d in range(documents):
                portal.add_document(f"s{s}", f"第{d}号 2023年度部门决算", date(2024, 9, 1 + d),
                                    attachments=[(f"决算{d}.pdf", pdf)])
        config = write_config(work, {"database_url": f"sqlite:///{work / 'bench.db'}"},
                              [{"id": f"s{s}", "name": f"门户{s}", "url": portal.section_url(f"s{s}")}
                               for s in range(sources)], [], requests_per_second=0)
        settings = load_settings(config)
        prepare(settings)
        started = time.perf_counter()
        crawl_pass(settings)
        cold = time.perf_counter() - started
        portal.clear_requests()
        started = time.perf_counter()
        count, fetched = crawl_pass(settings)
        warm = time.perf_counter() - started
        requests = portal.requests
        not_modified = sum(r.status == 304 for r in requests)
    print(f"sources: {count}, documents per source: {documents}")
    print(f"cold crawl (downloads everything): {cold:.2f} s")
    print(f"unchanged crawl: {warm:.2f} s → {count / warm:.1f} source checks/s, "
          f"{len(requests) / warm:.0f} requests/s ({not_modified}/{len(requests)} answered 304, "
          f"{fetched} files re-checked)")


def end_to_end(work: Path, interval: int) -> None:
    with FixturePortal() as portal, WebhookReceiver() as hooks, backend("embedded", work) as store:
        portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算", date(2024, 10, 20),
                            attachments=[("决算.pdf", render("000", "pdf").read_bytes())])
        config = write_config(work, store, [{"id": "czyjs", "name": "门户", "url": portal.section_url("czyjs"),
                                             "interval": f"{interval}s"}],
                              [{"url": hooks.url_for("/ngo")}], tick_seconds=1, crawl_jitter=0)
        watcher = spawn("watch", "--config", str(config), "--loglevel", "WARNING")
        try:
            hooks.wait_for(1, timeout=120)  # the first cycle is done
            appeared = time.time()
            portal.add_document("czyjs", "洛阳市孟津区医疗保障局2023年度部门决算", date(2024, 10, 22),
                                attachments=[("部门决算.pdf", render("001", "pdf").read_bytes())])
            hooks.wait_for(2, timeout=interval + 120)
            delivered = time.time()
        finally:
            watcher.send_signal(signal.SIGTERM)
            watcher.wait(timeout=60)
        db = store["database_url"]
        detected = max(u.first_seen_at for u in rows(db, DocumentUrl)).timestamp()
        sent = max(a.sent_at for a in rows(db, Alert)).timestamp()
    print(f"crawl interval: {interval} s")
    print(f"new file → alert delivered: {delivered - appeared:.1f} s "
          f"(detection {detected - appeared:.1f} s, crawl-to-alert {sent - detected:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--documents", type=int, default=6)
    parser.add_argument("--interval", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        unchanged_checks(Path(first), args.sources, args.documents)
        end_to_end(Path(second), args.interval)


if __name__ == "__main__":
    main()
