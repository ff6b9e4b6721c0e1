"""Tables of real disclosures from twelve cities, read from each document's own titles and headers.

Every PDF of ../shared/corpus/wild with a text layer is parsed once. The tables its own 目录 lists
(MANIFEST.json `toc_tables`; for the Chongqing layout, which has no 目录, the 表一…表十二 titles its notes
quote) must be found, and continuation pages must not become tables of their own. Beijing's PDFs hold only
the narrative (their tables are a separate attachment), so their 目录 is not counted. A few tables are
checked cell by cell against values read from the PDF text with `pdftotext -layout`.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from fiscalwatch.parsers import catalog
from fiscalwatch.parsers.evaluation import parse_evaluations
from fiscalwatch.parsers.layout import Grid, TextLine
from fiscalwatch.parsers.tables import Part

WILD = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "wild"
MANIFEST = json.loads((WILD / "MANIFEST.json").read_text(encoding="utf-8")) if WILD.exists() else []
PDFS = [m for m in MANIFEST if m["format"] == "pdf" and m.get("text_layer")]
RECALL_TARGET = 0.98
EXTRA_TABLES = 3  # tables a document may hold beyond its 目录 (会议费明细表 … inside the narrative)

pytestmark = pytest.mark.skipif(not PDFS, reason="corpus/wild not present")


def listed(entry: dict) -> list[str]:
    """Titles of the tables the document's own 目录 lists and the file holds."""
    if "不在本文件中" in (entry.get("notes") or ""):
        return []
    if entry["toc_tables"]:
        return entry["toc_tables"]
    return re.findall(r"表[一二三四五六七八九十]+ ([^；]+)", entry.get("notes") or "")


def _core(title: str) -> str:
    """A title without numbering (表5 / 表一 / 一、), year, entity-level prefix, spaces and quotes."""
    text = re.sub(r"\s+|[\"“”'‘’]", "", title).replace("（", "(").replace("）", ")")
    text = re.sub(r"^(表\d+|表[一二三四五六七八九十]+(?!般)|[一二三四五六七八九十]+、|\(\d+\))[:：.、]?", "", text)
    text = re.sub(r"^.*?\d{4}年度?", "", text)
    return re.sub(r"^(市级|预算)?(部门|单位)(综合)?(预算)?", "", text)


def missing(toc: list[str], tables: list[tuple[str, str]]) -> list[str]:
    """Listed titles without a found table: same title first, else a table of the same catalogue kind
    (the 目录 may shorten 部门收支总体情况表 to 部门收支总表); each found table answers one entry."""
    cores = [_core(title) for title, _ in tables]
    used: set[int] = set()
    result = []
    for title in toc:
        core = _core(title)
        hit = next((i for i, c in enumerate(cores) if i not in used and c == core), None)
        if hit is None:
            kind = catalog.classify_title(title, catalog.BUDGET, strict=False)
            hit = next((i for i, (_, k) in enumerate(tables)
                        if i not in used and kind and k == kind[0] and k != catalog.OTHER), None)
        if hit is None:
            result.append(title)
        else:
            used.add(hit)
    return result


@pytest.fixture(scope="module")
def found(corpus_checks) -> dict[str, list[tuple[str, str]]]:
    """Title and kind of every table, from the session's one check of the whole corpus."""
    return {path.name: [(t.title, t.kind) for t in result.document.tables]
            for path, result in corpus_checks.items() if path.parent == WILD and result.document}


def test_listed_tables_are_found(found):
    total = hit = 0
    shortfall = []
    for entry in PDFS:
        toc = listed(entry)
        lost = missing(toc, found[entry["file"]])
        total += len(toc)
        hit += len(toc) - len(lost)
        if lost:
            shortfall.append(f"{entry['file']}: {len(lost)}/{len(toc)} not found: {lost}")
    print("\n".join(shortfall))
    print(f"recall {hit}/{total} = {hit / total:.4f}")
    assert total > 1200
    assert hit / total >= RECALL_TARGET, "\n".join(shortfall)


def test_continuation_pages_are_not_new_tables(found):
    excess = [f"{m['file']}: {len(found[m['file']])} tables for {len(listed(m))} listed"
              for m in PDFS if listed(m) and len(found[m["file"]]) > len(listed(m)) + EXTRA_TABLES]
    assert not excess, "\n".join(excess)
    # 长沙市公安局: a 财政拨款收支总表 over two pages and 28 pages of 项目支出绩效目标表, each page
    # repeating the title and header.
    assert len(found["changsha_gaj_2025_dept_budget.pdf"]) == 10


@pytest.fixture(scope="module")
def documents(corpus_checks):
    names = ("changsha_gaj_2025_dept_budget.pdf", "guangzhou_bgt_2026_dept_budget.pdf",
             "chongqing_jxw_2026_dept_budget.pdf", "xian_gzw_2022_dept_budget.pdf",
             "shanghai_xkyjy_2026_unit_budget.pdf", "shenzhen_bgt_2026_dept_budget.pdf")
    return {name.split("_")[0]: corpus_checks[WILD / name].document for name in names}


def amount_labels(table) -> list[str]:
    return [c.label for c in table.columns if c.role == "amount"]


def cell(row, label: str) -> Decimal:
    return row.cells[label].value


def test_table_over_two_pages_with_repeated_title_and_header(documents):
    fiscal = documents["changsha"].table("fiscal_summary")
    assert fiscal.pages == [16, 17]
    assert amount_labels(fiscal) == ["收入/金额", "支出/合计", "支出/一般公共预算", "支出/政府性基金预算",
                                     "支出/国有资本经营预算"]
    income_total = fiscal.by_name("收入总计", side=0)
    expense_total = fiscal.by_name("支出总计", side=1)
    assert cell(income_total, "收入/金额") == Decimal("68632.12")
    assert cell(expense_total, "支出/一般公共预算") == Decimal("68632.12")
    assert len([r for r in fiscal.rows if r.name == "支出总计"]) == 1  # the header rows are not data again


def test_spanning_groups_give_full_header_paths(documents):
    income = documents["guangzhou"].table("income")
    labels = amount_labels(income)
    assert labels[:5] == ["合计", "财政拨款收入/一般公共预算", "财政拨款收入/政府性基金预算",
                          "财政拨款收入/国有资本经营预算", "财政专户拨款收入/教育收费"]
    assert {c.label: c.key for c in income.columns}["财政拨款收入/一般公共预算"] == "gpb"
    total = income.total_row()
    assert cell(total, "合计") == cell(total, "财政拨款收入/一般公共预算") == Decimal("16410.71")

    shenzhen = documents["shenzhen"].table("income")
    assert "本年收入/财政拨款/一般公共预算拨款" in amount_labels(shenzhen)
    assert "本年收入/单位资金/事业单位经营收入" in amount_labels(shenzhen)
    row = shenzhen.rows[0]
    assert cell(row, "收入总计") == cell(row, "本年收入/财政拨款/一般公共预算拨款") == Decimal("10192.01")


def test_total_row_of_a_two_sided_table_is_data_not_header(documents):
    summary = documents["chongqing"].table("summary")
    assert amount_labels(summary) == ["收入/预算数", "支出/预算数"]
    assert cell(summary.total_row(side=0), "收入/预算数") == Decimal("244895.02")  # printed over two lines
    assert cell(summary.total_row(side=1), "支出/预算数") == Decimal("244895.02")


def test_three_public_years_side_by_side_keep_their_own_meaning(documents):
    table = documents["xian"].table("three_public")
    keys = {c.label: c.key for c in table.columns if c.role == "amount"}
    assert keys["2021年/合计"] == "previous.total"
    assert keys["增减变化情况/合计"] == "change.total"
    assert keys["2021年/一般公共预算拨款安排的“三公”经费预算/小计"] is None  # total taken by 2021年/合计
    total = table.total_row()
    assert total.get("previous.total") == Decimal("38000.00")
    assert cell(total, "2022年/合计") == Decimal("80000.00")
    assert total.get("change.total") == Decimal("42000.00")
    assert table.unit == "元"


def test_unit_and_title_printed_inside_the_grid(documents):
    fiscal = documents["shanghai"].table("fiscal_summary")
    assert fiscal.title == "2026年预算单位财政拨款收支预算总表"
    assert fiscal.unit == "元" and fiscal.unit_stated
    assert cell(fiscal.by_name("一般公共预算", side=0), amount_labels(fiscal)[0]) == Decimal("66716064")


def test_tables_beside_the_core_set_are_found_with_their_titles(documents):
    titles = {t.kind: t.title for t in documents["shenzhen"].tables}
    assert titles["gpb_expense"].endswith("一般公共预算支出表（按功能分类）")
    assert titles["gpb_economic"].endswith("一般公共预算支出表（按经济分类）")
    assert titles["basic_summary"].endswith("基本支出总表")
    assert documents["xian"].entity == "西安市人民政府国有资产监督管理委员会"


def test_self_evaluation_columns_are_read_by_their_header():
    """分值 10 sits between 全年执行数 and 执行率; with 年初预算数 blank it must not become the execution."""
    grid = Grid([
        ["项目名称", "道路养护", "", "", "", "", ""],
        ["项目资金（万元）", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ["年度资金总额", "", "120.00", "36.00", "10", "30.00%", "3"],
    ])
    (evaluation,) = parse_evaluations([Part(5, grid=grid)])
    assert evaluation.project == "道路养护"
    assert evaluation.year_start_budget is None
    assert (evaluation.full_year_budget, evaluation.executed) == (Decimal("120.00"), Decimal("36.00"))
    assert (evaluation.stated_rate, evaluation.score) == (Decimal("30.00"), Decimal("3"))

    lines = [TextLine("项目名称 道路养护"), TextLine("项目资金（万元） 年初预算数 全年预算数 全年执行数 分值 执行率 得分"),
             TextLine("年度资金总额 120.00 36.00 10 30.00% 3")]
    (borderless,) = parse_evaluations([Part(5, lines=lines)])
    assert (borderless.full_year_budget, borderless.executed) == (Decimal("120.00"), Decimal("36.00"))


def test_a_table_broken_down_by_budget_unit_keeps_and_checks_each_units_rows(corpus_checks):
    """深圳市水务局's 表8 prints each 预算单位's name and then the unit's own classification: '30205 水费 20.00 20.00
    0.00' under two units is two rows, not one printed again on a continuation page (p166: 302 商品和服务支出 590.24
    is its 14 items, 30205 among them). 类 = 各款之和 is checked within each unit, so the table reads reliably;
    the units' classes add up to no one 合计, which is said, not checked."""
    result = corpus_checks[WILD / "shenzhen_swuj_2026_dept_budget.pdf"]
    table = next(t for t in result.document.tables if t.title.startswith("表8"))
    assert len([r for r in table.rows if r.code == "30205"]) >= 2
    assert not [f for f in result.findings if f.rule in ("T-UNRELIABLE", "R-HIER") and f.table == table.title
                and f.severity != "info"]
    assert any(s["rule"] == "R-HIER" and table.title in s["reason"] for s in result.skipped)


def test_a_subtitle_naming_which_table_it_is_belongs_to_the_title(corpus_checks):
    """Xi'an 2021 prints '…一般公共预算支出明细表' over '（按支出经济分类科目-不含上年结转）' for 表6, as for 表5 over
    '（按支出功能分类科目…）': each is a table of its own kind, as the 目录 lists them, not 表5 printed again; on 表5's
    continuation page (p47) the title and subtitle printed again continue 表5."""
    tables = {t.kind: t for t in corpus_checks[WILD / "xian_mzj_2021_dept_budget.pdf"].document.tables}
    assert {"gpb_expense", "gpb_economic", "gpb_basic_function", "gpb_basic"} <= set(tables)
    assert tables["gpb_expense"].pages == [46, 47]
    assert tables["gpb_expense"].by_code("2101101").get("total") == Decimal("259282.26")
