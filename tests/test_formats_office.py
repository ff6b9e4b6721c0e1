"""Word and spreadsheet files, natively and through LibreOffice, yield the same Document as a PDF."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from pathlib import Path

import format_samples as samples
import openpyxl
import pytest

from fiscalwatch.parsers import UnreadableFile, convert, parse_file
from fiscalwatch.parsers.flow import paginate
from fiscalwatch.parsers.layout import Grid, TextLine
from fiscalwatch.parsers.spreadsheet import number_text, read_xlsx
from fiscalwatch.parsers.word import read_docx
from fiscalwatch.validators.checker import check_file

KEY_ERRORS = {"R-ROW", "R-HIER"}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("office")
    files = {"docx": samples.write_docx(out / "s.docx"), "xlsx": samples.write_xlsx(out / "s.xlsx")}
    for source, target in (("docx", "pdf"), ("docx", "doc"), ("xlsx", "xls")):
        with convert.converted(files[source], source, target) as result:
            files[target] = Path(shutil.copy(result, out / f"s.{target}"))
    return files


def summary(path: Path) -> tuple[list[tuple[str, int]], set[str]]:
    result = check_file(path)
    assert result.ok, result.error
    tables = [(t.kind, len(t.rows)) for t in result.document.tables]
    return tables, {f.rule for f in result.findings if f.severity == "error"}


@pytest.mark.parametrize("fmt", ["docx", "doc", "xlsx", "xls"])
def test_same_tables_and_findings_as_pdf(made, fmt):
    pdf_tables, pdf_errors = summary(made["pdf"])
    tables, errors = summary(made[fmt])
    assert pdf_tables == [("expense", 4)]
    assert tables == pdf_tables
    assert KEY_ERRORS <= pdf_errors and errors == pdf_errors


def test_docx_merged_cells_become_owners_in_body_order(made):
    layout = read_docx(made["docx"])
    assert [p.number for p in layout.pages] == [1, 2]  # the author's page break
    blocks = layout.pages[1].blocks
    assert [type(b).__name__ for b in blocks] == ["TextLine", "TextLine", "Grid", "TextLine", "TextLine", "TextLine"]
    grid = blocks[2]
    assert grid.rows[0][:2] == ["项目", None] and grid.owners[(0, 1)] == (0, 0)
    assert grid.owners[(1, 2)] == (0, 2) and grid.spanned_text(1, 2) == "本年支出合计"


def test_xlsx_skips_hidden_rows_columns_and_sheets(made):
    layout = read_xlsx(made["xlsx"])
    text = "\n".join(p.text for p in layout.pages)
    assert len(layout.pages) == 1
    assert "999999" not in text and "88888" not in text and "三公" not in text


def test_xls_keeps_merges_and_hidden_rows(made):
    doc = parse_file(made["xls"])
    text = "\n".join(doc.page_texts)
    assert doc.format == "xls" and "88888" not in text and "999999" not in text
    assert doc.tables[0].by_name("合计").get(doc.tables[0].amount_keys()[0]) == 150


def test_numbers_stored_as_text(tmp_path):
    path = samples.write_xlsx(tmp_path / "text.xlsx", numbers_as_text=True)
    assert summary(path)[1] >= KEY_ERRORS


def test_several_tables_on_one_sheet_and_units(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for title, unit, total in (("财政拨款“三公”经费支出决算表", "单位：元", 30000), ("支出决算表", "单位：万元", 3)):
        sheet.append([title])
        sheet.append([None, None, unit])
        sheet.append(["项目", "基本支出", "合计"])
        sheet.append(["合计", total, total])
        sheet.append([])
    path = tmp_path / "two.xlsx"
    book.save(path)
    doc = parse_file(path)
    assert [(t.kind, t.unit) for t in doc.tables] == [("three_public", "元"), ("expense", "万元")]


@pytest.mark.parametrize("value,fmt,text", [
    (1234.5, "#,##0.00", "1,234.50"),
    (0.1 + 0.2, "General", "0.3"),
    (0.955, "0.00%", "95.50%"),
    (12.0, "0", "12"),
    (7, "General", "7"),
])
def test_number_text_follows_cell_format(value, fmt, text):
    assert number_text(value, fmt) == text


def test_paginate_gives_the_toc_a_page_of_its_own():
    lines = ["XX局2023年度部门决算", "目录", "第一部分 概况", "第二部分 决算表", "第一部分 概况", "一、职责"]
    chunks = [[TextLine(t) for t in lines] + [Grid([["a", "b"]])]]
    pages = paginate(chunks)
    assert [[b.text for b in p.blocks if isinstance(b, TextLine)] for p in pages] == [
        ["XX局2023年度部门决算"], ["目录", "第一部分 概况", "第二部分 决算表"], ["第一部分 概况", "一、职责"]]


def test_paginate_cuts_long_flows():
    pages = paginate([[TextLine(f"第{i}行。") for i in range(100)]])
    assert len(pages) == 3 and all(len(p.blocks) <= 45 for p in pages)


FAKE_SOFFICE = """#!/bin/sh
sleep 60 &
echo $! > "{pids}"
sleep 60
"""


def test_converter_timeout_kills_the_process_group(made, tmp_path, monkeypatch):
    pids = tmp_path / "child.pid"
    fake = tmp_path / "soffice"
    fake.write_text(FAKE_SOFFICE.format(pids=pids))
    fake.chmod(0o755)
    monkeypatch.setattr(convert, "SOFFICE", str(fake))
    monkeypatch.setattr(convert, "LOCK_DIR", tmp_path / "slots")
    started = time.monotonic()
    with pytest.raises(UnreadableFile) as caught:
        with convert.converted(made["doc"], "doc", "docx", timeout=1):
            pass
    assert caught.value.code == "conversion_timeout" and "超时" in caught.value.message
    assert time.monotonic() - started < 10
    child = int(pids.read_text())
    deadline = time.monotonic() + 5  # SIGKILL is delivered asynchronously
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child)


def _running(pid: int) -> bool:
    """Alive and not a zombie (orphans are not always reaped promptly inside containers)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_converter_waits_for_a_free_slot(made, tmp_path, monkeypatch):
    monkeypatch.setattr(convert, "LOCK_DIR", tmp_path)
    monkeypatch.setattr(convert, "MAX_CONVERSIONS", 1)
    monkeypatch.setattr(convert, "SLOT_WAIT_SECONDS", 0.5)
    with (tmp_path / "slot-0.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(UnreadableFile) as caught:
            with convert.converted(made["doc"], "doc", "docx"):
                pass
    assert caught.value.code == "converter_busy"


def test_converter_failure_is_reported(tmp_path):
    junk = tmp_path / "junk.doc"
    junk.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4000))
    with pytest.raises(UnreadableFile) as caught:
        parse_file(junk)
    assert caught.value.code in ("corrupt_office", "conversion_failed")
