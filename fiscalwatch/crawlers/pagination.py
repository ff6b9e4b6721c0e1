"""The other pages of a paginated list page, without per-site code.

Recognised (all on the same host as the page):
- TRS JavaScript paging ``createPageHTML(pages, current, "index", "html")``, with literal
  arguments or ``var countPage = 5`` style variables: index.html, index_1.html, …;
- links to numbered siblings of the page: ``index_2.html`` next to ``index.html``;
- links that differ from the page only in a ``page=N`` style query parameter;
- links whose text is 下一页 / 下页 / 后页 / > (arrows around the words are ignored).
A ``next_page`` CSS selector, when configured, replaces all of these.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup

_CREATE_PAGE = re.compile(r"createPageHTML\s*\(\s*(\w+)\s*,\s*\w+\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']\s*\)")
_JS_NUMBER = r"\b{name}\s*=\s*(\d+)"
_NUMBERED = re.compile(r"^(?P<stem>.+?)(?:_\d+)?\.(?P<ext>\w+)$")
_PAGE_PARAMS = {"page", "pageno", "pagenum", "pageindex", "currentpage", "curpage", "pn"}
_NEXT_WORDS = {"下一页", "下页", "后页"}
_ARROWS = "<>›»〉 "


def page_urls(soup: BeautifulSoup, page_url: str, next_page_selector: str | None = None) -> list[str]:
    """Absolute URLs of other pages of the list, in document order, without duplicates."""
    host = urlsplit(page_url).hostname
    if next_page_selector:
        candidates = [urljoin(page_url, a["href"]) for a in soup.select(next_page_selector) if a.get("href")]
    else:
        candidates = _trs_pages(soup, page_url)
        for a in soup.find_all("a", href=True):
            url = urljoin(page_url, a["href"].strip())
            if _is_sibling_page(url, page_url) or _is_next_link(a.get_text()):
                candidates.append(url)
    found: list[str] = []
    for url in candidates:
        url = urldefrag(url).url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.hostname == host and url != page_url and url not in found:
            found.append(url)
    return found


def _trs_pages(soup: BeautifulSoup, page_url: str) -> list[str]:
    scripts = "\n".join(script.get_text() for script in soup.find_all("script"))
    match = _CREATE_PAGE.search(scripts)
    if not match:
        return []
    count, prefix, ext = match.groups()
    if not count.isdigit():
        variable = re.search(_JS_NUMBER.format(name=re.escape(count)), scripts)
        if not variable:
            return []
        count = variable.group(1)
    return [urljoin(page_url, f"{prefix}.{ext}" if n == 0 else f"{prefix}_{n}.{ext}") for n in range(int(count))]


def _is_sibling_page(url: str, page_url: str) -> bool:
    """``url`` is another numbered page of ``page_url`` (index_N.html or ?page=N)."""
    link, page = urlsplit(url), urlsplit(page_url)
    if (link.scheme, link.netloc) != (page.scheme, page.netloc):
        return False
    link_dir, _, link_file = link.path.rpartition("/")
    page_dir, _, page_file = page.path.rpartition("/")
    if link.path == page.path:
        link_params = {k.lower(): v for k, v in parse_qsl(link.query)}
        return any(k in _PAGE_PARAMS and v.isdigit() for k, v in link_params.items())
    if link_dir != page_dir or link.query:
        return False
    link_name, page_name = _NUMBERED.match(link_file), _NUMBERED.match(page_file or "index.html")
    return bool(link_name and page_name and link_name.group("stem", "ext") == page_name.group("stem", "ext"))


def _is_next_link(text: str) -> bool:
    words = "".join(text.split())
    return words in (">", "›") or words.strip(_ARROWS) in _NEXT_WORDS
