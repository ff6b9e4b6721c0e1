"""Fetcher against the fixture portal over real HTTP: retries, conditional GET, robots, SSRF, limits.

SSRF tests: the portal listens on 127.0.0.1, which the guard refuses by default. Tests that need
to reach it exempt exactly ``127.0.0.1/32`` (``Fetcher(allowed_networks=...)``), keeping
``allow_private_networks`` off. Redirect targets are then refused on their own merits: 10.x,
169.254.x, ::1, and 127.0.0.2, where a canary server listens. The canary proves the refusal
comes from the guard and not from an unreachable address: with private networks allowed the
same redirect reaches it, and with the guard on it receives nothing.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from portal import FixturePortal

from fiscalwatch.crawlers.encoding import decode_html
from fiscalwatch.crawlers.http import Fetcher
from fiscalwatch.crawlers.ratelimit import LocalRateLimiter
from fiscalwatch.crawlers.ssrf import AddressGuard, UnsafeTarget, guarded_adapter
from fiscalwatch.settings import Settings

PORTAL_NETWORK = ["127.0.0.1/32"]


def make_fetcher(allowed_networks=PORTAL_NETWORK, **overrides) -> Fetcher:
    settings = Settings(**{"request_timeout": 5.0, "fetch_retries": 2, "requests_per_second": 0, **overrides})
    return Fetcher(settings, LocalRateLimiter(0), allowed_networks=allowed_networks, retry_backoff=0.02)


@pytest.fixture
def portal():
    with FixturePortal() as running:
        yield running


@pytest.fixture
def canary():
    """A server on 127.0.0.2 that records every request it gets."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"secret")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.2:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_fetch_sends_honest_user_agent_and_returns_validators(portal):
    url = portal.add_file("/files/a.pdf", b"%PDF-1.4 hello")
    fetcher = make_fetcher()
    result = fetcher.fetch(url)
    assert result.ok and result.status == 200 and result.content == b"%PDF-1.4 hello"
    assert result.final_url == url and result.attempts == 1
    assert result.content_type == "application/pdf" and result.etag and result.last_modified
    assert portal.hits("/files/a.pdf")[0].headers["User-Agent"] == fetcher.settings.user_agent


def test_server_error_is_retried_until_success(portal):
    url = portal.add_file("/files/flaky.pdf", b"%PDF ok")
    portal.fail_next("/files/flaky.pdf", times=2, status=503)
    result = make_fetcher().fetch(url)
    assert result.ok and result.content == b"%PDF ok" and result.attempts == 3
    assert [r.status for r in portal.hits("/files/flaky.pdf")] == [503, 503, 200]


def test_server_error_gives_up_after_the_configured_retries(portal):
    portal.fail_next("/files/down.pdf", times=10, status=500)
    result = make_fetcher(fetch_retries=1).fetch(portal.add_file("/files/down.pdf", b"x"))
    assert (result.error_code, result.status, result.attempts) == ("http_500", 500, 2)
    assert "HTTP 500" in result.error


def test_client_errors_are_not_retried(portal):
    portal.fail_next("/files/forbidden.pdf", times=5, status=403)
    forbidden = make_fetcher().fetch(portal.add_file("/files/forbidden.pdf", b"x"))
    missing = make_fetcher().fetch(portal.url("/no/such/file.pdf"))
    assert (forbidden.error_code, forbidden.attempts) == ("http_403", 1)
    assert (missing.error_code, missing.status, missing.attempts) == ("not_found", 404, 1)
    assert "不存在" in missing.error


def test_cookie_challenge_is_not_retried(portal):
    portal.fail_next("/files/guarded.pdf", times=5, status=521)
    result = make_fetcher().fetch(portal.add_file("/files/guarded.pdf", b"x"))
    assert (result.error_code, result.attempts) == ("http_521", 1)


def test_conditional_get_gives_not_modified_until_the_file_changes(portal):
    url = portal.add_file("/files/report.pdf", b"%PDF v1")
    fetcher = make_fetcher()
    first = fetcher.fetch(url)
    again = fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert again.ok and again.not_modified and again.status == 304 and again.content == b""
    by_date = fetcher.fetch(url, last_modified=first.last_modified)
    assert by_date.not_modified

    portal.replace_attachment(url, b"%PDF v2")
    changed = fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert changed.status == 200 and not changed.not_modified and changed.content == b"%PDF v2"
    assert changed.etag != first.etag and changed.last_modified != first.last_modified

    hits = portal.hits("/files/report.pdf")
    assert [r.status for r in hits] == [200, 304, 304, 200]
    assert hits[1].headers["If-None-Match"] == first.etag
    assert hits[2].headers["If-Modified-Since"] == first.last_modified and "If-None-Match" not in hits[2].headers


def test_robots_disallowed_urls_are_never_requested(portal):
    portal.set_robots(disallow=["/private/"])
    portal.add_file("/private/secret.pdf", b"x")
    allowed = portal.add_file("/public/open.pdf", b"y")
    redirect = portal.add_redirect("/go", "/private/secret.pdf")
    fetcher = make_fetcher()

    assert fetcher.fetch(portal.url("/private/secret.pdf")).error_code == "robots_disallowed"
    assert fetcher.fetch(redirect).error_code == "robots_disallowed"  # checked on every hop
    assert fetcher.fetch(allowed).ok
    assert not [r for r in portal.requests if r.path.startswith("/private/")]
    assert len(portal.hits("/robots.txt")) == 1  # cached per host


def test_robots_server_error_disallows_and_missing_robots_allows(portal):
    url = portal.add_file("/files/a.pdf", b"x")
    portal.set_robots(status=503)
    refused = make_fetcher().fetch(url)
    assert (refused.error_code, refused.attempts) == ("robots_disallowed", 1)
    portal.set_robots(status=404)
    assert make_fetcher().fetch(url).ok
    assert [r.status for r in portal.hits("/files/a.pdf")] == [200]


def test_private_addresses_are_refused_by_default(portal):
    result = make_fetcher(allowed_networks=()).fetch(portal.add_file("/files/a.pdf", b"x"))
    assert result.error_code == "private_address" and result.status is None
    assert "127.0.0.1" in result.error
    assert portal.requests == []  # not even robots.txt


@pytest.mark.parametrize("target", ["CANARY", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/",
                                    "http://[::1]/", "http://0.0.0.0/"])
def test_redirect_to_a_private_address_is_refused(portal, canary, target):
    canary_url, canary_hits = canary
    location = canary_url + "/internal" if target == "CANARY" else target
    start = time.monotonic()
    result = make_fetcher().fetch(portal.add_redirect("/out", location))
    assert result.error_code == "private_address" and result.status is None
    assert result.final_url == location and result.attempts == 1
    assert [r.status for r in portal.hits("/out")] == [302]  # the public first hop was fetched
    assert canary_hits == []
    assert time.monotonic() - start < 1  # refused before any connection attempt


def test_canary_is_reachable_when_private_networks_are_allowed(portal, canary):
    canary_url, canary_hits = canary
    result = make_fetcher(allow_private_networks=True).fetch(portal.add_redirect("/out", canary_url + "/internal"))
    assert result.ok and result.content == b"secret" and canary_hits == ["/robots.txt", "/internal"]


def test_connections_are_checked_again_at_connect_time(portal):
    """The socket-level check (DNS rebinding defence) refuses a peer even without the URL pre-check."""
    session = requests.Session()
    session.mount("http://", guarded_adapter(AddressGuard()))
    with pytest.raises(UnsafeTarget) as refused:
        session.get(portal.url("/"), timeout=5)
    assert refused.value.code == "private_address"
    assert portal.requests == []


@pytest.mark.parametrize("url, code", [("ftp://example.com/a.pdf", "unsupported_scheme"),
                                       ("file:///etc/passwd", "unsupported_scheme"),
                                       ("gopher://example.com/", "unsupported_scheme"),
                                       ("http://[::1/", "invalid_url"), ("http:///nohost", "invalid_url")])
def test_non_http_and_malformed_urls_are_refused(url, code):
    result = make_fetcher().fetch(url)
    assert (result.error_code, result.attempts) == (code, 1)


def test_redirects_are_followed_and_loops_detected(portal):
    target = portal.add_file("/files/final.pdf", b"%PDF")
    portal.add_redirect("/r1", "/r2", status=301)
    portal.add_redirect("/r2", target)
    followed = make_fetcher().fetch(portal.url("/r1"))
    assert followed.ok and followed.final_url == target and followed.content == b"%PDF"

    portal.add_redirect("/loop-a", "/loop-b")
    portal.add_redirect("/loop-b", "/loop-a")
    assert make_fetcher().fetch(portal.url("/loop-a")).error_code == "redirect_loop"

    for n in range(7):
        portal.add_redirect(f"/chain{n}", f"/chain{n + 1}")
    assert make_fetcher().fetch(portal.url("/chain0")).error_code == "too_many_redirects"


def test_size_cap_aborts_downloads(portal):
    fetcher = make_fetcher(max_file_bytes=100_000)
    declared = fetcher.fetch(portal.add_file("/files/big.zip", b"x" * 300_000))
    streamed = fetcher.fetch(portal.add_file("/files/stream.zip", b"x" * 5_000_000, streamed=True))
    assert (declared.error_code, declared.content, declared.attempts) == ("too_large", b"", 1)
    assert (streamed.error_code, streamed.content) == ("too_large", b"")
    assert "97.7 KB" in declared.error
    assert fetcher.fetch(portal.add_file("/files/small.zip", b"x" * 100_000)).ok


def test_slow_server_times_out_and_is_retried(portal):
    url = portal.add_file("/files/slow.pdf", b"x", delay=1.5)
    start = time.monotonic()
    result = make_fetcher(request_timeout=0.3, fetch_retries=1).fetch(url)
    assert (result.error_code, result.attempts) == ("timeout", 2)
    assert "超时" in result.error
    assert time.monotonic() - start < 1.4


def test_soft_404_is_detected(portal):
    result = make_fetcher().fetch(portal.add_soft_404("/czyjs/202401/t20240101_1.html"), accept_html=True)
    assert (result.error_code, result.status) == ("soft_404", 200)


def test_html_is_decoded_and_non_html_is_not_downloaded_when_html_is_expected(portal):
    detail = portal.add_document("gbk", "朱镕基路街道2023年度部门决算（珺）", date(2024, 9, 1),
                                 attachments=[("决算.pdf", b"%PDF")], encoding="gbk")
    page = make_fetcher().fetch(detail, accept_html=True)
    assert page.ok and page.content_type == "text/html" and "朱镕基路街道2023年度部门决算（珺）" in page.text
    pdf = make_fetcher().fetch(portal.attachment_urls(detail)[0], accept_html=True)
    assert pdf.ok and pdf.content == b"" and pdf.text is None and pdf.content_type == "application/pdf"


def test_decoding_prefers_declarations_that_fit_and_treats_gbk_as_gb18030():
    page = '<html><head><meta charset="gb2312"><title>朱镕基 王珺</title></head><body>决算</body></html>'
    gbk_bytes = page.encode("gb18030")
    assert "朱镕基 王珺" in decode_html(gbk_bytes, "text/html")  # meta charset
    assert "朱镕基 王珺" in decode_html(gbk_bytes, "text/html; charset=utf-8")  # wrong header, meta wins
    assert "朱镕基 王珺" in decode_html(page.encode("utf-8"), "text/html; charset=UTF-8")
    undeclared = ("<html><body><p>" + "本部门2023年度一般公共预算财政拨款支出决算数为1234.56万元，" * 8
                  + "</p></body></html>").encode("gb18030")
    assert "一般公共预算财政拨款支出决算数" in decode_html(undeclared, None)  # detection
