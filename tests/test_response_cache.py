"""web.response_cache: GETs answered again from memory for a moment, per asker; writes and live paths never."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from fiscalwatch.web.response_cache import ResponseCache


def client(seconds: float) -> tuple[TestClient, list[str]]:
    calls: list[str] = []

    def answer(request):
        calls.append(request.url.path)
        response = PlainTextResponse(f"{request.url.path} #{len(calls)}")
        if request.url.path == "/cookie":
            response.set_cookie("s", "1")
        return response

    app = Starlette(routes=[Route(path, answer, methods=["GET", "POST"])
                            for path in ("/", "/metrics", "/cookie")])
    return TestClient(ResponseCache(app, seconds=seconds)), calls


def test_a_get_is_answered_again_from_memory_until_it_expires():
    http, calls = client(seconds=0.5)
    assert http.get("/").text == http.get("/").text == "/ #1"
    assert http.get("/?page=2").text == "/ #2"  # the query is part of the key
    time.sleep(0.6)
    assert http.get("/").text == "/ #3"


def test_a_write_empties_it_and_who_asks_is_part_of_the_key():
    http, calls = client(seconds=60)
    http.get("/")
    assert http.get("/", headers={"Authorization": "Bearer x"}).text == "/ #2"
    http.post("/")
    assert http.get("/").text == "/ #4"


def test_live_paths_cookies_and_disabled_cache_are_never_kept():
    http, calls = client(seconds=60)
    assert http.get("/metrics").text != http.get("/metrics").text
    assert http.get("/cookie").text != http.get("/cookie").text
    off, _ = client(seconds=0)
    assert off.get("/").text != off.get("/").text
