"""`fiscalwatch serve` answers from several processes: --workers, else web_workers of the configuration."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
import requests
from pipeline_support import spawn, write_config

pytestmark = pytest.mark.slow  # starts the server twice


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serving_processes(pid: int) -> list[int]:
    """uvicorn's worker processes under the `serve` process (multiprocessing also starts a resource tracker)."""
    children = [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()]
    return [child for child in children
            if b"multiprocessing.spawn" in Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")]


def _processes_answering(config: Path, *options: str) -> int:
    port = _free_port()
    server = spawn("serve", "--config", str(config), "--port", str(port), "--loglevel", "WARNING", *options)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None, server.stderr.read()
            time.sleep(0.3)
        else:
            raise AssertionError("serve did not answer within 180 s")
        assert requests.get(f"http://127.0.0.1:{port}/api/overview", timeout=30).status_code == 200
        return len(_serving_processes(server.pid))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except Exception:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_serve_runs_the_configured_number_of_processes(tmp_path):
    config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"}, [], [], web_workers=3)
    assert _processes_answering(config) == 3
    assert _processes_answering(config, "--workers", "2") == 2
