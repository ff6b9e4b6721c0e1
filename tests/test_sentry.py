"""Sentry is on exactly when SENTRY_DSN is set: Celery integration, release tag, events reach the DSN."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration

from fiscalwatch.settings import Settings
from fiscalwatch.workers.app import init_sentry


class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def test_no_dsn_no_sentry():
    init_sentry(Settings(sentry_dsn=None))
    assert not sentry_sdk.get_client().is_active()


def test_dsn_turns_on_sentry_with_release_and_celery(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("SENTRY_DSN", f"http://public@127.0.0.1:{server.server_address[1]}/1")
    try:
        init_sentry(Settings())
        client = sentry_sdk.get_client()
        assert client.is_active()
        assert client.options["release"].startswith("fiscalwatch@")
        assert client.get_integration(CeleryIntegration) is not None
        sentry_sdk.capture_message("fiscalwatch sentry probe")
        client.flush(timeout=5)
        events = [line for body in _Collector.received for line in body.splitlines() if b"sentry probe" in line]
        assert _Collector.received, "nothing reached the DSN"
        assert events and json.loads(events[0])["release"].startswith("fiscalwatch@")
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()  # back to the inactive client
        server.shutdown()
