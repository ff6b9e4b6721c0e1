"""Answers to GET requests kept per server process for a moment (micro-caching).

Under load most requests ask what was asked a moment ago (the overview, the first pages of the compliance
table): answering them again from memory for `seconds` spares the database, the templates and the framework.
A page may so show data up to that long after a worker changed it; a change made through this process
(any non-GET request) empties the cache at once. Answers depend on who asks only through the cookie and
authorization headers, which are part of the key. Live endpoints (metrics, health), files and forms are
never kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Probes answer live, files stream: neither is kept here nor waits its turn (web/admission.py).
PROBES_AND_FILES = ("/metrics", "/healthz", "/archive/", "/static/")
LIVE_PREFIXES = (*PROBES_AND_FILES, "/export/", "/login", "/docs", "/redoc", "/openapi.json")
_WHO = (b"cookie", b"authorization")


class ResponseCache:
    def __init__(self, app: ASGIApp, seconds: float = 1.0, budget: int = 32 << 20, max_body: int = 1 << 20) -> None:
        """``budget``: bytes of bodies kept in all, the oldest dropped first; a body over ``max_body`` is not kept."""
        self.app, self.seconds, self.budget, self.max_body = app, seconds, budget, max_body
        self.kept: OrderedDict[tuple, tuple[float, int, list[Message]]] = OrderedDict()
        self.size = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.seconds <= 0:
            return await self.app(scope, receive, send)
        if scope["method"] != "GET":
            self.kept.clear()
            self.size = 0
            return await self.app(scope, receive, send)
        if scope["path"].startswith(LIVE_PREFIXES):
            return await self.app(scope, receive, send)
        key = (scope["path"], scope["query_string"], *(v for k, v in scope["headers"] if k in _WHO))
        now = time.monotonic()
        hit = self.kept.get(key)
        if hit is not None and hit[0] > now:
            for message in hit[2]:
                await send(message)
            return
        messages: list[Message] = []
        size = 0

        async def keep(message: Message) -> None:
            nonlocal size
            messages.append(message)
            size += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        start = messages[0] if messages else {}
        if (start.get("status") == 200 and size <= self.max_body
                and not any(k == b"set-cookie" for k, _ in start.get("headers", ()))):
            self._drop(key)
            self.kept[key] = (now + self.seconds, size, messages)
            self.size += size
            while self.size > self.budget:
                self._drop(next(iter(self.kept)))

    def _drop(self, key: tuple) -> None:
        if key in self.kept:
            self.size -= self.kept.pop(key)[1]
