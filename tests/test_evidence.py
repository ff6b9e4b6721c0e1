"""Evidence a person can see (web/evidence.py): a finding's page of the archived PDF with the clause and the
figures it quotes boxed, on the real Putuo 财政局 决算 archived and checked as the pipeline does, SQLite and
PostgreSQL. Where a box is drawn is compared with where pdfplumber (an independent reader) finds what it boxes."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pytest
from conftest import REAL_CORPUS
from fastapi.testclient import TestClient
from PIL import Image
from registry_fixture import SOURCE, add_document, add_source, at, database_url, sqlite_url  # noqa: F401  (fixtures)

from fiscalwatch.settings import Settings
from fiscalwatch.store.archive import archive
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Blob, DocumentRow, FindingRow, Version
from fiscalwatch.validators.checker import check_file
from fiscalwatch.web.app import create_app
from fiscalwatch.web.evidence import DPI, FIGURE_COLOURS, QUOTE_COLOURS
from fiscalwatch.workers.processing import store_result

PDF = REAL_CORPUS / "putuo_caizhengju_2024_dept_final.pdf"
SCALE = DPI / 72  # an A4 page stays below the pixel cap
SLACK = 5  # pixels: a box's padding and outline, and the ink inside pdfplumber's font-size boxes
# The evidence R-ROW writes, on the 财政拨款收入支出决算总表 (第13页), whose 总计 row prints 2,961.68 three times.
TOTAL_ROW = dict(rule="R-ROW", category="reconciliation", severity="error", page=13,
                 table_title="财政拨款收入支出决算总表", message="总计印为2961.68，按各项之和计算应为2961.69。",
                 evidence={"row": "总计", "printed": "2961.68", "computed": "2961.69", "difference": "-0.01"})

pytestmark = pytest.mark.skipif(not PDF.is_file(), reason=f"real corpus not found at {REAL_CORPUS}")


@pytest.fixture(scope="module")
def checked():
    return check_file(PDF)


@pytest.fixture
def site(database_url, tmp_path, checked):
    """The dashboard on a store holding the real 决算, checked; (client, settings, document id)."""
    settings = settings_for(database_url, tmp_path)
    with session_scope(database_url) as session:
        add_source(session)
    document_id = stored(settings, PDF, checked)
    return TestClient(create_app(settings)), settings, document_id


def settings_for(database_url: str, tmp_path: Path) -> Settings:
    # No micro-cache: tests add findings and read the document again at once.
    return Settings(database_url=database_url, storage_dir=tmp_path / "files", web_cache_seconds=0)


def stored(settings: Settings, path: Path, result) -> int:
    """A crawled document whose one version is the file at ``path``, archived, then stored as the pipeline stores
    its check (``result``: the file's check_file); returns the document's id."""
    sha256, relative = archive(settings.storage_dir, path.read_bytes())
    seen = at(date(2025, 9, 1))
    with session_scope(settings.database_url) as session:
        session.add(Blob(sha256=sha256, size=path.stat().st_size, path=relative, filename=path.name,
                         first_seen_at=seen, status="processing", attempts=1))
        document = DocumentRow(source_id=SOURCE, title=path.stem, first_seen_at=seen, last_seen_at=seen,
                            current_sha256=sha256)
        session.add(document)
        session.flush()
        session.add(Version(document_id=document.id, sha256=sha256, url=f"https://example.gov.cn/{path.name}",
                            seen_at=seen))
        document_id = document.id
    store_result(settings, sha256, result)
    return document_id


def add_finding(settings: Settings, document_id: int, **fields) -> int:
    with session_scope(settings.database_url) as session:
        row = FindingRow(sha256=session.get(DocumentRow, document_id).current_sha256, **fields)
        session.add(row)
        session.flush()
        return row.id


def findings(client: TestClient, document_id: int) -> list[dict]:
    return client.get(f"/api/documents/{document_id}").json()["findings"]


def of_rule(client: TestClient, document_id: int, rule: str) -> dict:
    return next(f for f in findings(client, document_id) if f["rule"] == rule)


def image_url(document_id: int, finding_id: int) -> str:
    return f"/documents/{document_id}/findings/{finding_id}/page.png"


def picture(response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def search(page_number: int, pattern: str) -> list[dict]:
    """Where pdfplumber finds ``pattern`` on the page (points from the top left)."""
    with pdfplumber.open(PDF) as pdf:
        return pdf.pages[page_number - 1].search(pattern, regex=True)


def outlines(image: Image.Image, colour: tuple) -> np.ndarray:
    return np.all(np.asarray(image.convert("RGB")) == colour[:3], axis=2)


def assert_boxed(mask: np.ndarray, places: list[dict]) -> None:
    """An outline around each of ``places`` (pdfplumber boxes, points) and none anywhere else."""
    elsewhere = mask.copy()
    for place in places:
        x0, top, x1, bottom = (round(place[k] * SCALE) for k in ("x0", "top", "x1", "bottom"))
        around = (slice(top - SLACK, bottom + SLACK), slice(x0 - SLACK, x1 + SLACK))
        assert mask[around].sum() >= 2 * ((x1 - x0) + (bottom - top)), place  # all four sides
        elsewhere[around] = False
    assert not elsewhere.any()


def test_the_stated_figure_and_its_clause_are_boxed_where_the_narrative_prints_them(site):
    client, _, document_id = site
    found = of_rule(client, document_id, "N-AMOUNT")  # 第21页: 收入支出总计0.3万元, the table's 2961.68
    assert (found["page"], found["evidence"]["stated"]) == (21, "0.3")
    assert found["page_image"] == image_url(document_id, found["id"]) and found["page_note"] is None
    response = client.get(found["page_image"])
    image = picture(response)
    with pdfplumber.open(PDF) as pdf:
        page = pdf.pages[20]
        assert abs(image.width - page.width * SCALE) <= 1 and abs(image.height - page.height * SCALE) <= 1
        stated = page.search(r"(?<![\d.])0\.3(?![\d])", regex=True)
        line = sorted((c for c in page.chars if abs(c["top"] - stated[0]["top"]) < 6), key=lambda c: c["x0"])
    assert len(stated) == 1
    assert response.headers["x-highlighted"] == "2" and response.headers["x-highlighted-figures"] == "quote stated"
    assert_boxed(outlines(image, FIGURE_COLOURS[1]), stated)
    # The clause opens the line and ends at its 。 (the line goes on: 与2023年度相比，…).
    text = "".join(c["text"] for c in line)
    assert text.startswith(found["evidence"]["quote"])
    clause = line[:len(found["evidence"]["quote"])]
    assert_boxed(outlines(image, QUOTE_COLOURS[1]), [{
        "x0": clause[0]["x0"], "x1": clause[-1]["x1"], "top": min(c["top"] for c in clause),
        "bottom": max(c["bottom"] for c in clause)}])


def test_zeros_are_boxed_only_inside_the_quoted_clause(site):
    client, _, document_id = site
    found = of_rule(client, document_id, "C-NARRATIVE")  # 第23页: 三公 年初预算0.95万元, 决算0.00万元, 0%
    assert (found["page"], found["evidence"]["budget"], found["evidence"]["actual"]) == (23, "0.95", "0")
    response = client.get(found["page_image"])
    image = picture(response)
    figures = search(23, r"(?<![\d.])(?:0\.95|0(?:\.00)?)(?![\d.])")
    # The clause runs to its second 完成预算的0%: the page's later zeros (公务用车…0.00万元, 0个) are not it.
    assert [f["text"] for f in figures[:5]] == ["0.95", "0.00", "0", "0.00", "0"] and len(figures) > 5
    assert_boxed(outlines(image, FIGURE_COLOURS[1]), figures[:5])
    assert set(response.headers["x-highlighted-figures"].split()) == {"quote", "budget", "actual"}


def test_a_table_figure_is_found_as_printed_with_thousands_separators(site):
    client, settings, document_id = site
    finding_id = add_finding(settings, document_id, **TOTAL_ROW)
    response = client.get(image_url(document_id, finding_id))
    image = picture(response)
    totals = search(13, r"2,961\.68")
    assert len(totals) == 3 and not search(13, r"2,?961\.69")  # the computed figure is printed nowhere
    assert response.headers["x-highlighted"] == "3" and response.headers["x-highlighted-figures"] == "printed"
    assert_boxed(outlines(image, FIGURE_COLOURS[1]), totals)
    assert not outlines(image, QUOTE_COLOURS[1]).any()


def test_figures_and_clauses_not_on_the_page_are_not_boxed(site):
    client, settings, document_id = site
    assert not search(21, r"123\.45")
    finding_id = add_finding(settings, document_id, rule="N-AMOUNT", category="reconciliation", severity="error",
                             page=21, message="…", evidence={"stated": "123.45", "quote": "本年收入合计123.45万元"})
    response = client.get(image_url(document_id, finding_id))
    image = picture(response)
    assert response.headers["x-highlighted"] == "0" and response.headers["x-highlighted-figures"] == ""
    assert not outlines(image, FIGURE_COLOURS[1]).any() and not outlines(image, QUOTE_COLOURS[1]).any()


def test_the_document_page_links_each_finding_to_its_page(site):
    client, _, document_id = site
    shown = findings(client, document_id)
    page = client.get(f"/documents/{document_id}").text
    sha256 = client.get(f"/api/documents/{document_id}").json()["sha256"]
    with_page = [f for f in shown if f["page"]]
    assert {f["rule"] for f in with_page} >= {"N-AMOUNT", "C-NARRATIVE"}
    for found in shown:
        assert f'id="finding-{found["id"]}"' in page
    for found in with_page:
        assert f'<img src="{image_url(document_id, found["id"])}" loading="lazy"' in page
        assert found["archive_page"] == f"/archive/{sha256}#page={found['page']}"
        assert f'href="{found["archive_page"]}"' in page
    assert page.count('<details class="page-image">') == len(with_page) and f"查看原文第{with_page[0]['page']}页" in page
    assert all(f["page_image"] is None and f["archive_page"] is None for f in shown if not f["page"])
    assert client.get(f"/archive/{sha256}").headers["content-type"] == "application/pdf"


def test_the_image_is_cached_by_content(site):
    client, _, document_id = site
    url = of_rule(client, document_id, "N-AMOUNT")["page_image"]
    first = client.get(url)
    assert first.headers["etag"] and "max-age" in first.headers["cache-control"]
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_pages_that_cannot_be_shown_answer_404_in_chinese(site):
    client, settings, document_id = site
    with session_scope(settings.database_url) as session:
        other = add_document(session, "濮阳市教育局2025年部门预算公开", date(2025, 2, 25), findings=[dict(
            rule="R-ROW", category="reconciliation", severity="error", message="…", page=4, table_title="收支总表",
            evidence={"printed": "120"})])  # its file was never archived
        other_id, other_finding = other.id, session.get(Blob, other.current_sha256).findings[0].id
    mine = of_rule(client, document_id, "N-AMOUNT")["id"]
    whole = next(f for f in findings(client, document_id) if f["page"] is None)["id"]
    beyond = add_finding(settings, document_id, rule="N-AMOUNT", category="reconciliation", severity="error",
                         page=99, message="…", evidence={"stated": "0.3"})
    for url, message in [
        (image_url(document_id, other_finding), "该文件没有这条核查发现"),
        (image_url(other_id, mine), "该文件没有这条核查发现"),
        (image_url(document_id, 999_999), "该文件没有这条核查发现"),
        (image_url(other_id, other_finding), "存档文件不存在"),
        (image_url(document_id, whole), "该核查发现针对全文，没有对应的页面"),
        (image_url(document_id, beyond), "第99页超出文件页数"),
    ]:
        response = client.get(url)
        assert (response.status_code, response.headers["content-type"]) == (404, "text/html; charset=utf-8"), url
        assert message in response.text, url
    shown = next(f for f in findings(client, document_id) if f["id"] == beyond)
    assert (shown["page_image"], shown["page_note"], shown["archive_page"]) == (None, "第99页超出文件页数", None)
    assert "未显示原文页面：第99页超出文件页数" in client.get(f"/documents/{document_id}").text


def test_a_file_that_is_no_pdf_says_why_no_page_is_shown(site):
    client, settings, _ = site
    with session_scope(settings.database_url) as session:
        sheet = add_document(session, "濮阳市民政局2025年部门预算表", date(2025, 2, 25), filename="预算表.xlsx",
                             findings=[dict(rule="R-ROW", category="reconciliation", severity="error", message="…",
                                            page=2, table_title="收支总表", evidence={"printed": "120"})])
        session.get(Blob, sheet.current_sha256).format = "xlsx"
        sheet_id = sheet.id
    shown = findings(client, sheet_id)[0]
    assert (shown["page_image"], shown["archive_page"]) == (None, None)
    assert shown["page_note"] == "原文件不是PDF，无法显示原文页面"
    page = client.get(f"/documents/{sheet_id}").text
    assert "未显示原文页面：原文件不是PDF，无法显示原文页面" in page and "page.png" not in page
    response = client.get(image_url(sheet_id, shown["id"]))
    assert response.status_code == 404 and "原文件不是PDF" in response.text


@pytest.mark.slow
def test_a_scanned_page_says_why_no_figure_is_boxed(sqlite_url, tmp_path):
    """A 决算 page published as a scan: OCR reads it, the page has no text layer to box figures on."""
    scan = tmp_path / "scan.pdf"
    with pdfium.PdfDocument(str(PDF)) as document:
        document[20].render(scale=200 / 72, grayscale=True).to_pil().save(scan, "PDF", resolution=200)
    result = check_file(scan)
    assert result.status == "ok" and list(result.document.ocr_pages) == [1]
    settings = settings_for(sqlite_url, tmp_path)
    with session_scope(sqlite_url) as session:
        add_source(session)
    document_id = stored(settings, scan, result)
    finding_id = add_finding(settings, document_id, rule="N-AMOUNT", category="reconciliation", severity="error",
                             page=1, message="…", evidence={"stated": "0.3"})
    client = TestClient(create_app(settings))
    shown = next(f for f in findings(client, document_id) if f["id"] == finding_id)
    assert shown["page_note"] == "第1页是扫描图像，没有文字层，无法标出所引数字的位置" and shown["page_image"] is None
    assert shown["archive_page"].endswith("#page=1")
    assert "未显示原文页面：第1页是扫描图像" in client.get(f"/documents/{document_id}").text
    response = client.get(image_url(document_id, finding_id))
    assert response.status_code == 404 and "扫描图像" in response.text
