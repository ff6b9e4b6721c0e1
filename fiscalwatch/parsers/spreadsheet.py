"""Spreadsheets (.xlsx with openpyxl, .xls BIFF with xlrd) → Layout, one page per visible sheet.

A sheet is cut into blocks: rows with a single text (titles, 单位：万元, notes) and rows of
only table metadata become text lines; runs of the other rows become grids. So one sheet
may hold several tables. Hidden rows, columns and sheets are skipped; numbers are printed
the way their cell format shows them, so decimals and rounding tails stay as published.
"""

from __future__ import annotations

import datetime
import re
import struct
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import xlrd

from fiscalwatch.parsers import catalog, ooxml
from fiscalwatch.parsers.columns import squash
from fiscalwatch.parsers.errors import UnreadableFile
from fiscalwatch.parsers.flow import is_toc_heading, paginate
from fiscalwatch.parsers.formats import CONTAINER, Format, lazy_import
from fiscalwatch.parsers.layout import Block, Grid, Layout, Page, TextLine

_META = re.compile(
    r"单位\s*[:：]|^公开\s*\d+\s*表$|^\d{4}\s*年度?$|^表\s*\d+|^(部门|编制单位|预算单位|单位名称|部门名称)\s*[:：]"
)
_NOTE = re.compile(r"^(注|说明|备注|填报说明)\s*\d*\s*[:：]|本表无数据|本表为空")
_DECIMALS = re.compile(r"0\.(0+)")
openpyxl = lazy_import("openpyxl")
FORMATS = (
    Format("xlsx", lambda probe: {"[Content_Types].xml", "xl/workbook.xml"} <= (probe.zip_names or set()),
           ("xlsx",), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
           read=lambda path, budget: read_xlsx(path), order=CONTAINER),
    # WPS .et workbooks are BIFF files inside.
    Format("xls", lambda probe: bool((probe.ole_streams or set()) & {"Workbook", "Book"}), ("xls", "et"),
           ("application/vnd.ms-excel",), read=lambda path, budget: read_xls(path)),
)
# Sheets formatted down to row 1,048,576 exist; no disclosure table is near these sizes.
MAX_ROWS = 20_000
MAX_COLS = 200


@dataclass
class Sheet:
    cells: list[list[str]]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # first row, first col, last row, last col
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    ruled_rows: set[int] = field(default_factory=set)  # rows with a bordered cell: the printed tables


def read_xlsx(path: Path, format_: str = "xlsx") -> Layout:
    ooxml.check_package(path, ooxml.XLSX)
    try:
        # A file object: given a path, openpyxl refuses names not ending in .xlsx.
        with path.open("rb") as handle:
            book = openpyxl.load_workbook(handle, data_only=True)
    except (openpyxl.utils.exceptions.InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile("corrupt_office", f"Excel 文件损坏或不完整（{exc}）") from exc
    sheets = []
    for ws in book.worksheets:
        if ws.sheet_state != "visible":
            continue
        hidden_cols = {c - 1 for d in ws.column_dimensions.values() if d.hidden
                       for c in range(d.min, min(d.max, MAX_COLS) + 1)}
        cells, ruled_rows = _xlsx_cells(ws)
        sheets.append(Sheet(
            cells=cells,
            merges=[(m.min_row - 1, m.min_col - 1, min(m.max_row, MAX_ROWS) - 1, min(m.max_col, MAX_COLS) - 1)
                    for m in ws.merged_cells.ranges if m.min_row <= MAX_ROWS and m.min_col <= MAX_COLS],
            hidden_rows={r - 1 for r, d in ws.row_dimensions.items() if d.hidden and r <= MAX_ROWS},
            hidden_cols=hidden_cols,
            ruled_rows=ruled_rows,
        ))
    return _layout(sheets, format_)


def _xlsx_cells(ws) -> tuple[list[list[str]], set[int]]:
    """The texts of the cells the sheet holds within MAX_ROWS × MAX_COLS, and the rows with a bordered cell.
    Read from the cells held (openpyxl's private map of them): iter_rows creates every empty cell of the
    rectangle, millions for a sheet with one cell at its far corner."""
    held = [(row, col, cell) for (row, col), cell in ws._cells.items() if row <= MAX_ROWS and col <= MAX_COLS]
    width = max((col for _, col, _ in held), default=0)
    cells = [[""] * width for _ in range(max((row for row, _, _ in held), default=0))]
    ruled = set()
    for row, col, cell in held:
        cells[row - 1][col - 1] = _xlsx_text(cell)
        if _xlsx_bordered(cell):
            ruled.add(row - 1)
    return cells, ruled


def read_xls(path: Path, format_: str = "xls") -> Layout:
    try:
        book = xlrd.open_workbook(str(path), formatting_info=True)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise UnreadableFile("encrypted", "Excel 文件已加密，需要密码才能打开") from exc
        raise UnreadableFile("corrupt_office", f"Excel 文件损坏或不完整（{exc}）") from exc
    except (xlrd.compdoc.CompDocError, AssertionError, IndexError, struct.error, ValueError, OSError) as exc:
        raise UnreadableFile("corrupt_office", f"Excel 文件损坏或不完整（{exc}）") from exc
    sheets = []
    for sheet in book.sheets():
        if sheet.visibility != 0:
            continue
        sheets.append(Sheet(
            cells=[[_xls_text(book, sheet.cell(r, c)) for c in range(min(sheet.ncols, MAX_COLS))]
                   for r in range(min(sheet.nrows, MAX_ROWS))],
            merges=[(r0, c0, r1 - 1, c1 - 1) for r0, r1, c0, c1 in sheet.merged_cells],
            hidden_rows={r for r, info in sheet.rowinfo_map.items() if info.hidden},
            hidden_cols={c for c, info in sheet.colinfo_map.items() if info.hidden},
            ruled_rows={r for r in range(min(sheet.nrows, MAX_ROWS))
                        if any(_xls_bordered(book, sheet.cell_xf_index(r, c)) for c in range(min(sheet.ncols, MAX_COLS)))},
        ))
    return _layout(sheets, format_)


def _layout(sheets: list[Sheet], format_: str) -> Layout:
    """One page per sheet; a sheet holding the 目录 (often with the cover and the narrative,
    wherever it sits in the workbook) goes first and is cut into pages like a Word flow."""
    leading: list[Page] = []
    tables: list[Page] = []
    for sheet in sheets:
        blocks = sheet_blocks(sheet)
        if any(isinstance(b, TextLine) and is_toc_heading(b.text) for b in blocks):
            leading.extend(paginate([blocks]))
        elif blocks:
            tables.append(Page(0, blocks))
    pages = leading + tables
    if not pages:
        raise UnreadableFile("empty_file", "表格文件中没有可见的内容")
    for number, page in enumerate(pages, 1):
        page.number = number
    return Layout(pages, format_)


def _xlsx_bordered(cell) -> bool:
    border = cell.border
    return any(side is not None and side.style for side in (border.left, border.right, border.top, border.bottom))


def _xls_bordered(book: xlrd.Book, xf_index: int) -> bool:
    border = book.xf_list[xf_index].border
    return any((border.left_line_style, border.right_line_style, border.top_line_style, border.bottom_line_style))


def _xlsx_text(cell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return number_text(value, cell.number_format or "General")
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _xls_text(book: xlrd.Book, cell: xlrd.sheet.Cell) -> str:
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        fmt = book.format_map.get(book.xf_list[cell.xf_index].format_key)
        return number_text(cell.value, fmt.format_str if fmt else "General")
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode).strftime("%Y-%m-%d")
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return str(bool(cell.value))
    return str(cell.value).strip()


def number_text(value: float, number_format: str) -> str:
    """The number as its cell format displays it: decimals, thousands separators, percent."""
    section = number_format.split(";")[0]
    if "%" in section:
        value *= 100
    digits = _DECIMALS.search(section)
    if digits or "0" in section or "#" in section:
        places = len(digits.group(1)) if digits else 0
        text = f"{value:,.{places}f}" if "," in section else f"{value:.{places}f}"
    else:  # General: the stored value, without binary-float noise
        text = format(Decimal(repr(round(float(value), 9))).normalize(), "f")
    return text + ("%" if "%" in section else "")


def sheet_blocks(sheet: Sheet) -> list[Block]:
    """Where the sheet draws borders they delimit its tables; otherwise the rows' content decides."""
    matrix, owners, ruled = _visible(sheet)
    width = max((len(r) for r in matrix), default=0)
    blocks: list[Block] = []
    run: list[int] = []
    for index, row in enumerate(matrix):
        texts = [t for t in row if t]
        if not texts:
            continue
        if ruled:
            text_row = index not in ruled or all(_META.search(t) for t in texts)
        else:
            text_row = _is_text_row(texts, row, owners, index, width, bool(run))
        # A repeated header starts a continuation grid, as a new page of a printed table would.
        if run and (text_row or _same_cells(row, matrix[run[0]])):
            blocks.append(_grid(matrix, owners, run))
            run = []
        if text_row:
            blocks.append(TextLine(" ".join(texts), texts))
        else:
            run.append(index)
    if run:
        blocks.append(_grid(matrix, owners, run))
    return blocks


def _visible(sheet: Sheet) -> tuple[list[list[str | None]], dict[tuple[int, int], tuple[int, int]], set[int]]:
    """The sheet without hidden rows and columns; merged ranges become owner links. Also the ruled rows."""
    width = max((len(r) for r in sheet.cells), default=0)
    rows = [r for r in range(len(sheet.cells)) if r not in sheet.hidden_rows]
    cols = [c for c in range(width) if c not in sheet.hidden_cols]
    row_at = {r: i for i, r in enumerate(rows)}
    col_at = {c: i for i, c in enumerate(cols)}
    matrix: list[list[str | None]] = [
        [sheet.cells[r][c] if c < len(sheet.cells[r]) else "" for c in cols] for r in rows
    ]
    owners: dict[tuple[int, int], tuple[int, int]] = {}
    for r0, c0, r1, c1 in sheet.merges:
        slots = [(row_at[r], col_at[c]) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)
                 if r in row_at and c in col_at]
        if not slots:
            continue
        owner = slots[0]
        matrix[owner[0]][owner[1]] = sheet.cells[r0][c0] if c0 < len(sheet.cells[r0]) else ""
        for r, c in slots[1:]:
            matrix[r][c] = None
            owners[(r, c)] = owner
    return matrix, owners, {row_at[r] for r in sheet.ruled_rows if r in row_at}


def _is_text_row(texts: list[str], row: list[str | None], owners: dict, index: int, width: int,
                 in_table: bool) -> bool:
    if all(_META.search(t) for t in texts):
        return True
    if len(texts) > 1:
        return False
    text = texts[0]
    spanned = 1 + sum(1 for c in range(len(row)) if owners.get((index, c), (None,))[0] == index)
    return (not in_table or spanned * 2 >= width or bool(_NOTE.search(text))
            or catalog.classify_title(text) is not None)


def _same_cells(row: list[str | None], other: list[str | None]) -> bool:
    return [squash(c) for c in row] == [squash(c) for c in other]


def _grid(matrix: list[list[str | None]], owners: dict, run: list[int]) -> Grid:
    """The rows of `run` as a grid, without empty columns; merges reaching outside the run are dropped."""
    in_run = {r: i for i, r in enumerate(run)}
    width = max(len(matrix[r]) for r in run)
    used = [c for c in range(width)
            if any(matrix[r][c] or owners.get((r, c), (None, None))[1] == c for r in run)]
    col_at = {c: i for i, c in enumerate(used)}
    rows: list[list[str | None]] = []
    grid_owners: dict[tuple[int, int], tuple[int, int]] = {}
    for r in run:
        row: list[str | None] = []
        for c in used:
            owner = owners.get((r, c))
            if owner is None:
                row.append(matrix[r][c] or "")
            elif owner[0] in in_run and owner[1] in col_at:
                row.append(None)
                grid_owners[(in_run[r], col_at[c])] = (in_run[owner[0]], col_at[owner[1]])
            else:
                row.append("")
        rows.append(row)
    return Grid(rows, grid_owners)
