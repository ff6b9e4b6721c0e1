"""A local government disclosure site served over real HTTP, for tests of crawling and the pipeline.

Layout (TRS-like), on 127.0.0.1 and a random port:

    /robots.txt
    /{section}/index.html, index_1.html, …    list pages of "trs" sections (JS createPageHTML paging)
    /{section}/list.html?page=N               list pages of "query" sections (numbered links, 下一页)
    /{section}/list.jsp?p=N                   list pages of "next" sections (only 上一页/下一页 links)
    /{section}/{yyyymm}/t{yyyymmdd}_{id}.html detail pages (发布日期 label, attachment links)
    /{section}/{yyyymm}/P0200{id}_{n}.{ext}   attachments

Every page carries site chrome (header, navigation, breadcrumb, footer with off-site, mailto,
javascript and anchor links). Every 200 response has an ETag and a Last-Modified header, and
conditional requests are answered with 304 (If-None-Match first, as RFC 9110 requires). GBK
sections declare ``<meta charset="gb2312">`` without an HTTP charset and are encoded as GB18030.

    with FixturePortal(per_page=3) as portal:
        detail = portal.add_document(section="czyjs", title="某局2023年度部门决算", date=date(2024, 10, 25),
                                     attachments=[("决算.pdf", pdf_bytes)])
        portal.section_url("czyjs")      # the list page to crawl
        portal.attachment_urls(detail)   # what a crawler should find
        portal.hits("/robots.txt")       # requests received for a path
"""

from __future__ import annotations

import hashlib
import html
import math
import mimetypes
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date as Date
from email.message import Message
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal, NamedTuple
from urllib.parse import parse_qs, urlsplit

SITE_NAME = "示例市财政局"
SECTION_TITLES = {"czyjs": "财政预决算", "yjsgk": "预决算公开", "bmjs": "部门决算", "bmys": "部门预算",
                  "sgjf": "三公经费"}
Pagination = Literal["trs", "query", "next"]
_LIST_PATHS = {"trs": "index.html", "query": "list.html", "next": "list.jsp"}
_PAGE_PARAMS = {"query": "page", "next": "p"}
_STREAM_CHUNK = 64 * 1024


class RequestRecord(NamedTuple):
    method: str
    path: str  # path and query, as requested
    headers: Message  # case-insensitive: record.headers.get("If-None-Match")
    status: int


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the response starts
    streamed: bool = False  # no Content-Length: the body ends when the connection closes


@dataclass
class _File:
    content: bytes
    content_type: str
    delay: float = 0.0
    streamed: bool = False


@dataclass
class _Section:
    name: str
    title: str
    encoding: str
    pagination: Pagination
    documents: list[_Document] = field(default_factory=list)


@dataclass
class _Document:
    id: int
    section: str
    title: str
    date: Date
    encoding: str
    body: str
    inline_html: str | None
    attachments: list[tuple[str, str]]  # (link text, path)
    link_directly: bool
    pictures: list[str] = field(default_factory=list)  # paths of the images shown in the content, in order

    @property
    def folder(self) -> str:
        return f"/{self.section}/{self.date:%Y%m}"

    @property
    def path(self) -> str:
        return f"{self.folder}/t{self.date:%Y%m%d}_{self.id}.html"


class FixturePortal:
    def __init__(self, *, per_page: int = 5, site_name: str = SITE_NAME):
        self.per_page = per_page
        self.site_name = site_name
        self._sections: dict[str, _Section] = {}
        self._documents: dict[str, _Document] = {}  # by detail path
        self._files: dict[str, _File] = {}
        self._redirects: dict[str, tuple[int, str]] = {}
        self._failures: dict[str, list[int]] = {}  # path → [remaining, status]
        self._soft_404: set[str] = set()
        self._robots = (200, "User-agent: *\nDisallow:\n")
        self._stamps: dict[str, tuple[str, int]] = {}  # path → (ETag, Last-Modified as epoch seconds)
        self._log: list[RequestRecord] = []
        self._next_id = 100001
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FixturePortal:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.portal = self
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FixturePortal:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # --- content -------------------------------------------------------------------------------

    def add_section(self, name: str, *, title: str | None = None, encoding: str = "utf-8",
                    pagination: Pagination = "trs") -> str:
        """Create a list section; returns the URL of its first list page."""
        with self._lock:
            self._sections[name] = _Section(name, title or SECTION_TITLES.get(name, name), encoding, pagination)
        return self.section_url(name)

    def section_url(self, name: str) -> str:
        return self.url(f"/{name}/{_LIST_PATHS[self._sections[name].pagination]}")

    def add_document(self, section: str, title: str, date: Date, attachments=(), inline_html: str | None = None,
                     encoding: str | None = None, *, body: str | None = None, link_directly: bool = False,
                     pictures=()) -> str:
        """Publish a document: a detail page with ``attachments`` [(file name, bytes)] and/or an
        ``inline_html`` body (tables), and/or ``pictures`` [(file name, bytes)] shown in its content, in
        order (a budget published as scanned page images). Returns the detail page URL; with ``link_directly`` the list
        links straight to the single attachment, there is no detail page, and its URL is returned.
        Sections are created on first use (TRS paging, in this document's encoding)."""
        with self._lock:
            if section not in self._sections:
                self.add_section(section, encoding=encoding or "utf-8")
            doc_id, self._next_id = self._next_id, self._next_id + 1
            doc = _Document(doc_id, section, title, date, encoding or self._sections[section].encoding,
                            body if body is not None else _default_body(title), inline_html, [], link_directly)
            for n, (name, content) in enumerate(attachments, start=1):
                ext = name.rsplit(".", 1)[-1].lower() if "." in name else "bin"
                path = f"{doc.folder}/P0200{doc_id}_{n}.{ext}"
                self._files[path] = _File(content, mimetypes.guess_type(name)[0] or "application/octet-stream")
                doc.attachments.append((name, path))
            for n, (name, content) in enumerate(pictures, start=1):
                path = f"{doc.folder}/W0200{doc_id}_{n}.{name.rsplit('.', 1)[-1].lower()}"
                self._files[path] = _File(content, mimetypes.guess_type(name)[0] or "application/octet-stream")
                doc.pictures.append(path)
            if link_directly and len(doc.attachments) != 1:
                raise ValueError("link_directly needs exactly one attachment")
            self._sections[section].documents.append(doc)
            if link_directly:
                return self.url(doc.attachments[0][1])
            self._documents[doc.path] = doc
            return self.url(doc.path)

    def attachment_urls(self, detail_url: str) -> list[str]:
        with self._lock:
            return [self.url(path) for _, path in self._documents[urlsplit(detail_url).path].attachments]

    def picture_urls(self, detail_url: str) -> list[str]:
        with self._lock:
            return [self.url(path) for path in self._documents[urlsplit(detail_url).path].pictures]

    def replace_attachment(self, url: str, content: bytes) -> None:
        """New content at the same address (so a new ETag and a later Last-Modified)."""
        with self._lock:
            self._files[urlsplit(url).path].content = content

    def remove_document(self, detail_url: str) -> None:
        """Take a document down: gone from its list; detail page and attachments answer 404."""
        path = urlsplit(detail_url).path
        with self._lock:
            doc = self._documents.pop(path, None) or next(
                d for s in self._sections.values() for d in s.documents if any(p == path for _, p in d.attachments))
            self._sections[doc.section].documents.remove(doc)
            for _, file_path in doc.attachments:
                self._files.pop(file_path, None)

    def add_file(self, path: str, content: bytes, *, content_type: str | None = None, delay: float = 0.0,
                 streamed: bool = False) -> str:
        """Serve ``content`` at ``path``, after ``delay`` seconds; ``streamed``: without Content-Length."""
        with self._lock:
            self._files[path] = _File(content, content_type or mimetypes.guess_type(path)[0]
                                      or "application/octet-stream", delay, streamed)
        return self.url(path)

    def add_soft_404(self, path: str) -> str:
        """``path`` answers 200 with a "页面不存在" page."""
        with self._lock:
            self._soft_404.add(path)
        return self.url(path)

    def add_redirect(self, path: str, location: str, status: int = 302) -> str:
        with self._lock:
            self._redirects[path] = (status, location)
        return self.url(path)

    def fail_next(self, path: str, times: int = 1, status: int = 500) -> None:
        """The next ``times`` requests for ``path`` (with or without query) answer ``status``."""
        with self._lock:
            self._failures[path] = [times, status]

    def set_robots(self, disallow=(), *, status: int = 200, user_agent: str = "*") -> None:
        rules = "".join(f"Disallow: {prefix}\n" for prefix in disallow) or "Disallow:\n"
        with self._lock:
            self._robots = (status, f"User-agent: {user_agent}\n{rules}")

    # --- request log ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def hits(self, path: str) -> list[RequestRecord]:
        """Requests for ``path``; a path without query also matches requests with one."""
        return [r for r in self.requests if r.path == path or ("?" not in path and r.path.split("?")[0] == path)]

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)

    # --- responses -----------------------------------------------------------------------------

    def _respond(self, target: str, headers: Message) -> _Reply:
        with self._lock:
            reply = self._route(target)
            if reply.status == 200:
                etag, modified = self._stamp(target, reply.body)
                reply.headers.update({"ETag": etag, "Last-Modified": formatdate(modified, usegmt=True)})
                if _not_modified(headers, etag, modified):
                    return _Reply(304, headers=reply.headers)
            return reply

    def _route(self, target: str) -> _Reply:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        failure = self._failures.get(target) or self._failures.get(path)
        if failure and failure[0] > 0:
            failure[0] -= 1
            return _Reply(failure[1], f"<h1>{failure[1]} 服务器错误</h1>".encode())
        if (redirect := self._redirects.get(target) or self._redirects.get(path)) is not None:
            return _Reply(redirect[0], headers={"Location": redirect[1]})
        if path == "/robots.txt":
            return _Reply(self._robots[0], self._robots[1].encode(), "text/plain; charset=utf-8")
        if path in self._soft_404:
            return self._html(200, "页面不存在", "<h2>对不起，您访问的页面不存在或已被删除！</h2>")
        if (file := self._files.get(path)) is not None:
            return _Reply(200, file.content, file.content_type, delay=file.delay, streamed=file.streamed)
        if (doc := self._documents.get(path)) is not None:
            return self._detail_page(doc)
        if path == "/":
            return self._html(200, "首页", "".join(f'<p><a href="/{s}/">{html.escape(section.title)}</a></p>'
                                                   for s, section in self._sections.items()))
        return self._list_page(path, query) or self._html(404, "页面不存在", "<h2>您访问的页面不存在！</h2>")

    def _stamp(self, key: str, body: bytes) -> tuple[str, int]:
        """ETag from the content; Last-Modified moves forward (by ≥1 s) whenever the content changes."""
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        previous = self._stamps.get(key)
        if previous is None or previous[0] != etag:
            now = int(time.time())
            self._stamps[key] = (etag, max(now, previous[1] + 1) if previous else now)
        return self._stamps[key]

    def _list_page(self, path: str, query: dict[str, list[str]]) -> _Reply | None:
        section_name, _, file_name = path.strip("/").partition("/")
        section = self._sections.get(section_name)
        if section is None:
            return None
        first = _LIST_PATHS[section.pagination]
        if section.pagination == "trs":
            stem = file_name.removesuffix(".html")
            if file_name in ("", first):
                index = 0
            elif stem.startswith("index_") and stem[6:].isdigit():
                index = int(stem[6:])
            else:
                return None
        elif file_name == first:
            index = int(query.get(_PAGE_PARAMS[section.pagination], ["1"])[0]) - 1
        else:
            return None
        documents = sorted(section.documents, key=lambda d: (d.date, d.id), reverse=True)
        pages = max(1, math.ceil(len(documents) / self.per_page))
        if not 0 <= index < pages:
            return None
        shown = documents[index * self.per_page:(index + 1) * self.per_page]
        body = _ENTRIES[section.pagination](shown) + _PAGERS[section.pagination](index, pages)
        return self._html(200, section.title, f'<div class="main"><h2>{html.escape(section.title)}</h2>{body}</div>',
                          section=section, encoding=section.encoding)

    def _detail_page(self, doc: _Document) -> _Reply:
        links = "".join(f'<li><a href="./{path.rsplit("/", 1)[1]}">{html.escape(name)}</a></li>'
                        for name, path in doc.attachments)
        attachments = f'<div class="fujian">附件：<ul>{links}</ul></div>' if links else ""
        pictures = "".join(f'<p style="text-align:center"><img src="./{path.rsplit("/", 1)[1]}" width="1240"></p>'
                           for path in doc.pictures)
        article = (f'<div class="article"><h1>{html.escape(doc.title)}</h1>'
                   f'<div class="info">发布日期：{doc.date:%Y-%m-%d}　来源：{self.site_name}　浏览次数：12</div>'
                   f'<div class="content">{doc.body}{doc.inline_html or ""}{pictures}</div>{attachments}'
                   '<div class="tools"><a href="javascript:window.print()">打印本页</a> '
                   '<a href="javascript:window.close()">关闭窗口</a></div></div>')
        return self._html(200, f"{doc.title}_{self.site_name}", article, section=self._sections[doc.section],
                          encoding=doc.encoding)

    def _html(self, status: int, title: str, main: str, *, section: _Section | None = None,
              encoding: str = "utf-8") -> _Reply:
        gbk = encoding.lower() in ("gbk", "gb2312", "gb18030")
        nav = "".join(f'<li><a href="/{name}/">{html.escape(s.title)}</a></li>' for name, s in self._sections.items())
        crumb = (f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; '
                 f'<a href="/{section.name}/">{html.escape(section.title)}</a></div>') if section else ""
        page = (f'<!DOCTYPE html><html><head><meta charset="{"gb2312" if gbk else "utf-8"}">'
                f"<title>{html.escape(title)}</title></head><body>"
                f'<div class="header"><a href="/">{self.site_name}</a> <a href="/search.html">站内搜索</a></div>'
                f'<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/zwgk/index.html">政务公开</a></li>'
                f'{nav}<li><a href="javascript:void(0)">无障碍浏览</a></li></ul></div>{crumb}{main}'
                '<div class="footer"><a href="/sitemap.html">网站地图</a> | '
                '<a href="mailto:czj@example.gov.cn">联系我们</a> | <a href="http://www.gov.cn/">中国政府网</a> | '
                '<a href="#top">返回顶部</a>'
                f"<p>版权所有：{self.site_name}　网站更新：2024-01-02</p></div></body></html>")
        if gbk:
            return _Reply(status, page.encode("gb18030"), "text/html")
        return _Reply(status, page.encode("utf-8"))


def _default_body(title: str) -> str:
    return f"<p>根据《中华人民共和国预算法》和有关规定，现将{html.escape(title)}公开如下。</p>"


def _entry_href(doc: _Document) -> str:
    """Relative to the section folder, as TRS writes it."""
    path = doc.attachments[0][1] if doc.link_directly else doc.path
    return "." + path.removeprefix(f"/{doc.section}")


def _short(title: str) -> str:
    """TRS lists truncate long titles; the full one goes into the title attribute."""
    return title if len(title) <= 24 else title[:24] + "..."


def _trs_entries(docs: list[_Document]) -> str:
    items = "".join(f'<li><a href="{_entry_href(d)}" title="{html.escape(d.title)}" target="_blank">'
                    f"{html.escape(_short(d.title))}</a><span>{d.date:%Y-%m-%d}</span></li>" for d in docs)
    return f'<ul class="list">{items}</ul>'


def _table_entries(docs: list[_Document]) -> str:
    rows = "".join(f'<tr><td><a href="{_entry_href(d)}">{html.escape(d.title)}</a></td>'
                   f"<td>{d.date:%Y-%m-%d}</td></tr>" for d in docs)
    return f'<table class="list"><tr><th>标题</th><th>发布日期</th></tr>{rows}</table>'


def _flat_entries(docs: list[_Document]) -> str:
    items = "".join(f'<a href="{_entry_href(d)}">{html.escape(d.title)}</a> '
                    f'<span class="date">[{d.date:%Y-%m-%d}]</span><br>' for d in docs)
    return f'<div class="news">{items}</div>'


def _trs_pager(index: int, pages: int) -> str:
    return f'<div class="page"><script>createPageHTML({pages}, {index}, "index", "html");</script></div>'


def _query_pager(index: int, pages: int) -> str:
    number = "".join(f'<a href="list.html?page={n}">{n}</a> ' for n in range(1, pages + 1))
    following = f'<a href="list.html?page={index + 2}">下一页</a> ' if index + 1 < pages else ""
    return (f'<div class="pagination"><a href="list.html?page=1">首页</a> {number}{following}'
            f'<a href="list.html?page={pages}">尾页</a> 共{pages}页</div>')


def _next_pager(index: int, pages: int) -> str:
    previous = f'<a href="list.jsp?p={index}">&lt; 上一页</a> ' if index > 0 else ""
    following = f'<a href="list.jsp?p={index + 2}">下一页 &gt;</a>' if index + 1 < pages else ""
    return f'<div class="pager">{previous}{following}</div>'


_ENTRIES = {"trs": _trs_entries, "query": _table_entries, "next": _flat_entries}
_PAGERS = {"trs": _trs_pager, "query": _query_pager, "next": _next_pager}


def _not_modified(headers: Message, etag: str, modified: int) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            return modified <= parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    portal: FixturePortal

    def handle_error(self, request, client_address) -> None:
        # Clients that time out or stop reading (size caps) close the socket under us.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes; avoid 40 ms delayed-ACK stalls
    server: _Server

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        reply = self.server.portal._respond(self.path, self.headers)
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        if reply.status != 304:
            self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.streamed:
            self.send_header("Connection", "close")
            self.close_connection = True
        elif reply.status != 304:
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if not send_body:
            return
        for start in range(0, len(reply.body), _STREAM_CHUNK):
            self.wfile.write(reply.body[start:start + _STREAM_CHUNK])

    def log_request(self, code="-", size="-") -> None:
        self.server.portal._record(RequestRecord(self.command, self.path, self.headers, int(code)))

    def log_message(self, format, *args) -> None:
        pass
