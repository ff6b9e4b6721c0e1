"""`check` on PDFs rendered from the five seeds: the anomalies each real disclosure contains, found with
evidence, and nothing else at error level; plus mutated copies (a dropped table, a changed total, a
changed narrative figure)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from fiscalwatch.parsers.catalog import REQUIRED
from fiscalwatch.validators.checker import CheckResult, check_file

FISCALWATCH = Path(sys.executable).with_name("fiscalwatch")


@pytest.fixture(scope="module")
def results(seed_pdfs) -> dict[str, CheckResult]:
    return {seed: check_file(path) for seed, path in seed_pdfs.items()}


@pytest.fixture(scope="module")
def cli_json(seed_pdfs) -> dict[str, dict]:
    """The real command line, all five files in one run."""
    completed = subprocess.run([str(FISCALWATCH), "check", "--json", *map(str, seed_pdfs.values())],
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    reports = json.loads(completed.stdout)
    return {seed: next(r for r in reports if r["file"] == str(path)) for seed, path in seed_pdfs.items()}


def by_rule(result: CheckResult, rule: str) -> list:
    return [f for f in result.findings if f.rule == rule]


def errors(result: CheckResult) -> set[str]:
    return {f.rule for f in result.findings if f.severity == "error"}


def on_its_page(result: CheckResult, finding, text: str) -> bool:
    """The page a finding cites really shows the text it is about."""
    return finding.page is not None and text in re.sub(r"\s+", "", result.document.page_texts[finding.page - 1])


def only(findings: list):
    assert len(findings) == 1, [f.message for f in findings]
    return findings[0]


# ------------------------------------------------------------------ identity


@pytest.mark.parametrize("seed, kind, level, entity, year", [
    ("000", "final", "单位", "济源市社会医疗保险中心", 2023),
    ("001", "final", "部门", "洛阳市孟津区医疗保障局", 2023),
    ("002", "budget", "部门", "濮阳市医疗保障局", 2024),
    ("003", "final", "单位", "临汾市医疗保险服务中心", 2023),
    ("004", "final", "部门", "鄂州市医疗保障服务中心", 2022),
])
def test_document_and_required_tables_are_identified(results, seed, kind, level, entity, year):
    result = results[seed]
    doc = result.document
    assert result.ok
    assert (doc.kind, doc.level, doc.entity, doc.year) == (kind, level, entity, year)
    kinds = [t.kind for t in doc.tables if t.kind in REQUIRED[kind]]
    assert sorted(kinds) == sorted(REQUIRED[kind])  # each once: continuation pages are stitched on
    assert not [f for f in result.findings if f.category == "missing_table" and f.rule == "M-REQUIRED"]


def test_cli_json_agrees_with_the_python_api(results, cli_json):
    for seed, report in cli_json.items():
        result = results[seed]
        assert report["status"] == "ok"
        assert report["document"]["entity"] == result.document.entity
        assert [t["title"] for t in report["tables"]] == [t.title for t in result.document.tables]
        assert [(f["rule"], f["severity"], f["page"]) for f in report["findings"]] == [
            (f.rule, f.severity, f.page) for f in result.findings]
        assert {"rule", "category", "severity", "message", "page", "table", "evidence"} <= set(report["findings"][0])


# ------------------------------------------------------------ seed anomalies


def test_seed000_anomalies(results):
    result = results["000"]
    low = only(by_rule(result, "C-NARRATIVE"))
    assert low.category == "low_completion" and low.severity == "warning"
    assert "其他行政事业单位医疗支出" in low.evidence["item"]
    assert (low.evidence["budget"], low.evidence["actual"], low.evidence["rate"]) == ("794.50", "90.40", "11.38")
    assert on_its_page(result, low, "完成年初预算的11.38%")

    items = only(by_rule(result, "N-BUDGET-ITEMS"))  # 6,175.80 stated, the 14 items add up to 5,548.20
    assert (items.evidence["stated"], items.evidence["computed"]) == ("6175.80", "5548.20")

    micro = only(by_rule(result, "N-PERCENT"))  # 690.92 of 690.92 printed as 88.36%
    assert micro.severity == "error" and "授予小微企业合同金额" in micro.message
    assert (micro.evidence["stated"], micro.evidence["computed"]) == ("88.36", "100")
    assert errors(result) == {"N-BUDGET-ITEMS", "N-PERCENT"}


def test_seed001_anomalies_in_a_borderless_pdf(results):
    result = results["001"]
    summary = result.document.table("summary")
    assert summary.by_name("本年收入合计").get("amount") == Decimal("1740.39")
    assert len(result.document.table("gpb_basic").rows) > 60

    low = {f.evidence["item"]: f.evidence["rate"] for f in by_rule(result, "C-NARRATIVE")}
    assert low.pop("机关运行经费") == "28.35"
    assert list(low.values()) == ["13.75"] and "行政单位医疗（项）" in next(iter(low))

    zero = by_rule(result, "N-ZERO-BUDGET")  # 0.00 budget, money spent, "完成年初预算的0.00%"
    assert sorted(f.evidence["actual"] for f in zero) == ["435.63", "558.24"]

    items = only(by_rule(result, "N-BUDGET-ITEMS"))  # 1,734.13 stated (the actual), items add up to 4,002.43
    assert (items.evidence["stated"], items.evidence["computed"]) == ("1734.13", "4002.43")

    executed = {f.evidence["item"]: f.evidence["rate"] for f in by_rule(result, "C-EVALUATION")}
    assert executed["医疗保障罚没收入"] == "20.02"
    assert executed["公务员医疗补助及二次报销资金"] == "13.42"
    assert sorted(executed.values()).count("0") == 7  # seven projects with nothing spent
    assert len(executed) == 9
    assert errors(result) == {"N-BUDGET-ITEMS"}


def test_seed002_budget_anomalies(results):
    result = results["002"]
    doc = result.document
    assert doc.scope == "汇总"
    missing = only(by_rule(result, "M-TOC"))  # the 目录 promises 七、2024 年支出经济分类汇总表
    assert missing.severity == "error" and "支出经济分类汇总表" in missing.message
    change = only(by_rule(result, "N-CHANGE"))  # −3,754.07 on 1,942.11 is −65.91%, not −66.47%
    assert change.evidence["stated"] == "66.47" and change.evidence["computed"] == "65.91"
    assert errors(result) == {"M-TOC", "N-CHANGE"}
    assert not [f for f in result.findings if f.category == "low_completion"]  # budgets have no completion
    assert any(s["rule"] == "C-NARRATIVE" for s in result.skipped)


def test_seed003_anomalies(results):
    result = results["003"]
    watermark = only(by_rule(result, "D-WATERMARK"))
    assert watermark.evidence["word"] == "仅供内部审核" and watermark.page == 1
    level = by_rule(result, "D-LEVEL")  # a 单位决算 calling itself 部门决算
    assert level and all("部门决算" in f.evidence["quote"] for f in level)
    names = only(by_rule(result, "X-NAMES"))
    assert "2080502" in names.message and "事业单位离休退休" in names.message

    low = only(by_rule(result, "C-NARRATIVE"))
    assert (low.evidence["item"], low.evidence["rate"]) == ("卫生健康支出", "29.98")
    actual = only(by_rule(result, "N-COMPLETION-ACTUAL"))  # narrative 5000 vs the table's 5,017.65
    assert (actual.evidence["stated"], actual.evidence["table_value"]) == ("5000", "5017.65")
    evaluation = only(by_rule(result, "C-EVALUATION"))
    assert evaluation.evidence["rate"] == "14.71" and evaluation.evidence["actual"] == "17.65"
    assert errors(result) == {"N-COMPLETION-ACTUAL"}


def test_seed004_anomalies(results):
    result = results["004"]
    part = only(by_rule(result, "N-PART-WHOLE"))  # 小微 100 > 中小企业 55.34
    assert (part.evidence["part"], part.evidence["whole"]) == ("100", "55.34")
    assert on_its_page(result, part, "授予小微企业合同金额100万元")
    share = only(by_rule(result, "N-PERCENT"))
    assert share.evidence["computed"] == "180.70"
    zero = only(by_rule(result, "N-ZERO-BUDGET"))
    assert "其他医疗保障管理事务支出" in zero.message and zero.evidence["actual"] == "24.8"
    low = {f.evidence["item"]: f.evidence["rate"] for f in by_rule(result, "C-NARRATIVE")}
    assert low == {"“三公”经费财政拨款支出": "21.43", "公务接待费": "21.43"}
    evaluation = only(by_rule(result, "C-EVALUATION"))
    assert (evaluation.evidence["item"], evaluation.evidence["rate"]) == ("基金监管专项", "24.62")
    assert "XX分" in only(by_rule(result, "D-PLACEHOLDER")).message
    assert errors(result) == {"N-PART-WHOLE", "N-PERCENT"}


@pytest.mark.parametrize("seed", ["000", "001", "003", "004"])
def test_rounding_tails_are_notes_not_errors(results, seed):
    """Sums off by a cent or two (尾差) are reported once per table as info, never as errors."""
    result = results[seed]
    tails = [f for f in result.findings if "尾差" in f.message]
    assert tails and all(f.severity == "info" for f in tails)
    assert not [f for f in result.findings if f.severity == "error" and f.rule.startswith(("R-", "X-"))]


# ---------------------------------------------------------------- mutations


def test_dropped_required_table_is_reported_by_name(mutated_pdfs):
    result = check_file(mutated_pdfs["dropped_required"])
    missing = only([f for f in result.findings if f.category == "missing_table" and f.severity == "error"])
    assert missing.rule == "M-REQUIRED" and missing.table == "一般公共预算财政拨款基本支出决算明细表"
    assert "gpb_basic" not in {t.kind for t in result.document.tables}


def test_dropped_table_promised_by_the_toc_is_reported(mutated_pdfs):
    result = check_file(mutated_pdfs["dropped_toc_only"])
    missing = only(by_rule(result, "M-TOC"))
    assert "部门决算公开相关信息统计表" in missing.table and missing.page == 2


def test_changed_total_is_a_reconciliation_error_with_its_page(mutated_pdfs):
    result = check_file(mutated_pdfs["changed_total"])  # 支出决算表 合计 基本支出 3,057.68 → 3,157.68
    table = result.document.table("expense")
    wrong = [f for f in result.findings if f.severity == "error" and f.table == table.title and f.rule.startswith("R-")]
    assert {f.rule for f in wrong} == {"R-HIER", "R-ROW"}
    for finding in wrong:
        assert finding.category == "reconciliation" and finding.page == table.page
        assert on_its_page(result, finding, "3,157.68")
        assert abs(Decimal(finding.evidence["difference"])) == 100
    # The narrative's 基本支出 3,057.68 now disagrees with the table too; the seed's own errors remain.
    assert "基本支出" in only(by_rule(result, "N-AMOUNT")).evidence["quote"]
    assert errors(result) == {"R-HIER", "R-ROW", "N-AMOUNT", "N-BUDGET-ITEMS", "N-PERCENT"}


def test_changed_narrative_figure_is_quoted(mutated_pdfs):
    result = check_file(mutated_pdfs["changed_narrative"])  # 收入合计 1067.01 → 1076.01
    amount = only(by_rule(result, "N-AMOUNT"))
    assert amount.severity == "error" and "1076.01" in amount.evidence["quote"]
    assert amount.evidence["table_value"] == "1067.01"
    assert on_its_page(result, amount, "收入合计1076.01万元")
