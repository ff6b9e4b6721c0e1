"""The seed renderer: every format is what it claims to be and carries the seed's content; ruled and
borderless tables; spill-over pages repeat headers; options mutate; outputs are cached; the layouts
(narrow, plain, regrouped, broken) rearrange the same cells; printed workbooks and web pages are A4 PDFs."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import pdfplumber
import pypdfium2 as pdfium
import pytest
from render_seeds import FORMATS, LAYOUTS, Grid, Request, build_model, group_title, render, render_many, written_tables

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


# ------------------------------------------------------------ layouts and printed formats


@pytest.fixture(scope="module")
def variants_of_004() -> dict[str, Path]:
    requests = {layout: Request.of("004", "pdf", layout=layout) for layout in LAYOUTS if layout}
    requests |= {fmt: Request.of("004", fmt) for fmt in ("pdf-calc", "pdf-chromium", "docx")}
    requests["docx-breaks"] = Request.of("004", "docx", layout="breaks")
    requests["docx-narrow"] = Request.of("004", "docx", layout="narrow")
    return dict(zip(requests, render_many(requests.values())))


def triplets(blocks) -> list[tuple[str, str, str]]:
    grids = [b for b in blocks if isinstance(b, Grid) and "基本支出" in group_title(blocks, b.group)]
    cells = [c for g in grids for row in g.rows for c in row]
    return sorted((cells[i], cells[i + 1], cells[i + 2]) for i in range(len(cells) - 2)
                  if re.fullmatch(r"\d{3}(\d{2})?", cells[i]) and cells[i + 1])


def test_regrouped_basic_table_keeps_every_item_and_both_totals():
    base = build_model("004")
    for groups in (3, 4):
        blocks = build_model("004", layout=f"groups{groups}")
        grids = [b for b in blocks if isinstance(b, Grid) and "基本支出" in group_title(blocks, b.group)]
        assert len(grids) == 1 and grids[0].width == 3 * groups
        assert triplets(blocks) == triplets(base) and len(triplets(base)) > 60
        closing = grids[0].rows[-1]
        assert (closing[0], closing[2], closing[3], closing[-1]) == ("人员经费合计", "619.94", "公用经费合计", "193.97")
    assert build_model("002", layout="groups4") == build_model("002")  # no code | name | amount groups


def test_breaks_cut_long_tables_and_never_repeat_headers(variants_of_004):
    blocks = build_model("004", layout="breaks")
    summary = [b for b in blocks if isinstance(b, Grid) and b.group == 1]
    assert len(summary) == 2 and summary[1].continuation and summary[1].header_rows == 0
    assert all(not b.repeat_header for b in blocks if isinstance(b, Grid))
    with zipfile.ZipFile(variants_of_004["docx-breaks"]) as archive:
        assert b"tblHeader" not in archive.read("word/document.xml")
    with zipfile.ZipFile(variants_of_004["docx"]) as archive:
        assert b"tblHeader" in archive.read("word/document.xml")
    texts = pdf_texts(variants_of_004["breaks"])
    first = next(i for i, t in enumerate(texts) if "公开01表" in t)
    assert "栏次" in texts[first] and "栏次" not in texts[first + 1] and "总计" in texts[first + 1]


def test_narrow_columns_wrap_names_and_plain_tables_have_no_rulings(variants_of_004):
    from docx import Document as Word

    table = Word(str(variants_of_004["docx-narrow"])).tables[0]
    widths = [cell.width.pt for cell in table.rows[5].cells]
    assert max(widths) < 60  # 4 characters of 9-point type and the cell margins
    lines = {}
    for layout in ("narrow", "plain"):
        page = next(i for i, t in enumerate(pdf_texts(variants_of_004[layout])) if "公开01表" in t)
        with pdfplumber.open(variants_of_004[layout]) as pdf:
            lines[layout] = [re.sub(r"\s+", "", l["text"]) for l in pdf.pages[page].extract_text_lines()]
            rulings = pdf.pages[page].lines + pdf.pages[page].rects
        assert bool(rulings) is (layout == "narrow"), layout
    name = "一般公共预算财政拨款收入"
    assert any(name in line for line in lines["plain"]) and not any(name in line for line in lines["narrow"])


def test_printed_workbook_and_web_page_are_a4_pdfs_with_the_seed(variants_of_004):
    for fmt in ("pdf-calc", "pdf-chromium"):
        path = variants_of_004[fmt]
        assert path.read_bytes()[:5] == b"%PDF-"
        document = pdfium.PdfDocument(str(path))
        sizes = {tuple(round(v) for v in document[i].get_size()) for i in range(len(document))}
        document.close()
        assert sizes <= {(595, 842), (842, 595)}, (fmt, sizes)  # A4, portrait or landscape
        text = "".join(pdf_texts(path))
        assert "收入决算表" in text and "1,067.01" in text and "授予小微企业合同金额100万元" in text
        assert "file:" not in text  # Chromium prints no header or footer
    first = pdf_texts(variants_of_004["pdf-calc"])[0]
    assert "鄂州市医疗保障服务中心" in first  # the cover sheet comes first


def test_wide_tables_go_on_landscape_pages():
    path = render("002", "pdf")
    texts = pdf_texts(path)
    page = next(i for i, t in enumerate(texts) if "部门收入预算表" in t and "单位：万元" in t)
    document = pdfium.PdfDocument(str(path))
    width, height = document[page].get_size()
    portrait = document[0].get_size()
    document.close()
    assert width > height and portrait[0] < portrait[1]
    # The first column (代码) and the last ones (上年结转结余/财政专户管理资金, 单位资金) are on the page.
    assert "521濮阳市医疗保障局" in texts[page] and texts[page].count("财政专户管理资金") == 2


def test_written_cells_are_the_seed_text():
    tables = dict(written_tables(Request.of("002", "pdf")))
    basic = tables["2024 年一般公共预算基本支出表"]
    assert ["3030201", "退休人员个人支出", "50905", "离退休费", "14.41", "14.41", ""] in basic
    assert all(len(row) == 7 for row in basic)  # seven columns, not re-slotted as code | name | amount
    summary = next(rows for title, rows in written_tables(Request.of("003", "pdf")) if title == "收入支出决算总表")
    assert ["政府性基金预算财政拨款收入", "2"] in summary  # rows without figures are rows too
    with pytest.raises(ValueError, match="unknown layout"):
        Request.of("004", "pdf", layout="sideways")
