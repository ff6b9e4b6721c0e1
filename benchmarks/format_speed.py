"""Seconds per page to read one disclosure in every published format, and for OCR.

    .venv/bin/python benchmarks/format_speed.py [--seed 000] [--ocr-pages 6] [--repeat 3]

The seed is rendered into each format with tests/fixtures/render_seeds.py. "per page"
divides by the page count of the PDF rendering, so formats are compared on the same
printed document; formats without pages (Word, HTML, spreadsheets) are also shown per
document. OCR is timed on the first pages of the scanned rendering (150 dpi, grey), split into
rendering and recognition (with ruling detection and page assembly), then on the whole
scanned document through parse_file.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "fixtures")]

import render_seeds  # noqa: E402
from timing import best_of  # noqa: E402

from fiscalwatch.parsers import (
    ocr,  # noqa: E402
    parse_file,  # noqa: E402
)

FORMATS = ("pdf", "docx", "doc", "xlsx", "xls", "html", "html-gbk", "zip")


def formats(seed: str, repeat: int) -> None:
    paths = {fmt: render_seeds.render(seed, fmt) for fmt in FORMATS}
    printed = len(pdfium.PdfDocument(str(paths["pdf"])))
    print(f"seed {seed}: {printed} printed pages (PDF rendering)")
    print(f"{'format':<10}{'s/document':>12}{'ms/page':>10}{'tables':>8}")
    for fmt, path in paths.items():
        # Conversions through LibreOffice are seconds each: time them once.
        seconds = best_of(1 if fmt in ("doc", "zip") else repeat, lambda p=path: parse_file(p))
        tables = len(parse_file(path).tables)
        print(f"{fmt:<10}{seconds:>12.3f}{seconds / printed * 1000:>10.1f}{tables:>8}")


def ocr_pages(seed: str, pages: int) -> None:
    scan = render_seeds.render(seed, "scan-pdf")
    document = pdfium.PdfDocument(str(scan))
    count = min(pages, len(document))
    ocr.recognise(np.full((64, 64), 255, np.uint8), 0, ocr.OCR_DPI)  # load the models outside the timing
    render = recognise = 0.0
    for index in range(count):
        started = time.perf_counter()
        grey = ocr.page_image(document[index])
        rendered = time.perf_counter()
        ocr.recognise(grey, index + 1, ocr.OCR_DPI)
        render += rendered - started
        recognise += time.perf_counter() - rendered
    print(f"OCR at {ocr.OCR_DPI} dpi, first {count} pages of the scanned seed {seed}: render {render / count:.3f} "
          f"s/page, recognition + rulings + assembly {recognise / count:.2f} s/page")
    started = time.perf_counter()
    doc = parse_file(scan)
    whole = time.perf_counter() - started
    confidence = sum(doc.ocr_pages.values()) / max(len(doc.ocr_pages), 1)
    print(f"whole scanned document: {whole:.1f} s for {doc.page_count} pages = {whole / doc.page_count:.2f} s/page, "
          f"{len(doc.tables)} tables, mean OCR confidence {confidence:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default="000")
    parser.add_argument("--ocr-pages", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    formats(args.seed, args.repeat)
    ocr_pages(args.seed, args.ocr_pages)


if __name__ == "__main__":
    main()
