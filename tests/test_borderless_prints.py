"""Tables without rulings as a browser prints a disclosure's web page: Chromium, an HTML table whose narrow
name columns wrap. Each row's name is whole, every figure under the column its header names, on both sides
of a two-sided table: the wrapped rests of both names on one line are no labels of a section, and where a
name wraps over three lines the browser prints the row's other cells centred on its second line, so that
the row begins above its figures ('二、政府性' / '二、社会保障和就业支' / '基金预算财 2 20.00 11 …' / '出' / '政拨款收入')."""

from __future__ import annotations

from pathlib import Path

import pytest
from render_seeds import CHROMIUM, CHROMIUM_ARGS

from fiscalwatch.validators.checker import check_file

pytestmark = pytest.mark.slow

HEADER = ("项目", "行次", "金额", "项目", "行次", "合计", "一般公共预算财政拨款", "政府性基金预算财政拨款", "国有资本经营预算财政拨款")
ROWS = [("一、一般公共预算财政拨款收入", "1", "100.00", "一、一般公共服务支出", "10", "60.00", "60.00", "0", "0"),
        ("二、政府性基金预算财政拨款收入", "2", "20.00", "二、社会保障和就业支出", "11", "40.00", "40.00", "0", "0"),
        ("三、国有资本经营预算财政拨款收入", "3", "0", "三、资源勘探工业信息等支出", "12", "20.00", "0", "20.00", "0"),
        ("", "4", "", "四、卫生健康支出", "13", "0", "0", "0", "0"),
        ("合计", "5", "120.00", "合计", "14", "120.00", "100.00", "20.00", "0")]
# CSS widths of the two name columns: wrapped over two lines, and the left one over three or four.
WIDTHS = {"two lines": (90, 90), "three lines": (50, 120)}


def _printed(tmp_path: Path, widths: tuple[int, int]) -> Path:
    style = (f"td,th{{padding:2px 6px;font-size:11px}} td:nth-child(1){{width:{widths[0]}px}} "
             f"td:nth-child(4){{width:{widths[1]}px}} th{{width:60px}}")
    return _print(tmp_path, style, "财政拨款收入支出决算总表", HEADER, ROWS, "<p>注：本表反映部门本年度财政拨款收支情况。</p>")


def _print(tmp_path: Path, style: str, title: str, header: tuple, rows: list[tuple], after: str = "") -> Path:
    """The table as a web page (`style` its CSS), printed by Chromium."""
    from playwright.sync_api import sync_playwright

    cells = lambda row, tag: "".join(f"<{tag}>{c}</{tag}>" for c in row)  # noqa: E731
    page = tmp_path / "page.html"
    page.write_text(
        f'<html><head><meta charset="utf-8"><style>table{{border-collapse:collapse}} {style}</style></head><body>'
        f"<h3>{title}</h3><p>单位：万元</p><table><tr>{cells(header, 'th')}</tr>"
        + "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows) + f"</table>{after}</body></html>", encoding="utf-8")
    target = tmp_path / "page.pdf"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            tab.goto(page.as_uri())
            tab.pdf(path=str(target))
        finally:
            browser.close()
    return target


@pytest.mark.parametrize("widths", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_two_sided_table_with_wrapped_names_printed_by_chromium(tmp_path, widths):
    result = check_file(_printed(tmp_path, widths))
    assert result.ok, result.error
    table = result.document.table("fiscal_summary")
    read = [(row.side, row.name, {key: str(figure.value) for key, figure in row.values.items()}) for row in table.rows]
    income, expense = ("amount",), ("total", "gpb", "gov_fund", "soe")
    halves = lambda row: ((0, row[0], income, row[2:3]), (1, row[3], expense, row[5:]))  # noqa: E731
    written = [(side, name.split("、")[-1], dict(zip(keys, values)))
               for row in ROWS for side, name, keys, values in halves(row) if name]
    assert read == written
    assert not [f for f in result.findings if f.severity == "error"]


BASIC_HEADER = ("科目代码", "科目名称", "决算数", "科目代码", "科目名称", "决算数")
BASIC_ROWS = [("301", "工资福利支出", "324.08", "302", "商品和服务支出", "9.19"),
              ("30101", "基本工资", "89.68", "30201", "办公费", "0"),
              ("30102", "津贴补贴", "42.91", "30231", "公务用车运行维护费", "0"),
              ("30307", "医疗费补助", "15.77", "30239", "其他交通费用", "9.19"),
              ("30399", "其他对个人和家庭的补助", "0", "30299", "其他商品和服务支出", "0")]


def test_cells_printed_closer_than_a_cell_gap_and_names_centred_around_their_figures(tmp_path):
    """The 06表 as a web page printed with tight cell padding: a figure printed flush right and the code after it
    ('89.68 30201') stand less than a cell gap apart, and the names wrapped in narrow columns have the row's
    figures printed centred between their two lines. (Where such a page has no bands to read it by, a
    continuation page without header, the text path reads it: seed 001 printed by Chromium, p13.)"""
    style = ("td,th{padding:2px 2px;font-size:9pt} td:nth-child(2),td:nth-child(5){width:100px} "
             "td:nth-child(3),td:nth-child(6){text-align:right}")
    target = _print(tmp_path, style, "一般公共预算财政拨款基本支出决算明细表", BASIC_HEADER, BASIC_ROWS)
    result = check_file(target)
    assert result.ok, result.error
    table = result.document.table("gpb_basic")
    read = sorted(((row.code or "", row.name, [str(f.value) for f in row.values.values()]) for row in table.rows), key=str)
    written = sorted(((code, name, [amount]) for row in BASIC_ROWS for code, name, amount in (row[:3], row[3:])), key=str)
    assert read == written
