"""PDF text layer → Layout, on pypdfium2 (glyph boxes and vector rulings)."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from fiscalwatch.parsers.errors import UnreadableFile
from fiscalwatch.parsers.formats import CONTAINER, Format
from fiscalwatch.parsers.layout import Block, Grid, Layout, Page, TextLine
from fiscalwatch.parsers.pdf_rulings import Cell, Edge, find_cells, group_tables, merge_edges, page_segments

# A gap wider than this share of the glyph height separates two cells of a line.
CELL_GAP = 0.9
WORD_GAP = 0.25
# A 合订本 runs to hundreds of pages; a page tree listing a million is damage or an attack, refused at once.
MAX_PAGES = 5000

# "%PDF-" may follow junk bytes, so it is looked for in the first KB, before the other documents' signatures.
FORMATS = (Format("pdf", lambda probe: b"%PDF-" in probe.head[:1024], ("pdf",), ("application/pdf",),
                  read=lambda path, budget: read_pdf(path, budget.pdf_page), order=CONTAINER + 2),)


@dataclass(slots=True)
class Glyph:
    char: str
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise UnreadableFile("encrypted", "PDF 已加密，需要密码才能打开") from exc
        raise UnreadableFile("corrupt_pdf", f"PDF 文件损坏或不完整（{message}）") from exc


def read_pdf(path: Path, ocr: Callable[[pdfium.PdfPage, int], Page] | None = None) -> Layout:
    """`ocr` reads pages without a usable text layer (scans, broken fonts); without it they stay unreadable."""
    document = open_pdf(path)
    try:
        count = len(document)
        if count == 0:
            raise UnreadableFile("empty_pdf", "PDF 没有任何页面")
        if count > MAX_PAGES:
            raise UnreadableFile("too_large", f"PDF 声称有{count}页，超过{MAX_PAGES}页的上限，文件可能已损坏或为恶意文件")
        return Layout([_read_or_mark(document, index, ocr) for index in range(count)], "pdf")
    finally:
        document.close()


def _read_or_mark(document: pdfium.PdfDocument, index: int, ocr) -> Page:
    """One page; a page the damaged file cannot give (PDFium fails to load it, or its text index and text
    disagree) is marked unreadable and the rest of the file is still read."""
    try:
        pdf_page = document[index]
        page = read_page(pdf_page, index + 1)
        if page.unreadable and ocr is not None:
            page = ocr(pdf_page, index + 1)
        return page
    except (pdfium.PdfiumError, IndexError):
        return Page(index + 1, unreadable="unreadable_page")


def read_page(page: pdfium.PdfPage, number: int) -> Page:
    width, height = page.get_size()
    glyphs = page_glyphs(page, height)
    result = Page(number)
    if not glyphs:
        if _image_coverage(page, width * height) > 0.3:
            result.unreadable = "no_text_layer"
        return result
    if not _looks_decoded(glyphs):
        result.unreadable = "broken_font"
        return result
    result.blocks = place_blocks(glyphs, *page_segments(page, height))
    return result


def place_blocks(glyphs: list[Glyph], horizontal: list[Edge], vertical: list[Edge]) -> list[Block]:
    """Ruled tables become grids, the remaining glyphs text lines, all in top-down order."""
    tables = group_tables(find_cells(merge_edges(horizontal), merge_edges(vertical)))
    placed: list[tuple[float, Block]] = []
    remaining = glyphs
    for cells in tables:
        grid, remaining = _fill_grid(cells, remaining)
        placed.append((min(c.top for c in cells), grid))
    for line in group_lines(remaining):
        placed.append((line[0].top, _text_line(line)))
    placed.sort(key=lambda item: item[0])
    return [block for _, block in placed]


def _image_coverage(page: pdfium.PdfPage, area: float) -> float:
    covered = 0.0
    for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = image.get_bounds()
        covered += max(0.0, right - left) * max(0.0, top - bottom)
    return covered / area if area else 0.0


# A glyph's spot (x, y rounded to points) as one number x·_ROW + y, and the offsets of the spots around it.
_ROW = 1 << 20
_AROUND = tuple(dx * _ROW + dy for dx in (-1, 0, 1) for dy in (-1, 0, 1))


def page_glyphs(page: pdfium.PdfPage, height: float) -> list[Glyph]:
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        text = textpage.get_text_range(0, count)
        glyphs = []
        # Fake bold prints the same glyph two or three times a fraction of a point apart: each glyph kept
        # claims its spot and the eight around it, and a later copy on a claimed spot is dropped.
        claimed: dict[str, set[int]] = {}
        for index in range(count):
            # pdfium reports a hyphen that ends a line ('预算调整数-' / '年初预算数') as U+FFFE.
            char = "-" if text[index] == "\ufffe" else text[index]
            if char.isspace() or pdfium_c.FPDFText_IsGenerated(textpage.raw, index):
                continue
            left, bottom, right, top = textpage.get_charbox(index, loose=True)
            spots = claimed.setdefault(char, set())
            spot = round(left) * _ROW + round(height - top)
            if spot in spots:
                continue
            spots.update(map(spot.__add__, _AROUND))
            glyphs.append(Glyph(char, left, height - top, right, height - bottom))
        return glyphs
    finally:
        textpage.close()


def _looks_decoded(glyphs: list[Glyph]) -> bool:
    """Fonts without a ToUnicode map decode to control or private-use characters."""
    bad = sum(1 for g in glyphs if ord(g.char) < 32 or 0xE000 <= ord(g.char) <= 0xF8FF or g.char == "\ufffd")
    return bad < 0.2 * len(glyphs)


def group_lines(glyphs: list[Glyph]) -> list[list[Glyph]]:
    """Glyphs sharing a baseline band, each line sorted left to right."""
    lines: list[list[Glyph]] = []
    for glyph in sorted(glyphs, key=lambda g: (g.middle, g.x0)):
        if lines:
            line = lines[-1]
            reference = line[0]
            if abs(glyph.middle - reference.middle) <= max(reference.height, glyph.height) * 0.5:
                line.append(glyph)
                continue
        lines.append([glyph])
    for line in lines:
        line.sort(key=lambda g: g.x0)
    return lines


def split_cells(line: list[Glyph]) -> list[str]:
    return [text for text, _ in _cells_with_spans(line)]


def _cells_with_spans(line: list[Glyph]) -> list[tuple[str, tuple[float, float]]]:
    """The line's pieces between wide gaps, each with its left and right x."""
    cells: list[tuple[str, tuple[float, float]]] = []
    last_word, last_size = "", 0.0
    for text, (x0, x1), size in _words(line):
        gap, height = (x0 - cells[-1][1][1], max(last_size, size)) if cells else (0.0, size)
        if cells and gap <= CELL_GAP * height and not _glued(last_word, text):
            before, (start, _) = cells[-1]
            cells[-1] = (before + (" " if gap > WORD_GAP * height else "") + text, (start, x1))
        else:
            cells.append((text, (x0, x1)))
        last_word, last_size = text, size
    return cells or [("", (0.0, 0.0))]


def _words(line: list[Glyph]) -> list[tuple[str, tuple[float, float], float]]:
    """Runs of glyphs no wider apart than a word gap, with their x range and glyph height."""
    words: list[tuple[str, tuple[float, float], float]] = []
    for glyph in line:
        if words:
            text, (x0, x1), size = words[-1]
            if glyph.x0 - x1 <= WORD_GAP * max(size, glyph.height, 1.0):
                words[-1] = (text + glyph.char, (x0, glyph.x1), max(size, glyph.height, 1.0))
                continue
        words.append((glyph.char, (glyph.x0, glyph.x1), max(glyph.height, 1.0)))
    return words


def _glued(word: str, following: str) -> bool:
    """Whether two numbers a word gap apart are two cells printed closer than a cell gap, as browsers pad
    table cells: a figure and a code or figure ('15.77 30227', '0 0'), a 行次 and a figure ('59 1,740.39').
    A code printed with spaces ('201 01 01') stays one piece: no code is 0 or has decimals."""
    return (bool(_FIGURE.fullmatch(word)) and following[:1].isdigit()) or (
        word.isdigit() and bool(_FIGURE.fullmatch(following)))


_FIGURE = re.compile(r"-?(?:0|[\d,]*\d\.\d+)")


def _text_line(line: list[Glyph]) -> TextLine:
    pieces = _cells_with_spans(line)
    cells = [text for text, _ in pieces]
    return TextLine(" ".join(cells), cells, [span for _, span in pieces],
                    min(g.top for g in line), max(g.bottom for g in line))


def _fill_grid(cells: list[Cell], glyphs: list[Glyph]) -> tuple[Grid, list[Glyph]]:
    xs = sorted({c.x0 for c in cells} | {c.x1 for c in cells})
    ys = sorted({c.top for c in cells} | {c.bottom for c in cells})
    # Only boundaries where some cell starts make columns/rows; others are slivers
    # between nearly aligned rulings.
    col_starts = sorted({c.x0 for c in cells})
    row_starts = sorted({c.top for c in cells})
    col_of = {x: i for i, x in enumerate(col_starts)}
    row_of = {y: i for i, y in enumerate(row_starts)}
    contents: dict[Cell, list[Glyph]] = {c: [] for c in cells}
    outside: list[Glyph] = []
    spanning = _cells_per_strip(cells, xs)
    for glyph in glyphs:
        cx, cy = (glyph.x0 + glyph.x1) / 2, glyph.middle
        if not (xs[0] <= cx <= xs[-1] and ys[0] <= cy <= ys[-1]):
            outside.append(glyph)
            continue
        strip = bisect_left(xs, cx)
        # A glyph centred on a boundary may belong to a cell on either side of it: the first in order wins.
        candidates = spanning[strip - 1] if cx < xs[strip] else sorted(spanning[strip - 1] + spanning[strip])
        for index in candidates:
            cell = cells[index]
            if cell.top <= cy <= cell.bottom:
                contents[cell].append(glyph)
                break
    rows: list[list[str | None]] = [[""] * len(col_starts) for _ in row_starts]
    owners: dict[tuple[int, int], tuple[int, int]] = {}
    for cell in cells:
        r0, c0 = row_of[cell.top], col_of[cell.x0]
        covered_rows = [i for i, y in enumerate(row_starts) if cell.top <= y < cell.bottom]
        covered_cols = [i for i, x in enumerate(col_starts) if cell.x0 <= x < cell.x1]
        for r in covered_rows:
            for c in covered_cols:
                if (r, c) != (r0, c0):
                    rows[r][c] = None
                    owners[(r, c)] = (r0, c0)
        rows[r0][c0] = cell_text(contents[cell])
    return Grid(rows, owners), outside


def _cells_per_strip(cells: list[Cell], xs: list[float]) -> list[list[int]]:
    """For each strip between neighbouring x boundaries, the indexes of the cells spanning it, in order
    (then two empty strips, so that index -1 reads as one): a glyph looks only at its own strip's cells."""
    strips: list[list[int]] = [[] for _ in range(len(xs) + 1)]
    for index, cell in enumerate(cells):
        for strip in range(bisect_left(xs, cell.x0), bisect_left(xs, cell.x1)):
            strips[strip].append(index)
    return strips


def cell_text(glyphs: list[Glyph]) -> str:
    """Wrapped lines of a cell joined; CJK text wraps mid-word so no separator."""
    parts = []
    for line in group_lines(glyphs):
        text = " ".join(split_cells(line))
        if parts and parts[-1][-1:].isascii() and parts[-1][-1:].isalpha() and text[:1].isascii() and text[:1].isalpha():
            parts.append(" ")
        parts.append(text)
    return "".join(parts)
