"""Documents checked against the documents the archive holds: a 决算's 年初预算 figures against its year's
预算, and the last-year figures a document's changes imply against last year's document.

The 决算 and this year's 预算 are seeds 000 and 002 rendered as PDFs. No seed has its counterpart, so the
counterparts are written here as the detail pages such documents are published as: 济源市社会医疗保险中心's
2023 预算 prints the 年初预算 of every item seed 000's narrative explains (its 第21页, items 1–14, reviewed
against the seed text) plus one item the narrative does not name, making up its stated total of 6,175.80万元;
濮阳市医疗保障局's 2023 预算 prints the 收支总计 that seed 002's “支出减少3833.33万元” implies (1962.11 + 3833.33)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import REAL_CORPUS
from pipeline_support import fiscalwatch, rows, write_config
from portal import FixturePortal
from registry_fixture import sqlite_url  # noqa: F401  (fixture)
from render_seeds import render
from webhook import WebhookReceiver

from fiscalwatch.parsers import parse_file
from fiscalwatch.store.models import Alert, Blob, FindingRow
from fiscalwatch.validators.cross_documents import BUDGET_FINAL, PREVIOUS_YEAR, Pair

# (code, name, 年初预算 of a 项) as seed 000 prints codes and names (第16–17页) and its narrative the budgets.
JIYUAN_ITEMS = [
    ("208", "社会保障和就业支出"), ("20801", "人力资源和社会保障管理事务"), ("2080107", "社会保险业务管理事务", "35.00"),
    ("2080108", "信息化建设", "5.20"), ("2080109", "社会保险经办机构", "527.70"), ("20805", "行政事业单位养老支出"),
    ("2080501", "行政单位离退休", "22.60"), ("2080502", "事业单位离退休", "15.30"),
    ("2080505", "机关事业单位基本养老保险缴费支出", "101.90"), ("20899", "其他社会保障和就业支出"),
    ("2089999", "其他社会保障和就业支出", "13.60"), ("210", "卫生健康支出"), ("21011", "行政事业单位医疗"),
    ("2101199", "其他行政事业单位医疗支出", "794.50"), ("21013", "医疗救助"), ("2101301", "城乡医疗救助", "1035.50"),
    ("21015", "医疗保障管理事务"), ("2101501", "行政运行", "862.10"), ("2101506", "医疗保障经办事务", "31.00"),
    ("2101550", "事业运行", "2016.70"), ("21099", "其他卫生健康支出"), ("2109999", "其他卫生健康支出", "627.60"),
    ("221", "住房保障支出"), ("22102", "住房改革支出"), ("2210201", "住房公积金", "87.10")]
JIYUAN_TITLE = "济源市社会医疗保险中心2023年度单位预算"
REAL = REAL_CORPUS
PUYANG_TITLE = "濮阳市医疗保障局2023年度部门汇总预算"


def jiyuan_budget(changed: dict[str, str] | None = None) -> str:
    """The 2023 预算 page; ``changed``: 项 code → the 年初预算 it prints instead (the total stays, so the
    unnamed 2109999 takes up the difference and the table still adds up)."""
    leaves = {code: Decimal(budget[0]) for code, _, *budget in JIYUAN_ITEMS if budget}
    for code, value in (changed or {}).items():
        leaves["2109999"] -= Decimal(value) - leaves[code]
        leaves[code] = Decimal(value)

    def amount(prefix: str) -> str:
        return f"{sum(v for c, v in leaves.items() if c.startswith(prefix)):.2f}"

    lines = "".join(f"<tr><td>{code}</td><td>{name}</td><td>{amount(code)}</td><td>{amount(code)}</td><td>0.00</td></tr>"
                    for code, name, *_ in JIYUAN_ITEMS)
    return f"""<h1>{JIYUAN_TITLE}</h1>
<h2>第一部分 单位概况</h2><p>一、单位职责</p>
<h2>第二部分 2023年度单位预算情况说明</h2>
<p>一、一般公共预算支出预算情况说明</p><p>济源市社会医疗保险中心2023年一般公共预算支出预算{amount('')}万元。</p>
<h2>第三部分 2023年度单位预算表</h2>
<h3>一般公共预算支出预算表</h3><p>单位：万元</p>
<table border="1"><tr><td>功能分类科目编码</td><td>科目名称</td><td>合计</td><td>基本支出</td><td>项目支出</td></tr>
<tr><td></td><td>合计</td><td>{amount('')}</td><td>{amount('')}</td><td>0.00</td></tr>{lines}</table>"""


def puyang_last_year(total: str = "5795.44") -> str:
    carried = f"{Decimal(total) - Decimal('5696.18'):.2f}"
    return f"""<h1>{PUYANG_TITLE}</h1>
<h2>第一部分 概况</h2><p>一、主要职能</p>
<h2>第二部分 濮阳市医疗保障局2023年部门汇总预算情况说明</h2>
<p>一、收入支出预算总体情况说明</p><p>濮阳市医疗保障局2023年收入总计{total}万元，支出总计{total}万元。</p>
<h2>第三部分 2023年部门汇总预算表</h2>
<h3>2023年部门收支预算表</h3><p>单位：万元</p>
<table border="1"><tr><td colspan="2">收入</td><td colspan="2">支出</td></tr>
<tr><td>项目</td><td>预算数</td><td>项目</td><td>预算数</td></tr>
<tr><td>一、一般公共预算</td><td>5696.18</td><td>一、社会保障和就业支出</td><td>{total}</td></tr>
<tr><td>二、上年结转</td><td>{carried}</td><td></td><td></td></tr>
<tr><td>收入总计</td><td>{total}</td><td>支出总计</td><td>{total}</td></tr></table>"""


def _page(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(f'<html><head><meta charset="utf-8"><title>{name}</title></head><body>{body}</body></html>',
                    encoding="utf-8")
    return path


def test_a_final_s_year_start_budgets_match_its_budget_except_the_changed_item(tmp_path):
    final = parse_file(render("000", "pdf"))
    same = parse_file(_page(tmp_path, "same.html", jiyuan_budget()))
    assert same.kind == "budget" and (same.entity, same.year, same.level) == (final.entity, final.year, final.level)
    assert BUDGET_FINAL.run(Pair(final, same, f"《{JIYUAN_TITLE}》")) == []

    changed = parse_file(_page(tmp_path, "changed.html", jiyuan_budget({"2080108": "15.20"})))
    [finding] = BUDGET_FINAL.run(Pair(final, changed, f"《{JIYUAN_TITLE}》"))
    assert (finding.rule, finding.severity, finding.page) == ("A-BUDGET-FINAL", "error", 21)
    evidence = finding.evidence
    assert (evidence["code"], evidence["stated"], evidence["budget"], evidence["difference"]) == (
        "2080108", "5.20", "15.20", "-10")
    assert "信息化建设（项）”年初预算为5.20万元" in finding.message and "2080108 信息化建设为15.20万元" in finding.message
    # A table of the 预算 read unreliably is not compared.
    assert BUDGET_FINAL.run(Pair(final, changed, "", doubted={changed.tables[0].title})) == []


def putuo_three_public(total: str) -> str:
    """上海市普陀区财政局's 2024 预算 as far as its 三公 table (one row, this year's 预算数 by its header)."""
    return f"""<h1>上海市普陀区财政局2024年度部门预算</h1>
<h2>一、部门主要职能</h2><h2>二、部门预算编制说明</h2><p>2024年“三公”经费预算数为{total}万元。</p>
<h3>部门“三公”经费和机关运行经费预算表</h3><p>单位：万元</p>
<table border="1"><tr><td colspan="6">“三公”经费预算数</td><td rowspan="3">机关运行经费预算数</td></tr>
<tr><td rowspan="2">合计</td><td rowspan="2">因公出国(境)费</td><td rowspan="2">公务接待费</td>
<td colspan="3">公务用车购置及运行费</td></tr><tr><td>小计</td><td>购置费</td><td>运行费</td></tr>
<tr><td>{total}</td><td>0.00</td><td>{total}</td><td>0.00</td><td>0.00</td><td>0.00</td><td>200.00</td></tr></table>"""


def test_a_final_s_three_public_year_start_budget_against_its_budget_s_table(tmp_path):
    final = parse_file(REAL / "putuo_caizhengju_2024_dept_final.pdf")  # p23: 三公 年初预算为0.95万元
    same = parse_file(_page(tmp_path, "same.html", putuo_three_public("0.95")))
    assert BUDGET_FINAL.run(Pair(final, same, "《2024年度部门预算》")) == []
    [finding] = BUDGET_FINAL.run(Pair(final, parse_file(_page(tmp_path, "changed.html", putuo_three_public("1.95"))),
                                      "《2024年度部门预算》"))
    assert (finding.page, finding.evidence["stated"], finding.evidence["budget"]) == (23, "0.95", "1.95")
    assert "“三公”经费合计为1.95万元" in finding.message


def test_last_year_s_figure_implied_by_a_change_against_last_year_s_document(tmp_path):
    budget = parse_file(render("002", "pdf"))
    same = parse_file(_page(tmp_path, "same.html", puyang_last_year()))
    assert (same.entity, same.year, same.kind, same.scope) == (budget.entity, budget.year - 1, "budget", budget.scope)
    assert PREVIOUS_YEAR.run(Pair(budget, same, f"《{PUYANG_TITLE}》")) == []

    changed = parse_file(_page(tmp_path, "changed.html", puyang_last_year("5800.44")))
    [finding] = PREVIOUS_YEAR.run(Pair(budget, changed, f"《{PUYANG_TITLE}》"))
    assert (finding.rule, finding.page) == ("A-PREVIOUS-YEAR", 4)
    assert (finding.evidence["item"], finding.evidence["stated"], finding.evidence["printed"]) == (
        "支出总计", "5795.44", "5800.44")
    assert "即上年为5795.44万元" in finding.message and "支出总计为5800.44万元" in finding.message
    # Last year restated on this year's basis is not what last year's document printed: not compared.
    for sentence in budget.sentences:
        sentence.text = re.sub(r"与\s*2023\s*年预算相比", "按可比口径与2023年预算相比", sentence.text)
    assert PREVIOUS_YEAR.run(Pair(budget, changed, f"《{PUYANG_TITLE}》")) == []


@pytest.mark.slow
def test_the_pipeline_compares_archived_pairs_and_alerts_each_once(tmp_path):
    with FixturePortal() as portal, WebhookReceiver() as hooks:
        portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算", date(2024, 10, 20),
                            attachments=[("决算.pdf", render("000", "pdf").read_bytes())])
        portal.add_document("czyjs", JIYUAN_TITLE, date(2023, 2, 20), inline_html=jiyuan_budget({"2080108": "15.20"}))
        portal.add_document("czyjs", "濮阳市医疗保障局2024年度部门汇总预算", date(2024, 3, 20),
                            attachments=[("预算.pdf", render("002", "pdf").read_bytes())])
        portal.add_document("czyjs", PUYANG_TITLE, date(2023, 3, 20), inline_html=puyang_last_year("5800.44"))
        db = f"sqlite:///{tmp_path / 'fw.db'}"
        config = write_config(tmp_path, {"database_url": db},
                              [{"id": "czyjs", "name": "示例门户", "url": portal.section_url("czyjs"), "region": "河南省"}],
                              [{"url": hooks.url_for("/ngo")}])
        result = fiscalwatch("watch", "--once", "--config", str(config), "--loglevel", "WARNING")
        assert result.returncode == 0, result.stderr[-3000:]

        compared = rows(db, FindingRow, FindingRow.other_sha256.is_not(None))
        assert sorted((f.rule, f.evidence["item"]) for f in compared) == [
            ("A-BUDGET-FINAL", "社会保障和就业支出（类）人力资源和社会保障管理事务（款）信息化建设（项）"),
            ("A-PREVIOUS-YEAR", "支出总计")]
        blobs = {b.sha256: b for b in rows(db, Blob)}
        assert {(blobs[f.sha256].kind, blobs[f.sha256].year, blobs[f.other_sha256].kind, blobs[f.other_sha256].year)
                for f in compared} == {("final", 2023, "budget", 2023), ("budget", 2024, "budget", 2023)}
        assert all(f.amount == 10.0 or f.amount == 5.0 for f in compared)

        keys = sorted(a.key.split("|")[1] for a in rows(db, Alert) if a.key.startswith("compared|"))
        assert keys == ["A-BUDGET-FINAL", "A-PREVIOUS-YEAR"]
        messages = [m for m in hooks.wait_for(len(rows(db, Alert)), path="/ngo")
                    if any(f["rule"].startswith("A-") for f in m.body["alert"]["findings"])]
        assert len(messages) == 2
        for message in messages:
            [finding] = message.body["alert"]["findings"]
            assert finding["rule"] in ("A-BUDGET-FINAL", "A-PREVIOUS-YEAR") and finding["message"] in message.message

        again = fiscalwatch("watch", "--once", "--config", str(config), "--loglevel", "WARNING")
        assert again.returncode == 0, again.stderr[-3000:]
        assert len(rows(db, FindingRow, FindingRow.other_sha256.is_not(None))) == 2
        assert len([a for a in rows(db, Alert) if a.key.startswith("compared|")]) == 2


def test_a_failing_comparison_leaves_the_file_s_own_result(sqlite_url, tmp_path, monkeypatch):  # noqa: F811
    """A comparison that raises is logged and rolled back alone: the file keeps its status, findings and content."""
    from registry_fixture import add_document, add_source, settings_for

    from fiscalwatch.store.db import session_scope
    from fiscalwatch.store.models import BlobContent
    from fiscalwatch.validators.checker import check_file
    from fiscalwatch.workers import processing

    settings = settings_for(sqlite_url, tmp_path, alerts=[])
    with session_scope(sqlite_url) as session:
        add_source(session)
        sha256 = add_document(session, "济源市社会医疗保险中心2023年度单位决算", date(2024, 10, 20),
                              parse_status="processing").current_sha256

    def broken(*_args):
        raise RuntimeError("comparison bug")

    monkeypatch.setattr(processing, "compare_with_archive", broken)
    processing.store_result(settings, sha256, check_file(render("000", "pdf")))
    with session_scope(sqlite_url) as session:
        blob = session.get(Blob, sha256)
        assert (blob.status, blob.entity) == ("ok", "济源市社会医疗保险中心") and blob.findings
        assert session.get(BlobContent, sha256) is not None
