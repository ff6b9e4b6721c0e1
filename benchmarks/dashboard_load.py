"""Dashboard latency under load: p50/p95 of the pages and API at 50 concurrent clients, on SQLite and on
PostgreSQL, with ten times the adversarial run's data (30,000 documents, 150,000 findings, 70,000 standings).

    .venv/bin/python benchmarks/dashboard_load.py [--store sqlite|postgres|both] [--clients 50] [--seconds 30]
                                                  [--workers N]

The store is filled directly (bulk inserts), the app served by uvicorn in its own processes (as `fiscalwatch
serve --workers N`, default one per CPU, without the start-up refresh that would recompute the generated
standings), and each client loops
over a mix of requests: the overview (page and API), compliance pages with and without filters, documents,
sources, the findings explorer (low rates in a province lowest first, errors by amount). Keep-alive connections; latency is measured per request by the client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import psycopg  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import insert, text  # noqa: E402

from fiscalwatch.store.db import migrate, session_scope  # noqa: E402
from fiscalwatch.store.models import Blob, DocumentRow, FindingRow, Source  # noqa: E402
from fiscalwatch.store.registry import DocumentMatch, Entity, Expectation  # noqa: E402
from fiscalwatch.workers.app import CONFIG_ENV  # noqa: E402

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REGIONS = [f"河南省/{city}/{county}" for city in ("濮阳市", "洛阳市", "郑州市", "开封市")
           for county in ("华龙区", "清丰县", "南乐县", "范县", "台前县")]
TIMELINESS = ("on_time", "late", "overdue", "not_due", "withdrawn", "undated")
QUALITY = ("ok", "incomplete", "errors", "pending", "unreadable", None)


def fill(url: str, scale: int) -> int:
    """The adversarial run's volumes times ``scale``; returns the number of documents."""
    migrate(url)
    rng = random.Random(13)
    now = datetime.now(timezone.utc)
    documents, entities = 3000 * scale, 3500 * scale
    with session_scope(url) as session:
        session.execute(insert(Source), [dict(id=f"s{n}", name=f"数据源{n}", url=f"https://example.gov.cn/{n}/",
                                              region=REGIONS[n % len(REGIONS)], interval_seconds=21600,
                                              consecutive_failures=0, active=True) for n in range(20)])
        session.execute(insert(Blob), [dict(sha256=f"{n:064x}", size=1000, path=f"x/{n}", first_seen_at=now,
                                            status="ok", attempts=1, kind="final", year=2024)
                                       for n in range(documents)])
        session.execute(insert(DocumentRow), [dict(id=n + 1, source_id=f"s{n % 20}", title=f"某单位{n}2024年度部门决算",
                                                kind="attachment", first_seen_at=now, last_seen_at=now,
                                                published=date(2025, 1 + n % 12, 1 + n % 28), status="active",
                                                current_sha256=f"{n:064x}") for n in range(documents)])
        for start in range(0, documents * 5, 50000):
            chunk = range(start, min(start + 50000, documents * 5))
            session.execute(insert(FindingRow), [_finding(n) for n in chunk])
        session.execute(insert(Entity), [dict(id=n + 1, name=f"某单位{n}", aliases=[], level="部门单位"[n % 2 * 2:][:2],
                                              region=REGIONS[n % len(REGIONS)], sources=[f"s{n % 20}"])
                                         for n in range(entities)])
        session.execute(insert(Expectation), [dict(entity_id=n // 2 + 1, year=2025, kind=("budget", "final")[n % 2],
                                                   timeliness=rng.choice(TIMELINESS), quality=rng.choice(QUALITY),
                                                   missing_tables=rng.randrange(3), errors=rng.randrange(5),
                                                   document_id=(n % documents) + 1 if n % 3 else None,
                                                   evaluated_at=now) for n in range(entities * 2)])
        session.execute(insert(DocumentMatch), [dict(document_id=n + 1, entity_id=n % entities + 1 if n % 100 else None,
                                                     year=2024, kind="final", method="auto", matched_at=now,
                                                     reason=None if n % 100 else "未找到名称相符的单位")
                                                for n in range(documents)])
    with session_scope(url) as session:  # planner statistics, as autovacuum (or SQLite's optimize) keeps them
        session.execute(text("ANALYZE"))
    return documents


def _finding(n: int) -> dict:
    """Every fifth finding a low completion rate with its budget (what the explorer sorts), the rest errors."""
    if n % 5 == 0:
        rate, budget = n % 97 + 0.5, 10 + n % 1000
        return dict(sha256=f"{n // 5:064x}", rule="C-NARRATIVE", category="low_completion", severity="warning",
                    message=f"预算完成率{rate}%", page=1 + n % 9, evidence={"rate": rate, "budget": budget},
                    rate=rate, amount=budget)
    return dict(sha256=f"{n // 5:064x}", rule="R-SUM", category="reconciliation", severity="error",
                message="合计不等于各项之和", page=1 + n % 9, evidence={"difference": n % 50}, amount=n % 50)


def serve(url: str, work: Path, workers: int) -> tuple[subprocess.Popen, str]:
    """The dashboard as `serve` runs it (the same app factory and processes), on a config naming only the store."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = work / "fiscalwatch.yaml"
    config.write_text(json.dumps({"database_url": url, "storage_dir": str(work / "files")}), encoding="utf-8")
    code = ("import sys, uvicorn; sys.path.insert(0, %r)\n"
            "uvicorn.run('fiscalwatch.cli:dashboard', factory=True, host='127.0.0.1', port=%d, workers=%d, "
            "log_level='warning')" % (str(ROOT), port, workers))
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, CONFIG_ENV: str(config)},
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=5).status_code < 500:
                return process, base
        except requests.RequestException:
            time.sleep(0.3)
    _stop(process)
    raise RuntimeError("dashboard did not start")


def _stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)  # uvicorn's supervisor and its worker processes
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def load(base: str, documents: int, clients: int, seconds: float) -> tuple[dict[str, list[float]], float]:
    """Closed-loop clients on one event loop (aiohttp, a keep-alive connection each): the load generator
    takes little of the two cores the server needs. Returns latencies per route and the generator's CPU seconds."""
    paths = [lambda r: "/api/overview?year=2025", lambda r: "/", lambda r: "/api/overview",
             lambda r: f"/api/compliance?page={r.randint(1, 300)}",
             lambda r: f"/api/compliance?region={REGIONS[r.randrange(len(REGIONS))].split('/')[1]}&timeliness=overdue",
             lambda r: f"/compliance?year=2025&kind=final&sort=days_late&order=desc&page={r.randint(1, 50)}",
             lambda r: f"/api/documents/{r.randint(1, documents)}", lambda r: "/api/sources",
             lambda r: f"/findings?region={REGIONS[r.randrange(len(REGIONS))].rsplit('/', 1)[0]}&category=low_completion"
                       f"&rate_below=30&sort=rate&order=asc&page={r.randint(1, 20)}",
             lambda r: f"/api/findings?severity=error&sort=amount&order=desc&page={r.randint(1, 100)}"]
    latencies: dict[str, list[float]] = {}
    errors = []

    async def client(http: aiohttp.ClientSession, n: int, stop: float) -> None:
        rng = random.Random(n)
        while time.monotonic() < stop:
            path = rng.choice(paths)(rng)
            started = time.perf_counter()
            async with http.get(base + path) as response:
                await response.read()
            elapsed = time.perf_counter() - started
            route = path.split("?")[0].rsplit("/", 1)[0] if "/documents/" in path else path.split("?")[0]
            latencies.setdefault(route, []).append(elapsed)
            if response.status != 200:
                errors.append((path, response.status))

    async def run_clients() -> None:
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
            stop = time.monotonic() + seconds
            await asyncio.gather(*(client(http, n, stop) for n in range(clients)))

    cpu = time.process_time()
    asyncio.run(run_clients())
    cpu = time.process_time() - cpu
    if errors:
        print(f"  {len(errors)} failed requests, e.g. {errors[:3]}")
    return latencies, cpu


def _percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[min(int(len(ordered) * 0.95), len(ordered) - 1)] * 1000
    return f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({len(ordered)} requests)"


def run(kind: str, scale: int, clients: int, seconds: float, workers: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fiscalwatch-load-") as work_dir:
        work = Path(work_dir)
        name = None
        if kind == "sqlite":
            url = f"sqlite:///{work / 'fw.db'}"
        else:
            name = f"fw_load_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        try:
            started = time.monotonic()
            documents = fill(url, scale)
            print(f"{kind}: filled in {time.monotonic() - started:.0f} s")
            process, base = serve(url, work, workers)
            try:
                load(base, documents, 5, 3)  # warm-up
                latencies, client_cpu = load(base, documents, clients, seconds)
            finally:
                _stop(process)
            everything = [v for values in latencies.values() for v in values]
            print(f"{kind}: {clients} clients, {workers} server processes, {len(everything) / seconds:.0f} requests/s, "
                  f"{_percentiles(everything)}; load generator {client_cpu / seconds:.0%} of a core")
            for path, values in sorted(latencies.items()):
                print(f"  {path:22} {_percentiles(values)}")
        finally:
            if name:
                from fiscalwatch.store.db import engine_for

                engine_for(url).dispose()
                with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server processes (serve --workers)")
    args = parser.parse_args()
    for kind in ("sqlite", "postgres") if args.store == "both" else (args.store,):
        run(kind, args.scale, args.clients, args.seconds, args.workers)


if __name__ == "__main__":
    main()
