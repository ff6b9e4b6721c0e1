"""The checks added for trust on real documents, each on a seed mutated to carry exactly that anomaly
(the seed text is the truth of every other figure), and silent on the unmutated seed."""

from __future__ import annotations

import pytest
from render_seeds import Request, render_many

from fiscalwatch.parsers.model import Sentence
from fiscalwatch.parsers.narrative import item_quotes
from fiscalwatch.validators.checker import check_file

_INCOME_LINES = ["一、一般公共预算财政拨款收入\t1\t5,303.72\t", "二、政府性基金预算财政拨款收入\t2\t206.40\t",
                 "三、国有资本经营预算财政拨款收入\t3\t0.00\t", "四、上级补助收入\t4\t0.00\t", "五、事业收入\t5\t0.00\t",
                 "六、经营收入\t6\t0.00\t", "七、附属单位上缴收入\t7\t0.00\t", "八、其他收入\t8\t0.20\t"]

MUTATED = {
    # 政府采购服务支出 781.93 → 791.93: the 其中 list now exceeds its 总额 781.93.
    "parts": ("000", {"政府采购服务支出781.93万元。": "政府采购服务支出791.93万元。"}),
    # 机关运行经费 105.13, "减少1.64万元，下降1.54%" → "增加105.13万元，增长100%": last year was nothing.
    "zero_base": ("000", {"与上年度相比，减少1.64万元，下降1.54%": "与上年度相比，增加105.13万元，增长100%"}),
    # 收、支总计 1067.01 万元 written as 1067.01 元.
    "unit": ("004", {"2022 年度收、支总计均为 1067.01 万元": "2022 年度收、支总计均为 1067.01 元"}),
    # 基金监管专项 executed 14.77 万元 in its self-evaluation table, narrated as 41.77.
    "evaluation": ("004", {"执行数为 14.77 万元": "执行数为 41.77 万元"}),
    # Every income line of the 收入支出决算总表 blank while 本年收入合计 5,510.32 stays printed.
    "blank_income": ("000", {line: line.rsplit("\t", 2)[0] + "\t\t" for line in _INCOME_LINES}),
    # 一般公共预算财政拨款支出 5,303.72 万元 in 总体情况, written 5,330.72 in 结构情况.
    "repeated": ("000", {"2023年度一般公共预算财政拨款支出5,303.72万元，主要用于以下方面":
                         "2023年度一般公共预算财政拨款支出5,330.72万元，主要用于以下方面"}),
    # Thousands typed (or OCR'd) with full-width commas: "5，510.32万元" is one figure, not 5 and 510.32.
    "wide_commas": ("000", {"2023年度收入合计5,510.32万元，其中：财政拨款收入5,510.12万元":
                            "2023年度收入合计5，510.32万元，其中：财政拨款收入5，510.12万元"}),
    # One item's level mark lost ("（项）" → "（）", as OCR loses it): the items can no longer be summed.
    "lost_mark": ("000", {"社会保险业务管理事务（项）。年初预算为35.00万元": "社会保险业务管理事务（）。年初预算为35.00万元"}),
}


@pytest.fixture(scope="module")
def results(seed_pdfs) -> dict:
    paths = render_many([Request.of(seed, "pdf", replacements=changes) for seed, changes in MUTATED.values()])
    return {name: check_file(path) for name, path in zip(MUTATED, paths)}


def only(result, rule: str):
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1, [f.message for f in result.findings if f.severity != "info"]
    return found[0]


def errors(result) -> set[str]:
    return {f.rule for f in result.findings if f.severity == "error"}


@pytest.mark.parametrize("rule", ["N-PARTS", "N-ZERO-BASE", "N-UNIT", "R-SUMMARY-BLANK", "N-EVALUATION", "N-REPEATED"])
def test_unmutated_seeds_are_silent(seed_pdfs, rule):
    for path in seed_pdfs.values():
        assert not [f.message for f in check_file(path).findings if f.rule == rule]


def test_parts_exceeding_their_total(results):
    finding = only(results["parts"], "N-PARTS")
    assert finding.severity == "error" and (finding.evidence["stated"], finding.evidence["computed"]) == (
        "781.93", "791.93")


def test_a_rate_against_nothing(results):
    finding = only(results["zero_base"], "N-ZERO-BASE")
    assert finding.severity == "warning" and finding.evidence["previous"] == "0"
    assert "N-CHANGE" not in errors(results["zero_base"])


def test_yuan_written_for_wan_yuan(results):
    finding = only(results["unit"], "N-UNIT")
    assert (finding.evidence["stated"], finding.evidence["stated_unit"], finding.evidence["table_value"]) == (
        "1067.01", "元", "1067.01")
    assert "N-AMOUNT" not in errors(results["unit"])  # one slip, one finding


def test_blank_income_lines_under_a_printed_total(results):
    finding = only(results["blank_income"], "R-SUMMARY-BLANK")
    assert finding.severity == "error" and finding.evidence["printed"] == "5510.32"
    assert "一般公共预算财政拨款收入" in finding.evidence["items"]


def test_narrative_against_the_self_evaluation_table(results):
    finding = only(results["evaluation"], "N-EVALUATION")
    assert finding.severity == "error" and (finding.evidence["stated"], finding.evidence["table_value"]) == (
        "41.77", "14.77")
    assert finding.evidence["item"] == "基金监管专项"


def test_one_item_quoted_with_two_amounts(results):
    finding = only(results["repeated"], "N-REPEATED")
    assert finding.severity == "warning"
    assert (finding.evidence["item"], finding.evidence["year"], finding.evidence["measure"]) == (
        "一般公共预算财政拨款支出", 2023, "决算数")
    assert (finding.evidence["stated"], finding.evidence["other"], finding.evidence["difference"]) == (
        "5303.72", "5330.72", "27")


# Seed 000's own sentences: the same words for things that are not the same amount.
_SEED000 = [
    "2023年度收入合计5,510.32万元，其中：财政拨款收入5,510.12万元，占100.00%；其他收入0.20万元，占0.00%。",
    "2023年度一般公共预算财政拨款支出5,303.72万元，占本年支出合计的96.25%。",
    "与上年度相比，一般公共预算财政拨款支出减少1,326.54万元，下降20.01%。",
    "2023年度一般公共预算财政拨款支出年初预算为6,175.80万元，支出决算为5,303.72万元，完成年初预算的85.88%。",
    "2023年度一般公共预算财政拨款基本支出3,057.33万元。",
    "其中：人员经费2,952.20万元，主要包括：基本工资、津贴补贴；公用经费105.13万元，主要包括：办公费、印刷费。",
]


def test_quotes_tell_year_measure_and_parts_apart():
    quotes = item_quotes([Sentence(text, 25, "") for text in _SEED000], "final", 2023)
    assert [(q.item, q.year, q.measure, str(q.value)) for q in quotes] == [
        ("收入合计", 2023, "决算数", "5510.32"),  # 财政拨款收入 after 其中 is a part, never compared
        ("一般公共预算财政拨款支出", 2023, "决算数", "5303.72"),  # not the change 1,326.54 against last year
        ("一般公共预算财政拨款支出", 2023, "年初预算数", "6175.80"),  # another measure than the 决算数
        ("一般公共预算财政拨款支出", 2023, "决算数", "5303.72"),  # "支出决算为": the same item, its 决算数
        ("一般公共预算财政拨款基本支出", 2023, "决算数", "3057.33"),  # 人员经费 and 公用经费: parts, no whole
    ]
    last_year = item_quotes([Sentence("2022年度一般公共预算财政拨款支出6,630.26万元。", 25, "")], "final", 2023)
    assert [(q.year, str(q.value)) for q in last_year] == [(2022, "6630.26")]


def test_full_width_thousands_commas_are_read_as_one_figure(results):
    # The unmutated seed's errors (its stated 88.36% and its budget items), and no share of "510.32".
    assert str(only(results["wide_commas"], "N-PERCENT").evidence["stated"]) == "88.36"
    assert errors(results["wide_commas"]) == {"N-BUDGET-ITEMS", "N-PERCENT"}


def test_an_unreadable_level_mark_stops_the_sum_of_items(results):
    result = results["lost_mark"]
    assert "N-BUDGET-ITEMS" not in errors(result)
    assert any("层级无法识别" in s["reason"] for s in result.skipped if s["rule"] == "N-BUDGET-ITEMS"), result.skipped
