"""Inline HTML disclosures → Layout: data tables become grids (rowspan/colspan kept), text becomes lines.

Government CMS pages often lay the whole page out with tables: a table that contains
another table is treated as layout and walked into, only innermost tables are data.
Navigation, breadcrumbs and footers are dropped so the cover title stays near the top.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import charset_normalizer

from fiscalwatch.parsers.errors import UnreadableFile
from fiscalwatch.parsers.flow import paginate
from fiscalwatch.parsers.formats import LOOSE, Format, lazy_import
from fiscalwatch.parsers.layout import Block, Grid, Layout, TextLine

_HTML = re.compile(rb"<(!doctype\s+html|html|head|body|table|meta|div|p|title)[\s>]", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.I)
_GB = {"gb2312", "gbk", "gb18030", "hz-gb-2312", "x-gbk", "cp936", "euc-cn"}
_SKIP = {"script", "style", "noscript", "head", "title", "nav", "footer", "aside", "iframe", "form", "select",
         "button", "template", "svg", "object"}
_CHROME = re.compile(r"nav|menu|header|footer|breadcrumb|crumb|sidebar|banner|share|search|copyright|position|"
                     r"location|(^|[\s_-])(head|top|foot|bottom)", re.I)
_DISCLOSURE = re.compile(r"预算|决算")
_BREADCRUMB = re.compile(r"^(当前位置|您现在的位置|您的位置|现在位置)")
_BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th",
          "section", "article", "main", "center", "blockquote", "pre", "hr", "caption", "tbody", "thead", "tfoot",
          "table", "body", "html"}
_PAGE_BREAK = re.compile(r"page-break-(before|after)\s*:\s*always", re.I)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_CELL_GAP = re.compile(r"\s{2,}")
bs4 = lazy_import("bs4")
# Saved pages and HTML served as .xls; crawled as pages, never followed as attachments.
FORMATS = (Format("html", lambda probe: bool(_HTML.search(probe.head.replace(b"\x00", b""))), ("htm", "html"),
                  ("text/html",), read=lambda path, budget: read_html(path), order=LOOSE, linked=False),)
MAX_SPAN = 200  # rowspan/colspan beyond this are authoring errors, not tables
# Grid slots a table may cover once its spans are spread: capping each span leaves their product and their
# sum over cells free (a 49 KB page of 999999 spans passed 6 GiB).
MAX_TABLE_SLOTS = 200_000


def read_html(path: Path) -> Layout:
    soup = bs4.BeautifulSoup(decode_html(path.read_bytes()), "lxml")
    walker = _Walker()
    try:
        walker.walk(soup.body or soup)
    except RecursionError:
        raise UnreadableFile("too_deep", "网页标签嵌套层级过深，无法解析") from None
    walker.flush()
    return Layout(paginate(walker.chunks), "html")


def decode_html(raw: bytes) -> str:
    """BOM, then the declared charset, then UTF-8, then detection; the GB family always as gb18030."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace")
    declared = _META_CHARSET.search(raw[:4096])
    candidates = [_normal(declared.group(1).decode("ascii", "ignore"))] if declared else []
    candidates.append("utf-8")
    guess = charset_normalizer.from_bytes(raw).best()
    if guess is not None:
        candidates.append(_normal(guess.encoding))
    for encoding in candidates:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("gb18030", errors="replace")


def _normal(encoding: str) -> str:
    # Real pages declared gb2312 contain characters outside it (镕, 珺); gb18030 is a superset.
    return "gb18030" if encoding.lower().replace("_", "-") in _GB else encoding


class _Walker:
    def __init__(self) -> None:
        self.chunks: list[list[Block]] = [[]]
        self.buffer: list[str] = []

    def walk(self, node: bs4.Tag) -> None:
        for child in node.children:
            if isinstance(child, bs4.NavigableString):
                if type(child) is bs4.NavigableString:  # not comments, CDATA or doctype
                    self.buffer.append(str(child))
                continue
            if not isinstance(child, bs4.Tag) or _skipped(child):
                continue
            if _PAGE_BREAK.search(child.get("style", "")):
                self.flush()
                self.chunks.append([])
            if child.name == "br":
                self.flush()
            elif child.name == "table" and child.find("table") is None:
                self.flush()
                self.chunks[-1].append(table_grid(child))
            elif child.name in _BLOCK:
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.walk(child)

    def flush(self) -> None:
        text = "".join(self.buffer).replace("\xa0", " ").replace("\u3000", " ")
        self.buffer = []
        cells = [_SPACES.sub(" ", c).strip() for c in _CELL_GAP.split(text.strip())]
        cells = [c for c in cells if c]
        if cells:
            self.chunks[-1].append(TextLine(" ".join(cells), cells))


def _skipped(tag: bs4.Tag) -> bool:
    if tag.name in _SKIP or _HIDDEN.search(tag.get("style", "")):
        return True
    marks = " ".join([*tag.get("class", []), tag.get("id", "")])
    chrome = bool(marks and _CHROME.search(marks)) or (
        bool(_BREADCRUMB.match(next(tag.stripped_strings, ""))) and len(tag.get_text()) < 300)
    # "article-header" and the like hold the document's own title: keep what carries the disclosure.
    return chrome and tag.find("table") is None and not any(
        _DISCLOSURE.search(h.get_text()) for h in tag.find_all(["h1", "h2", "h3"]))


def table_grid(table: bs4.Tag) -> Grid:
    occupied: dict[tuple[int, int], tuple[int, int]] = {}
    texts: dict[tuple[int, int], str] = {}
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    covered = 0
    for r, tr in enumerate(rows):
        c = 0
        for td in tr.find_all(["td", "th"], recursive=False):
            if _skipped(td):
                continue
            while (r, c) in occupied:
                c += 1
            row_span = min(max(_int(td.get("rowspan")), 1), MAX_SPAN, len(rows) - r)
            col_span = min(max(_int(td.get("colspan")), 1), MAX_SPAN)
            texts[(r, c)] = _cell_text(td)
            covered += row_span * col_span
            if covered > MAX_TABLE_SLOTS:
                raise UnreadableFile("too_large", f"网页表格的合并单元格覆盖超过{MAX_TABLE_SLOTS}格，疑似异常文件")
            for dr in range(row_span):
                for dc in range(col_span):
                    occupied[(r + dr, c + dc)] = (r, c)
            c += col_span
    # Spans reaching past the last real cell (colspan="100" on a note row) add no columns.
    width = max((c for _, c in texts), default=-1) + 1
    grid_rows: list[list[str | None]] = [[""] * width for _ in rows]
    owners: dict[tuple[int, int], tuple[int, int]] = {}
    for slot, owner in occupied.items():
        if slot[1] >= width:
            continue
        if slot == owner:
            grid_rows[slot[0]][slot[1]] = texts[owner]
        else:
            grid_rows[slot[0]][slot[1]] = None
            owners[slot] = owner
    return Grid(grid_rows, owners)


def _int(value) -> int:
    match = re.match(r"\s*(\d+)", str(value or ""))
    return int(match.group(1)) if match else 1


def _cell_text(td: bs4.Tag) -> str:
    # Lines of a cell are wrapped text of one value.
    return _SPACES.sub(" ", td.get_text("").replace("\xa0", " ").replace("\u3000", " ")).strip()
