"""A finding's page as a picture: the archived PDF's page rendered, with the clause and the figures the finding
quotes boxed where the page's text layer prints them. The text is read with the parser's own glyphs, lines and
cells (parsers.pdf), so a figure is found where the parse read it."""

from __future__ import annotations

import ctypes
import io
import re
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from fiscalwatch.labels import FIGURES
from fiscalwatch.parsers.errors import UnreadableFile
from fiscalwatch.parsers.pdf import group_lines, open_pdf, page_glyphs, split_cells
from fiscalwatch.store.archive import relative_path
from fiscalwatch.store.models import Blob, FindingRow, Version
from fiscalwatch.web.auth import reader
from fiscalwatch.web.deps import db, settings_of
from fiscalwatch.web.render import render

router = APIRouter(include_in_schema=False)

DPI = 130
MAX_SIDE = 2000  # pixels: a page larger than A3 is rendered at a lower resolution
# FIGURES also labels what the validators work out (计算数, 应为, 差额, 计算比率, 阈值): never printed, never boxed.
PRINTED = tuple(key for key in FIGURES if key not in {"computed", "expected", "difference", "rate", "threshold"})
QUOTE_COLOURS = (255, 214, 0, 80), (230, 150, 0, 255)  # fill, outline
FIGURE_COLOURS = (230, 40, 40, 50), (214, 39, 40, 255)
OUTLINE = 2  # pixels
PAD = 1.5  # points around the printed glyphs
# A figure as printed: thousands separated or not, any number of decimals (0.3 is also 0.30).
_NUMBER = re.compile(r"(?<![\d.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_PDFIUM = threading.Lock()  # PDFium is not thread-safe, and pages render in FastAPI's thread pool

Box = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True)
class Mark:
    key: str  # the evidence key: "quote" or one of PRINTED
    box: Box  # points from the page's top left, as parsers.pdf.Glyph


@dataclass(frozen=True)
class Picture:
    png: bytes
    marks: list[Mark]


def page_links(document_id: int, blob: Blob, finding: FindingRow) -> dict:
    """What the document page shows of a finding's page: the highlighted image, or why there is none (Chinese),
    and the archived PDF opened at that page."""
    if finding.page is None:
        return {}
    missing = _no_such_page(blob, finding.page)
    note = missing or _no_text(blob, finding.page)
    return {"page_image": None if note else f"/documents/{document_id}/findings/{finding.id}/page.png",
            "page_note": note, "archive_page": None if missing else f"/archive/{blob.sha256}#page={finding.page}"}


def _no_such_page(blob: Blob, page: int) -> str | None:
    if blob.format != "pdf" or (blob.report or {}).get("member"):  # a member's pages are not the archived file's
        return "原文件不是PDF，无法显示原文页面"
    if not 1 <= page <= (blob.pages or page):
        return f"第{page}页超出文件页数"
    return None


def _no_text(blob: Blob, page: int) -> str | None:
    document = (blob.report or {}).get("document") or {}
    if str(page) in document.get("ocr_pages", {}):
        return f"第{page}页是扫描图像，没有文字层，无法标出所引数字的位置"
    if page in document.get("unreadable_pages", []):
        return f"第{page}页的文字无法识别，无法标出所引数字的位置"
    return None


@router.get("/documents/{document_id}/findings/{finding_id}/page.png", dependencies=[Depends(reader)])
def finding_page(request: Request, session: Annotated[Session, Depends(db)], document_id: int, finding_id: int):
    """The finding's page with its quoted clause and figures boxed; X-Highlighted counts the boxes.
    An image never changes for a finding (its content hash and evidence are fixed), so browsers keep it."""
    finding = session.get(FindingRow, finding_id)
    if finding is None or session.scalar(select(Version.id).where(
            Version.document_id == document_id, Version.sha256 == finding.sha256).limit(1)) is None:
        return _not_found(request, "该文件没有这条核查发现")
    if finding.page is None:
        return _not_found(request, "该核查发现针对全文，没有对应的页面")
    note = _no_such_page(finding.blob, finding.page) or _no_text(finding.blob, finding.page)
    if note:
        return _not_found(request, note)
    tag = f'"{finding.sha256[:16]}-{finding.id}"'
    headers = {"ETag": tag, "Cache-Control": "private, max-age=604800"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    path = settings_of(request).storage_dir / relative_path(finding.sha256)
    if not path.is_file():
        return _not_found(request, "存档文件不存在")
    try:
        picture = highlighted_page(path, finding.page, finding.evidence or {})
    except UnreadableFile:
        return _not_found(request, "存档文件无法打开")
    except LookupError:
        return _not_found(request, f"第{finding.page}页超出文件页数")
    return Response(picture.png, media_type="image/png", headers={
        **headers, "X-Highlighted": str(len(picture.marks)),
        "X-Highlighted-Figures": " ".join(sorted({m.key for m in picture.marks}))})


def _not_found(request: Request, message: str):
    return render(request, "error.html", {"message": message}, status_code=404)


def highlighted_page(path: Path, number: int, evidence: dict) -> Picture:
    """Page ``number`` of the PDF at ``path`` (PNG, about DPI) with what ``evidence`` quotes boxed."""
    with _PDFIUM:
        document = open_pdf(path)
        try:
            if not 1 <= number <= len(document):
                raise LookupError(number)
            page = document[number - 1]
            scale = min(DPI / 72, MAX_SIDE / max(page.get_size()))
            image = page.render(scale=scale).to_pil().convert("RGBA")
            found = marks(page, evidence)
            boxes = [_to_pixels(page, image.size, mark.box) for mark in found]
        finally:
            document.close()
    return Picture(_draw(image, [(mark.key, box) for mark, box in zip(found, boxes)]), found)


def marks(page: pdfium.PdfPage, evidence: dict) -> list[Mark]:
    """Every quoted clause found on the page, one box per line, then every printed figure; within a clause
    found, figures are looked for only there (its 0.00 rather than every zero of the page)."""
    text, boxes = _page_text(page)
    quotes = [q for q in [evidence.get("quote"), *(evidence.get("quotes") or [])] if isinstance(q, str)]
    clauses = [span for quote in quotes for span in _clause_spans(text, boxes, quote)]
    found = [Mark("quote", box) for start, end in clauses for box in _boxes(text, boxes, start, end)]
    for key in PRINTED:
        value = _decimal(evidence.get(key))
        if value is None or (value == 0 and not clauses):  # zeros fill a table page
            continue
        for match in _NUMBER.finditer(text):
            if (Decimal(match.group().replace(",", "")) == value
                    and (not clauses or any(s <= match.start() and match.end() <= e for s, e in clauses))):
                found.extend(Mark(key, box) for box in _boxes(text, boxes, *match.span()))
    unique: dict[Box, Mark] = {}
    for mark in found:  # two keys of one value (实际数 0, 文中比率 0) box a figure once
        unique.setdefault(mark.box, mark)
    return list(unique.values())


def _page_text(page: pdfium.PdfPage) -> tuple[str, list[Box | None]]:
    """The page's text as the parser reads it: lines top down, cells apart by tabs, words by spaces; with each
    character the box of its ink (None for the separators)."""
    height = page.get_size()[1]
    ink = _ink(page, height)
    text: list[str] = []
    boxes: list[Box | None] = []
    for line in group_lines(page_glyphs(page, height)):
        in_line = iter(line)
        for cell in split_cells(line):
            for char in cell + "\t":
                text.append(char)
                if char.isspace():
                    boxes.append(None)
                else:
                    glyph = next(in_line)
                    boxes.append(ink.get((glyph.x0, glyph.top), (glyph.x0, glyph.top, glyph.x1, glyph.bottom)))
        text[-1] = "\n"
    return "".join(text), boxes


def _ink(page: pdfium.PdfPage, height: float) -> dict[tuple[float, float], Box]:
    """Each character's tight box by where parsers.pdf.page_glyphs puts its glyph (the left and top of its loose
    box): the loose box of a digit is two lines high in many fonts."""
    textpage = page.get_textpage()
    try:
        ink = {}
        for index in range(textpage.count_chars()):
            left, _, _, top = textpage.get_charbox(index, loose=True)
            x0, bottom, x1, y1 = textpage.get_charbox(index)
            ink[(left, height - top)] = (x0, height - y1, x1, height - bottom)
        return ink
    finally:
        textpage.close()


def _clause_spans(text: str, boxes: list[Box | None], quote: str) -> list[tuple[int, int]]:
    """Where the quote is printed, whatever the spaces and line breaks between its characters."""
    printed = [i for i, box in enumerate(boxes) if box is not None]
    compact = "".join(text[i] for i in printed)
    needle = re.sub(r"\s", "", quote)
    spans = []
    at = compact.find(needle) if needle else -1
    while at >= 0:
        spans.append((printed[at], printed[at + len(needle) - 1] + 1))
        at = compact.find(needle, at + len(needle))
    return spans


def _boxes(text: str, boxes: list[Box | None], start: int, end: int) -> list[Box]:
    """One box around the characters of text[start:end] on each line."""
    lines: list[list[Box]] = [[]]
    for index in range(start, end):
        if text[index] == "\n":
            lines.append([])
        elif boxes[index] is not None:
            lines[-1].append(boxes[index])
    return [(min(b[0] for b in line) - PAD, min(b[1] for b in line) - PAD,
             max(b[2] for b in line) + PAD, max(b[3] for b in line) + PAD) for line in lines if line]


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _to_pixels(page: pdfium.PdfPage, size: tuple[int, int], box: Box) -> Box:
    """Page points from the top left (as the parser's glyphs) → pixels of the rendered page, whatever the
    page's rotation and crop box (PDFium maps them as it rendered)."""
    height = page.get_size()[1]
    corners = []
    for x, top in ((box[0], box[1]), (box[2], box[3])):
        device_x, device_y = ctypes.c_int(), ctypes.c_int()
        pdfium_c.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, x, height - top,
                                   ctypes.byref(device_x), ctypes.byref(device_y))
        corners.append((device_x.value, device_y.value))
    (x0, y0), (x1, y1) = corners
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _draw(image: Image.Image, boxes: list[tuple[str, Box]]) -> bytes:
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for key, box in boxes:
        fill, outline = QUOTE_COLOURS if key == "quote" else FIGURE_COLOURS
        draw.rectangle(box, fill=fill, outline=outline, width=OUTLINE)
    buffer = io.BytesIO()
    # The least compression: here no larger than the default level, in a third of the time.
    Image.alpha_composite(image, overlay).convert("RGB").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
