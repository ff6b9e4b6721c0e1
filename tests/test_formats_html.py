"""Inline HTML disclosures: encodings, CMS chrome, layout tables, rowspan/colspan."""

from __future__ import annotations

from pathlib import Path

import format_samples as samples
import pytest
from bs4 import BeautifulSoup

from fiscalwatch.parsers import parse_file
from fiscalwatch.parsers.html import decode_html, table_grid
from fiscalwatch.validators.checker import check_file


@pytest.mark.parametrize("encoding,declare", [("utf-8", True), ("gbk", True), ("gbk", False), ("gb18030", True)])
def test_same_table_and_findings_in_any_encoding(tmp_path, encoding, declare):
    result = check_file(samples.write_html(tmp_path / "page.html", encoding, declare))
    assert result.ok and result.document.format == "html"
    assert result.document.year == 2023 and result.document.kind == "final"
    assert [(t.kind, len(t.rows), t.unit) for t in result.document.tables] == [("expense", 4, "万元")]
    assert {"R-ROW", "R-HIER"} <= {f.rule for f in result.findings if f.severity == "error"}


def test_site_chrome_and_scripts_are_dropped(tmp_path):
    doc = parse_file(samples.write_html(tmp_path / "page.html"))
    text = "\n".join(doc.page_texts)
    assert samples.NARRATIVE in text
    for chrome in ("首页", "当前位置", "版权所有", "脚本"):
        assert chrome not in text
    assert doc.page_texts[0].splitlines()[0] == samples.TITLE


def test_a_title_in_an_article_header_is_kept(tmp_path):
    page = (f"<html><body><div class='top'><h1>某市财政局</h1></div><div class='article-header'><h1>{samples.TITLE}"
            f"</h1></div><div class='content'><p>{samples.NARRATIVE}</p></div></body></html>")
    path = tmp_path / "a.html"
    path.write_text(page, encoding="utf-8")
    doc = parse_file(path)
    assert doc.page_texts[0].splitlines()[0] == samples.TITLE and doc.year == 2023


def test_gb2312_declared_page_with_characters_outside_gb2312():
    text = "<html><head><meta charset='gb2312'></head><body><p>朱镕基 王珺 2023年度部门决算</p></body></html>"
    assert "镕" in decode_html(text.encode("gb18030"))


def test_undeclared_gbk_is_detected():
    body = "<html><body><p>" + "财政拨款收入支出决算总表，单位：万元。本年收入合计与本年支出合计相等。" * 3 + "</p></body></html>"
    assert "财政拨款" in decode_html(body.encode("gbk"))


def test_rowspan_and_colspan_become_owners():
    table = BeautifulSoup("""<table>
      <tr><th rowspan="2">项目</th><th colspan="2">本年支出</th><td rowspan="3">备注</td></tr>
      <tr><th>基本支出</th><th>项目支出</th></tr>
      <tr><td>合计</td><td>1.00</td><td>2.00</td></tr>
      <tr><td colspan="99999">注</td></tr>
    </table>""", "lxml").table
    grid = table_grid(table)
    assert grid.rows[:3] == [["项目", "本年支出", None, "备注"], [None, "基本支出", "项目支出", None],
                             ["合计", "1.00", "2.00", None]]
    assert grid.owners[(1, 0)] == (0, 0) and grid.owners[(0, 2)] == (0, 1) and grid.owners[(2, 3)] == (0, 3)
    assert len(grid.rows[3]) == len(grid.rows[0])  # an absurd colspan is capped, rows stay rectangular


def test_page_breaks_in_word_exported_html(tmp_path):
    page = ("<html><body><p>测试局2023年度部门决算</p>"
            "<br style='page-break-before:always'><p>支出决算表</p></body></html>")
    path = Path(tmp_path / "w.html")
    path.write_text(page, encoding="utf-8")
    assert parse_file(path).page_count == 2
