"""OCR's budget per file is predictable: a scan longer than ocr_max_pages gets an honest first read (the pages
read, the rest said to be unread), then, at low priority (once no other file waits to be parsed), it is read
whole; its alerts wait for that whole read."""

from __future__ import annotations

from datetime import datetime, timezone

import pypdfium2 as pdfium
import pytest
from pipeline_support import rows, write_config
from render_seeds import render

from fiscalwatch.settings import load_settings
from fiscalwatch.store.archive import archive
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Blob, FindingRow
from fiscalwatch.workers.dispatch import read_unfinished_scans
from fiscalwatch.workers.processing import run_process
from fiscalwatch.workers.runner import outstanding, prepare

SCANNED = [0, 4, 5]  # seed 003's cover and its 收入支出决算总表 (printed over two pages)
PAGES = len(SCANNED)


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    part = pdfium.PdfDocument.new()
    part.import_pages(pdfium.PdfDocument(str(render("003", "scan-pdf"))), SCANNED)
    path = tmp_path_factory.mktemp("scan") / "扫描件.pdf"
    part.save(str(path))
    return path


def _blob(settings, content: bytes, name: str) -> str:
    sha256, relative = archive(settings.storage_dir, content)
    with session_scope(settings.database_url) as session:
        session.add(Blob(sha256=sha256, size=len(content), path=relative, filename=name,
                         first_seen_at=datetime.now(timezone.utc), status="pending", attempts=0))
    return sha256


def _one(settings, sha256: str) -> Blob:
    return rows(settings.database_url, Blob, Blob.sha256 == sha256)[0]


def _findings(settings, sha256: str, rule: str) -> list[FindingRow]:
    return rows(settings.database_url, FindingRow, FindingRow.sha256 == sha256, FindingRow.rule == rule)


def test_a_long_scan_is_read_in_part_then_whole_when_the_queue_is_idle(tmp_path, scan):
    settings = load_settings(write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"}, [], [],
                                          ocr_max_pages=1))
    prepare(settings)
    sha256 = _blob(settings, scan.read_bytes(), scan.name)
    run_process(settings, sha256)
    first = _one(settings, sha256)
    assert first.status == "ok" and first.ocr_unread == PAGES - 1
    assert first.report["document"]["unreadable_pages"] == list(range(2, PAGES + 1))
    [unread] = _findings(settings, sha256, "unreadable_scan")
    assert "第2" in unread.message and "上限" in unread.message
    assert outstanding(settings, cycle="none") == 1  # `watch --once` waits for the whole read

    other = _blob(settings, render("000", "pdf").read_bytes(), "其他.pdf")
    assert read_unfinished_scans(settings) == 0  # another file waits: it goes first
    run_process(settings, other)
    assert read_unfinished_scans(settings) == 1
    assert _one(settings, sha256).status == "pending" and read_unfinished_scans(settings) == 0

    run_process(settings, sha256)
    whole = _one(settings, sha256)
    assert whole.status == "ok" and whole.ocr_unread == 0 and whole.report["document"]["unreadable_pages"] == []
    assert sorted(int(p) for p in whole.report["document"]["ocr_pages"]) == list(range(1, PAGES + 1))
    assert _findings(settings, sha256, "unreadable_scan") == []
    assert read_unfinished_scans(settings) == 0 and outstanding(settings, cycle="none") == 0


def test_a_whole_read_that_fails_leaves_the_first_read(tmp_path, scan):
    """The whole read fails (here its file is gone from the archive; in life, time or memory run out): the first
    read's findings stand, say which pages were not read, and are no longer held back."""
    settings = load_settings(write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"}, [], [],
                                          ocr_max_pages=1))
    prepare(settings)
    sha256 = _blob(settings, scan.read_bytes(), scan.name)
    run_process(settings, sha256)
    first = _findings(settings, sha256, "unreadable_scan")
    assert read_unfinished_scans(settings) == 1
    (settings.storage_dir / _one(settings, sha256).path).unlink()
    run_process(settings, sha256)
    blob = _one(settings, sha256)
    assert blob.status == "ok" and blob.ocr_unread == 0 and blob.report["whole_read_error"]["code"] == "not_found"
    assert [f.message for f in _findings(settings, sha256, "unreadable_scan")] == [f.message for f in first]
    assert read_unfinished_scans(settings) == 0 and outstanding(settings, cycle="none") == 0
