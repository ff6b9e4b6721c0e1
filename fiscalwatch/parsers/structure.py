"""Layout → Document: find the 目录, the tables (by title), their notes, and the narrative."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field

from fiscalwatch.parsers import catalog
from fiscalwatch.parsers.evaluation import parse_evaluations
from fiscalwatch.parsers.identify import identify
from fiscalwatch.parsers.layout import Grid, Layout, Page, TextLine
from fiscalwatch.parsers.model import Document, Sentence, TocEntry
from fiscalwatch.parsers.numbers import ascii_figures, is_amount_text
from fiscalwatch.parsers.tables import CODE as CODE_ROW
from fiscalwatch.parsers.tables import Part, build_table, is_data_row, squash

_UNIT = re.compile(r"(?:金额)?单位\s*[:：]\s*(万元|千元|亿元|元)")
_PAGE_NUMBER = re.compile(r"^[-—–\s]*(\d\s*){1,3}[-—–\s]*$|^第\s*\d+\s*页(\s*共\s*\d+\s*页)?$|^\d+\s*/\s*\d+$")
_NOTE = re.compile(r"^(注|说明|备注)\s*[\d]*[:：]|本表无数据|本表为空|无数据|空表|故本表|本表.*(无|没有)")
_PART = re.compile(r"^第[一二三四五六七八九十]+部分")
_HEADING = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）])")
# A heading starts at most this many glyph heights right of the table's first column.
_INDENT = 4
_TOC = re.compile(r"^目\s*录$")
_META_START = re.compile(r"(?:编制|预算)?(?:单位|部门)(?:名称)?[:：]|金额单位")
# '（按支出功能分类科目-不含上年结转）' under a table's title.
_SUBTITLE = re.compile(r"[（(][^（）()]{2,30}[)）]")
_TABLE_META = re.compile(r"^公开\s*\d+\s*表$|^表[一二三四五六七八九十]+$|^(部门|单位|编制单位|预算单位|单位名称|部门名称)[:：]|^\d{4}\s*年度?$|^表\s*\d+")


@dataclass
class _Source:
    kind: str
    title: str
    page: int
    unit: str | None = None
    meta: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    closed: bool = False  # narrative text followed; a later grid is not a continuation


class _Walker:
    def __init__(self, layout: Layout, doc: Document):
        self.layout = layout
        self.doc = doc
        self.sources: list[_Source] = []
        self.current: _Source | None = None
        self.narrative: list[tuple[str, int]] = []
        self.toc_pages = _toc_pages(layout.pages)
        self.furniture = _running_lines(layout.pages, doc.kind)

    def run(self) -> None:
        for page in self.layout.pages:
            blocks = self._join_wrapped_titles(page.blocks)
            for index, block in enumerate(blocks):
                if isinstance(block, Grid):
                    self.grid(block, page.number)
                elif page.number in self.toc_pages:
                    self.toc_line(block, page.number)
                else:
                    self.line(block, page.number, blocks[index + 1:index + 3])

    def _join_wrapped_titles(self, blocks: list) -> list:
        """A long title wrapped over two lines ('…（按支出功能分类科' + '目）') is one line, and so is a title whose
        next line names which of its kinds it is ('…一般公共预算支出明细表' + '（按支出经济分类科目-不含上年结转）')."""
        joined: list = []
        for block in blocks:
            previous = joined[-1] if joined else None
            if (isinstance(block, TextLine) and isinstance(previous, TextLine) and len(squash(block.text)) <= 20
                    and not re.search(r"[。，；]", previous.text) and len(squash(previous.text)) <= 45
                    and self._completes_title(previous.text, block.text)):
                joined[-1] = TextLine(previous.text.strip() + block.text.strip())
                continue
            joined.append(block)
        return joined

    def _completes_title(self, title: str, rest: str) -> bool:
        """Whether `rest` makes a table title of `title`, or a title of another kind in brackets after it."""
        alone = catalog.table_kind(title, self.doc.kind)
        whole = catalog.table_kind(title + rest, self.doc.kind)
        return whole not in (None, alone) and (alone is None or squash(rest).startswith(("（", "(")))

    # -- table of contents
    def toc_line(self, line: TextLine, page: int) -> None:
        text = line.text.strip()
        if _TOC.match(squash(text)) or _PAGE_NUMBER.match(text):
            return
        hit = catalog.classify_title(text, self.doc.kind, strict=False)
        self.doc.toc.append(TocEntry(text=text, kind=hit[0] if hit else None, page=page))

    # -- body text
    def line(self, line: TextLine, page: int, following: list[TextLine | Grid] = ()) -> None:
        text = line.text.strip()
        if not text or _PAGE_NUMBER.match(text) or squash(text) in self.furniture:
            return
        kind = catalog.table_kind(text, self.doc.kind)
        if kind and len(squash(text)) <= 50:
            self.start(kind, text, page)
            return
        source = self.current
        if source and not source.closed:
            unit = _UNIT.search(text)
            if unit:
                source.unit = unit.group(1)
            continued = bool(source.parts) and source.parts[-1].page < page  # its title printed again above
            if unit or _TABLE_META.match(squash(text)) or continued and _SUBTITLE.fullmatch(squash(text)):
                if not source.parts:
                    source.meta.append(text)
                return
            if _NOTE.search(squash(text)) or (source.notes and not _is_heading(text) and not source.closed
                                              and _continues_note(source, text)):
                self._note(source, text)
                return
            if (not _is_heading(text) or _is_figure_row(line) or _is_side_by_side_row(source, line)
                    or _opens_table(source, following)) and self._borderless_row(source, line, page):
                return
            source.closed = True
        self.narrative.append((text, page))

    def _note(self, source: _Source, text: str) -> None:
        if source.notes and not _NOTE.search(squash(text)):
            source.notes[-1] += text
        else:
            source.notes.append(text)

    def _borderless_row(self, source: _Source, line: TextLine, page: int) -> bool:
        """Lines of a table without rulings: header lines, then rows, until a note or heading."""
        if any(p.grid is not None for p in source.parts) or source.notes:
            return False
        if source.parts and source.parts[-1].page == page:
            source.parts[-1].lines.append(line)
            return True
        if (source.parts and len(line.text) > 40 and not is_data_row(line.text.split(), source.kind)
                and _has_rows(source)):
            return False
        source.parts.append(Part(page, lines=[line]))
        return True

    def grid(self, grid: Grid, page: int) -> None:
        grid = self._strip_title_rows(grid, page)
        if self.current and (not self.current.closed or _continues(self.current, grid, page)):
            self.current.parts.append(Part(page, grid=grid))
            return
        hit = _classify_grid(grid)
        if hit:
            self.start(hit, catalog.display_name(hit, self.doc.kind or catalog.FINAL), page)
            self.current.parts.append(Part(page, grid=grid))

    def _strip_title_rows(self, grid: Grid, page: int) -> Grid:
        """Spreadsheet-style tables carry their title, unit and blank spacer rows in the first rows."""
        rows = grid.rows
        drop = 0
        while drop < len(rows) and drop < 6:
            texts = [squash(c) for c in rows[drop] if c and squash(c)]
            joined = "".join(texts)
            # The title cell may hold the 编制单位 and 单位 lines as well.
            title = _META_START.split(joined)[0] if len(set(texts)) == 1 else ""
            kind = catalog.table_kind(title, self.doc.kind) if title else None
            unit = _UNIT.search(joined)
            if kind:
                self.start(kind, title, page)
                if unit:
                    self.current.unit = unit.group(1)
            elif unit and self.current:
                self.current.unit = unit.group(1)
                self.current.meta.append(joined)
            elif joined and not (_TABLE_META.match(joined) or _PAGE_NUMBER.match(joined)):
                break
            drop += 1
        if not drop:
            return grid
        owners = {(r - drop, c): (orow - drop, ocol) for (r, c), (orow, ocol) in grid.owners.items()
                  if r >= drop and orow >= drop}
        return Grid(rows[drop:], owners, grid.ruled)

    def start(self, kind: str, title: str, page: int) -> None:
        source = self.current
        if source and not source.parts and not source.notes and not source.closed and (
                source.kind == kind or (source.page == page and not source.meta)):
            # A section heading "一、收入支出决算总表" followed by the table's own title, or a list of titles
            # (an index of the tables) rather than a table.
            source.kind, source.title, source.page = kind, title.strip(), page
            return
        if source and source.parts and page > source.parts[-1].page and (
                catalog.normalise_title(title) == catalog.normalise_title(source.title)):
            source.closed = False  # the title repeated on a continuation page
            return
        self.current = _Source(kind, title.strip(), page)
        self.sources.append(self.current)


def _continues(source: _Source, grid: Grid, page: int) -> bool:
    """A grid at the top of a later page that starts with a data row and has the width of the table
    before it continues that table, even when page furniture came between them."""
    last = next((p for p in reversed(source.parts) if p.grid is not None), None)
    return (last is not None and page > last.page and bool(grid.rows) and source.kind != "evaluation"
            and len(grid.rows[0]) == len(last.grid.rows[-1]) and CODE_ROW.match(squash(grid.rows[0][0] or "")) is not None
            and is_data_row([c or "" for c in grid.rows[0]], source.kind))


def _running_lines(pages: list[Page], doc_kind: str | None) -> set[str]:
    """Running headers and footers: the same line on many pages, at the same height or at the page's top or
    bottom, that is neither a title nor a unit line. (The rest of a name wrapped in a table cell, '出' of '…支出',
    recurs too, anywhere among the rows.)"""
    heights: dict[str, list[float]] = {}
    edges: Counter[str] = Counter()
    for page in pages:
        lines = sorted((b for b in page.blocks if isinstance(b, TextLine) and squash(b.text)), key=lambda b: b.top)
        tops: dict[str, float] = {}
        for line in lines:
            tops.setdefault(squash(line.text), line.top)
        for text, top in tops.items():
            heights.setdefault(text, []).append(top)
        edges.update({squash(line.text) for line in lines[:1] + lines[-1:]})
    threshold = max(3, len(pages) // 4)
    return {text for text, tops in heights.items()
            if (_most_at_one_height(tops) >= threshold or edges[text] >= threshold)
            and not (catalog.table_kind(text, doc_kind) or _UNIT.search(text) or _TABLE_META.match(text))}


def _most_at_one_height(tops: list[float]) -> int:
    """How many of the heights lie within a few points of one another (lines read without positions all at 0)."""
    tops = sorted(tops)
    return max((bisect_right(tops, top + _SAME_HEIGHT) - index for index, top in enumerate(tops)), default=0)


_SAME_HEIGHT = 10.0  # points: a scanned page shifts a little


def _is_heading(text: str) -> bool:
    compact = squash(text)
    return bool(_PART.match(compact)) or (
        bool(_HEADING.match(compact)) and len(compact) <= 40 and not compact.endswith("。")
    )


def _is_figure_row(line: TextLine) -> bool:
    """A borderless table row such as '一、一般公共预算财政拨款收入 1 1,734.13 …', not a heading."""
    return len(line.cells) >= 3 and any(is_amount_text(c) for c in line.cells[1:])


def _is_side_by_side_row(source: _Source, line: TextLine) -> bool:
    """A line of cells apart ('二、政府性基金预算拨款收入 | 三、国防', items of 收入 | 支出 printed blank), or one
    cell well right of the table's first column ('十一、节能环保' on the 支出 side), under the header of a
    borderless table: not a heading."""
    if not source.parts or any(p.grid is not None for p in source.parts):
        return False
    if len(line.cells) >= 2:
        return True
    lines = [l for l in source.parts[-1].lines if l.spans]
    if not line.spans or not lines:
        return False
    size = max(line.bottom - line.top, 1.0)
    return line.spans[0][0] > min(l.spans[0][0] for l in lines) + _INDENT * size


def _opens_table(source: _Source, following: list[TextLine | Grid]) -> bool:
    """A section row ('一、政府采购情况') under a table's title and unit or among its rows, followed by a line of
    labels apart (the header '项目 | 行次 | 统计数') or by a row of figures: a row of the table, not a narrative
    heading. Among the rows of a table without rulings, a row of figures one line further also makes it one:
    the first line of a wrapped name whose row prints its figures centred ('二、政府性' / '二、社会保障和就业支' /
    '基金预算财 2 20.00 11 40.00 …')."""
    if not (source.parts or source.meta) or source.notes or not following or not isinstance(following[0], TextLine):
        return False
    labels = len(following[0].cells) >= 2 and not any(is_amount_text(c) or CODE_ROW.match(squash(c))
                                                       for c in following[0].cells)
    if labels or _is_figure_row(following[0]):
        return True
    return (_has_rows(source) and len(following) > 1 and isinstance(following[1], TextLine)
            and _is_figure_row(following[1]))


def _has_rows(source: _Source) -> bool:
    """Whether a table without rulings has read a row yet (not only its header lines)."""
    return any(is_data_row(l.text.split(), source.kind) for p in source.parts for l in p.lines)


def _continues_note(source: _Source, text: str) -> bool:
    return not source.notes[-1].rstrip().endswith("。")


def _classify_grid(grid: Grid) -> str | None:
    head = "".join(squash(c) for row in grid.rows[:3] for c in row if c)
    if "执行率" in head and ("全年执行数" in head or "全年预算数" in head):
        return "evaluation"
    if re.search(r"项目名称", head) and "项目资金" in "".join(squash(c) for r in grid.rows[:6] for c in r if c):
        return "evaluation"
    return None


def _toc_pages(pages: list[Page]) -> set[int]:
    """The page holding 目录 and following pages that still look like a list of titles."""
    result: set[int] = set()
    for index, page in enumerate(pages[:6]):
        lines = [b for b in page.blocks if isinstance(b, TextLine)]
        if any(_TOC.match(squash(l.text)) for l in lines):
            result.add(page.number)
            for following in pages[index + 1 : index + 3]:
                if not _looks_like_toc(following):
                    break
                result.add(following.number)
            break
    return result


def _looks_like_toc(page: Page) -> bool:
    if any(isinstance(b, Grid) for b in page.blocks):
        return False
    lines = [squash(b.text) for b in page.blocks if isinstance(b, TextLine) and squash(b.text)]
    short = [l for l in lines if len(l) <= 40 and not l.endswith("。")]
    return bool(lines) and len(short) >= 0.8 * len(lines)


def parse_layout(layout: Layout) -> Document:
    doc = Document(format=layout.format, page_count=len(layout.pages))
    doc.page_texts = [p.text for p in layout.pages]
    doc.unreadable_pages = {p.number: p.unreadable for p in layout.pages if p.unreadable}
    doc.ocr_pages = {p.number: p.ocr_confidence for p in layout.pages if p.ocr_confidence is not None}
    identify(doc)
    walker = _Walker(layout, doc)
    walker.run()
    for source in walker.sources:
        if not source.parts and not source.notes:
            continue  # a heading or an entry of a list of tables, not a table
        if source.kind == "evaluation":
            doc.evaluations.extend(parse_evaluations(source.parts))
            continue
        table = build_table(source.kind, source.title, source.page, source.parts)
        if source.kind == catalog.OTHER and not table.rows:
            continue
        table.unit = source.unit or "万元"
        table.unit_stated = source.unit is not None
        table.notes = source.notes
        table.meta = source.meta
        table.from_ocr = any(p.page in doc.ocr_pages for p in source.parts) or source.page in doc.ocr_pages
        doc.tables.append(table)
    doc.sentences = split_sentences(walker.narrative)
    return doc


def split_sentences(lines: list[tuple[str, int]]) -> list[Sentence]:
    """Join wrapped lines into sentences (split at 。), remembering the section heading."""
    sentences: list[Sentence] = []
    section = ""
    buffer = ""
    page = 0
    for text, line_page in lines:
        compact = squash(text)
        if _is_heading(text) or _PART.match(compact):
            if buffer:
                sentences.append(Sentence(ascii_figures(buffer), page, section))
                buffer = ""
            if not re.match(r"^[（(]", compact) or not section:
                section = _HEADING.sub("", compact) if not _PART.match(compact) else section
            continue
        if not buffer:
            page = line_page
        buffer += compact
        while "。" in buffer:
            head, buffer = buffer.split("。", 1)
            sentences.append(Sentence(ascii_figures(head) + "。", page, section))
            page = line_page
    if buffer:
        sentences.append(Sentence(ascii_figures(buffer), page, section))
    return sentences
