"""Checks across archived documents: what one document says about another that the archive also holds.

A 决算 states the year-start budget (年初预算) of the items it explains; the same entity's 预算 for that
year printed them. A document states last year's figures through its changes (比上年减少A万元); last
year's document of the same entity and kind printed them. Each figure is compared only where the other
document's table was read reliably (its own reliability gate), with both printings' rounding allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fiscalwatch.labels import KIND
from fiscalwatch.parsers.model import Document, Figure, Row, Sentence, Table
from fiscalwatch.parsers.narrative import NAMED_BUDGET, YEAR
from fiscalwatch.settings import RuleParams
from fiscalwatch.validators.core import Context, Finding, Rule, fmt, half_unit
from fiscalwatch.validators.narrative_rules import item_row, last_year, resolve, section_kind


@dataclass
class Pair:
    """The document whose statements are checked, and the archived document they are checked against."""

    subject: Document
    other: Document
    other_title: str  # how messages name the other document
    doubted: set[str] = field(default_factory=set)  # titles of the other document's tables read unreliably


@dataclass(frozen=True)
class ArchiveRule(Rule):
    """A rule on a document and one from the archive: its check takes the Pair and a Context on the other."""

    check: Callable[[Pair, Context], Iterable[Finding]]

    def run(self, pair: Pair, params: RuleParams | None = None) -> list[Finding]:
        ctx = Context(pair.other, params or RuleParams())
        ctx.current = self
        return list(self.check(pair, ctx))


# ------------------------------------------------------------------ 决算 against its 预算

# Narrative sections on funds whose 年初预算 figures the 预算 document prints, and the column of its table
# that holds a line's whole amount (the first the table has); 三公 has its own table.
_FUND_COLUMNS = {"gpb_expense": ("total", "gpb"), "gov_fund": ("total", "gov_fund", "expense")}
_FUND_TOTAL = re.compile(r"(一般公共预算|政府性基金)(预算)?(财政拨款)?支出$")
_ITEM = re.compile(r"[（(]项[)）]")


def _budget_against_final(pair: Pair, ctx: Context) -> Iterable[Finding]:
    final, budget = pair.subject, pair.other
    for claim in Context(final).claims:
        section = section_kind(claim.sentence.section)
        if claim.kind != "completion" or "年初预算" not in claim.quote:
            continue
        table = budget.table(section) if section in (*_FUND_COLUMNS, "three_public") else None
        if table is None or table.title in pair.doubted:
            continue
        found = _three_public(table, claim.subject) if section == "three_public" else _fund_line(
            table, section, claim.subject)
        if found is None:
            continue
        row, figure, where = found
        printed = figure.value * table.factor
        allowed = half_unit(claim.budget) + half_unit(figure.value) * table.factor
        if abs(printed - claim.budget) <= allowed:
            continue
        item = re.sub(r"^(其中[：:]?)?\d+[、.．]", "", claim.subject)
        yield ctx.finding(
            f"{_subject(final)}情况说明（第{claim.sentence.page}页）称{_quoted(item)}年初预算为{fmt(claim.budget)}万元，"
            f"而同年{pair.other_title}{table.title}（第{row.page}页）{where}为{figure.text}{table.unit}，"
            f"相差{fmt(claim.budget - printed)}万元。",
            page=claim.sentence.page, item=item, code=row.code, stated=claim.budget, budget=printed,
            difference=claim.budget - printed, other_table=table.title, other_page=row.page,
            other_document=pair.other_title, quote=claim.quote, unit="万元")


def _fund_line(table: Table, section: str, subject: str) -> tuple[Row, Figure, str] | None:
    """The 预算's line for an item ('A（类）B（款）C（项）') or for the fund's total."""
    row = item_row(table, subject) if _ITEM.search(subject) else (
        table.total_row() if _FUND_TOTAL.search(subject) else None)
    key = next((k for k in _FUND_COLUMNS[section] if row and k in row.values), None)
    return (row, row.values[key], _row_name(row)) if key else None


# The 三公 total, not one of its parts.
_THREE_PUBLIC_TOTAL = re.compile(r"三公”?经费(财政拨款)?(支出)?$")


def _three_public(table: Table, subject: str) -> tuple[Row, Figure, str] | None:
    """The 预算's 三公 total, from a table of one row whose header says it is this year's budget (tables of
    several rows print other years or measures beside it)."""
    if len(table.rows) != 1 or not _THREE_PUBLIC_TOTAL.search(subject):
        return None
    row = table.rows[0]
    figure = row.values.get("budget.total") or row.values.get("amount.total")
    return (row, figure, "“三公”经费合计") if figure else None


# ------------------------------------------------------------------ last year's figures

# A change against something other than last year's document of the same kind (a 预算 against last
# year's 执行数, a 决算 against its own 预算) names the other measure in its sentence (a fund's name masked).
_OTHER_MEASURE = {"budget": re.compile(r"执行|决算|实际"), "final": re.compile(r"预算")}


# Last year's figure restated on this year's basis (a unit moved in or out) is not the one last year printed.
_RESTATED = re.compile(r"可比口径|同口径|口径调整|调整后")


def _against_last_year_s(doc: Document, *sentences: Sentence) -> bool:
    """The sentences (this year's figure's and its change's) compare with last year's figures of the
    document's own measure as printed then, and name no other year."""
    text = NAMED_BUDGET.sub("#", "".join(dict.fromkeys(s.text for s in sentences)))
    years = {int(y) for y in YEAR.findall(text)}
    return (not _OTHER_MEASURE[doc.kind].search(text) and not _RESTATED.search(text)
            and years <= {doc.year, doc.year - 1})


def _previous_year(pair: Pair, ctx: Context) -> Iterable[Finding]:
    doc = pair.subject
    claims = Context(doc).claims
    for index, claim in enumerate(claims):
        found = last_year(claims, index, claim) if claim.kind == "change" else None
        if found is None or not _against_last_year_s(doc, found[0].sentence, claim.sentence):
            continue
        current, previous = found
        target = resolve(ctx, current)
        if target is None or target.table.title in pair.doubted:
            continue
        row = _named_total(target.table, target.row, current.subject)
        figure = row.values.get(target.key) if row else None
        if figure is None:
            continue
        printed = figure.value * target.table.factor
        allowed = half_unit(current.value) + half_unit(claim.delta) + half_unit(figure.value) * target.table.factor
        if abs(printed - previous) <= allowed:
            continue
        yield ctx.finding(
            f"{_subject(doc)}情况说明（第{claim.sentence.page}页）称{_quoted(current.subject)}{fmt(current.value)}万元、"
            f"{claim.direction}{fmt(claim.delta)}万元，即上年为{fmt(previous)}万元；而{pair.other_title}"
            f"{target.table.title}（第{row.page}页）{_row_name(row)}为{figure.text}{target.table.unit}，"
            f"相差{fmt(previous - printed)}万元。",
            page=claim.sentence.page, item=current.subject, stated=previous, printed=printed,
            difference=previous - printed, current=current.value, other_table=target.table.title,
            other_page=row.page, other_document=pair.other_title, quote=claim.quote, unit="万元")


_SIDED_TOTAL = re.compile(r"(收入|支出)(总计|合计)$")


def _named_total(table: Table, row: Row, subject: str) -> Row | None:
    """A subject naming one side's total ("支出总计") is that row, not the table's first total."""
    named = _SIDED_TOTAL.search(subject)
    if not named or named.group(0) in row.name:
        return row
    return next((r for r in table.rows if r.name.endswith(named.group(0))), None)


def _subject(doc: Document) -> str:
    return f"{doc.entity or ''}{doc.year or ''}年度{KIND.get(doc.kind, '')}"


def _quoted(text: str) -> str:
    return text if "“" in text else f"“{text}”"


def _row_name(row: Row) -> str:
    return f"{row.code} {row.name}" if row.code else row.name


BUDGET_FINAL = ArchiveRule("A-BUDGET-FINAL", "reconciliation", "error", "决算所列年初预算数与同年预算文件一致",
                           _budget_against_final)
PREVIOUS_YEAR = ArchiveRule("A-PREVIOUS-YEAR", "reconciliation", "error", "文中增减所推算的上年数与上年文件一致",
                            _previous_year)
ARCHIVE_RULES = [BUDGET_FINAL, PREVIOUS_YEAR]

