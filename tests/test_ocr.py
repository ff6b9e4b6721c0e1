"""Scanned pages are OCR'd offline into the same Document; unreadable ones are said to be so."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import format_samples as samples
import numpy as np
import pypdfium2 as pdfium
import pytest
from render_seeds import render

from fiscalwatch.parsers import OcrBudget, convert, parse_file
from fiscalwatch.parsers.narrative import parse_claims
from fiscalwatch.parsers.ocr import engine_for, recognise, rulings
from fiscalwatch.parsers.pdf_rulings import find_cells, group_tables, merge_edges
from fiscalwatch.validators import validate
from fiscalwatch.validators.checker import check_file

DPI = 150


def scan(pdf: Path, target: Path, pages: list[int] | None = None) -> Path:
    """An image-only PDF as a scanner makes it: greyscale pages at 150 dpi, no text layer."""
    document = pdfium.PdfDocument(str(pdf))
    images = [document[i].render(scale=DPI / 72, grayscale=True).to_pil().convert("L")
              for i in (pages if pages is not None else range(len(document)))]
    images[0].save(target, save_all=True, append_images=images[1:], resolution=DPI)
    return target


@pytest.fixture(scope="module")
def text_pdf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ocr")
    docx = samples.write_docx(out / "s.docx")
    with convert.converted(docx, "docx", "pdf") as pdf:
        return Path(shutil.copy(pdf, out / "s.pdf"))


@pytest.fixture(scope="module")
def scanned(text_pdf) -> Path:
    return scan(text_pdf, text_pdf.with_name("scan.pdf"))


def test_scan_gives_the_same_tables_and_findings(text_pdf, scanned):
    text, ocr = check_file(text_pdf), check_file(scanned)
    assert ocr.ok and not ocr.document.unreadable_pages
    assert sorted(ocr.document.ocr_pages) == [1, 2]
    assert [(t.kind, len(t.rows)) for t in ocr.document.tables] == [(t.kind, len(t.rows)) for t in text.document.tables]
    assert {(f.rule, f.severity) for f in ocr.findings} == {(f.rule, f.severity) for f in text.findings}
    row = next(f for f in ocr.findings if f.rule == "R-ROW")
    assert row.evidence["printed"] == "150" and 0.8 < row.evidence["ocr_confidence"] <= 1


def test_mixed_pdf_ocrs_only_image_pages(text_pdf, scanned, tmp_path):
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(pdfium.PdfDocument(str(text_pdf)), [0])
    mixed.import_pages(pdfium.PdfDocument(str(scanned)), [1])
    path = tmp_path / "mixed.pdf"
    mixed.save(str(path))
    doc = parse_file(path)
    assert list(doc.ocr_pages) == [2]
    assert doc.tables[0].kind == "expense" and doc.tables[0].from_ocr


def test_pages_past_the_budget_are_unreadable_not_missing(scanned):
    doc = parse_file(scanned, ocr=OcrBudget(pages=1))
    assert doc.unreadable_pages == {2: "ocr_limit"}
    findings = validate(doc).findings
    assert not [f for f in findings if f.category == "missing_table"]
    unreadable = next(f for f in findings if f.rule == "unreadable_scan")
    assert "第2页" in unreadable.message and "上限" in unreadable.message


def test_scanned_image_file(scanned, tmp_path):
    page = pdfium.PdfDocument(str(scanned))[1].render(scale=DPI / 72, grayscale=True).to_pil()
    png = tmp_path / "表.jpg"  # named wrongly on purpose
    page.save(png, format="PNG", dpi=(DPI, DPI))
    doc = parse_file(png)
    assert doc.format == "image" and [t.kind for t in doc.tables] == ["expense"]


@pytest.mark.parametrize("threads", [1, 2])
def test_the_engine_runs_on_its_threads_and_does_not_spin(threads):
    """onnxruntime's default (a busy-waiting thread per core) made two parallel parses cost 8 CPU-s a page
    instead of 5.5 (benchmarks/ocr_speed.py)."""
    engine = engine_for(threads)
    sessions = [engine.text_det.infer.session, engine.text_rec.session.session]
    for session in sessions:
        options = session.get_session_options()
        assert (options.intra_op_num_threads, options.inter_op_num_threads) == (threads, 1)
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert engine_for(threads) is engine


def test_blank_and_unrecognisable_pages():
    blank = np.full((400, 300), 255, np.uint8)
    assert recognise(blank, 1, DPI).unreadable is None
    smudge = blank.copy()
    cv2.circle(smudge, (150, 200), 120, 0, -1)  # ink, but no text
    page = recognise(smudge, 2, DPI)
    assert page.unreadable == "ocr_failed" and not page.blocks


def test_rulings_found_in_image():
    image = np.full((600, 800), 255, np.uint8)
    for y in (100, 200, 300):
        cv2.line(image, (100, y), (700, y), 0, 2)
    for x in (100, 400, 700):
        cv2.line(image, (x, 100), (x, 300), 0, 2)
    cv2.putText(image, "1,234.00 ----", (120, 160), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    horizontal, vertical = rulings(image, 72 / DPI)
    tables = group_tables(find_cells(merge_edges(horizontal), merge_edges(vertical)))
    assert len(tables) == 1 and len(tables[0]) == 4
    left = min(c.x0 for c in tables[0])
    assert abs(left - 100 * 72 / DPI) < 2


def test_scan_fixture_has_no_text_layer(scanned):
    # Otherwise the OCR tests above would prove nothing.
    document = pdfium.PdfDocument(str(scanned))
    assert all(document[i].get_textpage().count_chars() == 0 for i in range(len(document)))


def _page_of(seed: str, fmt: str, index: int, target: Path) -> Path:
    part = pdfium.PdfDocument.new()
    part.import_pages(pdfium.PdfDocument(str(render(seed, fmt))), [index])
    part.save(str(target))
    return target


def test_lone_zeros_of_a_borderless_table_are_read(tmp_path):
    """Seed 001's 财政拨款收入支出决算总表 (no rulings) ends in rows of lone zeros; at 150 dpi OCR missed some of
    them or read 'D', and rows short of a figure are dropped: at 200 dpi every row comes back as printed."""
    rows = {}
    for fmt in ("pdf", "scan-pdf"):
        [table] = [t for t in parse_file(_page_of("001", fmt, 7, tmp_path / f"{fmt}.pdf")).tables
                   if t.kind == "fiscal_summary"]
        rows[fmt] = [(r.name, {k: v.value for k, v in r.values.items()}) for r in table.rows]
    zeros = {key: 0 for key in ("total", "gpb", "gov_fund", "soe")}
    assert rows["scan-pdf"] == rows["pdf"] and ("交通运输支出", zeros) in rows["pdf"]


def test_upright_lines_are_read_as_printed(tmp_path):
    """The engine's text-angle classifier turned upright lines over ('来集（）集（）' for '3.社会保障和就业支出（类）…',
    '）））' for the next): scans are read without it, and the narrative's claims come out as printed."""
    # Seed 004's 一般公共预算财政拨款支出决算具体情况
    parts = {fmt: parse_claims(parse_file(_page_of("004", fmt, 18, tmp_path / f"{fmt}.pdf")).sentences)
             for fmt in ("pdf", "scan-pdf")}
    figures = {fmt: [(c.budget, c.actual, c.percent) for c in claims if c.kind == "completion"]
               for fmt, claims in parts.items()}
    assert figures["scan-pdf"] == figures["pdf"] and len(figures["pdf"]) >= 8
    assert any("机关事业单位基本养老保险缴费支出（项）" in c.subject for c in parts["scan-pdf"])


def test_a_header_row_lower_than_a_ruling_keeps_its_cell_borders(tmp_path):
    """Seed 002's 政府性基金支出预算表 heads its columns with 基本支出 | 项目支出 in a row about 10 points high:
    the ruling between them is shorter than MIN_RULING and was dropped, the two groups became one header
    cell ('基本支出项目支出/小计') and no column of the scan meant 基本支出 or 项目支出. A short run from one
    horizontal ruling to the next is a cell border: the scan's columns are the text PDF's."""
    columns = {}
    for fmt in ("pdf", "scan-pdf"):
        [table] = [t for t in parse_file(_page_of("002", fmt, 16, tmp_path / f"{fmt}.pdf")).tables
                   if t.kind == "gov_fund"]
        columns[fmt] = [(c.role, c.key) for c in table.columns]
    assert columns["scan-pdf"] == columns["pdf"] and ("amount", "basic") in columns["pdf"]
    assert ("amount", "project") in columns["pdf"]

