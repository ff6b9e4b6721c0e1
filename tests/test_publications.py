"""A publication in several files (情况说明 and 报表 as separate attachments of one detail page) is
judged on all of them together, by `check_publication` and by the pipeline; a file that is not a
disclosure ends as `not_a_disclosure` with no findings and no alert."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pikepdf
import pytest
from pipeline_support import backend, rows, run_once, write_config
from portal import FixturePortal
from render_seeds import render
from webhook import WebhookReceiver

from fiscalwatch.store.models import Blob, FindingRow
from fiscalwatch.validators.checker import check_file, check_publication

WILD = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "wild"
THREE_PUBLIC = "three_public"


def _pages(source: Path, keep, target: Path) -> Path:
    with pikepdf.open(source) as pdf:
        out = pikepdf.new()
        out.pages.extend(p for n, p in enumerate(pdf.pages, start=1) if keep(n))
        out.save(target)
    return target


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> tuple[Path, Path]:
    """Seed 004 cut in two: its text (cover, 目录, 情况说明) and its tables without the 三公 table."""
    whole = render("004", "pdf")
    doc = check_file(whole).document
    table_pages = {p for t in doc.tables for p in (t.pages or [t.page])}
    three_public = set(doc.table(THREE_PUBLIC).pages or [doc.table(THREE_PUBLIC).page])
    folder = tmp_path_factory.mktemp("publication")
    text = _pages(whole, lambda n: n not in table_pages, folder / "情况说明.pdf")
    tables = _pages(whole, lambda n: n in table_pages and n not in three_public, folder / "报表.pdf")
    return text, tables


def missing(result) -> list:
    return [f for f in result.findings if f.category == "missing_table" and f.severity == "error"]


def test_each_part_alone_claims_no_missing_table_the_union_shows(parts):
    text, tables = parts
    alone = check_file(text)
    assert alone.status == "ok" and not missing(alone)
    assert [f.rule for f in alone.findings if f.rule == "M-TABLES-ELSEWHERE"] == ["M-TABLES-ELSEWHERE"]
    assert not [f for f in check_file(tables).findings if f.rule == "M-REQUIRED" and f.severity == "error"]

    publication = check_publication([text, tables])
    assert publication.status == "ok" and len(publication.members) == 2
    assert [f.evidence["expected"] for f in missing(publication)] == ["财政拨款“三公”经费支出决算表"]
    assert not [f for f in publication.findings if f.rule == "M-TABLES-ELSEWHERE"]
    # Each file's own checks are kept and say which file they are about.
    low = [f for f in publication.findings if f.category == "low_completion"]
    assert low and all(f.evidence["file"] == str(text) for f in low)


def test_a_page_and_a_form_are_not_disclosures():
    for name in ("jinan_yjj-ysqlct_na_other.pdf", "changsha_czj_na_portal_list.html"):
        result = check_file(WILD / name)
        assert (result.status, result.findings) == ("not_a_disclosure", []), name
        assert result.to_dict()["not_a_disclosure"]


def test_pipeline_judges_the_attachments_of_one_page_together(parts, tmp_path):
    text, tables = parts
    with FixturePortal() as portal, WebhookReceiver() as hooks, backend("embedded", tmp_path) as store:
        both = portal.add_document("czyjs", "鄂州市医疗保障服务中心2022年度部门决算", date(2023, 9, 1),
                            attachments=[("情况说明.pdf", text.read_bytes()), ("报表.pdf", tables.read_bytes())])
        # A file attached under a disclosure's title that is really a 依申请公开 flow chart.
        form = portal.add_document("czyjs", "某局2022年度部门决算公开", date(2023, 9, 2),
                            attachments=[("附件.pdf", (WILD / "jinan_yjj-ysqlct_na_other.pdf").read_bytes())])
        config = write_config(tmp_path, store, [{"id": "czyjs", "name": "财政局门户", "url": portal.section_url("czyjs")}],
                              [{"url": hooks.url_for("/ngo")}])
        run_once(config)

        db = store["database_url"]
        blobs = {b.filename: b for b in rows(db, Blob)}

        def findings(blob):
            return rows(db, FindingRow, FindingRow.sha256 == blob.sha256)

        (form_url,), (text_url, tables_url) = portal.attachment_urls(form), portal.attachment_urls(both)
        form_blob = blobs[form_url.rsplit("/", 1)[1]]
        assert form_blob.status == "not_a_disclosure" and form_blob.error and not findings(form_blob)
        text_blob, tables_blob = (blobs[url.rsplit("/", 1)[1]] for url in (text_url, tables_url))
        assert (text_blob.status, tables_blob.status) == ("ok", "ok")
        # The publication's completeness lives on its main file, once, whichever file was processed last.
        assert [f.evidence["expected"] for f in findings(tables_blob)
                if f.rule == "M-REQUIRED" and f.severity == "error"] == ["财政拨款“三公”经费支出决算表"]
        assert not [f for f in findings(text_blob) if f.category == "missing_table"]
        titles = [m.title for m in hooks.wait_for(2, path="/ngo")]
        assert not [t for t in titles if "某局" in t]
