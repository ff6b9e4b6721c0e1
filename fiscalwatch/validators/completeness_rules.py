"""Completeness: required tables, tables the 目录 promises, empty tables without a note."""

from __future__ import annotations

import re

from fiscalwatch.parsers import catalog
from fiscalwatch.validators.core import Context, rule
from fiscalwatch.validators.narrative_rules import section_kind

_EXPLAINED = re.compile(r"无数据|无.{0,20}(收入|支出|预算|安排|经费|资金)|没有|不涉及|为空|空表|故本表|未发生|无此|本表为空")


def _unreadable_note(ctx: Context) -> str:
    pages = sorted(ctx.doc.unreadable_pages)
    return "、".join(str(p) for p in pages)


# Judged on the whole publication (a detail page's attachments together), not file by file.
PUBLICATION_RULES = ("M-REQUIRED", "M-TOC", "M-TABLES-ELSEWHERE")


@rule("M-TABLES-ELSEWHERE", "missing_table", "warning", "文件未含多数报表时，缺表须与同一页面的其他附件一并判断")
def tables_elsewhere(ctx: Context):
    doc = ctx.doc
    if doc.sentences and not doc.unreadable_pages and not _holds_its_tables(doc):
        listed = "、".join(e.text.strip() for e in _listed_tables(doc)[:3])
        yield ctx.finding(
            "本文件没有目录所列的大部分预决算报表" + (f"（目录列出的{listed}等表不在本文件中）" if listed else "")
            + "；报表可能作为同一公开页面的其他附件发布，缺表情况须与其他附件一并判断。",
            page=doc.toc[0].page if doc.toc else None, listed=[e.text.strip() for e in _listed_tables(doc)])


# A 目录 line naming a table (not a narrative section such as "第四部分 政府采购预算情况").
_TABLE_TITLE = re.compile(r"表\s*([（(][^）)]*[）)])?$")
_LEADER = re.compile(r"[\s.…·．\d-]+$")  # dot leaders and the page number


def _listed_tables(doc) -> list:
    return [e for e in doc.toc if e.kind and _TABLE_TITLE.search(_LEADER.sub("", e.text))]


def _judgeable(ctx: Context) -> bool:
    """Missing tables are judged where the document holds its tables: at least half of those its 目录
    lists (or of the required set). A file holding fewer is part of a publication whose tables are
    published elsewhere (see M-TABLES-ELSEWHERE)."""
    if not _holds_its_tables(ctx.doc):
        ctx.skip("文件没有目录所列或必备报表中的多数，报表可能另作附件发布，不判断缺表")
        return False
    return True


def _holds_its_tables(doc) -> bool:
    expected = {e.kind for e in _listed_tables(doc)} or set(catalog.REQUIRED.get(doc.kind or "", []))
    present = {t.kind for t in doc.tables}
    return bool(doc.tables) and len(expected & present) * 2 >= len(expected)


@rule("M-REQUIRED", "missing_table", "error", "必须公开的表格齐全")
def required_tables(ctx: Context):
    doc = ctx.doc
    if doc.kind not in catalog.REQUIRED:
        ctx.skip("无法判断文件是预算还是决算，无法确定必备表格")
        return
    if not _judgeable(ctx):
        return
    present = {t.kind for t in doc.tables}
    listed = {e.kind for e in _listed_tables(doc)}
    for kind in catalog.REQUIRED[doc.kind]:
        if kind in present:
            continue
        # An error where the document's own 目录 promises the table, or for a 决算, whose tables are set
        # nationally. A budget template that does not list it, or a document without a 目录, may print
        # it under a title we do not know: a warning.
        severity = None if kind in listed or doc.kind == catalog.FINAL and listed else "warning"
        if kind == "soe" and doc.kind == "final" and doc.year and doc.year < catalog.SOE_REQUIRED_FROM:
            continue
        name = catalog.display_name(kind, doc.kind)
        if doc.unreadable_pages:
            ctx.skip(f"第{_unreadable_note(ctx)}页无法识别，未能确认是否包含{name}")
            continue
        note = "" if severity is None else "；目录未列出该表，未能确认是否以其他标题公开" if listed else (
            "；文件没有目录，未能确认是否以其他标题公开")
        yield ctx.finding(f"未找到{name}（{'决算' if doc.kind == 'final' else '预算'}公开必备表格）{note}。",
                          severity=severity, table=name, expected=name)


@rule("M-TOC", "missing_table", "error", "目录列出的表格均已公开")
def toc_tables(ctx: Context):
    doc = ctx.doc
    if not doc.toc:
        ctx.skip("文件没有可识别的目录")
        return
    if not _judgeable(ctx):
        return
    promised = [e for e in _listed_tables(doc) if e.kind != "evaluation"]
    present = {t.kind for t in doc.tables}
    required = set(catalog.REQUIRED.get(doc.kind or "", []))
    for entry in promised:
        if entry.kind in present or entry.kind in required:
            continue  # required ones are reported by M-REQUIRED
        if doc.unreadable_pages:
            ctx.skip(f"第{_unreadable_note(ctx)}页无法识别，未能确认目录中的“{entry.text}”")
            continue
        yield ctx.finding(f"目录列出“{entry.text.strip()}”，但正文中未找到该表。", page=entry.page,
                          table=entry.text.strip(), toc_entry=entry.text.strip())


# Performance targets are mostly words; "empty" means nothing for them.
_TEXT_TABLES = {"perf_target", "evaluation"}


@rule("M-EMPTY", "missing_table", "warning", "空表须附说明")
def empty_tables(ctx: Context):
    doc = ctx.doc
    for table in doc.tables:
        if table.kind in _TEXT_TABLES or not table.is_empty or not table.amount_keys():
            continue  # a table whose figures could not be read is not known to be empty
        notes = " ".join(table.notes)
        if _EXPLAINED.search(notes) or _explained_in_narrative(ctx, table.kind):
            continue
        yield ctx.finding(f"{table.title}为空表，但未附“本表无数据”等说明。", table=table, notes=table.notes)


def _explained_in_narrative(ctx: Context, kind: str) -> bool:
    return any(section_kind(s.section) == kind and _EXPLAINED.search(s.text) for s in ctx.doc.sentences)


@rule("M-UNPARSED", "missing_table", "warning", "表格内容可识别")
def unparsed_tables(ctx: Context):
    for table in ctx.doc.tables:
        if not table.columns and not table.rows:
            yield ctx.finding(f"找到{table.title}的标题，但未能识别表格内容。", table=table)


@rule("unreadable_scan", "document", "warning", "扫描页无法识别")
def unreadable_pages(ctx: Context):
    doc = ctx.doc
    pages = sorted(doc.unreadable_pages)
    if pages:
        reasons = sorted(set(doc.unreadable_pages.values()))
        yield ctx.finding(
            f"第{_unreadable_note(ctx)}页没有可提取的文字（{'、'.join(_REASONS.get(r, r) for r in reasons)}），"
            f"这些页上的表格和数字未能检查；缺表判断对这些页不作结论。",
            page=pages[0], pages=pages, reasons=reasons)


_REASONS = {"no_text_layer": "扫描图像", "broken_font": "字体缺少编码映射", "ocr_failed": "文字识别失败",
            "ocr_limit": "超出文字识别页数或时间上限"}
