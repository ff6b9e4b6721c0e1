"""Polite, guarded HTTP fetching.

Every request, including each redirect hop and each robots.txt download, goes through
the same checks: http(s) only, SSRF address guard, robots.txt (except for robots.txt
itself), per-host rate limit. Failures never raise: they come back as a FetchResult with
a stable English ``error_code`` and a Chinese ``error`` message for users.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from fiscalwatch.crawlers.encoding import decode_html
from fiscalwatch.crawlers.ratelimit import RateLimiter
from fiscalwatch.crawlers.robots import RobotsCache
from fiscalwatch.crawlers.ssrf import AddressGuard, UnsafeTarget, guarded_adapter
from fiscalwatch.settings import Settings

MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 512 * 1024
CHUNK_BYTES = 64 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
NOT_RETRIED_5XX = {501, 521}  # not implemented; 521 is a cookie/JS challenge that retrying won't pass
RETRIED_ERRORS = {"timeout", "connection_error", "dns_error"}
SOFT_404_MAX_CHARS = 2000
_SOFT_404 = re.compile(r"页面不存在|找不到|已删除|已被删除|not\s+found|(?<!\d)404(?!\d)", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_INVISIBLE = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body")


@dataclass
class FetchResult:
    url: str  # as requested
    final_url: str  # after redirects
    status: int | None = None  # of the last response; None when none was received
    content: bytes = b""
    text: str | None = None  # decoded body, for HTML responses fetched with accept_html
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error_code: str | None = None  # stable English slug; None on success
    error: str | None = None  # Chinese, for users
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def not_modified(self) -> bool:
        return self.ok and self.status == 304

    @property
    def is_html(self) -> bool:
        return (self.content_type or "").split(";")[0].strip().lower() in HTML_TYPES

    def fail(self, code: str, message: str) -> FetchResult:
        self.error_code, self.error = code, message
        return self


class Fetcher:
    """Fetches URLs for crawling; thread-safe (one requests session per thread).

    ``allowed_networks`` exempts specific networks from the SSRF guard even when
    ``settings.allow_private_networks`` is false (e.g. a single intranet host).
    """

    def __init__(self, settings: Settings, rate_limiter: RateLimiter, robots_cache: RobotsCache | None = None,
                 *, allowed_networks: Iterable[str] = (), retry_backoff: float = 1.0):
        self.settings = settings
        self.rate_limiter = rate_limiter
        self.robots = robots_cache if robots_cache is not None else RobotsCache()
        self.guard = AddressGuard(settings.allow_private_networks, allowed_networks)
        self.retry_backoff = retry_backoff  # seconds before the first retry; doubles each time
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # no proxies or .netrc from the environment: the guard checks real peers
            session.headers["User-Agent"] = self.settings.user_agent
            adapter = guarded_adapter(self.guard)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        return session

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              accept_html: bool = False) -> FetchResult:
        """GET ``url``, retrying transient failures with exponential backoff and jitter.

        With ``etag``/``last_modified`` the request is conditional; a 304 gives ``not_modified``.
        With ``accept_html`` an HTML body is decoded into ``text`` and checked for soft 404s,
        and a non-HTML body is not downloaded (only its headers are returned).
        """
        headers = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8" if accept_html else "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        attempt = 0
        while True:
            attempt += 1
            result = self._follow(url, headers, accept_html=accept_html, max_bytes=self.settings.max_file_bytes)
            result.attempts = attempt
            if attempt > self.settings.fetch_retries or not _retryable(result):
                return result
            delay = self.retry_backoff * 2 ** (attempt - 1)
            time.sleep(delay + random.uniform(0, delay))

    def fetch_file(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """``fetch`` of a file: a file link answered with an HTML page is an error page in disguise (the file
        is gone)."""
        result = self.fetch(url, etag=etag, last_modified=last_modified)
        if result.ok and not result.not_modified and result.content[:200].lstrip().lower().startswith(_HTML_START):
            return result.fail("html_instead_of_file", "链接返回的是网页而不是文件（文件可能已删除）")
        return result

    def _follow(self, url: str, headers: dict[str, str], *, accept_html: bool, max_bytes: int,
                obey_robots: bool = True) -> FetchResult:
        """One attempt: request ``url`` and follow its redirects, checking every hop."""
        result = FetchResult(url=url, final_url=url)
        visited = {url}
        for _ in range(MAX_REDIRECTS + 1):
            try:
                self.guard.check_url(result.final_url)
            except UnsafeTarget as refused:
                return result.fail(refused.code, refused.message)
            if obey_robots and not self.robots.allowed(result.final_url, self.settings.user_agent, self._load_robots):
                return result.fail("robots_disallowed", "网站的 robots.txt 禁止抓取该地址")
            self.rate_limiter.wait(urlsplit(result.final_url).hostname)
            try:
                with self.session.get(result.final_url, headers=headers, stream=True, allow_redirects=False,
                                      timeout=self.settings.request_timeout) as response:
                    result.status = response.status_code
                    if not response.is_redirect:
                        return self._read(response, result, accept_html=accept_html, max_bytes=max_bytes)
                    location = urljoin(result.final_url, response.headers["Location"])
            except UnsafeTarget as refused:
                return result.fail(refused.code, refused.message)
            except requests.RequestException as exc:
                return result.fail(*_describe(exc, self.settings.request_timeout))
            if location in visited:
                return result.fail("redirect_loop", "重定向形成循环，无法获取页面")
            visited.add(location)
            result.final_url, result.status = location, None
        return result.fail("too_many_redirects", f"重定向次数过多（超过 {MAX_REDIRECTS} 次）")

    def _read(self, response: requests.Response, result: FetchResult, *, accept_html: bool,
              max_bytes: int) -> FetchResult:
        result.content_type = response.headers.get("Content-Type")
        result.etag = response.headers.get("ETag")
        result.last_modified = response.headers.get("Last-Modified")
        status = response.status_code
        if status == 304:
            return result
        if status in (404, 410):
            return result.fail("not_found", f"页面或文件不存在（HTTP {status}）")
        if status == 521:
            return result.fail("http_521", "网站启用了反爬虫验证（HTTP 521），无法自动抓取")
        if not 200 <= status < 300:
            return result.fail(f"http_{status}", f"服务器返回错误（HTTP {status}）")
        if accept_html and result.content_type and not result.is_html:
            return result
        too_large = ("too_large", f"文件超过大小上限（{_human_size(max_bytes)}），已停止下载")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            return result.fail(*too_large)
        body = bytearray()
        for chunk in response.iter_content(CHUNK_BYTES):
            body += chunk
            if len(body) > max_bytes:
                return result.fail(*too_large)
        result.content = bytes(body)
        if accept_html and (result.is_html or result.content_type is None):
            result.text = decode_html(result.content, result.content_type)
            if _looks_like_soft_404(result.text):
                return result.fail("soft_404", "页面显示“页面不存在”或“已删除”（软 404）")
        return result

    def _load_robots(self, robots_url: str) -> tuple[int | None, str]:
        result = self._follow(robots_url, {"Accept": "text/plain,*/*"}, accept_html=False,
                              max_bytes=ROBOTS_MAX_BYTES, obey_robots=False)
        return result.status, result.content.decode("utf-8", errors="replace")


def _retryable(result: FetchResult) -> bool:
    if result.error_code in RETRIED_ERRORS:
        return True
    return result.status is not None and result.status >= 500 and result.status not in NOT_RETRIED_5XX


def _describe(exc: requests.RequestException, timeout: float) -> tuple[str, str]:
    """Error code and Chinese message for a requests exception."""
    cause = exc.args[0] if exc.args else None
    if isinstance(exc, requests.Timeout) or isinstance(cause, ReadTimeoutError):
        return "timeout", f"请求超时（超过 {timeout:g} 秒无响应）"
    if isinstance(exc, requests.exceptions.SSLError):
        return "ssl_error", "网站的 HTTPS 证书无效或加密连接失败"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema)):
        return "invalid_url", "链接格式无效"
    return "connection_error", "无法连接到服务器或连接中断"


def _human_size(size: int) -> str:
    for unit, factor in (("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} 字节"


def _looks_like_soft_404(html: str) -> bool:
    """A short page whose title or text says the page does not exist."""
    title = _TITLE.search(html)
    text = " ".join(_TAG.sub(" ", _INVISIBLE.sub(" ", html)).split())
    if len(text) > SOFT_404_MAX_CHARS:
        return False
    return bool(_SOFT_404.search(title.group(1) if title else "") or _SOFT_404.search(text))
