"""Versions: what changed between two parsed versions of a document (validators.version_diff), how the
replaced alert says it, and the real pipeline on a portal whose file is replaced at the same address — the
alert names the added table and the changed figure, once; the dashboard shows both versions side by side."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from pipeline_support import backend, rows, run_once, write_config
from portal import FixturePortal
from render_seeds import render
from webhook import WebhookReceiver

from fiscalwatch.alerts import DocumentInfo, Event, compose_event
from fiscalwatch.alerts.channels import unpack
from fiscalwatch.parsers import serialize
from fiscalwatch.parsers.model import Column, Document, Figure, Row, Sentence, Table
from fiscalwatch.settings import Settings, load_settings
from fiscalwatch.store.db import migrate, session_scope
from fiscalwatch.store.models import Alert, Blob, BlobContent, DocumentRow, Version
from fiscalwatch.store.models import Source as SourceRow
from fiscalwatch.validators.checker import check_file
from fiscalwatch.validators.version_diff import FigureChange, SentenceHunk, TableRef, VersionDiff, compare
from fiscalwatch.web.app import create_app

THREE_PUBLIC = "财政拨款“三公”经费支出决算表"
BASIC = "一般公共预算财政拨款基本支出决算明细表"
# Seed 004: the old version lacks the 三公 table; the new one has it, and 津贴补贴 123.86 → 132.86.
OLD = {"drop_tables": (THREE_PUBLIC,)}
NEW = {"replacements": {"30102\t津贴补贴\t123.86": "30102\t津贴补贴\t132.86"}}
CHANGED_FIGURE = f"《{BASIC}》30102 津贴补贴（人员经费/决算数）：123.86→132.86（第14页）"


# --- the comparison, on hand-made documents -----------------------------------------------------------

def _table(rows: list[Row], unit: str = "万元", title: str = "支出决算表") -> Table:
    return Table(kind="expense", title=title, page=rows[0].page, unit=unit,
                 columns=[Column("name", "项目"), Column("amount", "合计", "total")], rows=rows)


def _row(name: str, value: str, page: int = 3, code: str | None = None) -> Row:
    figure = Figure(Decimal(value), value)
    return Row(name=name, code=code, page=page, values={"total": figure}, cells={"合计": figure})


def test_same_figures_in_another_unit_or_on_another_page_are_no_change():
    old = Document(tables=[_table([_row("合计", "12.5"), _row("基本支出", "10")])])
    new = Document(tables=[_table([_row("合计", "125000", page=4), _row("基本支出", "100000", page=4)], unit="元")])

    assert compare(old, new).empty


def test_repeated_items_pair_in_order_and_new_rows_count_as_figures():
    old = Document(tables=[_table([_row("其他支出", "1", code="2010199"), _row("其他支出", "2"),
                                   _row("其他支出", "3")])])
    new = Document(tables=[_table([_row("其他支出", "1", code="2010199"), _row("其他支出", "2"),
                                   _row("其他支出", "4"), _row("其他支出", "5")])])

    assert compare(old, new).figures == [
        FigureChange("支出决算表", "其他支出", "合计", "3", "4", 3, 3),
        FigureChange("支出决算表", "其他支出", "合计", None, "5", None, 3)]


def test_tables_are_known_by_kind_and_title():
    old = Document(tables=[_table([_row("合计", "1")]), _table([_row("合计", "1")], title="收入决算表")])
    new = Document(tables=[_table([_row("合计", "1")], title="支 出 决 算 表")])

    diff = compare(old, new)
    assert (diff.tables_added, diff.tables_removed, diff.figures) == ([], [TableRef("expense", "收入决算表", 3)], [])


def test_sentences_split_differently_by_a_page_break_are_no_change_but_a_changed_one_is():
    old = Document(sentences=[Sentence("收入合计100万元，", 5, "收入"), Sentence("比上年增加5万元。", 6, "收入"),
                              Sentence("支出合计90万元。", 6, "支出")])
    moved = Document(sentences=[Sentence("收入合计100万元，比上年增加5万元。", 5, "收入"),
                                Sentence("支出合计 90万元。", 5, "支出")])
    changed = Document(sentences=[*old.sentences[:2], Sentence("支出合计99万元。", 6, "支出"),
                                  Sentence("主要原因是人员增加。", 6, "支出")])

    assert compare(old, moved).empty
    assert compare(old, changed).sentences == [SentenceHunk(
        [old.sentences[2]], [Sentence("支出合计99万元。", 6, "支出"), Sentence("主要原因是人员增加。", 6, "支出")])]


# --- the replaced alert --------------------------------------------------------------------------

INFO = DocumentInfo(title="鄂州市医疗保障服务中心2022年度部门决算", url="https://example.gov.cn/a.pdf", source_id="ez",
                    source_name="鄂州市医保", region="湖北省/鄂州市", entity="鄂州市医疗保障服务中心", year=2022,
                    kind="final", published=date(2023, 9, 1), sha256="ab12" * 16)


def _replaced(**changes) -> Event:
    return Event("replaced", document=INFO, previous_sha256="cd34" * 16, previous_seen=date(2023, 9, 1),
                 when=date(2023, 10, 8), **changes)


def test_the_alert_lists_what_changed_and_counts_what_it_does_not_list():
    figures = [FigureChange(BASIC, f"3010{n} 项目{n}", "人员经费/决算数", f"{n}.00", f"{n}.50", 14, 15)
               for n in range(25)]
    added = [Sentence(f"新增说明第{n}句。", 20, "") for n in range(3)]
    diff = VersionDiff(tables_added=[TableRef("three_public", THREE_PUBLIC, 17)], figures=figures,
                       sentences=[SentenceHunk([Sentence("原有说明。", 19, "")], added)])
    message = compose_event(_replaced(changes=diff, diff_url="https://fw.example.org/documents/1/versions/a..b"))

    assert message.title == ("文件被替换：鄂州市医疗保障服务中心2022年度决算（新增表格1张、数字变化25处、文字变化1处）")
    assert f"新增表格：《{THREE_PUBLIC}》（第17页）" in message.body and "删除表格" not in message.body
    assert "数字变化：25处" in message.body
    assert f"10. 《{BASIC}》30109 项目9（人员经费/决算数）：9.00→9.50（原第14页，现第15页）" in message.body
    assert "30110" not in message.body and "另有15处数字变化未逐条列出。" in message.body
    assert "文字变化：新增3句、删除1句" in message.body
    assert "新增：“新增说明第1句。”（第20页）" in message.body and "新增说明第2句" not in message.body
    assert "删除：“原有说明。”（原第19页）" in message.body
    assert "- 对比：https://fw.example.org/documents/1/versions/a..b" in message.body


def test_json_webhooks_get_the_changes_as_fields():
    diff = VersionDiff(figures=[FigureChange(BASIC, "30102 津贴补贴", "人员经费/决算数", "123.86", "132.86", 14, 14)])
    text, fields = unpack(compose_event(_replaced(changes=diff), "json").body)

    assert CHANGED_FIGURE in text
    assert fields["event"] == "replaced" and fields["document"]["sha256"] == INFO.sha256
    assert fields["changes"]["counts"] == {"tables_added": 0, "tables_removed": 0, "figures": 1,
                                           "sentences_added": 0, "sentences_removed": 0}
    assert fields["changes"]["figures"][0] == {"table": BASIC, "item": "30102 津贴补贴", "column": "人员经费/决算数",
                                               "old": "123.86", "new": "132.86", "old_page": 14, "new_page": 14}
    assert unpack(compose_event(_replaced(changes=diff)).body) == (text, {})  # other channels: the text alone


def test_versions_that_cannot_be_compared_say_why():
    message = compose_event(_replaced(not_compared="新版本无法读取（文件已损坏）"))

    assert message.title == "文件被替换：鄂州市医疗保障服务中心2022年度决算"
    assert message.body.endswith("两个版本的内容无法对比：新版本无法读取（文件已损坏）。")


# --- the diff page, on a store ---------------------------------------------------------------------

def test_the_diff_page_marks_what_changed_within_sentences_and_says_when_it_cannot_compare(tmp_path):
    db = f"sqlite:///{tmp_path / 'fw.db'}"
    migrate(db)
    texts = {"a" * 64: "支出合计90万元。", "b" * 64: "支出合计99万元。"}
    now = datetime(2023, 10, 8, tzinfo=timezone.utc)
    with session_scope(db) as session:
        session.add(SourceRow(id="ez", name="鄂州市医保", url="https://example.gov.cn/", interval_seconds=3600))
        for sha256, text in texts.items():
            session.add(Blob(sha256=sha256, size=1, path=sha256, first_seen_at=now, status="ok", attempts=1))
            session.add(BlobContent(sha256=sha256, content=serialize.to_dict(Document(sentences=[
                Sentence("收入合计100万元。", 5, ""), Sentence(text, 5, "")]))))
        session.add(Blob(sha256="c" * 64, size=1, path="c", first_seen_at=now, status="failed", attempts=1,
                         error="文件已损坏"))
        document = DocumentRow(source_id="ez", title="部门决算", first_seen_at=now, last_seen_at=now,
                               current_sha256="c" * 64)
        session.add(document)
        session.flush()
        session.add_all([Version(document_id=document.id, sha256=sha256, url="https://example.gov.cn/a.pdf",
                                 seen_at=now, superseded_at=None if sha256 == "c" * 64 else now)
                         for sha256 in (*texts, "c" * 64)])
        document_id = document.id
    client = TestClient(create_app(Settings(database_url=db, storage_dir=tmp_path)))

    page = client.get(f"/documents/{document_id}/versions/{'a' * 64}..{'b' * 64}").text
    assert "文字变化（删除1句，新增1句）" in page and "收入合计" not in page
    assert "支出合计9<del>0</del>万元。" in page and "支出合计9<ins>9</ins>万元。" in page
    broken = client.get(f"/documents/{document_id}/versions/{'b' * 64}..{'c' * 64}").text
    assert "两个版本的内容无法对比：新版本无法读取（文件已损坏）。" in broken
    versions = client.get(f"/documents/{document_id}").text
    assert versions.count("与上一版本对比") == 2
    assert client.get(f"/documents/{document_id}/versions/{'a' * 64}..{'a' * 64}").status_code == 404


# --- the comparison, on parsed seed renders ------------------------------------------------------

@pytest.mark.slow
def test_parsed_versions_differ_by_the_added_table_and_the_changed_figure_only():
    old, new = (check_file(render("004", "pdf", **options)).document for options in (OLD, NEW))
    diff = compare(old, new)

    assert [t.title for t in diff.tables_added] == [THREE_PUBLIC] and not diff.tables_removed
    assert diff.figures == [FigureChange(BASIC, "30102 津贴补贴", "人员经费/决算数", "123.86", "132.86", 14, 14)]
    assert not diff.sentences
    assert compare(new, old).tables_removed == diff.tables_added
    assert compare(new, check_file(render("004", "pdf", **NEW)).document).empty


@pytest.mark.slow
def test_a_changed_narrative_figure_is_one_changed_sentence():
    changes = {"2022 年度收入合计 1067.01 万元": "2022 年度收入合计 1076.01 万元"}
    old, new = (check_file(render("004", "pdf", replacements=options)).document for options in ({}, changes))
    diff = compare(old, new)

    assert not (diff.tables_added or diff.tables_removed or diff.figures)
    [hunk] = diff.sentences
    assert [s.text for s in hunk.removed] == [s.text.replace("1076.01", "1067.01") for s in hunk.added]
    assert "1076.01" in hunk.added[0].text


# --- the pipeline -----------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("kind", ["embedded", "distributed"])
def test_a_replaced_document_is_alerted_once_with_what_changed(kind, tmp_path):
    with FixturePortal() as portal, WebhookReceiver() as hooks, backend(kind, tmp_path) as store:
        db = store["database_url"]
        detail = portal.add_document("czyjs", "鄂州市医疗保障服务中心2022年度部门决算", date(2023, 9, 1),
                                     attachments=[("部门决算.pdf", render("004", "pdf", **OLD).read_bytes())])
        [url] = portal.attachment_urls(detail)
        config = write_config(tmp_path, store, [{"id": "ez", "name": "鄂州市医保", "url": portal.section_url("czyjs"),
                                                 "region": "湖北省/鄂州市"}],
                              [{"url": hooks.url_for("/ngo")}], dashboard_url="https://fw.example.org")
        run_once(config)
        [first] = hooks.wait_for(1, path="/ngo")
        assert THREE_PUBLIC in first.message  # the old version's missing table

        # The replacement: one alert says what changed, and the new version's findings have their own.
        portal.replace_attachment(url, render("004", "pdf", **NEW).read_bytes())
        run_once(config)
        later = hooks.wait_for(3, path="/ngo")[1:]
        [replaced] = [m for m in later if m.title.startswith("文件被替换")]
        [findings] = [m for m in later if m is not replaced]
        [document] = rows(db, DocumentRow)
        old_sha, new_sha = first.body["alert"]["document"]["sha256"], document.current_sha256
        assert findings.body["alert"]["document"]["sha256"] == new_sha and "R-HIER" in {
            f["rule"] for f in findings.body["alert"]["findings"]}
        assert replaced.title == "文件被替换：鄂州市医疗保障服务中心2022年度决算（新增表格1张、数字变化1处）"
        assert f"新增表格：《{THREE_PUBLIC}》（第17页）" in replaced.message
        assert f"数字变化：1处\n1. {CHANGED_FIGURE}" in replaced.message
        assert "删除表格" not in replaced.message and "文字变化" not in replaced.message
        diff_path = f"/documents/{document.id}/versions/{old_sha}..{new_sha}"
        changes = replaced.body["alert"]["changes"]
        assert replaced.body["alert"]["diff_url"] == "https://fw.example.org" + diff_path
        assert changes["counts"] == {"tables_added": 1, "tables_removed": 0, "figures": 1, "sentences_added": 0,
                                     "sentences_removed": 0}

        # The dashboard shows the two versions side by side, linked from the document's versions.
        client = TestClient(create_app(load_settings(config)))
        assert f'href="{diff_path}"' in client.get(f"/documents/{document.id}").text
        page = client.get(diff_path)
        assert page.status_code == 200
        assert f"<ins>《{THREE_PUBLIC}》</ins>（第17页）" in page.text and "数字变化（1处）" in page.text
        assert re.search(r'class="old">123\.86 <span class="muted">第14页</span>', page.text)
        assert re.search(r'class="new">132\.86 <span class="muted">第14页</span>', page.text)
        api = client.get("/api" + diff_path).json()
        assert api["changes"]["figures"] == [changes["figures"][0]] and api["not_compared"] is None
        assert client.get(f"/documents/{document.id}/versions/{new_sha}..{'0' * 64}").status_code == 404

        # A broken replacement cannot be compared, and the alert says why.
        portal.replace_attachment(url, render("004", "pdf", **OLD).read_bytes()[:3000])
        run_once(config)
        [broken] = hooks.wait_for(4, path="/ngo")[3:]
        assert broken.title == "文件被替换：鄂州市医疗保障服务中心2022年度部门决算"  # unread: named by its title
        assert "两个版本的内容无法对比：新版本无法读取（" in broken.message
        assert broken.body["alert"]["changes"] is None

        # Nothing is alerted twice.
        run_once(config)
        run_once(config)
        assert len(hooks.messages("/ngo")) == 4
        assert len([a for a in rows(db, Alert) if a.key.startswith("replaced|")]) == 2
