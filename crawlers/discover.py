"""Document discovery on one disclosure source, with no per-site code.

The source URL is a list page. List pages (up to ``source.max_pages``, see
``crawlers.pagination``) yield content entries: links with a date nearby or in their URL,
outside the site chrome (header, navigation, breadcrumbs, footer). An entry pointing to a
file is a document; any other entry is a detail page, fetched one level down, whose
attachments are documents. A detail page without attachments whose body holds budget
figures (a data table, or 预算/决算 with 万元) is itself an ``inline_html`` document.
``source.selectors`` replace the heuristics where given.

Page cache (conditional GET)
----------------------------
``discover`` accepts any object with

    get(url) -> CacheEntry | None
    put(url, entry: CacheEntry) -> None

keyed by the page URL as requested. ``CacheEntry`` holds the page's validators (``etag``,
``last_modified``) and ``links``: everything discovery extracted from that page, as
JSON-ready dicts (``Link.to_dict``). When the server answers 304, the stored links are
used instead of the page, so an unchanged source costs one conditional request per page.
Entries are written after every 200 response that carries a validator.
``MemoryPageCache`` is the in-memory implementation.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import PurePosixPath
from typing import Literal, Protocol
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from crawlers.http import Fetcher, FetchResult
from crawlers.pagination import page_urls
from fiscalwatch.settings import Selectors, Source

ATTACHMENT_EXTS = ("pdf", "xls", "xlsx", "doc", "docx", "wps", "et", "zip", "rar")
DATE_LABELS = ("发布日期", "发布时间", "成文日期", "发文日期", "公开日期", "更新日期", "日期")  # by trust

_DATE = r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)"
_DATE_RE = re.compile(_DATE)
_LABELLED_DATE = re.compile(f"({'|'.join(DATE_LABELS)})\\s*[:：]?\\s*{_DATE}")
_URL_DATES = (re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_"), re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"))
_EXT_IN_TEXT = re.compile(rf"\.({'|'.join(ATTACHMENT_EXTS)})\s*(?:[(（][^)）]*[)）])?$", re.I)
_NUMBER = re.compile(r"^[-−]?[\d,]+(?:\.\d+)?%?$")
_PAGE_EXTS = ("htm", "html", "shtml")
_CHROME_TAGS = ("nav", "script", "style", "noscript", "template")
_CHROME_WORDS = {"nav", "navbar", "navigation", "menu", "header", "footer", "breadcrumb", "crumb", "crumbs",
                 "copyright", "sitemap", "topbar"}
_CHROME_NAMES = {"head", "top", "bottom", "foot", "position", "location", "weizhi", "dqwz"}
_SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:")

Role = Literal["detail", "attachment", "inline_html", "page"]


@dataclass(frozen=True)
class FoundDocument:
    url: str  # the file, or the detail page itself for an inline-HTML disclosure
    kind: Literal["attachment", "inline_html"]
    title: str  # link text, else page title
    published: date | None
    detail_url: str | None  # None when the list page links to the file directly
    list_url: str
    file_ext: str | None  # "pdf", "xlsx", … ("html" for inline_html); None if unknown
    page_title: str  # title of the detail page, else the list entry's text


@dataclass
class Discovery:
    documents: list[FoundDocument] = field(default_factory=list)
    pages_fetched: int = 0  # list and detail pages answered with 200 or 304
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (url, error_code, Chinese message)
    list_links: int = 0  # distinct content links seen on list pages (for source health checks)
    unchanged_pages: int = 0  # pages answered with 304


@dataclass(frozen=True)
class Link:
    """One thing a page points to; the unit stored in the page cache."""

    role: Role  # detail page, file, the page itself as inline document, or another list page
    url: str
    title: str = ""
    published: date | None = None
    page_title: str = ""
    file_ext: str | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Link:
        published = data.get("published")
        return cls(**{**data, "published": date.fromisoformat(published) if published else None})


@dataclass
class CacheEntry:
    etag: str | None
    last_modified: str | None
    links: list[dict]  # Link.to_dict() of everything found on the page


class PageCache(Protocol):
    def get(self, url: str) -> CacheEntry | None: ...

    def put(self, url: str, entry: CacheEntry) -> None: ...


class MemoryPageCache:
    def __init__(self):
        self.entries: dict[str, CacheEntry] = {}

    def get(self, url: str) -> CacheEntry | None:
        return self.entries.get(url)

    def put(self, url: str, entry: CacheEntry) -> None:
        self.entries[url] = entry


def discover(source: Source, fetcher: Fetcher, cache: PageCache | None = None) -> Discovery:
    """Documents currently listed by ``source``; never raises on fetch failures (see ``errors``)."""
    return _Discoverer(source, fetcher, cache).run()


class _Discoverer:
    def __init__(self, source: Source, fetcher: Fetcher, cache: PageCache | None):
        self.source = source
        self.selectors = source.selectors or Selectors()
        self.fetcher = fetcher
        self.cache = cache
        self.result = Discovery()
        self.documents: dict[str, FoundDocument] = {}

    def run(self) -> Discovery:
        queue, queued = [self.source.url], {_page_key(self.source.url)}
        details: dict[str, tuple[Link, str]] = {}  # detail URL → (list entry, list URL)
        content: set[str] = set()
        for _ in range(self.source.max_pages):
            if not queue:
                break
            list_url = queue.pop(0)
            for link in self._links(list_url, self._analyse_list):
                if link.role == "page":
                    if _page_key(link.url) not in queued:
                        queued.add(_page_key(link.url))
                        queue.append(link.url)
                    continue
                content.add(link.url)
                if link.role == "detail":
                    details.setdefault(link.url, (link, list_url))
                else:
                    self._add(link, list_url, None, link)
        for detail_url, (entry, list_url) in details.items():
            for link in self._links(detail_url, self._analyse_detail):
                self._add(link, list_url, detail_url, entry)
        self.result.documents = list(self.documents.values())
        self.result.list_links = len(content)
        return self.result

    def _links(self, url: str, analyse: Callable[[BeautifulSoup, FetchResult], list[Link]]) -> list[Link]:
        """What the page at ``url`` links to, via a conditional GET and the page cache."""
        cached = self.cache.get(url) if self.cache is not None else None
        page = self.fetcher.fetch(url, etag=cached.etag if cached else None,
                                  last_modified=cached.last_modified if cached else None, accept_html=True)
        if not page.ok:
            self.result.errors.append((url, page.error_code, page.error))
            return []
        self.result.pages_fetched += 1
        if page.not_modified:
            self.result.unchanged_pages += 1
            return [Link.from_dict(data) for data in cached.links] if cached else []
        if page.text is None:  # not HTML: a file served at a page address?
            mime = (page.content_type or "").split(";")[0].strip().lower()
            ext = _ext_for_mime(mime)
            links = [Link("attachment", url, file_ext=ext)] if ext or mime == "application/octet-stream" else []
        else:
            links = analyse(BeautifulSoup(page.text, "lxml"), page)
        if self.cache is not None and (page.etag or page.last_modified):
            self.cache.put(url, CacheEntry(page.etag, page.last_modified, [link.to_dict() for link in links]))
        return links

    def _analyse_list(self, soup: BeautifulSoup, page: FetchResult) -> list[Link]:
        base = _base_url(soup, page.final_url)
        links = [Link("page", url) for url in page_urls(soup, base, self.selectors.next_page)]
        _strip_chrome(soup)
        anchors = soup.select(self.selectors.list_links) if self.selectors.list_links else soup.find_all("a")
        seen = {page.url, page.final_url}
        for a in anchors:
            url = _resolve(a.get("href"), base)
            if url is None or url in seen:
                continue
            title, published = _link_title(a), _entry_date(a) or _date_from_url(url)
            if ext := _file_ext(url, title):
                links.append(Link("attachment", url, title, published, file_ext=ext))
            elif (_same_site(url, self.source.url) or _same_site(url, page.final_url)) and (
                    published or self.selectors.list_links):
                links.append(Link("detail", url, title, published))
            else:
                continue  # the same URL may still come with a date in a later link
            seen.add(url)
        return links

    def _analyse_detail(self, soup: BeautifulSoup, page: FetchResult) -> list[Link]:
        base = _base_url(soup, page.final_url)
        _strip_chrome(soup)
        title = _page_title(soup)
        published = _labelled_date(soup.get_text(" "))
        anchors = soup.select(self.selectors.attachments) if self.selectors.attachments else soup.find_all("a")
        links: dict[str, Link] = {}
        for a in anchors:
            url = _resolve(a.get("href"), base)
            text = _link_title(a)
            ext = _file_ext(url, text) if url else None
            if url and (ext or self.selectors.attachments) and url not in links:
                links[url] = Link("attachment", url, text or title, published, title, ext)
        if links:
            return list(links.values())
        body = soup.select_one(self.selectors.content) if self.selectors.content else soup.body
        if body is not None and _holds_budget_figures(body):
            return [Link("inline_html", page.url, title, published, title, "html")]
        return []

    def _add(self, link: Link, list_url: str, detail_url: str | None, entry: Link) -> None:
        if link.url in self.documents:
            return
        published = (link.published or entry.published or _date_from_url(link.url)
                     or (_date_from_url(detail_url) if detail_url else None))
        self.documents[link.url] = FoundDocument(
            url=link.url,
            kind="inline_html" if link.role == "inline_html" else "attachment",
            title=link.title or entry.title,
            published=published,
            detail_url=detail_url,
            list_url=list_url,
            file_ext=link.file_ext,
            page_title=link.page_title or entry.title,
        )


def _normalize(text: str | None) -> str:
    return " ".join((text or "").split())


def _resolve(href: str | None, base: str) -> str | None:
    """Absolute http(s) URL of a link, without fragment; None for scripts, mail, anchors."""
    href = (href or "").strip()
    if not href or href.startswith("#") or href.lower().startswith(_SKIPPED_SCHEMES):
        return None
    url = urldefrag(urljoin(base, href)).url
    return url if urlsplit(url).scheme in ("http", "https") else None


def _base_url(soup: BeautifulSoup, page_url: str) -> str:
    base = soup.find("base", href=True)
    return urljoin(page_url, base["href"]) if base else page_url


def _page_key(url: str) -> str:
    """Identity of a list page: ``dir/`` and ``dir/index.html`` are the same page."""
    url = urldefrag(url).url
    return url if "?" in url else re.sub(r"/index\.\w+$", "/", url)


def _same_site(url: str, site_url: str) -> bool:
    """The site's host (``www.`` ignored) or one of its subdomains; never a parent domain such
    as www.gov.cn for a *.gov.cn site."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    site = (urlsplit(site_url).hostname or "").removeprefix("www.")
    return bool(site) and (host == site or host.endswith("." + site))


def _strip_chrome(soup: BeautifulSoup) -> None:
    """Remove scripts and site chrome: header, navigation, breadcrumbs, footer."""
    for tag in soup.find_all(_is_chrome):
        if not tag.decomposed:
            tag.decompose()


def _is_chrome(tag: Tag) -> bool:
    if tag.name in _CHROME_TAGS:
        return True
    if tag.name in ("header", "footer"):
        return tag.find_parent(("article", "main")) is None
    if tag.name in ("html", "body", "main", "article"):
        return False
    names = [name.lower() for name in (tag.get("class") or [])] + [(tag.get("id") or "").lower()]
    words = {word for name in names for word in re.split(r"[^a-z0-9]+", name)}
    return bool(words & _CHROME_WORDS or set(names) & _CHROME_NAMES)


def _link_title(a: Tag) -> str:
    """Link text, or its title attribute when the text is empty or truncated (TRS "…")."""
    text = _normalize(a.get_text())
    attr = _normalize(a.get("title"))
    stem = text.rstrip(".…").strip()
    if attr and (not stem or (attr.startswith(stem) and len(attr) > len(stem))):
        return attr
    return text


def _page_title(soup: BeautifulSoup) -> str:
    """TRS ArticleTitle meta, else the first <h1>, else <title>."""
    meta = soup.find("meta", attrs={"name": "ArticleTitle"})
    candidates = (meta.get("content") if meta else None,
                  soup.h1.get_text() if soup.h1 else None,
                  soup.title.get_text() if soup.title else None)
    return next((text for text in map(_normalize, candidates) if text), "")


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lstrip(".").lower()


def _file_ext(url: str, text: str) -> str | None:
    """Attachment extension from the URL path, a file name in its query, or the link text
    (the text only when the URL is not a static web page)."""
    parts = urlsplit(url)
    for name in (parts.path, *(value for _, value in parse_qsl(parts.query))):
        if (ext := _suffix(name)) in ATTACHMENT_EXTS:
            return ext
    match = _EXT_IN_TEXT.search(text)
    return match.group(1).lower() if match and _suffix(parts.path) not in _PAGE_EXTS else None


def _ext_for_mime(mime: str) -> str | None:
    ext = (mimetypes.guess_extension(mime) or "").lstrip(".")
    return ext if ext in ATTACHMENT_EXTS else None


def _parse_date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _find_date(text: str) -> date | None:
    for match in _DATE_RE.finditer(text):
        if found := _parse_date(*match.groups()):
            return found
    return None


def _labelled_date(text: str) -> date | None:
    """The date after the most trusted label (发布日期 before 成文日期 …)."""
    found: dict[str, date] = {}
    for match in _LABELLED_DATE.finditer(text):
        label, *parts = match.groups()
        if (value := _parse_date(*parts)) and label not in found:
            found[label] = value
    return next((found[label] for label in DATE_LABELS if label in found), None)


def _date_from_url(url: str) -> date | None:
    for pattern in _URL_DATES:
        if (match := pattern.search(url)) and (found := _parse_date(*match.groups())):
            return found
    return None


def _entry_date(a: Tag) -> date | None:
    """Date next to a list link: in the largest element holding only this link (a <li>, a
    table row), else in the text that follows it up to the next link; text outside the
    link is preferred to the link text itself."""
    href = a.get("href")
    node: Tag = a
    while node.parent is not None and node.parent.name not in ("body", "[document]") \
            and all(other.get("href") == href for other in node.parent.find_all("a", href=True)):
        node = node.parent
    outside = [s for s in node.find_all(string=True) if not any(parent is a for parent in s.parents)]
    for sibling in node.next_siblings:
        if isinstance(sibling, Tag) and (sibling.name == "a" or sibling.find("a")):
            break
        outside.append(sibling.get_text() if isinstance(sibling, Tag) else str(sibling))
    return _find_date(" ".join(outside)) or _find_date(a.get_text())


def _holds_budget_figures(body: Tag) -> bool:
    """A data table (several numeric cells), or 预算/决算 figures in 万元."""
    for table in body.find_all("table"):
        if sum(bool(_NUMBER.match(_normalize(cell.get_text()))) for cell in table.find_all(("td", "th"))) >= 4:
            return True
    text = body.get_text()
    return bool(re.search("预算|决算", text)) and "万元" in text
