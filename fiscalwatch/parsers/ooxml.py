"""Caps checked on an Office Open XML package (.xlsx, .docx) before its reader loads it: openpyxl and
python-docx hold the whole of each part in memory, so a small file inflating to gigabytes of XML, a cell of
hundreds of megabytes, millions of cells, or a sheet claiming the whole grid must be refused first, as
``too_large``. The parts are measured as they are streamed (declared sizes, which bound what zipfile reads;
then element by element, each cleared once counted), never held whole."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from fiscalwatch.parsers.errors import UnreadableFile

MAX_PART_BYTES = 64 * 1024 * 1024  # one XML part, uncompressed: far above any disclosure's
MAX_CELL_CHARS = 1_000_000  # text in one cell (Excel itself stops at 32,767)
MAX_CELLS = 1_000_000  # cells of one sheet
# Area of a sheet's declared dimension or of the cells it holds: every row of Excel's grid 256 columns wide
# (sheets formatted down to the last row exist), far less than the whole grid (A1:XFD1048576).
MAX_AREA = 1_048_576 * 256

_SHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
WORD = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_REF = re.compile(r"([A-Z]{1,3})(\d+)$")


@dataclass(frozen=True)
class _Scan:
    """Which parts of a package to measure, and the elements that are one cell's text in them."""

    parts: re.Pattern
    units: frozenset[str]  # elements whose text is capped (a cell, a shared string, a paragraph)
    cells: frozenset[str]  # elements counted as cells
    texts: frozenset[str]  # elements holding text
    label: str  # the format, for people


def _names(namespace: str, *local: str) -> frozenset[str]:
    return frozenset(f"{{{namespace}}}{name}" for name in local)


XLSX = _Scan(re.compile(r"xl/(worksheets/[^/]+|sharedStrings)\.xml$"), _names(_SHEET, "c", "si"),
             _names(_SHEET, "c"), _names(_SHEET, "t", "v"), "Excel")
DOCX = _Scan(re.compile(r"word/[^/]*\.xml$"), _names(WORD, "tc", "p"), _names(WORD, "tc"), _names(WORD, "t"),
             "Word")
_ROW = f"{{{_SHEET}}}row"
_RANGES = {f"{{{_SHEET}}}dimension", f"{{{_SHEET}}}mergeCell"}  # their far corner counts as filled


def check_package(path: Path, scan: _Scan) -> None:
    """Raise ``too_large`` when a part of the package at ``path`` exceeds a cap; a file that is no zip, or a
    damaged part, is left to its reader, which reports it as damaged."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return
    with archive:
        for info in archive.infolist():
            if not scan.parts.search(info.filename):
                continue
            if info.file_size > MAX_PART_BYTES:
                raise _too_large(scan, f"其中的 {info.filename} 解压后超过 {MAX_PART_BYTES // 2**20} MB")
            try:
                with archive.open(info) as stream:
                    _measure(stream, scan)
            except (etree.XMLSyntaxError, zipfile.BadZipFile, OSError, EOFError):
                continue


def _measure(stream, scan: _Scan) -> None:
    """One part, element by element; each element is dropped once ended, so memory stays that of one."""
    cells, extent = 0, _Extent()
    open_units: dict[str, int] = {}  # text so far in each unit being read
    for event, element in etree.iterparse(stream, events=("start", "end"), resolve_entities=False,
                                           no_network=True, huge_tree=True):
        tag = element.tag
        if event == "start":
            if tag in scan.units:
                open_units[tag] = 0
            if tag in scan.cells:
                cells += 1
                extent.cell(element.get("r"))
                if cells > MAX_CELLS:
                    raise _too_large(scan, f"一个表中超过 {MAX_CELLS} 个单元格")
            elif tag == _ROW:
                extent.row(element.get("r"))
            elif tag in _RANGES:
                extent.cell((element.get("ref") or "").rsplit(":", 1)[-1])
            if extent.size() > MAX_AREA:
                raise _too_large(scan, f"表格范围（{extent.rows} 行 × {extent.cols} 列）过大，疑似异常文件")
            continue
        if tag in scan.texts and element.text:
            for unit in open_units:
                open_units[unit] += len(element.text)
                if open_units[unit] > MAX_CELL_CHARS:
                    raise _too_large(scan, f"一个单元格或段落的文字超过 {MAX_CELL_CHARS} 字")
        open_units.pop(tag, None)
        _drop(element)


def _drop(element) -> None:
    element.clear(keep_tail=False)
    parent = element.getparent()
    while parent is not None and element.getprevious() is not None:
        del parent[0]


class _Extent:
    """The rows × columns a sheet declares or fills."""

    def __init__(self):
        self.rows, self.cols = 0, 0

    def cell(self, reference: str | None) -> None:
        match = _REF.match(reference or "")
        if match:
            self.rows = max(self.rows, int(match.group(2)))
            self.cols = max(self.cols, _column(match.group(1)))

    def row(self, number: str | None) -> None:
        if number and number.isdigit():
            self.rows = max(self.rows, int(number))

    def size(self) -> int:
        return self.rows * self.cols


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _too_large(scan: _Scan, why: str) -> UnreadableFile:
    return UnreadableFile("too_large", f"{scan.label} 文件过大：{why}")
