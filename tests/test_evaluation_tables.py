"""Self-evaluation tables read column by column under their own header, on the seeds' real tables:
001's borderless 项目支出绩效自评汇总表 however it is printed (narrow columns wrap names and % signs, Chromium
wraps cells), 000's 项目支出绩效自评情况表 whose header cells do not line up with the figures."""

from __future__ import annotations

from decimal import Decimal

import pytest
from render_seeds import Request, render_many

from fiscalwatch.parsers.evaluation import parse_evaluations
from fiscalwatch.parsers.layout import Grid, TextLine
from fiscalwatch.parsers.tables import Part
from fiscalwatch.validators.checker import check_file

RENDERINGS = {"text": Request.of("001", "pdf"), "narrow": Request.of("001", "pdf", layout="narrow"),
              "chromium": Request.of("001", "pdf-chromium")}


@pytest.fixture(scope="module")
def seed001() -> dict:
    paths = render_many(list(RENDERINGS.values()))
    return {name: check_file(path) for name, path in zip(RENDERINGS, paths)}


def read(result) -> list[tuple]:
    return [(e.project, e.full_year_budget, e.executed, e.stated_rate, e.score) for e in result.document.evaluations]


@pytest.mark.parametrize("variant", ["narrow", "chromium"])
def test_the_summary_reads_the_same_however_it_is_printed(seed001, variant):
    expected = read(seed001["text"])
    assert len(expected) == 25  # the 部门整体自评表 and the 24 projects of the 汇总表
    assert read(seed001[variant]) == expected
    assert not [f.message for f in seed001[variant].findings if f.rule == "C-EVALUATION-RATE"]


def test_summary_rows_by_header_with_wrapped_names_and_percent_signs(seed001):
    """Lines as 001's narrow rendering prints them: a name beside its figures wraps below them, the next
    row's name is printed before its figures, a rate's % sign falls onto the next line."""
    rows = {e.project: e for e in seed001["narrow"].document.evaluations}
    assert (rows["医疗保障罚没收入"].full_year_budget, rows["医疗保障罚没收入"].stated_rate) == (50, Decimal("20.02"))
    assert rows["2022年中央财政医疗服务能力提升补助资金"].executed == 0
    assert rows["病例审核、专家评审等经费"].score == 74
    built = [(e.full_year_budget, e.executed, e.stated_rate) for e in seed001["narrow"].document.evaluations
             if e.project == "2023年医疗服务与保障能力提升补助资金（医疗保障服务能力建设部分）"]
    assert built == [(9, 9, 100), (9, 0, 0)]  # the first printed "100" with its "%" on the line below
    whole = rows["洛阳市孟津区医疗保障局"]  # 部门整体自评表, its label wrapped: 部门预算 | 总额（万 | 元）
    assert (whole.year_start_budget, whole.full_year_budget, whole.executed) == (
        Decimal("4002.43"), Decimal("5707.87"), Decimal("1762.18"))
    assert (whole.stated_rate, whole.score) == (Decimal("30.87"), Decimal("3.43"))  # 分值 10 is no amount


def test_lines_of_a_borderless_summary():
    lines = ["序", "号", "项目名称 全年预算数", "全年执行", "数", "预算执行", "率", "资金管", "理情况", "得分率", "自评得分",
             "2022 年中央财政医疗服务能力提升", "补助资金", "5 0 0% 100% 0",
             "18 公务员医 3000 402.63 13.42% 85% 77.92", "疗补助及", "二次报销", "资金",
             "9 9 100 100% 98", "% %"]
    first, second, third = parse_evaluations([Part(35, lines=[TextLine(t) for t in lines])])
    assert (first.project, first.full_year_budget, first.executed, first.stated_rate, first.score) == (
        "2022年中央财政医疗服务能力提升补助资金", 5, 0, 0, 0)
    assert (second.project, second.executed, second.stated_rate, second.score) == (
        "公务员医疗补助及二次报销资金", Decimal("402.63"), Decimal("13.42"), Decimal("77.92"))
    assert (third.project, third.full_year_budget, third.executed, third.stated_rate) == ("", 9, 9, 100)


def test_header_cells_that_do_not_line_up_with_the_figures():
    """000 p42 (离休干部医疗费): the header's 年初预算数 sits one cell left of its figure; read in order."""
    grid = Grid([
        ["项目名称", "离休干部医疗费", None, None, None, None, None, None, None, None],
        ["项目资金(万元)", "年初预算数", "", "全年预算数", "全年执行数", "分值", "执行率", "得分", "", ""],
        ["", "年度资金总额:", "", "500", "250", "250", "10", "100.0%", "10.00", ""],
    ])
    (evaluation,) = parse_evaluations([Part(42, grid=grid)])
    assert (evaluation.year_start_budget, evaluation.full_year_budget, evaluation.executed) == (500, 250, 250)
    assert (evaluation.stated_rate, evaluation.score) == (100, 10)


def test_a_rate_without_its_sign_is_read_only_when_it_cannot_be_a_fraction():
    lines = [TextLine("项目名称 道路养护"), TextLine("年初预算数 全年预算数 全年执行数 分值 执行率 得分"),
             TextLine("年度资金总额 100 100 95 10 0.95 9.5")]
    (evaluation,) = parse_evaluations([Part(5, lines=lines)])
    assert evaluation.executed == 95 and evaluation.stated_rate is None


def test_a_project_name_wrapped_beside_its_wrapped_label():
    """Narrow borderless cells (seed 003 without rulings): '转移支付（项目）名称' and the name both wrap, the
    name's last piece alone on a line; the lines of 主管部门 | … | 实施单位 | … are not part of it."""
    lines = [TextLine(t) for t in ("(2023年度)", "转移支付 2023年医疗服", "（项目） 务与保障能力", "名称 提升中央财政",
                                   "补助资金", "主管部门 临汾市医疗保 实施单位 临汾市", "障局 医疗保",
                                   "项目资金 年初预算数 全年预算数 全年执行数 分值 执行率 得分", "（万元）",
                                   "年度资金总额： 120 120 17.65 10 14.71% 2")]
    (evaluation,) = parse_evaluations([Part(25, lines=lines)])
    assert evaluation.project == "2023年医疗服务与保障能力提升中央财政补助资金"
    assert (evaluation.full_year_budget, evaluation.executed, evaluation.stated_rate) == (120, Decimal("17.65"),
                                                                                          Decimal("14.71"))
