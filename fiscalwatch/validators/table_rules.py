"""Reconciliations inside one table: code hierarchies, row identities, summary tables, 三公."""

from __future__ import annotations

import re

from fiscalwatch.parsers.model import Row, Table
from fiscalwatch.validators import header_tree
from fiscalwatch.validators.core import Context, check_sum, rule

CODED = ("income", "expense", "gpb_expense", "gov_fund", "soe", "gpb_basic", "gpb_project", "project",
         "econ_summary", "gpb_basic_function", "gpb_economic", "fiscal_expense", "fiscal_basic", "basic_summary")
_TOP_LEVEL = re.compile(r"^[一二三四五六七八九十]+、")
_SUB_ITEM = re.compile(r"^(\d+[、.．]|[（(][一二三四五六七八九十\d]+[)）])")
_ADJUSTMENT = re.compile(r"结转|结余|余额")
_OF_WHICH = re.compile(r"^其中")


def _unique_rows(rows: list[Row]) -> list[Row]:
    """Rows with a code, once each (continuation pages sometimes repeat a row)."""
    seen: dict[str, Row] = {}
    for row in rows:
        if row.code and row.code not in seen:
            seen[row.code] = row
    return list(seen.values())


def _sections(table: Table) -> list[list[Row]]:
    """The table's rows cut before each row without code that a class row follows: a table broken down by
    预算单位 prints each unit's name so, then the unit's own classification (codes the unit before printed too).
    A cut never parts a class from its 款 and 项."""
    shortest = min((len(r.code) for r in table.rows if r.code), default=0)
    sections: list[list[Row]] = [[]]
    for previous, row in zip([None, *table.rows], table.rows):
        if previous is not None and not previous.code and row.code and len(row.code) == shortest and len(sections[-1]) > 1:
            sections.append([sections[-1].pop()])
        sections[-1].append(row)
    return sections


def _children(rows: list[Row], parent: Row) -> list[Row]:
    code = parent.code
    for length in (len(code) + 2, len(code) + 4):
        children = [r for r in rows if r.code and len(r.code) == length and r.code.startswith(code)]
        if children:
            return children
    return []


@rule("R-HIER", "reconciliation", "error", "类=各款之和、款=各项之和、合计=各类之和")
def hierarchy(ctx: Context):
    for table in ctx.doc.tables:
        if table.kind not in CODED:
            continue
        sections = [_unique_rows(section) for section in _sections(table)]
        for rows in sections:
            yield from _classes_of(ctx, table, rows)
        codes = [{r.code for r in rows} for rows in sections]
        if any(codes[i] & set().union(*codes[:i]) for i in range(1, len(codes))):
            ctx.skip(f"{table.title}按预算单位分列，各单位的科目不合计为一个总计，未核对合计=各类之和")
        else:
            yield from _total_of_classes(ctx, table, _unique_rows(table.rows))


def _classes_of(ctx: Context, table: Table, rows: list[Row]):
    for parent in rows:
        children = _children(rows, parent)
        if not children:
            continue
        for key in table.amount_keys():
            # A child printing figures but none in this column was not aligned with it: no sum.
            if key not in parent.values or any(c.values and key not in c.values for c in children):
                continue
            parts = [c.values[key] for c in children if key in c.values]
            finding = check_sum(ctx, table, parent.values[key], parts, page=parent.page,
                                where=f"{parent.where}（{column_label(table, key)}）",
                                formula="+".join(c.code for c in children), group=f"各款/项之和（{column_label(table, key)}）")
            if finding:
                yield finding


def _total_of_classes(ctx: Context, table: Table, rows: list[Row]):
    total = table.total_row()
    classes = [r for r in rows if len(r.code) == 3]
    if not total or not classes or table.kind == "gpb_basic" and not any(r.code.startswith("50") for r in classes):
        return
    for key in table.amount_keys(total.side):
        if key not in total.values:
            continue
        parts = [r.values[key] for r in classes if key in r.values]
        finding = check_sum(ctx, table, total.values[key], parts, page=total.page,
                            where=f"合计（{column_label(table, key)}）", formula="各类之和")
        if finding:
            yield finding


def column_label(table: Table, key: str) -> str:
    """The column's header as people read it: the leaf, with its group for a 小计/合计 (本年收入小计)."""
    column = next((c for c in table.columns if c.key == key), None)
    if not column or not column.label:
        return key
    parts = [p.strip() for p in column.label.split("/") if p.strip()]
    return "".join(parts[-2:]) if len(parts) > 1 and parts[-1] in ("小计", "合计", "总计") else parts[-1]


# Tables whose sums have rules of their own (三公) or that hold no sums (performance targets).
_OWN_IDENTITIES = {"three_public", "perf_target", "evaluation"}


@rule("R-ROW", "reconciliation", "error", "行内合计=表头中其下一级各列之和（如合计=基本支出+项目支出）")
def row_identities(ctx: Context):
    for table in ctx.doc.tables:
        if table.kind in _OWN_IDENTITIES:
            continue
        for side in sorted({c.side for c in table.columns}):
            for identity in header_tree.identities(table, side):
                formula = "+".join(column_label(table, k) for k in identity.parts)
                wrapped = _wrapped_lines(table.rows, identity.total)
                for row in table.rows:
                    if row.side != side or id(row) in wrapped or identity.total not in row.values or not all(
                            k in row.values for k in identity.parts):
                        continue
                    finding = check_sum(ctx, table, row.values[identity.total],
                                        [row.values[k] for k in identity.parts], page=row.page,
                                        where=f"{row.where}（{column_label(table, identity.total)}）",
                                        formula=formula)
                    if finding:
                        yield finding
        if table.kind == "gov_fund":
            yield from _carry_over(ctx, table)


def _wrapped_lines(rows: list[Row], total: str) -> set[int]:
    """A line printing figures but no total is the rest of a wrapped line (name and digits split over two
    lines): neither it nor the line above holds its whole figures."""
    wrapped: set[int] = set()
    for above, row in zip([None, *rows], rows):
        figure = row.values.get(total)
        if row.values and (figure is None or not figure.text.strip()) and not row.code:
            wrapped.add(id(row))
            if above is not None:
                wrapped.add(id(above))
    return wrapped


def _carry_over(ctx: Context, table: Table):
    for row in table.rows:
        needed = ("opening", "income", "expense", "closing")
        if not all(k in row.values for k in needed):
            continue
        finding = check_sum(ctx, table, row.values["closing"], [row.values[k] for k in needed[:3]],
                            sign=[1, 1, -1], page=row.page, where=f"{row.where}（年末结转和结余）",
                            formula="年初结转和结余+本年收入-本年支出")
        if finding:
            yield finding


@rule("R-SUMMARY", "reconciliation", "error", "收支总表：本年合计=各项之和，总计=本年合计+结转结余，收入总计=支出总计")
def summary_tables(ctx: Context):
    for kind in ("summary", "fiscal_summary"):
        table = ctx.doc.table(kind)
        if not table or not table.rows:
            continue
        grand: dict[int, Row] = {}
        for side in sorted({r.side for r in table.rows}):
            rows = [r for r in table.rows if r.side == side]
            found, total = yield_side(ctx, table, rows)
            yield from found
            if total:
                grand[side] = total
        if len(grand) == 2:
            income, expense = grand[min(grand)], grand[max(grand)]
            key_in = next(iter(income.values), None)
            key_out = "amount" if "amount" in expense.values else "total"
            if key_in and key_out in expense.values:
                finding = check_sum(ctx, table, income.values[key_in], [expense.values[key_out]], page=income.page,
                                    where="收入总计", formula="支出总计")
                if finding:
                    yield finding


@rule("R-SUMMARY-BLANK", "reconciliation", "error", "决算收支总表印有本年合计时，收入、支出各项不得缺列或空白")
def blank_summary_lines(ctx: Context):
    table = ctx.doc.table("summary")
    if ctx.doc.kind != "final" or not table:
        return
    for side, word in ((0, "收入"), (1, "支出")):
        rows = [r for r in table.rows if r.side == side]
        index = next((i for i, r in enumerate(rows) if re.search(f"本年{word}合计", r.name)), None)
        if index is None:
            continue
        subtotal = rows[index]
        printed = next((f for f in subtotal.values.values() if f.value), None)
        items = [r for r in rows[:index] if _TOP_LEVEL.match(r.label)]
        if printed and not _any_figure(items):
            state = f"{word}各项（{'、'.join(r.name for r in items[:3])}等）均为空白" if items else f"未列出{word}各项"
            yield ctx.finding(f"{table.title}{state}，但{subtotal.name}印为{printed.text}{table.unit}。",
                              page=subtotal.page, table=table, row=subtotal.name, printed=printed.value,
                              items=[r.name for r in items])


def _any_figure(rows: list[Row]) -> bool:
    """Whether any line prints a figure other than zero (a blank cell reads as zero)."""
    return any(f.value for r in rows for f in r.values.values())


def yield_side(ctx: Context, table: Table, rows: list[Row]) -> tuple[list, Row | None]:
    findings = []
    subtotal_index = next((i for i, r in enumerate(rows) if re.search(r"本年(收入|支出)合计|^(收入|支出)合计$", r.name)),
                          None)
    total_index = next((i for i, r in enumerate(rows) if r.name.endswith("总计")), None)
    items_end = subtotal_index if subtotal_index is not None else total_index
    if items_end is None:
        return findings, None
    items = [r for r in rows[:items_end] if _TOP_LEVEL.match(r.label)]
    # Only where every line above the total is a numbered item or one of its sub-items is the item
    # list known; a line of neither kind (unnumbered 功能类 lines, a wrapped name) leaves it unknown.
    if items and not _any_figure(items):
        pass  # every item blank: R-SUMMARY-BLANK says so
    elif all(_TOP_LEVEL.match(r.label) or _SUB_ITEM.match(r.label) or not r.values for r in rows[:items_end]):
        # Numbered items are themselves sums of their sub-items, whose rounding tails carry into the total.
        terms = len(items) + sum(bool(_SUB_ITEM.match(r.label)) for r in rows[:items_end])
        findings += _sum_rows(ctx, table, rows[items_end], items, "各项之和", terms)
    else:
        ctx.skip(f"{table.title}的{rows[items_end].name}上方有未编号的行，无法确定各项范围")
    findings += _sub_items(ctx, table, rows[:items_end])
    if subtotal_index is not None and total_index is not None and total_index > subtotal_index:
        # The 结转, 结余 and 余额 lines between 本年合计 and 总计 add to it; a line under one of them
        # ("1.财政拨款结余、结转", "其中：…") is part of it, not another addition.
        adjustments = [r for r in rows[subtotal_index + 1:total_index] if _ADJUSTMENT.search(r.name)
                       and not _SUB_ITEM.match(r.label) and not _OF_WHICH.match(r.label)]
        findings += _sum_rows(ctx, table, rows[total_index], [rows[subtotal_index], *adjustments],
                              "本年合计+结转结余")
    return findings, rows[total_index] if total_index is not None else None


def _sum_rows(ctx: Context, table: Table, total: Row, items: list[Row], formula: str, terms: int | None = None) -> list:
    findings = []
    if not items:
        return findings
    for key, figure in total.values.items():
        parts = [r.values[key] for r in items if key in r.values]
        finding = check_sum(ctx, table, figure, parts, page=total.page, where=f"{total.name}（{column_label(table, key)}）",
                            formula=formula, terms=terms)
        if finding:
            findings.append(finding)
    return findings


def _sub_items(ctx: Context, table: Table, rows: list[Row]) -> list:
    """'1、一般公共预算资金' lines under '一、财政拨款收入' add up to it."""
    findings = []
    for index, row in enumerate(rows):
        if not _TOP_LEVEL.match(row.label):
            continue
        subs = []
        for following in rows[index + 1:]:
            marker = _SUB_ITEM.match(following.label)
            if _OF_WHICH.match(following.label):
                continue  # "其中：…" is a part of the line above, not another item
            if not marker:
                break
            # "1、" items and their own "（1）" sub-items: only the first level adds up to the line.
            if _marker_kind(marker.group(1)) == _marker_kind(_SUB_ITEM.match(rows[index + 1].label).group(1)):
                subs.append(following)
        if subs:
            findings += _sum_rows(ctx, table, row, subs, "其中各项之和")
    return findings


def _marker_kind(marker: str) -> str:
    return "bracketed" if marker[0] in "（(" else "numbered"


@rule("R-3PUBLIC", "reconciliation", "error", "三公经费：合计=出国+公务用车+接待，公务用车=购置+运行维护")
def three_public(ctx: Context):
    table = ctx.doc.table("three_public")
    if not table:
        return
    for row in table.rows:
        for half in ("budget", "actual", "amount"):
            for total, parts in (("total", ("abroad", "car", "reception")), ("car", ("car_purchase", "car_operation"))):
                key = f"{half}.{total}"
                keys = [f"{half}.{p}" for p in parts]
                if key not in row.values or not all(k in row.values for k in keys):
                    continue
                finding = check_sum(ctx, table, row.values[key], [row.values[k] for k in keys], page=row.page,
                                    where=column_label(table, key), formula="+".join(column_label(table, k) for k in keys))
                if finding:
                    yield finding


@rule("R-BASIC", "reconciliation", "error", "基本支出明细：人员经费合计=301+303，公用经费合计=其余各类之和")
def basic_detail(ctx: Context):
    table = ctx.doc.table("gpb_basic")
    if not table or ctx.doc.kind != "final":
        return
    classes = [r for r in _unique_rows(table.rows) if len(r.code) == 3 and "amount" in r.values]
    personnel = table.by_name("人员经费合计", "人员经费")
    public = table.by_name("公用经费合计", "公用经费")
    if not classes or not (personnel or public):
        if table.rows:
            ctx.skip("基本支出明细表中未找到人员经费合计/公用经费合计行")
        return
    for total, members in ((personnel, [r for r in classes if r.code in ("301", "303")]),
                           (public, [r for r in classes if r.code not in ("301", "303")])):
        if total and "amount" in total.values and members:
            finding = check_sum(ctx, table, total.values["amount"], [m.values["amount"] for m in members],
                                page=total.page, where=total.name, formula="+".join(m.code for m in members))
            if finding:
                yield finding

