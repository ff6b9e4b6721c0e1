"""Tables as CSV (UTF-8 with BOM, for Excel) and XLSX: the compliance table and the findings explorer."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fiscalwatch.labels import CATEGORY, KIND, QUALITY, SEVERITY, TIMELINESS
from fiscalwatch.web.schemas import ComplianceRow, ExploredFinding

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Sheet:
    """What one exported table holds: its header, the cells of a row, column widths, which columns are dates."""

    title: str
    header: list[str]
    cells: Callable[[object], list]
    widths: list[int]
    dates: tuple[int, ...] = ()


def _compliance_cells(row: ComplianceRow) -> list:
    return [row.entity, row.level, row.region, row.parent, row.year, KIND[row.kind], row.approval_date,
            row.deadline, TIMELINESS[row.timeliness], row.published, row.days_late if row.days_late else None,
            QUALITY.get(row.quality), row.missing_tables or None, row.errors or None, row.document_id,
            row.document_title]


COMPLIANCE = Sheet("公开情况", ["单位", "级次", "地区", "上级部门", "年度", "类别", "批复日期", "公开期限", "公开情况",
                            "发布日期", "逾期天数", "内容质量", "缺少表格数", "错误数", "文件编号", "文件标题"],
                   _compliance_cells, [28, 6, 20, 20, 6, 6, 12, 12, 16, 12, 8, 10, 10, 8, 8, 50], dates=(6, 7, 9))


def findings_sheet(base: str) -> Sheet:
    """The findings explorer's rows, their evidence linked on the dashboard at ``base``."""
    def cells(row: ExploredFinding) -> list:
        other = base + row.other_document_url if row.other_document_url else None
        return [row.entity, row.region, row.year, KIND.get(row.kind), CATEGORY.get(row.category, row.category),
                SEVERITY.get(row.severity, row.severity), row.rule, row.message, row.page, row.table,
                row.amount, row.rate, row.document_title, base + row.evidence_url, row.other_document_title, other]

    return Sheet("核查发现", ["单位", "地区", "年度", "类别", "问题类别", "严重程度", "规则", "说明", "页码", "表格",
                          "金额（万元）", "比率（%）", "文件标题", "证据", "对照文件标题", "对照文件"],
                 cells, [28, 20, 6, 6, 10, 8, 18, 60, 6, 30, 12, 10, 40, 40, 40, 40])


def _safe(value):
    # Titles come from crawled pages: a leading = or + would run as a formula in a spreadsheet.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list, sheet: Sheet = COMPLIANCE) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(sheet.header)
    writer.writerows([_safe(value) if value is not None else "" for value in sheet.cells(row)] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list, sheet: Sheet = COMPLIANCE) -> bytes:
    book = Workbook()
    page = book.active
    page.title = sheet.title
    page.append(sheet.header)
    for row in rows:
        page.append([_safe(value) for value in sheet.cells(row)])
    for column, width in enumerate(sheet.widths, 1):
        page.column_dimensions[get_column_letter(column)].width = width
    for cell in page[1]:
        cell.font = Font(bold=True)
    for row in page.iter_rows(min_row=2):
        for index in sheet.dates:
            row[index].number_format = "yyyy-mm-dd"
    page.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
