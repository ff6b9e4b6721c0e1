"""Offline OCR (RapidOCR, models inside the wheel) of scanned pages and images → Page.

Recognised text boxes are treated like glyphs of a text layer and ruling lines are
found in the image, so the PDF reader's table and line assembly applies unchanged.
Work is bounded per file by an OcrBudget (pages, seconds and CPU threads, shared by an
archive's members); pages past the budget, or recognised too poorly to trust, are marked
unreadable and never guessed at (the pipeline reads a file left at the budget whole later,
see workers.processing).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageSequence, UnidentifiedImageError

from fiscalwatch.parsers.errors import UnreadableFile
from fiscalwatch.parsers.formats import Format
from fiscalwatch.parsers.layout import Layout, Page
from fiscalwatch.parsers.limits import Limits
from fiscalwatch.parsers.pdf import Glyph, place_blocks
from fiscalwatch.parsers.pdf_rulings import MIN_EDGE, Edge, merge_edges

_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM")
FORMATS = (Format("image", lambda probe: probe.starts(*_IMAGES), ("jpg", "jpeg", "png", "tif", "tiff", "bmp"),
                  ("image/jpeg", "image/png", "image/tiff", "image/bmp"),
                  read=lambda path, budget: read_image(path, budget)),)

OCR_MAX_PAGES = 80  # per file
OCR_SECONDS = 600.0  # per file
OCR_TIME_SHARE = 0.8  # of a limited parse's seconds: OCR stops there and the pages read are kept
# Lone small glyphs (a "0" in a column of zeros, read as "D" or not at all) are found at 200 dpi that 150 dpi
# missed; RapidOCR shrinks a page's long side to 2000 px, so an A4 page is read at about 170 dpi.
OCR_DPI = 200
MIN_CONFIDENCE = 0.6  # mean box score under which a page's text is not trusted
MIN_INK = 0.002  # share of dark pixels that makes a page more than blank
MIN_RULING = 14.0  # points: longer than a lone glyph (an unrecognised "1"), as high as a header row
MIN_CELL_BORDER = 6.0  # points: a shorter run joining two rulings is still a cell's border
JOIN = 2.0  # points: how close a border's end is to the ruling it meets
TEXT_MARGIN = 0.25  # share of a text box's height kept above and below its blanked core
TEXT_COVERED = 0.8  # a straight run this much inside the text boxes it crosses is glyph strokes

_engines: dict[int, object] = {}  # by thread count: one engine per process
_engine_lock = threading.Lock()


@dataclass
class OcrBudget:
    pages: int = OCR_MAX_PAGES
    seconds: float = OCR_SECONDS
    started: float = field(default_factory=time.monotonic)
    used: int = 0
    threads: int = 1  # CPU threads of the OCR engine

    @classmethod
    def within(cls, limits: Limits) -> OcrBudget:
        """The OCR budget of a parse under ``limits``: it stops in time to keep the pages it read."""
        return cls(pages=limits.ocr_pages, seconds=OCR_TIME_SHARE * limits.seconds, threads=limits.ocr_threads)

    def take(self) -> bool:
        if self.used >= self.pages or time.monotonic() - self.started > self.seconds:
            return False
        self.used += 1
        return True

    def pdf_page(self, page: pdfium.PdfPage, number: int) -> Page:
        """OCR a PDF page that has no usable text layer."""
        if not self.take():
            return Page(number, unreadable="ocr_limit")
        return recognise(page_image(page), number, OCR_DPI, self.threads)


def page_image(page: pdfium.PdfPage) -> np.ndarray:
    """A PDF page as OCR reads it: greyscale at OCR_DPI."""
    return np.array(page.render(scale=OCR_DPI / 72, grayscale=True).to_pil().convert("L"))


def read_image(path: Path, budget: OcrBudget) -> Layout:
    """A scanned page published as an image (PNG, JPEG, multi-page TIFF)."""
    return read_images([path], budget)


def read_images(paths: list[Path], budget: OcrBudget) -> Layout:
    """Scanned pages published as images, one document in the order given (a TIFF's frames in turn)."""
    pages: list[Page] = []
    for path in paths:
        try:
            with Image.open(path) as image:
                dpi = image.info.get("dpi", (OCR_DPI, OCR_DPI))[0] or OCR_DPI
                for frame in ImageSequence.Iterator(image):
                    number = len(pages) + 1
                    pages.append(recognise(np.array(frame.convert("L")), number, float(dpi), budget.threads)
                                 if budget.take() else Page(number, unreadable="ocr_limit"))
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
            raise UnreadableFile("corrupt_image", f"图片文件损坏或无法解码（{exc}）") from exc
    return Layout(pages, "image")


def recognise(grey: np.ndarray, number: int, dpi: float, threads: int = 1) -> Page:
    scale = 72.0 / dpi  # pixels → points, the unit the ruling tolerances are set in
    boxes = _ocr(grey, threads)
    if not boxes:
        ink = float(np.mean(grey < 128))
        return Page(number, unreadable="ocr_failed" if ink > MIN_INK else None)
    glyphs = []
    rects = []
    weights = scores = 0.0
    for points, text, score in boxes:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        rects.append((min(xs), min(ys), max(xs), max(ys)))
        glyphs.append(Glyph(text, *(v * scale for v in rects[-1])))
        weights += len(text)
        scores += float(score) * len(text)
    confidence = round(scores / weights, 3)
    if confidence < MIN_CONFIDENCE:
        return Page(number, unreadable="ocr_failed", ocr_confidence=confidence)
    horizontal, vertical = rulings(grey, scale, rects)
    return Page(number, place_blocks(glyphs, horizontal, vertical), ocr_confidence=confidence)


def _ocr(grey: np.ndarray, threads: int) -> list:
    import cv2  # OpenCV costs half a second to import: only pages that are OCR'd pay for it
    engine = engine_for(threads)
    with _engine_lock:
        # Without the text-angle classifier: scans are upright, and it turned upright lines over, reading
        # '3.社会保障和就业支出（类）…' as '来集（）集（）'.
        result, _ = engine(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), use_cls=False)
    return result or []


def engine_for(threads: int):
    """This process's OCR engine on ``threads`` CPU threads, loaded on first use."""
    with _engine_lock:
        if threads not in _engines:
            _engines[threads] = _load(threads)
        return _engines[threads]


def _load(threads: int):
    """RapidOCR on ``threads`` CPU threads whose idle threads sleep. onnxruntime's default is a thread per
    core that busy-waits between operators: with parallel parses or a busy machine that spinning was a third
    of the CPU each page cost (benchmarks/ocr_speed.py). The recogniser, run on a few lines at a time, keeps
    its memory arena (RapidOCR turns it off): allocating each batch's tensors anew cost a quarter of its time,
    for 160 MB more at the peak; the detector's arena would hold the largest page's maps, 600 MB more."""
    import onnxruntime
    from rapidocr_onnxruntime import RapidOCR
    from rapidocr_onnxruntime.utils.infer_engine import OrtInferSession

    # det_box_thresh: the default 0.5 misses a lone "1" (栏次 rows)
    engine = RapidOCR(det_box_thresh=0.3)
    # RapidOCR does not pass session config entries on: the models we run are reopened with these options.
    for stage, arena in ((engine.text_det, False), (engine.text_rec, True)):
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = arena
        options.log_severity_level = 4
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        for holder in vars(stage).values():
            if isinstance(holder, OrtInferSession):
                holder.session = onnxruntime.InferenceSession(holder.session._model_path, sess_options=options,
                                                              providers=["CPUExecutionProvider"])
    return engine


def rulings(grey: np.ndarray, scale: float, text_boxes: list[tuple[float, float, float, float]] = ()
            ) -> tuple[list[Edge], list[Edge]]:
    """Horizontal and vertical table rulings of a scan, in points, top-down like a PDF's.

    Glyph strokes also make straight runs: digits stacked in a code column (201 / 20101 /
    2010101) joined through the rulings they touch, the tops of a line of characters. So
    the core of each text box is blanked first, keeping a band above and below, since text
    often touches a cell's top or bottom border (cells are padded left and right, and boxes
    are tight there). Then runs mostly inside the text boxes they cross are dropped: a
    ruling runs past text, through cell padding and between cells.
    """
    import cv2
    ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 15, 10)
    for x0, y0, x1, y1 in text_boxes:
        margin = (y1 - y0) * TEXT_MARGIN
        ink[int(y0 + margin):int(y1 - margin), int(x0) + 2:int(x1) - 1] = 0
    boxes = [tuple(v * scale for v in box) for box in text_boxes]
    horizontal = [e for e in _runs(ink, scale, True, MIN_RULING) if not _within_text(e, boxes, horizontal=True)]
    vertical = [e for e in _runs(ink, scale, False, MIN_RULING) if not _within_text(e, boxes, horizontal=False)]
    merged = merge_edges(horizontal)
    vertical += [e for e in _runs(ink, scale, False, MIN_CELL_BORDER) if e.end - e.start < MIN_RULING
                 and _between_rulings(e, merged) and not _within_text(e, boxes, horizontal=False)]
    return horizontal, vertical


def _between_rulings(edge: Edge, horizontal: list[Edge]) -> bool:
    """A short vertical run from one horizontal ruling to the next is a cell's border (a header row lower
    than MIN_RULING), not a glyph's stroke, which keeps clear of both."""
    def meets(y: float) -> bool:
        return any(abs(h.pos - y) <= JOIN and h.start - JOIN <= edge.pos <= h.end + JOIN for h in horizontal)
    return meets(edge.start) and meets(edge.end)


def _within_text(edge: Edge, boxes: list[tuple[float, ...]], horizontal: bool) -> bool:
    spans = []
    for x0, y0, x1, y1 in boxes:
        across, along = ((y0, y1), (x0, x1)) if horizontal else ((x0, x1), (y0, y1))
        if across[0] < edge.pos < across[1]:
            spans.append((max(along[0], edge.start), min(along[1], edge.end)))
    covered = 0.0
    reach = edge.start
    for a, b in sorted(spans):
        if b > reach:
            covered += b - max(a, reach)
            reach = b
    return covered > TEXT_COVERED * (edge.end - edge.start)


def _runs(ink: np.ndarray, scale: float, horizontal: bool, shortest: float) -> list[Edge]:
    import cv2
    length = max(int(shortest / scale), 2)
    along = (lambda n: (n, 1)) if horizontal else (lambda n: (1, n))
    # Close small breaks of degraded scans along the line, then keep only long straight runs.
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, along(5)))
    lines = cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, along(length)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(lines)
    edges = []
    for x, y, w, h, _area in stats[1:count]:
        if horizontal:
            edges.append(Edge((y + h / 2) * scale, x * scale, (x + w) * scale))
        else:
            edges.append(Edge((x + w / 2) * scale, y * scale, (y + h) * scale))
    return [e for e in edges if e.end - e.start >= MIN_EDGE]
