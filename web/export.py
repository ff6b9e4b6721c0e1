"""The compliance table as CSV (UTF-8 with BOM, for Excel) and XLSX."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from compliance import KINDS, QUALITY, TIMELINESS
from web.schemas import ComplianceRow

HEADER = ["单位", "级次", "地区", "上级部门", "年度", "类别", "批复日期", "公开期限", "公开情况", "发布日期",
          "逾期天数", "内容质量", "缺少表格数", "错误数", "文件编号", "文件标题"]
_DATES = (6, 7, 9)  # columns holding dates
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cells(row: ComplianceRow) -> list:
    return [row.entity, row.level, row.region, row.parent, row.year, KINDS[row.kind], row.approval_date,
            row.deadline, TIMELINESS[row.timeliness], row.published, row.days_late if row.days_late else None,
            QUALITY.get(row.quality), row.missing_tables or None, row.errors or None, row.document_id,
            row.document_title]


def _safe(value):
    # Titles come from crawled pages: a leading = or + would run as a formula in a spreadsheet.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[ComplianceRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows([_safe(value) if value is not None else "" for value in cells(row)] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[ComplianceRow]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "公开情况"
    sheet.append(HEADER)
    for row in rows:
        sheet.append([_safe(value) for value in cells(row)])
    for column, width in enumerate([28, 6, 20, 20, 6, 6, 12, 12, 16, 12, 8, 10, 10, 8, 8, 50], 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for index in _DATES:
            row[index].number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
