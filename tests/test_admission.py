"""web.admission: a process works on `limit` requests at once, the others wait in order; probes and file
downloads never wait."""

from __future__ import annotations

import asyncio
import threading

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fiscalwatch.web.admission import Admission


def _app(release: threading.Semaphore, inside: list[str]):
    def held(request):  # a sync handler, run in a thread as the dashboard's are
        inside.append(request.url.path)
        assert release.acquire(timeout=30)
        return PlainTextResponse("ok")

    def probe(request):
        return PlainTextResponse("up")

    return Admission(Starlette(routes=[Route("/page/{n}", held), Route("/healthz", probe)]), limit=2)


async def _get(app, path: str) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": [],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    status = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def _until(condition, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def test_requests_past_the_limit_wait_their_turn_in_order_and_probes_do_not_wait():
    async def scenario():
        release, inside = threading.Semaphore(0), []
        app = _app(release, inside)
        pages = [asyncio.create_task(_get(app, f"/page/{n}")) for n in range(5)]
        await _until(lambda: len(inside) == 2)
        assert await asyncio.wait_for(_get(app, "/healthz"), 30) == 200  # answered while both turns are taken
        await asyncio.sleep(0.2)
        # The first two enter together (their threads may start in either order); the other three wait.
        assert sorted(inside) == ["/page/0", "/page/1"]
        for entered in range(3, 6):  # one turn freed at a time: the next to arrive takes it
            release.release()
            await _until(lambda: len(inside) == entered)
        assert inside[2:] == ["/page/2", "/page/3", "/page/4"]
        release.release(2)
        assert await asyncio.gather(*pages) == [200] * 5

    asyncio.run(scenario())
