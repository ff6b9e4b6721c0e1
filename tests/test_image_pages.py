"""A budget published as a series of scanned page images, in a detail page or as image attachments, is read
as one document in page order: its tables go on from one image to the next, as in the scanned PDF."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import pytest
from pipeline_support import backend, rows, run_once, write_config
from portal import FixturePortal
from render_seeds import render
from webhook import WebhookReceiver

from fiscalwatch.crawlers import Fetcher, MemoryPageCache, discover
from fiscalwatch.crawlers.image_pages import bundle, fetch_image_pages
from fiscalwatch.crawlers.ratelimit import LocalRateLimiter
from fiscalwatch.settings import Settings, SourceConfig
from fiscalwatch.store.models import Blob, DocumentRow
from fiscalwatch.validators.checker import check_file
from fiscalwatch.workers.fetching import followed_files

SEED = "003"
ICON = '<p><img src="/images/icon_print.gif">打印</p>'  # page furniture inside the content: never fetched


@pytest.fixture(scope="module")
def pages() -> list[int]:
    """The seed's title page, its 收入支出决算总表 (printed over two pages) and the page stating a
    completion rate: enough to show a table read across images and an anomaly found on them."""
    text = check_file(render(SEED, "pdf"))
    summary = next(t for t in text.document.tables if t.kind == "summary")
    rate = next(f.page for f in text.findings if f.rule == "C-NARRATIVE")
    assert len(summary.pages) == 2
    return sorted({1, *summary.pages, rate})


@pytest.fixture(scope="module")
def jpegs(pages) -> list[bytes]:
    document = pdfium.PdfDocument(str(render(SEED, "scan-pdf")))
    images = []
    for page in pages:
        buffer = io.BytesIO()
        document[page - 1].render(scale=150 / 72, grayscale=True).to_pil().save(buffer, "JPEG", quality=90,
                                                                                 dpi=(150, 150))
        images.append(buffer.getvalue())
    return images


@pytest.fixture(scope="module")
def text_part(pages, tmp_path_factory) -> Path:
    part = pdfium.PdfDocument.new()
    part.import_pages(pdfium.PdfDocument(str(render(SEED, "pdf"))), [p - 1 for p in pages])
    target = tmp_path_factory.mktemp("image-pages") / "text.pdf"
    part.save(str(target))
    return target


def _fetcher() -> Fetcher:
    return Fetcher(Settings(fetch_retries=0, requests_per_second=0), LocalRateLimiter(0),
                   allowed_networks=["127.0.0.1/32"])


def test_an_image_only_detail_page_is_one_document(tmp_path, jpegs):
    with FixturePortal() as portal:
        detail = portal.add_document("czyjs", "临汾市医疗保险服务中心2023年度单位决算公开", date(2024, 9, 30),
                                     body=ICON, pictures=[(f"{n}.jpg", j) for n, j in enumerate(jpegs, 1)])
        linked = portal.add_document("czyjs", "某中心2023年度单位决算公开", date(2024, 9, 29),
                                     attachments=[(f"第{n}页.jpg", j) for n, j in enumerate(jpegs[:2], 1)])
        portal.add_document("czyjs", "某局2024年部门预算", date(2024, 3, 1), body=ICON,
                            attachments=[("部门预算.pdf", render("002", "pdf").read_bytes())])
        fetcher = _fetcher()
        found = discover(SourceConfig(id="s", name="门户", url=portal.section_url("czyjs")), fetcher, MemoryPageCache(),
                         files=followed_files())
        kinds = {d.url: d.kind for d in found.documents}
        # The pictures of one page and the image files another links to are one document each; the PDF is its own.
        assert sorted(kinds.values()) == ["attachment", "image_pages", "image_pages"], kinds
        assert kinds[detail] == kinds[linked] == "image_pages"
        with zipfile.ZipFile(io.BytesIO(fetch_image_pages(fetcher, linked, followed_files()).content)) as archive:
            assert [archive.read(name) for name in archive.namelist()] == jpegs[:2]

        first = fetch_image_pages(fetcher, detail, followed_files())
        assert first.ok, first.error
        with zipfile.ZipFile(io.BytesIO(first.content)) as archive:
            assert [archive.read(name) for name in archive.namelist()] == jpegs  # every page, in order
        again = fetch_image_pages(fetcher, detail, followed_files())
        assert again.content == first.content  # the same images make the same bytes: no new version
        assert portal.hits("/images/icon_print.gif") == []

        portal.replace_attachment(portal.picture_urls(detail)[1], jpegs[0])
        changed = fetch_image_pages(fetcher, detail, followed_files())
        assert changed.ok and changed.content != first.content


def test_an_image_that_cannot_be_had_fails_the_fetch_whole(tmp_path, jpegs):
    with FixturePortal() as portal:
        detail = portal.add_document("czyjs", "某中心2023年度单位决算公开", date(2024, 9, 30),
                                     pictures=[("1.jpg", jpegs[0]), ("2.jpg", jpegs[1]), ("3.jpg", jpegs[2])])
        second, third = portal.picture_urls(detail)[1:]
        portal.fail_next(urlsplit(second).path, times=1, status=404)
        missing = fetch_image_pages(_fetcher(), detail, followed_files())
        assert missing.error_code == "not_found" and "第2页" in missing.error and not missing.content.startswith(b"PK")
        portal.replace_attachment(third, "<!DOCTYPE html><html><body>文件不存在</body></html>".encode())
        soft = fetch_image_pages(_fetcher(), detail, followed_files())
        assert soft.error_code == "html_instead_of_file" and "第3页" in soft.error


def test_page_images_read_as_one_document_like_the_scanned_pages(tmp_path, jpegs, text_part):
    """The bundle the crawler makes, and a zip of page scans named as people name them (2 before 10)."""
    shuffled = tmp_path / "pages.zip"
    with zipfile.ZipFile(shuffled, "w") as archive:
        for number in reversed(range(len(jpegs))):
            archive.writestr(f"第{number * 5 + 1}页.jpg", jpegs[number])  # 第1页, 第6页, 第11页, …
    bundled = tmp_path / "bundle.zip"
    bundled.write_bytes(bundle([(f"https://x/{n}.jpg", j) for n, j in enumerate(jpegs)]))
    text = check_file(text_part)
    for path in (bundled, shuffled):
        result = check_file(path)
        assert result.ok and result.document.format == "image", result.error
        assert sorted(result.document.ocr_pages) == list(range(1, len(jpegs) + 1))
        assert [(t.kind, t.pages) for t in result.document.tables] == [(t.kind, t.pages) for t in text.document.tables]
        assert ({(f.rule, f.severity) for f in result.findings if f.category in ("low_completion", "missing_table")}
                == {(f.rule, f.severity) for f in text.findings if f.category in ("low_completion", "missing_table")})


def test_image_only_disclosure_through_the_pipeline(tmp_path, jpegs):
    """With ocr_max_pages=1 the first read sees only the title page; the one alert comes after the whole read."""
    with FixturePortal() as portal, WebhookReceiver() as hooks, backend("embedded", tmp_path) as store:
        portal.add_document("czyjs", "临汾市医疗保险服务中心2023年度单位决算公开", date(2024, 9, 30),
                            body=ICON, pictures=[(f"{n}.jpg", j) for n, j in enumerate(jpegs, 1)])
        config = write_config(tmp_path, store, [{"id": "czyjs", "name": "财政局门户",
                                                 "url": portal.section_url("czyjs")}],
                              [{"url": hooks.url_for("/ngo")}], ocr_max_pages=1, tick_seconds=1)
        run_once(config)
        db = store["database_url"]
        [blob] = rows(db, Blob)
        assert (blob.status, blob.format, blob.pages) == ("ok", "image", len(jpegs)), (blob.error_code, blob.error)
        assert blob.ocr_unread == 0 and blob.report["document"]["unreadable_pages"] == []
        assert [d.kind for d in rows(db, DocumentRow)] == ["image_pages"]
        [alert] = hooks.messages("/ngo")
        assert "临汾市医疗保险服务中心" in alert.title and "29.98%" in alert.message
