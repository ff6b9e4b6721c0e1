"""Word .docx → Layout: paragraphs become text lines and tables grids, in body order.

A table printed without any border is what a PDF shows as a borderless table, and is
passed the same way: one text line per row, its non-empty cells as the line's cells.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from lxml import etree

from fiscalwatch.parsers import ooxml
from fiscalwatch.parsers.errors import UnreadableFile
from fiscalwatch.parsers.flow import paginate
from fiscalwatch.parsers.formats import CONTAINER, Format, lazy_import
from fiscalwatch.parsers.layout import Block, Grid, Layout, TextLine

docx = lazy_import("docx")


def _w(tag: str) -> str:
    return f"{{{ooxml.WORD}}}{tag}"


FORMATS = (Format("docx", lambda probe: {"[Content_Types].xml", "word/document.xml"} <= (probe.zip_names or set()),
                  ("docx",), ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
                  read=lambda path, budget: read_docx(path), order=CONTAINER),)

_P, _TBL, _TR, _TC = _w("p"), _w("tbl"), _w("tr"), _w("tc")
_T, _TAB, _BR, _CR = _w("t"), _w("tab"), _w("br"), _w("cr")
_RENDERED_BREAK, _SECTION = _w("lastRenderedPageBreak"), _w("sectPr")
_VAL, _TYPE = _w("val"), _w("type")
PAGE_BREAK = "\f"
# A table's grid, as its spans claim it: beyond these it is a hostile or broken file, not a table (the
# slots are counted before any is made; see parsers.html for the same caps on web tables).
MAX_ROW_SLOTS = 1000
MAX_TABLE_SLOTS = 200_000


def read_docx(path: Path, format_: str = "docx") -> Layout:
    ooxml.check_package(path, ooxml.DOCX)
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as exc:
        raise UnreadableFile("corrupt_office", f"Word 文件损坏或不完整（{exc}）") from exc
    styles = document.styles.element
    chunks: list[list[Block]] = [[]]
    for child in document.element.body.iterchildren():
        if child.tag == _TBL:
            grid = table_grid(child)
            if _ruled(child, styles):
                chunks[-1].append(grid)
            else:
                chunks[-1].extend(_row_lines(grid))
        elif child.tag == _P:
            if _switched_on(child.find(f"{_w('pPr')}/{_w('pageBreakBefore')}")):
                chunks.append([])
            for index, piece in enumerate(paragraph_text(child).split(PAGE_BREAK)):
                if index:
                    chunks.append([])
                line = text_line(piece)
                if line:
                    chunks[-1].append(line)
            if child.find(f"{_w('pPr')}/{_SECTION}") is not None:
                chunks.append([])
    return Layout(paginate(chunks), format_)


def _ruled(table, styles) -> bool:
    """Any border printed: a cell's own, the table's, or those of its style (or the default table style)."""
    if any(_visible(borders) for borders in table.iter(_w("tcBorders"))):
        return True
    properties = table.find(_w("tblPr"))
    borders = properties.find(_w("tblBorders")) if properties is not None else None
    if borders is not None:
        return _visible(borders)
    named = properties.find(_w("tblStyle")) if properties is not None else None
    style_id = named.get(_VAL) if named is not None else None
    for _ in range(10):  # a basedOn chain, guarded against cycles
        style = next((s for s in styles.iterchildren(_w("style")) if s.get(_w("type")) == "table" and (
            s.get(_w("styleId")) == style_id if style_id else s.get(_w("default")) in ("1", "true"))), None)
        if style is None:
            return False
        borders = style.find(f"{_w('tblPr')}/{_w('tblBorders')}")
        if borders is not None:
            return _visible(borders)
        based = style.find(_w("basedOn"))
        if based is None:
            return False
        style_id = based.get(_VAL)
    return False


def _visible(borders) -> bool:
    return any(edge.get(_VAL, "none") not in ("nil", "none") for edge in borders)


def _row_lines(grid: Grid) -> list[TextLine]:
    lines = []
    for row in grid.rows:
        cells = [c for c in row if c]
        if cells:
            lines.append(TextLine(" ".join(cells), cells))
    return lines


def _switched_on(flag) -> bool:
    """A present on/off property is on unless its w:val says otherwise."""
    return flag is not None and flag.get(_VAL, "1") not in ("0", "false", "off")


def paragraph_text(element, page_breaks: bool = True) -> str:
    """Text of a paragraph (or any element): tabs kept as cell separators, page breaks as form feeds."""
    parts = []
    for node in element.iter(_T, _TAB, _BR, _CR, _RENDERED_BREAK):
        if node.tag == _T:
            parts.append(node.text or "")
        elif node.tag == _TAB:
            parts.append("\t")
        elif node.tag == _RENDERED_BREAK or node.get(_TYPE) == "page":
            parts.append(PAGE_BREAK if page_breaks else "")
        else:
            parts.append("\n")
    return "".join(parts)


def text_line(text: str) -> TextLine | None:
    cells = [c.strip() for c in text.replace("\n", "\t").split("\t") if c.strip()]
    return TextLine(" ".join(cells), cells) if cells else None


def table_grid(table) -> Grid:
    """Grid slots from w:gridSpan (columns) and w:vMerge (rows); merged slots point at their owner."""
    rows: list[list[str | None]] = []
    owners: dict[tuple[int, int], tuple[int, int]] = {}
    slots = 0
    for r, tr in enumerate(table.iterchildren(_TR)):
        row: list[str | None] = []
        before = tr.find(f"{_w('trPr')}/{_w('gridBefore')}")
        row.extend([""] * _slots(before, 0, 0))
        for tc in tr.iterchildren(_TC):
            props = tc.find(_w("tcPr"))
            span = _slots(props.find(_w("gridSpan")) if props is not None else None, 1, len(row))
            merge = props.find(_w("vMerge")) if props is not None else None
            c = len(row)
            continues = merge is not None and merge.get(_VAL, "continue") == "continue"
            if continues and r and c < len(rows[r - 1]):
                owner = owners.get((r - 1, c), (r - 1, c))
                row.append(None)
                owners[(r, c)] = owner
            else:
                owner = (r, c)
                row.append(_cell_text(tc))
            for extra in range(1, span):
                row.append(None)
                owners[(r, c + extra)] = owner
        rows.append(row)
        slots += len(row)
        _check_slots(slots)
    width = max((len(r) for r in rows), default=0)
    _check_slots(width * len(rows))
    for row in rows:
        row.extend([""] * (width - len(row)))
    return Grid(rows, owners)


def _slots(element, default: int, used: int) -> int:
    """Grid columns a w:gridBefore or w:gridSpan claims, refused when the row would pass MAX_ROW_SLOTS."""
    count = int(element.get(_VAL, default)) if element is not None else default
    if used + count > MAX_ROW_SLOTS:
        raise UnreadableFile("too_large", f"Word 表格的一行超过{MAX_ROW_SLOTS}列，疑似异常文件")
    return count


def _check_slots(slots: int) -> None:
    if slots > MAX_TABLE_SLOTS:
        raise UnreadableFile("too_large", f"Word 表格的单元格（含合并）超过{MAX_TABLE_SLOTS}格，疑似异常文件")


def _cell_text(tc) -> str:
    # Paragraphs of a cell are wrapped lines of one value (CJK text wraps mid-word).
    return "".join(paragraph_text(p, page_breaks=False).replace("\t", " ").strip() for p in tc.iter(_P))
