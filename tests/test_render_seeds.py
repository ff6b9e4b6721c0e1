"""The seed renderer: every format is what it claims to be and carries the seed's content; ruled and
borderless tables; spill-over pages repeat headers; options mutate; outputs are cached."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pdfplumber
import pypdfium2 as pdfium
import pytest
from render_seeds import FORMATS, Request, render, render_many

OLE = b"\xd0\xcf\x11\xe0"  # .doc / .xls compound file


def pdf_texts(path: Path) -> list[str]:
    """Each page's text without whitespace (the text layer spaces out digits among CJK)."""
    document = pdfium.PdfDocument(str(path))
    try:
        return [re.sub(r"\s+", "", document[i].get_textpage().get_text_range()) for i in range(len(document))]
    finally:
        document.close()


@pytest.fixture(scope="module")
def formats_of_004() -> dict[str, Path]:
    return dict(zip(FORMATS, render_many([Request.of("004", fmt) for fmt in FORMATS])))


def test_every_format_is_what_it_claims(formats_of_004):
    files = formats_of_004
    assert files["pdf"].read_bytes()[:5] == b"%PDF-"
    assert files["scan-pdf"].read_bytes()[:5] == b"%PDF-"
    for fmt, member in (("docx", "word/document.xml"), ("xlsx", "xl/workbook.xml")):
        with zipfile.ZipFile(files[fmt]) as archive:
            assert member in archive.namelist()
    assert files["doc"].read_bytes()[:4] == OLE and files["xls"].read_bytes()[:4] == OLE
    page = files["html"].read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page and page.count("<table") >= 9 and "授予小微企业合同金额" in page
    gbk = files["html-gbk"].read_bytes()
    assert b'<meta charset="gbk">' in gbk
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    assert "鄂州市医疗保障服务中心" in gbk.decode("gb18030")


def test_zip_holds_the_pdf_and_workbook_in_one_folder(formats_of_004):
    with zipfile.ZipFile(formats_of_004["zip"]) as archive:
        names = archive.namelist()
        folder = "鄂州市医疗保障服务中心2022年度部门决算"
        assert names == [f"{folder}/{folder}.pdf", f"{folder}/{folder}.xlsx"]
        assert archive.read(names[0]) == formats_of_004["pdf"].read_bytes()


def test_workbook_has_a_sheet_per_table_with_merged_headers_and_numbers(formats_of_004):
    workbook = openpyxl.load_workbook(formats_of_004["xlsx"])
    assert "收入决算表" in workbook.sheetnames and workbook.sheetnames[-1] == "情况说明"
    sheet = workbook["收入决算表"]
    assert sheet["A1"].value == "收入决算表" and sheet.merged_cells.ranges
    values = [v for row in sheet.iter_rows(values_only=True) for v in row]
    assert 1067.01 in values and "2101504" in values  # figures as numbers, codes as text
    narrative = [row[0] for row in workbook["情况说明"].iter_rows(values_only=True)]
    assert any("授予小微企业合同金额 100 万元" in (text or "") for text in narrative)


def test_scan_has_the_pages_but_no_text(formats_of_004):
    texts = pdf_texts(formats_of_004["scan-pdf"])
    assert len(texts) == len(pdf_texts(formats_of_004["pdf"]))
    assert all(not text.strip() for text in texts)


def test_ruled_and_borderless_tables(seed_pdfs):
    """000 prints ruled tables; 001, like its original, prints aligned columns without rulings."""
    for seed, ruled in (("000", True), ("001", False)):
        texts = pdf_texts(seed_pdfs[seed])
        page = next(i for i, t in enumerate(texts) if "收入决算表" in t and "公开" in t)
        with pdfplumber.open(seed_pdfs[seed]) as pdf:
            lines = pdf.pages[page].lines + pdf.pages[page].rects
        assert bool(lines) is ruled, seed
        assert "2101301" in texts[page] or "2101301" in texts[page + 1]


def test_spill_over_pages_repeat_the_header(seed_pdfs):
    texts = pdf_texts(seed_pdfs["000"])
    first = next(i for i, t in enumerate(texts) if "公开01表" in t)
    continued = texts[first + 1]
    assert "栏次" in continued and "二十四、债务还本支出" in continued and "公开01表" not in continued


def test_drop_tables_and_replacements_mutate_the_seed(mutated_pdfs):
    dropped = "".join(pdf_texts(mutated_pdfs["dropped_three_public"]))
    assert "公开09表" not in dropped and "公开08表" in dropped
    assert "九、财政拨款“三公”经费支出决算表" in dropped  # the 目录 still promises it
    changed = "".join(pdf_texts(mutated_pdfs["changed_narrative"]))
    assert "收入合计1076.01万元" in changed and "收入合计1067.01万元" not in changed
    with pytest.raises(ValueError, match="not found"):
        render("004", "pdf", replacements={"no such text": "x"})
    with pytest.raises(ValueError, match="no table"):
        render("004", "pdf", drop_tables=("不存在的表",))
    with pytest.raises(ValueError, match="unknown format"):
        render("004", "odt")


def test_outputs_are_cached_and_keyed_by_options(tmp_path, seed_pdfs):
    cached = render("002", "pdf")
    assert cached == seed_pdfs["002"] and "build/fixtures" in cached.as_posix()
    stamp = cached.stat().st_mtime_ns
    assert render("002", "pdf").stat().st_mtime_ns == stamp  # not rendered again
    copy = render("002", "pdf", tmp_path)
    assert copy.parent == tmp_path and copy.read_bytes() == cached.read_bytes()
    assert Request.of("002", "pdf", drop_tables=("收入预算表",)).path != cached
