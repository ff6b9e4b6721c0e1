"""A small final account written in each office/web format, for the format tests.

Its 支出决算表 has merged header cells and a 合计 that does not add up (150 printed,
100 computed), so every format must yield the same table and the same R-ROW/R-HIER errors.
"""

from __future__ import annotations

import html
from pathlib import Path

import docx
import openpyxl
from docx.enum.text import WD_BREAK

TITLE = "测试局2023年度部门决算"
TABLE = "支出决算表"
UNIT = "单位：万元"
NOTE = "注：本表反映部门本年度各项支出情况。"
HEADING = "一、支出决算情况说明"
NARRATIVE = "2023年度支出决算150.00万元，其中基本支出60.00万元，项目支出40.00万元。"
# None: covered by a merge. Merges: (first row, first col, last row, last col).
ROWS = [
    ["项目", None, "本年支出合计", "基本支出", "项目支出"],
    ["科目编码", "科目名称", None, None, None],
    ["", "合计", "150.00", "60.00", "40.00"],
    ["201", "一般公共服务支出", "100.00", "60.00", "40.00"],
    ["20101", "人大事务", "100.00", "60.00", "40.00"],
    ["2010101", "行政运行", "100.00", "60.00", "40.00"],
]
MERGES = [(0, 0, 0, 1), (0, 2, 1, 2), (0, 3, 1, 3), (0, 4, 1, 4)]


def write_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph(TITLE)
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.add_paragraph(TABLE)
    document.add_paragraph(UNIT)
    table = document.add_table(rows=len(ROWS), cols=len(ROWS[0]))
    table.style = "Table Grid"
    for r0, c0, r1, c1 in MERGES:
        table.cell(r0, c0).merge(table.cell(r1, c1))
    for r, row in enumerate(ROWS):
        for c, value in enumerate(row):
            if value is not None:
                table.cell(r, c).text = value
    for line in (NOTE, HEADING, NARRATIVE):
        document.add_paragraph(line)
    document.save(path)
    return path


def write_xlsx(path: Path, *, numbers_as_text: bool = False, hidden: bool = True) -> Path:
    """Title and unit rows above the table; optionally a hidden junk column, row and sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "支出决算表"
    shift = 1 if hidden else 0  # column A then holds junk numbers and is hidden

    def append(values: list) -> None:
        sheet.append([999999] * shift + values)

    append([TITLE])
    append([TABLE])
    append([None, None, None, None, UNIT])
    top = sheet.max_row + 1
    for row in ROWS:
        amounts = [float(v) if not numbers_as_text and v and "." in v else v for v in row]
        append(amounts)
    for r in range(top + 2, top + len(ROWS)):
        for c in (3, 4, 5):
            sheet.cell(r, c + shift).number_format = "#,##0.00"
    for r0, c0, r1, c1 in MERGES:
        sheet.merge_cells(start_row=top + r0, start_column=c0 + 1 + shift, end_row=top + r1, end_column=c1 + 1 + shift)
    for line in (NOTE, HEADING, NARRATIVE):
        append([line])
    if hidden:
        sheet.column_dimensions["A"].hidden = True
        append(["", "隐藏行", "88888.00", "1.00", "1.00"])
        sheet.row_dimensions[sheet.max_row].hidden = True
        junk = book.create_sheet("草稿")
        junk.append(["财政拨款“三公”经费支出决算表"])
        junk.sheet_state = "hidden"
    book.save(path)
    return path


def write_html(path: Path, encoding: str = "utf-8", declare: bool = True) -> Path:
    """An inline disclosure inside CMS chrome: navigation, breadcrumb, a layout table, a footer."""
    cells = []
    spans = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in MERGES}
    for r, row in enumerate(ROWS):
        tds = []
        for c, value in enumerate(row):
            if value is None:
                continue
            rowspan, colspan = spans.get((r, c), (1, 1))
            tds.append(f'<td rowspan="{rowspan}" colspan="{colspan}">{html.escape(value)}</td>')
        cells.append("<tr>" + "".join(tds) + "</tr>")
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={encoding}">' if declare else ""
    page = f"""<!DOCTYPE html><html><head>{meta}<title>{TITLE}</title>
<script>var x = "<table><tr><td>脚本</td></tr></table>";</script></head>
<body><div class="nav"><a href="/">首页</a> <a href="/zwgk">政务公开</a></div>
<div class="position">当前位置：首页 &gt; 财政预决算</div>
<table width="100%"><tr><td><div class="article">
<h1>{TITLE}</h1>
<p>{TABLE}</p><p>&nbsp;&nbsp;&nbsp;&nbsp;{UNIT}</p>
<table border="1">{"".join(cells)}</table>
<p>{NOTE}</p><p><b>{HEADING}</b></p><p>　　{NARRATIVE}</p>
</div></td></tr></table>
<div class="footer">版权所有 主办单位：测试局</div></body></html>"""
    path.write_bytes(page.encode(encoding))
    return path
