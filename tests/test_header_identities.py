"""Row identities come from each table's own header tree, on real tables from several cities
(../shared/corpus/wild, read in place): the sum each total column stands for, and a real anomaly found
while a misread header stays quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from fiscalwatch.parsers import parse_file
from fiscalwatch.validators import header_tree
from fiscalwatch.validators.checker import check_file
from fiscalwatch.validators.table_rules import column_label

WILD = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "wild"


def described(name: str, title_part: str) -> list[str]:
    doc = parse_file(WILD / name)
    table = next(t for t in doc.tables if title_part in t.title)
    return [f"{column_label(table, i.total)}={'+'.join(column_label(table, k) for k in i.parts)}"
            for i in header_tree.identities(table, 0)]


@pytest.mark.parametrize("name, title, expected", [
    # A flat header: 总计 over nine sources of income (a fixed list would have left out 财政拨款's three).
    ("chongqing_sww_2026_dept_budget.pdf", "收入总体情况表",
     ["总计=一般公共预算拨款收入+政府性基金预算拨款收入+国有资本经营预算拨款收入+财政专户管理资金收入+事业收入"
      "+上级补助收入+附属单位上缴收入+事业单位经营收入+其他收入"]),
    # 基本支出 split into 人员经费/日常公用支出 under its own 小计, beside 项目支出.
    ("hangzhou_jtj_2026_dept_budget.pdf", "一般公共预算支出预算表",
     ["基本支出小计=人员经费+日常公用支出", "合计=基本支出小计+项目支出"]),
    # 基本支出 split without a 小计 of its own: the total takes its parts.
    ("hangzhou_jtj_2026_dept_budget.pdf", "部门支出预算总表",
     ["总计=人员支出+日常公用支出+项目支出+事业单位经营支出+上缴上级支出+对附属单位补助支出"]),
])
def test_identities_follow_the_header(name, title, expected):
    assert described(name, title) == expected


def test_other_of_which_and_comparison_columns_are_no_parts():
    # Xi'an: "一般公共预算拨款/其中：专项资金列入部门预算项目" is a subset of its 小计, not an addition.
    assert not [d for d in described("xian_gaj-hz_2026_dept_budget.pdf", "收入总表") if "专项资金" in d]


def test_identities_hold_on_the_real_tables_they_were_read_from():
    result = check_file(WILD / "chongqing_sww_2026_dept_budget.pdf")
    income = next(t for t in result.document.tables if "收入总体情况表" in t.title)
    doubted = [f for f in result.findings if f.rule == "T-UNRELIABLE" and f.table == income.title]
    assert not doubted, doubted[0].message
    assert not [f for f in result.findings if f.severity == "error" and f.table == income.title]
