"""The seed disclosures rendered into every published format give what their text PDF gives.

`fiscalwatch check --json` runs on each rendering; the tables identified (by kind, in
order) and the key findings (rule and severity of every warning and error) must equal
the text PDF's. Workbooks carry no cover page (the renderer puts only the tables and the
narrative in sheets), so cover-based document findings are not compared for them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pypdfium2 as pdfium
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
render_seeds = pytest.importorskip("render_seeds")

FISCALWATCH = Path(sys.executable).with_name("fiscalwatch")
SEEDS = ("000", "001", "002", "003", "004")
FORMATS = ("docx", "doc", "xlsx", "xls", "html", "html-gbk", "zip")
WORKBOOKS = ("xlsx", "xls")
# Seed 001 is the raw text of a PDF whose tables have no rulings: its rows have no column
# positions, so the renderer places values in arbitrary cells of workbooks and web tables.
CELL_FORMATS = ("xlsx", "xls", "html", "html-gbk")


def check_json(*paths: Path) -> list[dict]:
    completed = subprocess.run([str(FISCALWATCH), "check", "--json", *map(str, paths)], capture_output=True,
                               text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout)


@cache
def pdf_results() -> dict[str, dict]:
    paths = [render_seeds.render(seed, "pdf") for seed in SEEDS]
    return dict(zip(SEEDS, check_json(*paths)))


def kinds(result: dict) -> list[str]:
    return [t["kind"] for t in result["tables"]]


def key_findings(result: dict, with_document: bool = True) -> set[tuple[str, str]]:
    return {(f["rule"], f["severity"]) for f in result["findings"]
            if f["severity"] != "info" and (with_document or f["category"] != "document")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_matches_the_text_pdf(fmt):
    seeds = [s for s in SEEDS if not (s == "001" and fmt in CELL_FORMATS)]
    results = check_json(*(render_seeds.render(seed, fmt) for seed in seeds))
    for seed, result in zip(seeds, results):
        expected = pdf_results()[seed]
        assert result["status"] == "ok", (seed, result["error"])
        assert kinds(result) == kinds(expected), seed
        with_document = fmt not in WORKBOOKS
        assert key_findings(result, with_document) == key_findings(expected, with_document), seed
        if fmt == "zip":
            assert [m["member"].rsplit(".", 1)[1] for m in result["members"]] == ["pdf", "xlsx"]
            assert all(m["status"] == "ok" for m in result["members"])


def test_seed_findings_are_there_to_compare():
    """Guard against comparing empty results: the seeds' known anomalies are found in the PDFs."""
    found = {seed: key_findings(result) for seed, result in pdf_results().items()}
    assert ("N-PERCENT", "error") in found["000"] and ("C-NARRATIVE", "warning") in found["000"]
    assert ("M-TOC", "error") in found["002"]
    assert ("D-WATERMARK", "warning") in found["003"]
    assert ("N-PART-WHOLE", "error") in found["004"]
    assert all(len(kinds(r)) >= 9 for r in pdf_results().values())


def test_scanned_pages_match_the_text_pages(tmp_path):
    """OCR of a 150 dpi grey scan: the pages with the completion-rate statements, a table and
    the 目录 give the same tables, completion-rate and missing-table results as the same pages
    of the text PDF (the whole document takes minutes to OCR; benchmarks/format_speed.py does it)."""
    seed = "003"
    text_pdf, scan_pdf = render_seeds.render(seed, "pdf"), render_seeds.render(seed, "scan-pdf")
    full = pdf_results()[seed]
    rate_pages = {f["page"] for f in full["findings"] if f["rule"] in ("C-NARRATIVE", "C-EVALUATION")}
    table_pages = {t["page"] for t in full["tables"] if t["kind"] in ("summary", "three_public")}
    pages = sorted({1, 2} | rate_pages | table_pages)
    assert len(pages) <= 10
    text_part, scan_part = tmp_path / "text.pdf", tmp_path / "scan.pdf"
    for source, target in ((text_pdf, text_part), (scan_pdf, scan_part)):
        part = pdfium.PdfDocument.new()
        part.import_pages(pdfium.PdfDocument(str(source)), [p - 1 for p in pages])
        part.save(str(target))
    text, scan = check_json(text_part, scan_part)
    assert len(scan["document"]["ocr_pages"]) == len(pages) and not scan["document"]["unreadable_pages"]
    assert kinds(scan) == kinds(text) and "three_public" in kinds(text)
    wanted = {"low_completion", "missing_table"}
    assert ({(f["rule"], f["severity"], f["category"]) for f in scan["findings"] if f["category"] in wanted}
            == {(f["rule"], f["severity"], f["category"]) for f in text["findings"] if f["category"] in wanted})
    rates = [f for f in scan["findings"] if f["category"] == "low_completion"]
    assert rates and all(0.8 < f["evidence"]["ocr_confidence"] <= 1 for f in rates)
