"""Reconciliations between tables: totals carried from one table to another."""

from __future__ import annotations

import re

from fiscalwatch.parsers.model import Figure, Row, Table
from fiscalwatch.validators.core import Context, check_cross, rule
from fiscalwatch.validators.table_rules import CODED


def summary_line(table: Table | None, side: int, pattern: str = r"本年(收入|支出)合计|^(收入|支出)合计$") -> Row | None:
    """The 本年合计 line of one side of a 收支总表, else its 总计."""
    if not table:
        return None
    rows = [r for r in table.rows if r.side == side]
    line = next((r for r in rows if re.search(pattern, r.name)), None) or next(
        (r for r in rows if r.name.endswith("总计")), None)
    # A side whose lines name the other side's totals was not split as printed: no figure to compare.
    wrong = "支出" if side == 0 else "收入"
    return None if line is None or wrong in line.name else line


def _first_value(row: Row, *keys: str):
    for key in keys:
        if key in row.values:
            return row.values[key]
    return None


def _pair(ctx: Context, left: Table | None, left_row: Row | None, left_keys: tuple[str, ...],
          right: Table | None, right_row: Row | None, right_keys: tuple[str, ...], what: str):
    if not (left and right and left_row and right_row):
        return None
    a = _first_value(left_row, *left_keys)
    b = _first_value(right_row, *right_keys)
    if a is None or b is None:
        return None
    return check_cross(ctx, left, a, right, b, what=what, page=left_row.page,
                       left_where=f"{left_row.name}", right_where=f"{right_row.name}")


@rule("X-TOTALS", "reconciliation", "error", "收入表、支出表合计与收支总表一致")
def totals_match_summary(ctx: Context):
    doc = ctx.doc
    summary = doc.table("summary")
    income, expense = doc.table("income"), doc.table("expense")
    if not summary:
        ctx.skip("缺少收支总表，无法核对收入表、支出表合计")
        return
    checks = [
        # A budget's 收入表 may add 上年结转 to 本年收入; the 收支总表 line is 本年收入合计, or its 收入总计 when
        # the 收入表 prints no 本年收入 column of its own, only a 合计 over its carry-over columns too.
        (income, income.total_row() if income else None, ("income", "total"), _income_line(summary, income),
         ("amount",), "收入合计"),
        (expense, expense.total_row() if expense else None, ("total",), summary_line(summary, 1), ("amount", "total"),
         "支出合计"),
    ]
    for left, left_row, left_keys, right_row, right_keys, what in checks:
        finding = _pair(ctx, left, left_row, left_keys, summary, right_row, right_keys, what)
        if finding:
            yield finding
    yield from _class_lines(ctx, summary, 1, ("amount", "total"), expense, "total", "功能分类类级支出")


_CARRY_OVER = re.compile(r"结转|结余|余额")


def _income_line(summary: Table, income: Table | None) -> Row | None:
    if income and "income" not in income.amount_keys() and any(
            c.role == "amount" and (c.key == "opening" or _CARRY_OVER.search(c.label)) for c in income.columns):
        return summary_line(summary, 0, pattern=r"^收入总计$|总计$")
    return summary_line(summary, 0)


def _class_lines(ctx: Context, summary: Table, side: int, keys: tuple[str, ...], detail: Table | None, key: str,
                 what: str):
    """Each 功能类 line of a 收支总表 equals the same 类 in the detail table."""
    if not detail:
        return
    classes = {r.name: r for r in detail.rows if r.code and len(r.code) == 3}
    for row in summary.rows:
        if row.side != side or row.name not in classes:
            continue
        finding = _pair(ctx, summary, row, keys, detail, classes[row.name], (key,), f"{row.name}{what}")
        if finding:
            yield finding


@rule("X-FISCAL", "reconciliation", "error", "财政拨款收支总表各列与一般公共预算、政府性基金、国有资本经营支出表一致")
def fiscal_summary_columns(ctx: Context):
    doc = ctx.doc
    fiscal = doc.table("fiscal_summary")
    if not fiscal:
        ctx.skip("缺少财政拨款收支总表")
        return
    line = summary_line(fiscal, 1)
    for key, kind, detail_keys, what in (
        ("gpb", "gpb_expense", ("total",), "一般公共预算财政拨款支出"),
        ("gov_fund", "gov_fund", ("expense", "total"), "政府性基金预算财政拨款支出"),
        ("soe", "soe", ("total", "expense"), "国有资本经营预算财政拨款支出"),
    ):
        detail = doc.table(kind)
        if detail and detail.rows:
            finding = _pair(ctx, fiscal, line, (key,), detail, detail.total_row(), detail_keys, what)
            if finding:
                yield finding
    yield from _class_lines(ctx, fiscal, 1, ("gpb",), doc.table("gpb_expense"), "total", "一般公共预算类级支出")
    income = doc.table("income")
    if income and doc.kind == "final":
        finding = _pair(ctx, income, income.total_row(), ("fiscal",), fiscal, summary_line(fiscal, 0), ("amount",),
                        "财政拨款收入")
        if finding:
            yield finding


@rule("X-BASIC", "reconciliation", "error", "一般公共预算基本支出与基本支出明细表（人员经费+公用经费）一致")
def basic_matches_detail(ctx: Context):
    doc = ctx.doc
    gpb, basic = doc.table("gpb_expense"), doc.table("gpb_basic")
    if not gpb or not basic or not basic.rows:
        return
    total = gpb.total_row()
    if not total or "basic" not in total.values:
        return
    if doc.kind == "final":
        parts = [basic.by_name("人员经费合计", "人员经费"), basic.by_name("公用经费合计", "公用经费")]
        if not all(parts) or not all("amount" in p.values for p in parts):
            ctx.skip("基本支出明细表缺少人员经费合计或公用经费合计")
            return
        combined = Figure(parts[0].values["amount"].value + parts[1].values["amount"].value,
                          f"{parts[0].values['amount'].text}+{parts[1].values['amount'].text}")
        finding = check_cross(ctx, gpb, total.values["basic"], basic, combined, what="一般公共预算基本支出",
                              left_where="合计（基本支出）", right_where="人员经费合计+公用经费合计", page=total.page)
    else:
        finding = _pair(ctx, gpb, total, ("basic",), basic, basic.total_row(), ("total",), "一般公共预算基本支出")
    if finding:
        yield finding


@rule("X-3PUBLIC-ITEMS", "reconciliation", "error", "基本支出中的公务接待费、公务用车运行维护费不超过三公经费决算数")
def base_items_within_three_public(ctx: Context):
    doc = ctx.doc
    basic, three = doc.table("gpb_basic"), doc.table("three_public")
    if doc.kind != "final" or not basic or not three or not three.rows:
        return
    row = three.rows[0]
    for code, key, name in (("30217", "actual.reception", "公务接待费"), ("30231", "actual.car_operation", "公务用车运行维护费")):
        item = basic.by_code(code)
        if not item or "amount" not in item.values or key not in row.values:
            continue
        part = item.values["amount"].value * basic.factor
        whole = row.values[key].value * three.factor
        if part > whole:
            yield ctx.finding(
                f"基本支出明细表{code}{name}为{item.values['amount'].text}{basic.unit}，超过三公经费表{name}决算数"
                f"{row.values[key].text}{three.unit}（基本支出部分不应大于三公经费总额）。",
                page=item.page, table=basic, other_table=three.title, part=part, whole=whole, unit="万元")


@rule("X-NAMES", "reconciliation", "warning", "同一科目编码在各表中的名称一致")
def same_code_same_name(ctx: Context):
    names: dict[str, tuple[str, Table, Row]] = {}
    # Only tables by 功能/经济分类: 政府采购, 绩效目标 and other tables carry project and item codes of their own.
    for table in (t for t in ctx.doc.tables if t.kind in CODED):
        for row in table.rows:
            if not row.code or not row.name or row.name in ("合计",):
                continue
            known = names.get(row.code)
            if known is None:
                names[row.code] = (row.name, table, row)
            elif known[0] != row.name and known[1] is not table:
                yield ctx.finding(
                    f"科目{row.code}在{known[1].title}中名为“{known[0]}”，在{table.title}中名为“{row.name}”。",
                    page=row.page, table=table, code=row.code, names=[known[0], row.name])
                names[row.code] = (row.name, table, row)

