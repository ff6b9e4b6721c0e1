"""Document discovery on one disclosure source, with no per-site code.

The source URL is normally a list page. List pages (up to ``source.max_pages``, see
``crawlers.pagination``) yield content entries: links outside the site chrome (header,
navigation, breadcrumbs, footer) with a date nearby or in their URL, or whose text names a
publication (预算/决算/预决算/三公 and a year). Entries are grouped by the block that holds
them (a list, a table); blocks without any disclosure entry are other columns and are
ignored. An entry pointing to a file is a document; any other entry is a detail page,
fetched one level down, whose attachments are documents. A detail page without attachments
whose body holds budget figures (a data table, or 预算/决算 with 万元) is itself an
``inline_html`` document. Attachments named as forms (申请表, 流程图, …) are never documents.

The source page itself is judged first (``_analyse_source``):
- a JavaScript cookie challenge, a script-only body or a frame shell is refused;
- a meta-refresh stub is followed to its target;
- a page titled as a publication (a detail page, or an index of the units' own
  disclosure pages) yields its attachments and the links in its main content block;
- otherwise it must be a list whose entries are mostly disclosures (a homepage or
  another column has a few budget links among many others, and is refused).
A refused source yields no documents and one error on the source URL saying why in Chinese.
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
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from functools import cached_property
from pathlib import PurePosixPath
from typing import Literal, Protocol
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup, Comment, Tag

from fiscalwatch.crawlers.http import Fetcher, FetchResult
from fiscalwatch.crawlers.pagination import page_urls
from fiscalwatch.settings import Selectors, SourceConfig

DATE_LABELS = ("发布日期", "发布时间", "成文日期", "发文日期", "公开日期", "更新日期", "日期")  # by trust

_DATE = r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)"
_DATE_RE = re.compile(_DATE)
_LABELLED_DATE = re.compile(f"({'|'.join(DATE_LABELS)})\\s*[:：]?\\s*{_DATE}")
_URL_DATES = (re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_"), re.compile(r"/((?:19|20)\d{2})/(\d{1,2})/(\d{1,2})/"))
_NUMBER = re.compile(r"^[-−]?[\d,]+(?:\.\d+)?%?$")
_PAGE_EXTS = ("htm", "html", "shtml")
_CHROME_TAGS = ("nav", "script", "style", "noscript", "template")
_CHROME_WORDS = {"nav", "navbar", "navigation", "menu", "header", "footer", "breadcrumb", "crumb", "crumbs",
                 "copyright", "sitemap", "topbar"}
_CHROME_NAMES = {"head", "top", "bottom", "foot", "position", "location", "weizhi", "dqwz"}
_SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:")
# What a budget or final-account disclosure is called, in link text or in its URL path; audit reports on
# 预算执行, and the forms and guides of 依申请公开, are not disclosures.
_DISCLOSURE_WORDS = re.compile(r"预算|决算|三公[”\"]?经费")
_DISCLOSURE_PATH = re.compile(r"/(?:czyjs|yjsgk|ysjs|bmjs|bmys|dwys|dwjs|sgjf)(?:[/_.]|$)", re.I)
_NOT_DISCLOSURE = re.compile(r"预算执行|审计(?:工作)?报告|审计结果|审计查出|申请表|申请书|流程图|告知书|登记表|办事指南|公开指南")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\";\s]+)", re.I)
MIN_DISCLOSURE_SHARE = 0.5  # of a list page's entries
# A hostile or broken page (200,000 links) must not hold a crawl for minutes nor flood the store.
MAX_LINKS_PER_PAGE = 2000
MAX_DETAIL_PAGES = 500  # per crawl
TRUNCATED = "too_many_links"  # a warning: the crawl still succeeds with what was read
EMPTY_PAGE = "empty_page"  # refusal code of a page with no entries at all
MAX_REFRESH_HOPS = 3
MAX_IMAGE_PAGES = 200  # images of one image-only disclosure
MIN_PICTURE_PX = 200  # a picture declared narrower or lower than this is an icon, not a page
_DECORATIVE = re.compile(r"icon|logo|banner|btn|button|qrcode|erweima|ewm|share|print|close|arrow|/bg", re.I)
CHALLENGE_MAX_TEXT = 50  # characters of visible text on a challenge or script-only page

Role = Literal["detail", "attachment", "file", "inline_html", "image_pages", "page", "redirect", "refused"]


@dataclass(frozen=True)
class FoundDocument:
    url: str  # the file, or the detail page itself for an inline-HTML or image-only disclosure
    kind: Literal["attachment", "inline_html", "image_pages"]
    title: str  # link text, else page title
    published: date | None
    detail_url: str | None  # None when the list page links to the file directly
    list_url: str
    file_ext: str | None  # "pdf", "xlsx", … ("html" for inline_html and image_pages); None if unknown
    page_title: str  # title of the detail page, else the list entry's text


@dataclass
class Discovery:
    documents: list[FoundDocument] = field(default_factory=list)
    pages_fetched: int = 0  # list and detail pages answered with 200 or 304
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (url, code, Chinese message); source's first
    list_links: int = 0  # distinct content links seen on list pages (for source health checks)
    unchanged_pages: int = 0  # pages answered with 304
    entries: list[Link] = field(default_factory=list)  # those content links: detail pages and files

    def source_error(self, source_url: str) -> tuple[str, str] | None:
        """(error_code, Chinese message) of the first error on the source page itself, if any."""
        return next(((code, message) for url, code, message in self.errors if url == source_url and code != TRUNCATED),
                    None)


@dataclass(frozen=True)
class Link:
    """One thing a page points to; the unit stored in the page cache.

    Roles: ``detail`` (a detail page listed), ``attachment`` (a file listed), ``file`` (a file
    attached to this page), ``inline_html`` (this page is itself a document), ``image_pages`` (this
    page's images are the pages of a document), ``page`` (another
    page of the list), ``redirect`` (this page only forwards to ``url``), ``refused`` (this page
    is not a source of disclosures).
    """

    role: Role
    url: str
    title: str = ""
    published: date | None = None
    page_title: str = ""
    file_ext: str | None = None
    code: str | None = None  # for "refused": the error code; the Chinese reason is in ``title``

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


def _emptied(links: list[Link], cached: CacheEntry) -> bool:
    """A page refused for having no entries at all, which the last crawl read as a list of disclosures."""
    refused_empty = len(links) == 1 and links[0].role == "refused" and links[0].code == EMPTY_PAGE
    return refused_empty and any(Link.from_dict(data).role in ("detail", "attachment", "file")
                                 for data in cached.links)


@dataclass(frozen=True)
class FileTypes:
    """The files a crawl follows, by extension: what is an attachment, and which of those are page images. The
    crawl is told (the parsers' format registry decides: workers.fetching.followed_files)."""

    attachments: frozenset[str]
    images: frozenset[str]

    @cached_property
    def _named(self) -> re.Pattern:
        return re.compile(rf"\.({'|'.join(sorted(self.attachments))})\s*(?:[(（][^)）]*[)）])?$", re.I)

    @cached_property
    def _quoted(self) -> re.Pattern:
        alternatives = "|".join(sorted(self.attachments))
        return re.compile(rf"""["']([^"'\s]+\.(?:{alternatives})(?:\?[^"'\s]*)?)["']""", re.I)

    def ext(self, url: str, text: str) -> str | None:
        """Attachment extension from the URL path, a file name in its query, or the link text
        (the text only when the URL is not a static web page)."""
        parts = urlsplit(url)
        for name in (parts.path, *(value for _, value in parse_qsl(parts.query))):
            if (ext := _suffix(name)) in self.attachments:
                return ext
        match = self._named.search(text)
        return match.group(1).lower() if match and _suffix(parts.path) not in _PAGE_EXTS else None

    def for_mime(self, mime: str) -> str | None:
        ext = (mimetypes.guess_extension(mime) or "").lstrip(".")
        return ext if ext in self.attachments else None

    def href(self, a: Tag, base: str) -> str | None:
        """Where a link leads: its href, else a file path quoted in its script (``onclick=
        "downloadFj('name.pdf', './W0200….pdf')"``, ``href="javascript:…"``), a path before a bare name."""
        if url := _resolve(a.get("href"), base):
            return url
        quoted = self._quoted.findall(" ".join((a.get("onclick") or "", a.get("href") or "")))
        return _resolve(max(quoted, key=lambda path: "/" in path), base) if quoted else None


def discover(source: SourceConfig, fetcher: Fetcher, cache: PageCache | None = None, *,
             files: FileTypes) -> Discovery:
    """Documents currently listed by ``source``, following links to ``files``; never raises on fetch failures
    (see ``errors``)."""
    return _Discoverer(source, fetcher, cache, files).run()


class _Discoverer:
    def __init__(self, source: SourceConfig, fetcher: Fetcher, cache: PageCache | None, files: FileTypes):
        self.source = source
        self.files = files
        self.selectors = source.selectors or Selectors()
        self.fetcher = fetcher
        self.cache = cache
        self.result = Discovery()
        self.documents: dict[str, FoundDocument] = {}

    def run(self) -> Discovery:
        list_url, links = self._source_links()
        queue, queued = [], {_page_key(self.source.url), _page_key(list_url)}
        details: dict[str, tuple[Link, str]] = {}  # detail URL → (list entry, list URL)
        entries: dict[str, Link] = {}
        for pages_read in range(self.source.max_pages):
            if pages_read:
                if not queue:
                    break
                list_url = queue.pop(0)
                links = self._links(list_url, self._analyse_list) or []
            for link in links:
                if link.role == "page":
                    if _page_key(link.url) not in queued:
                        queued.add(_page_key(link.url))
                        queue.append(link.url)
                    continue
                if link.role == "refused":
                    self.result.errors.append((link.url, link.code, link.title))
                    continue
                entries.setdefault(link.url, link)
                if link.role == "detail":
                    details.setdefault(link.url, (link, list_url))
                else:  # a file listed, or a file of (or the text on) the source page itself
                    self._add(link, list_url, None if link.role == "attachment" else list_url, link)
        if len(details) > MAX_DETAIL_PAGES:
            self.result.errors.append((self.source.url, TRUNCATED,
                                       f"列出的详情页过多（{len(details)} 个），本次只读取前 {MAX_DETAIL_PAGES} 个"))
        for detail_url, (entry, list_url) in list(details.items())[:MAX_DETAIL_PAGES]:
            for link in self._links(detail_url, self._analyse_detail) or []:
                self._add(link, list_url, detail_url, entry)
        self.result.documents = list(self.documents.values())
        self.result.entries = list(entries.values())
        self.result.list_links = len(entries)
        return self.result

    def _source_links(self) -> tuple[str, list[Link]]:
        """The source page's links, after following meta-refresh stubs; refusals become errors."""
        url = self.source.url
        for _ in range(MAX_REFRESH_HOPS + 1):
            links = self._links(url, self._analyse_source)
            if links is None:
                if url != self.source.url:
                    message = self.result.errors[-1][2]
                    self.result.errors.insert(0, (self.source.url, "redirect_failed",
                                                  f"页面是跳转页（跳转到 {url}），跳转目标无法获取：{message}"))
                return url, []
            redirect = next((link.url for link in links if link.role == "redirect"), None)
            if redirect is None:
                if url != self.source.url:  # reasons belong to the source, which is what users configured
                    links = [replace(link, url=self.source.url) if link.role == "refused" else link for link in links]
                return url, links
            url = redirect
        return url, [Link("refused", self.source.url, "页面跳转次数过多，无法到达实际内容", code="too_many_redirects")]

    def _links(self, url: str, analyse: Callable[[BeautifulSoup, FetchResult], list[Link]]) -> list[Link] | None:
        """What the page at ``url`` links to, via a conditional GET and the page cache; None if it failed."""
        cached = self.cache.get(url) if self.cache is not None else None
        page = self.fetcher.fetch(url, etag=cached.etag if cached else None,
                                  last_modified=cached.last_modified if cached else None, accept_html=True)
        if not page.ok:
            self.result.errors.append((url, page.error_code, page.error))
            return None
        self.result.pages_fetched += 1
        if page.not_modified:
            self.result.unchanged_pages += 1
            return [Link.from_dict(data) for data in cached.links] if cached else []
        if page.text is None:  # not HTML: a file served at a page address?
            mime = (page.content_type or "").split(";")[0].strip().lower()
            ext = self.files.for_mime(mime)
            links = [Link("attachment", url, file_ext=ext)] if ext or mime == "application/octet-stream" else []
        else:
            links = analyse(BeautifulSoup(page.text, "lxml"), page)
            if cached and _emptied(links, cached):
                links = []  # a list that listed disclosures last time and lists nothing now: all were taken down
        if len(links) > MAX_LINKS_PER_PAGE:
            self.result.errors.append((url, TRUNCATED, f"页面链接过多（{len(links)} 个），只读取前 {MAX_LINKS_PER_PAGE} 个"))
            links = links[:MAX_LINKS_PER_PAGE]
        if self.cache is not None and (page.etag or page.last_modified):
            self.cache.put(url, CacheEntry(page.etag, page.last_modified, [link.to_dict() for link in links]))
        return links

    def _analyse_source(self, soup: BeautifulSoup, page: FetchResult) -> list[Link]:
        """The source page: a list, a publication page, or a page that is no source of disclosures."""
        if refresh := _refresh_target(soup, page.final_url):
            return [Link("redirect", refresh)]
        if refusal := _empty_shell(soup):
            return [Link("refused", page.url, refusal[1], code=refusal[0])]
        title = _declared_title(soup)
        pages, blocks = self._list_entries(soup, page)
        entries = [link for block in blocks for link in block]
        disclosures = sum(_is_disclosure(link.title, link.url) for link in entries)
        listing = bool(entries and (self.selectors.list_links or disclosures >= MIN_DISCLOSURE_SHARE * len(entries)))
        if _is_publication(title) and not self.selectors.list_links:
            files = [replace(link, role="file") if link.role == "attachment" else link
                     for link in self._analyse_detail(soup, page)]
            if files or not listing:
                if found := files + self._indexed_pages(soup, page, files):
                    return pages + found
                return [Link("refused", page.url, f"页面“{title}”是预决算页面，但上面没有附件、链接或预决算数据",
                             code="no_documents")]
        if listing:
            return pages + self._content_entries(blocks)
        if not entries and soup.find("iframe", src=True):
            return [Link("refused", page.url, "页面内容由内嵌框架（iframe）加载，页面本身没有预决算条目",
                         code="frame_page")]
        found = f"{len(entries)} 个条目中只有 {disclosures} 个是预决算" if entries else "没有预决算条目或附件"
        return [Link("refused", page.url, f"页面不是预决算列表或详情页：“{title or page.url}”上{found}",
                     code="not_a_disclosure_page" if entries else EMPTY_PAGE)]

    def _indexed_pages(self, soup: BeautifulSoup, page: FetchResult, files: list[Link]) -> list[Link]:
        """The other pages a publication's main content block links to: an index of the units' own
        disclosure pages (重庆市教育委员会部门及所属预算单位2026年预算公开 → 51 units)."""
        base = _base_url(soup, page.final_url)
        known = {link.url for link in files} | {page.url, page.final_url}
        block = soup.select_one(self.selectors.content) if self.selectors.content else _content_block(soup)
        links = []
        for a in block.find_all("a") if block is not None else []:
            url, title = self.files.href(a, base), _link_title(a)
            if url and title and url not in known and not self.files.ext(url, title):
                known.add(url)
                links.append(Link("detail", url, title, _entry_date(a) or _date_from_url(url)))
        return links

    def _analyse_list(self, soup: BeautifulSoup, page: FetchResult) -> list[Link]:
        pages, blocks = self._list_entries(soup, page)
        return pages + self._content_entries(blocks)

    def _list_entries(self, soup: BeautifulSoup, page: FetchResult) -> tuple[list[Link], list[list[Link]]]:
        """The list's other pages, and its entries grouped by the block (list, table) holding them."""
        base = _base_url(soup, page.final_url)
        pages = [Link("page", url) for url in page_urls(soup, base, self.selectors.next_page)]
        _strip_chrome(soup)
        anchors = soup.select(self.selectors.list_links) if self.selectors.list_links else soup.find_all("a")
        seen = {page.url, page.final_url}
        blocks: dict[int, list[Link]] = {}
        for a in anchors:
            url = self.files.href(a, base)
            if url is None or url in seen:
                continue
            title, published = _link_title(a), _entry_date(a) or _date_from_url(url)
            # A picture a list links to is no file of its own (a flow chart): scanned pages are on detail pages.
            if (ext := self.files.ext(url, title)) and ext not in self.files.images:
                if _NOT_DISCLOSURE.search(title):
                    continue
                link = Link("attachment", url, title, published, file_ext=ext)
            elif self.selectors.list_links or published or _is_publication(title):
                link = Link("detail", url, title, published)
            else:
                continue  # the same URL may still come with a date in a later link
            seen.add(url)
            blocks.setdefault(id(_item(a).parent), []).append(link)
        # Undated publication titles make a list only together: one alone is a teaser on a homepage.
        return pages, [block for block in blocks.values() if len(block) > 1 or block[0].published or block[0].file_ext]

    def _content_entries(self, blocks: list[list[Link]]) -> list[Link]:
        """The disclosure entries: other entries of a list (资产处置公示, notices) are not followed."""
        return [link for block in blocks for link in block
                if self.selectors.list_links or _is_disclosure(link.title, link.url)]

    def _analyse_detail(self, soup: BeautifulSoup, page: FetchResult) -> list[Link]:
        base = _base_url(soup, page.final_url)
        _strip_chrome(soup)
        title = _page_title(soup)
        published = _labelled_date(soup.get_text(" "))
        anchors = soup.select(self.selectors.attachments) if self.selectors.attachments else soup.find_all("a")
        links: dict[str, Link] = {}
        for a in anchors:
            url = self.files.href(a, base)
            text = _link_title(a)
            ext = self.files.ext(url, text) if url else None
            if url and (ext or self.selectors.attachments) and url not in links and not _NOT_DISCLOSURE.search(text):
                links[url] = Link("attachment", url, text or title, published, title, ext)
        # Images are pages of one document, never documents of their own: a table goes on from one to the next.
        if files := [link for link in links.values() if link.file_ext not in self.files.images]:
            return files
        body = soup.select_one(self.selectors.content) if self.selectors.content else soup.body
        if body is not None and _holds_budget_figures(body):
            return [Link("inline_html", page.url, title, published, title, "html")]
        if links or _pictures(body):
            return [Link("image_pages", page.url, title, published, title, "html")]
        return []

    def _add(self, link: Link, list_url: str, detail_url: str | None, entry: Link) -> None:
        if link.url in self.documents:
            return
        published = (link.published or entry.published or _date_from_url(link.url)
                     or (_date_from_url(detail_url) if detail_url else None))
        self.documents[link.url] = FoundDocument(
            url=link.url,
            kind=link.role if link.role in ("inline_html", "image_pages") else "attachment",
            title=link.title or entry.title,
            published=published,
            detail_url=detail_url,
            list_url=list_url,
            file_ext=link.file_ext,
            page_title=link.page_title or entry.title,
        )


def image_pages(html: str, url: str, files: FileTypes) -> list[str]:
    """The images an image-only disclosure page publishes as its pages, in page order (at most
    MAX_IMAGE_PAGES): the image files it links to, else the pictures in its content, icons left out."""
    soup = BeautifulSoup(html, "lxml")
    base = _base_url(soup, url)
    _strip_chrome(soup)
    linked = [u for a in soup.find_all("a") if (u := files.href(a, base)) and files.ext(u, "") in files.images]
    shown = [u for img in _pictures(soup.body) if (u := _resolve(_picture_src(img), base))]
    return list(dict.fromkeys(linked or shown))[:MAX_IMAGE_PAGES]


def _pictures(body: Tag | None) -> list[Tag]:
    """The <img> of a content block that can be pages: not icons, logos, QR codes or buttons."""
    pictures = []
    for img in body.find_all("img") if body is not None else []:
        src = _picture_src(img)
        sizes = [int(v) for v in (img.get("width"), img.get("height")) if str(v or "").isdigit()]
        decorative = src.startswith("data:") or _DECORATIVE.search(src) or any(v < MIN_PICTURE_PX for v in sizes)
        if src and not decorative:
            pictures.append(img)
    return pictures


def _picture_src(img: Tag) -> str:
    return img.get("data-src") or img.get("src") or ""  # lazy-loading pages keep the real address in data-src


def _normalize(text: str | None) -> str:
    return " ".join((text or "").split())


def _is_disclosure(title: str, url: str) -> bool:
    """Link text or URL path of a budget / final-account disclosure (not an audit report or a form)."""
    return bool((_DISCLOSURE_WORDS.search(title) or _DISCLOSURE_PATH.search(urlsplit(url).path))
                and not _NOT_DISCLOSURE.search(title))


def _is_publication(title: str) -> bool:
    """The title of one publication (某局2026年部门预算), not of a column (部门预决算)."""
    return _is_disclosure(title, "") and bool(_YEAR.search(title))


def _refresh_target(soup: BeautifulSoup, page_url: str) -> str | None:
    """Target of a <meta http-equiv="refresh"> on a page with (almost) no text of its own."""
    meta = soup.find("meta", attrs={"http-equiv": re.compile("^refresh$", re.I)})
    match = _REFRESH_URL.search(meta.get("content") or "") if meta else None
    if not match or len(_visible_text(soup)) > CHALLENGE_MAX_TEXT:
        return None
    target = _resolve(match.group(1), page_url)
    return target if target != page_url else None


def _empty_shell(soup: BeautifulSoup) -> tuple[str, str] | None:
    """(code, Chinese reason) for a page without content of its own: a JavaScript cookie
    challenge (sets a cookie, then reloads) or a body that only scripts fill."""
    scripts = " ".join(script.get_text() for script in soup.find_all("script"))
    if len(_visible_text(soup)) > CHALLENGE_MAX_TEXT or not scripts.strip() or soup.find("iframe", src=True):
        return None
    if "cookie" in scripts and "location" in scripts:
        return "anti_bot", "页面为反爬虫验证页（脚本设置 Cookie 后刷新），没有正文，无法自动抓取"
    return "script_only", "页面没有正文，内容全部由脚本生成，无法自动抓取"


def _visible_text(soup: BeautifulSoup) -> str:
    return "".join(s for s in soup.find_all(string=True)
                   if s.parent.name not in ("script", "style", "noscript", "title", "[document]", "html", "head")
                   and not isinstance(s, Comment)).strip()


def _content_block(soup: BeautifulSoup) -> Tag | None:
    """The article body: the element holding the most paragraphs of its own."""
    best, most = None, 0
    for tag in soup.find_all(("div", "td", "article", "section", "main")):
        paragraphs = sum(isinstance(child, Tag) and child.name == "p" for child in tag.children)
        if paragraphs > most:
            best, most = tag, paragraphs
    return best


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


def _declared_title(soup: BeautifulSoup) -> str:
    """What the page says it is: the TRS ArticleTitle meta, else <title> (not a headline in the body)."""
    meta = soup.find("meta", attrs={"name": "ArticleTitle"})
    return _normalize(meta.get("content") if meta else None) or _normalize(soup.title.get_text() if soup.title else "")


def _suffix(name: str) -> str:
    return PurePosixPath(name).suffix.lstrip(".").lower()


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


def _item(a: Tag) -> Tag:
    """The largest element holding only this link (a <li>, a table row); its parent is the block."""
    href = a.get("href")
    node: Tag = a
    while node.parent is not None and node.parent.name not in ("body", "[document]") \
            and not _other_link(node.parent, href):
        node = node.parent
    return node


def _other_link(tag: Tag, href: str | None) -> bool:
    """Whether ``tag`` holds a link elsewhere than ``href``; stops at the first (a full list of a block's links
    for each of its links made pages with many links quadratic)."""
    return any(isinstance(node, Tag) and node.name == "a" and node.get("href") is not None
               and node.get("href") != href for node in tag.descendants)


def _entry_date(a: Tag) -> date | None:
    """Date next to a list link: in its item (``_item``), else in the text that follows it up
    to the next link; text outside the link is preferred to the link text itself."""
    node = _item(a)
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
