"""A local webhook receiver for alert tests, on 127.0.0.1 and a random port.

Apprise's ``json://`` service POSTs ``{"version", "title", "message", "attachments", "type"}`` to
``http://host:port/path``; ``url_for(path)`` gives that Apprise URL for any path, so one receiver
can stand in for several channels.

    with WebhookReceiver() as hooks:
        hooks.fail_next(2, path="/ops")       # the next two POSTs to /ops get HTTP 500
        hooks.hang_next(path="/slow")         # the next POST to /slow gets no answer until close()
        deliver(hooks.url_for("/ngo"), message)
        [received] = hooks.wait_for(1, path="/ngo")
        received.title, received.message, received.type, received.headers["User-Agent"]
        hooks.requests                        # every POST, answered or not, in arrival order
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

HANG = "hang"
FAIL = "fail"


@dataclass(frozen=True)
class Received:
    path: str  # without the query string
    headers: Message  # case-insensitive
    body: Any  # parsed JSON, or None when the body is not JSON
    raw: bytes
    status: int | None  # what the receiver answered; None when it hung

    @property
    def title(self) -> str:
        return self.body["title"]

    @property
    def message(self) -> str:
        return self.body["message"]

    @property
    def type(self) -> str:  # Apprise's notify type: info, success, warning, failure
        return self.body["type"]


class WebhookReceiver:
    def __init__(self) -> None:
        self._received: list[Received] = []
        self._plans: list[list] = []  # [action, path or None, remaining]
        self._changed = threading.Condition()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        self._release.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.receiver = self
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def close(self) -> None:
        self._release.set()  # hung handlers finish
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url_for(self, path: str = "/", **options: str | float) -> str:
        """The Apprise URL of a JSON webhook at ``path``; ``options`` become Apprise URL parameters
        (``rto=1`` read timeout, ``-name=value`` query parameter, ``+Name=value`` header)."""
        query = f"?{urlencode(options)}" if options else ""
        return f"json://127.0.0.1:{self.port}/{path.lstrip('/')}{query}"

    # --- behaviour ----------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, path: str | None = None) -> None:
        """Answer the next ``count`` POSTs (to ``path``, or to any path) with HTTP 500."""
        self._plan(FAIL, count, path)

    def hang_next(self, count: int = 1, *, path: str | None = None) -> None:
        """Accept the next ``count`` POSTs but send nothing back until ``close()``."""
        self._plan(HANG, count, path)

    def _plan(self, action: str, count: int, path: str | None) -> None:
        with self._changed:
            self._plans.append([action, _normal(path) if path else None, count])

    def _action_for(self, path: str) -> str | None:
        with self._changed:
            for plan in self._plans:
                if plan[2] > 0 and plan[1] in (None, path):
                    plan[2] -= 1
                    return plan[0]
        return None

    # --- what arrived -------------------------------------------------------------------------

    @property
    def requests(self) -> list[Received]:
        with self._changed:
            return list(self._received)

    def messages(self, path: str | None = None) -> list[Received]:
        """POSTs answered with 200 (to ``path``, or to any path)."""
        return [r for r in self.requests if r.status == 200 and (path is None or r.path == _normal(path))]

    def wait_for(self, count: int, *, path: str | None = None, timeout: float = 10.0) -> list[Received]:
        """Block until ``count`` messages (answered 200) have arrived; returns them all, in order."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := self.messages(path)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    where = f" at {path}" if path else ""
                    raise AssertionError(f"expected {count} messages{where} within {timeout}s, got {len(found)}; "
                                         f"all requests: {[(r.path, r.status) for r in self._received]}")
                self._changed.wait(remaining)
        return found

    def _record(self, received: Received) -> None:
        with self._changed:
            self._received.append(received)
            self._changed.notify_all()


def _normal(path: str) -> str:
    return "/" + path.lstrip("/")


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_POST(self) -> None:
        receiver: WebhookReceiver = self.server.receiver
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        path = urlsplit(self.path).path
        action = receiver._action_for(path)
        status = {FAIL: 500, HANG: None}.get(action, 200)
        receiver._record(Received(path, self.headers, body, raw, status))
        if action == HANG:
            receiver._release.wait()
            return
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args) -> None:
        pass
