"""Running the real pipeline in tests and benchmarks: a config file per run, the two backends
(embedded SQLite + SQLite broker; PostgreSQL + Redis on this machine), and `fiscalwatch` subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis
import yaml
from sqlalchemy import select

from fiscalwatch.store.db import session_scope

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379"
REDIS_LOCK = "fiscalwatch-test-in-use"
REPO = Path(__file__).resolve().parents[1]


@contextmanager
def backend(kind: str, work: Path):
    """Config keys for a fresh store and broker of the given kind; cleaned up afterwards."""
    if kind == "embedded":
        yield {"database_url": f"sqlite:///{work / 'fiscalwatch.db'}"}
        return
    name = f"fw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    broker = _free_redis_db()
    try:
        yield {"database_url": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", "broker_url": broker.url}
    finally:
        from fiscalwatch.store.db import engine_for

        engine_for(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}").dispose()
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        broker.client.flushdb()  # drops the lock too


class _RedisDb:
    def __init__(self, index: int):
        self.url = f"{REDIS}/{index}"
        self.client = redis.Redis.from_url(self.url)


def _free_redis_db() -> _RedisDb:
    """A Redis database no other test run is using (runs on one machine may overlap), emptied."""
    for index in range(1, 16):
        candidate = _RedisDb(index)
        if candidate.client.set(REDIS_LOCK, os.getpid(), nx=True, ex=1800):
            for key in candidate.client.scan_iter():
                if key != REDIS_LOCK.encode():
                    candidate.client.delete(key)
            return candidate
    raise RuntimeError("every Redis database 1-15 is in use by other test runs")


def write_config(work: Path, store: dict, sources: list[dict], alerts: list[dict], **extra) -> Path:
    config = {
        **store,
        "storage_dir": str(work / "files"),
        "allow_private_networks": True,  # the fixture portal and webhook receiver live on 127.0.0.1
        "requests_per_second": 200,
        "fetch_retries": 2,
        "sources": sources,
        "alerts": alerts,
        **extra,
    }
    path = work / "fiscalwatch.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def fiscalwatch(*args: str, timeout: float = 300, **popen) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fiscalwatch.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=_env(), **popen)


def spawn(*args: str) -> subprocess.Popen:
    """A long-running `fiscalwatch` role in its own process group (so tests can kill it whole)."""
    return subprocess.Popen([sys.executable, "-m", "fiscalwatch.cli", *args], cwd=REPO, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def run_once(config: Path, failing: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """One `watch --once` cycle; `failing` names the sources expected to fail (the run then exits 1)."""
    result = fiscalwatch("watch", "--once", "--config", str(config), "--loglevel", "WARNING")
    assert result.returncode == (1 if failing else 0), (
        f"watch --once exited {result.returncode}:\n{result.stdout}\n{result.stderr[-4000:]}")
    for source_id in failing:
        assert f"（{source_id}）：采集失败" in result.stdout, result.stdout
    return result


def wait_for(condition, timeout: float, what: str):
    """The first true value of ``condition()``, polled until ``timeout`` seconds have passed (then an error)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def rows(database_url: str, model, *where):
    with session_scope(database_url) as session:
        return list(session.scalars(select(model).where(*where)))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FISCALWATCH_CONFIG", None)
    return env
