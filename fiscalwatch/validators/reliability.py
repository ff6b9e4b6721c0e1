"""The reliability gate: arithmetic becomes an error only on tables that were read cleanly.

A misread table (columns shifted, a header tree taken for a flat one, numbers glued together) fails
its identities on most rows, while a real anomaly fails one identity on one or two rows of a table
whose other rows add up. So every identity checked on a table is tallied; a table whose reader
doubts it, or one of whose identities fails on a large share of the rows it was checked on, is
reported once as 表格无法可靠识别, and no arithmetic finding that rests on it stays an error.
"""

from __future__ import annotations

import re

from fiscalwatch.validators.core import Context, Finding, Rule

GATE = Rule("T-UNRELIABLE", "document", "warning", "表格无法可靠识别时，其勾稽关系不作为错误", check=lambda ctx: ())

# An identity failing on more than this share of the rows it was checked on does not describe the
# table as read (real publications get a row or two wrong, not a quarter of them).
MAX_FAILING_SHARE = 0.25
MIN_FAILURES = 2  # one failing row is an anomaly to report, not evidence of a misread
MAX_FAILURES = 3  # an identity failing this often in one table is doubted whatever the share
_NUMBER = re.compile(r"^[\d,.\s]+$")
# A 功能/经济分类 line: a 3-, 5- or 7-digit code, then its name (not "2022 年度…").
_CODED_LINE = re.compile(r"^\s*(\d{3}|\d{5}|\d{7})\s+(?!年)[^\d\s]")


def gate(ctx: Context, findings: list[Finding]) -> list[Finding]:
    doubts = {table.title: reasons for table in ctx.doc.tables if (reasons := _doubts(ctx, table))}
    _state_basis(ctx, findings)
    if not doubts:
        return findings
    kept: list[Finding] = []
    withheld: dict[str, list[Finding]] = {title: [] for title in doubts}
    for finding in findings:
        title = _resting_on(finding, doubts)
        if title and finding.severity == "error" and finding.category == "reconciliation":
            withheld[title].append(finding)
        else:
            kept.append(finding)
    ctx.current = GATE
    for table in ctx.doc.tables:
        if table.title not in doubts or table.title in (f.table for f in kept if f.rule == GATE.id):
            continue
        held = withheld[table.title]
        kept.append(ctx.finding(
            f"{table.title}（第{table.page}页）无法可靠识别：{'；'.join(doubts[table.title])}。"
            f"该表的勾稽关系不作为错误" + (f"（{len(held)}项未作结论）。" if held else "。"),
            table=table, reasons=doubts[table.title], withheld=[f.message for f in held]))
    return kept


def _state_basis(ctx: Context, findings: list[Finding]) -> None:
    """Each error says what it rests on: the tables it reads and how their own identities held."""
    tables = {t.title: t for t in ctx.doc.tables}
    for finding in findings:
        if finding.severity != "error" or finding.category != "reconciliation":
            continue
        basis = []
        for title in (finding.table, finding.evidence.get("other_table")):
            table = tables.get(title)
            if table is not None:
                tallies = ctx.checks.get(id(table), {}).values()
                checked, failed = sum(t.checked for t in tallies), sum(t.failed for t in tallies)
                basis.append(f"{title}（第{table.page}页）读取可靠：表内{checked}处核对，{failed}处不符")
        finding.evidence["basis"] = basis or ["情况说明原文中的数字"]


def _doubts(ctx: Context, table) -> list[str]:
    reasons = list(table.problems)
    numbered = [r for r in table.rows if _NUMBER.match(r.name)]
    if numbered:
        reasons.append(f"{len(numbered)}行的项目名称是数字（如“{numbered[0].name}”），列未对齐")
    unread = _unread_continuation(ctx, table)
    if unread:
        reasons.append(f"第{unread}页似为该表的续页（以科目编码行开头），未能读入")
    for group, tally in ctx.checks.get(id(table), {}).items():
        if tally.failed >= MAX_FAILURES or (
                tally.failed >= MIN_FAILURES and tally.failed > MAX_FAILING_SHARE * tally.checked):
            formula = group.split("|", 1)[1]
            reasons.append(f"“{formula}”在{tally.checked}处核对中有{tally.failed}处不符")
    return reasons


def _unread_continuation(ctx: Context, table) -> int | None:
    """The page after the table's last page, when it opens with coded lines but no table was read there."""
    doc = ctx.doc
    following = max(table.pages or [table.page]) + 1
    if following > len(doc.page_texts) or any(following in (t.pages or [t.page]) for t in doc.tables):
        return None
    lines = [line for line in doc.page_texts[following - 1].splitlines() if line.strip()][:5]
    return following if any(_CODED_LINE.match(line) for line in lines) else None


def _resting_on(finding: Finding, doubts: dict[str, list[str]]) -> str | None:
    """The doubted table a finding rests on, if any (its own table or the other table it compares)."""
    for title in (finding.table, finding.evidence.get("other_table")):
        if title in doubts:
            return title
    return None
