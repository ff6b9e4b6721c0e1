"""Admission: a `serve` process works on a few requests at once; the others wait their turn, in order.

The app's handlers run in threads that share one interpreter lock: fifty requests worked on at once each take
about fifty times their own work, and even an answer from the response cache waits behind them. Taken in
turn, a request waits for those ahead of it and is then done in its own time, which keeps the slowest
answers close to the typical one under load. Archived files and static assets stream for as long as the
client reads, and probes (/metrics, /healthz) must answer while the dashboard is busy, so none takes a turn.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from fiscalwatch.web.response_cache import PROBES_AND_FILES


class Admission:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.turns = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(PROBES_AND_FILES):
            return await self.app(scope, receive, send)
        async with self.turns:
            await self.app(scope, receive, send)
