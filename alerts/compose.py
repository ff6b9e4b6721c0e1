"""Chinese alert text: one message per document version (its findings), or one per event.

Bodies are plain text with light Markdown (bullet and numbered lists, bare links): they are
sent as Markdown, so e-mail renders them as HTML and DingTalk as Markdown, while WeCom, Feishu
and plain webhooks show the text as written, which still reads well.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Literal

from validators.core import SEVERITIES, Finding

SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}
KIND_LABELS = {"budget": "预算", "final": "决算"}
RANK = {severity: rank for rank, severity in enumerate(reversed(SEVERITIES))}  # info 0 < warning 1 < error 2

EventKind = Literal["replaced", "withdrawn", "crawl_failing", "crawl_suspicious", "overdue", "late"]
EVENT_CATEGORIES = {"replaced": "document", "withdrawn": "document", "crawl_failing": "operations",
                    "crawl_suspicious": "operations", "overdue": "compliance", "late": "compliance"}
EVENT_SEVERITIES = {"replaced": "warning", "withdrawn": "warning", "crawl_failing": "error",
                    "crawl_suspicious": "warning", "overdue": "warning", "late": "warning"}


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    category: str  # a finding category, or the category of an event kind (EVENT_CATEGORIES)
    severity: str  # the highest severity in the message
    region: str | None = None  # "河南省/濮阳市"
    source_id: str | None = None


@dataclass(frozen=True)
class DocumentInfo:
    """One version of a published document, as alerts describe it."""

    title: str
    url: str  # where it was published
    source_id: str
    source_name: str
    region: str | None
    entity: str | None
    year: int | None
    kind: str | None  # "budget" | "final"
    published: date | None
    sha256: str
    archive_url: str | None = None  # our archived copy, or its dashboard page


@dataclass(frozen=True)
class Event:
    """Something that happened to a document or a source; which fields matter depends on ``kind``:

    replaced          document (the new version), previous_sha256, previous_seen, when (noticed)
    withdrawn         document (archive_url: the copy we kept), when (noticed), error ("HTTP 404", "软404"…)
    crawl_failing     source_id, source_name, url (the list page), failures, error (the last one)
    crawl_suspicious  source_id, source_name, url (the list page), before, after (links found)
    overdue           entity, year, doc_kind, deadline, when (as of); region and source if known
    late              document (its `published` is the publication date), deadline
    """

    kind: EventKind
    document: DocumentInfo | None = None
    source_id: str | None = None
    source_name: str | None = None
    region: str | None = None
    url: str | None = None
    entity: str | None = None
    year: int | None = None
    doc_kind: str | None = None  # "budget" | "final"
    deadline: date | None = None
    when: date | None = None
    previous_sha256: str | None = None
    previous_seen: date | None = None
    failures: int | None = None
    error: str | None = None
    before: int | None = None
    after: int | None = None


# --- document alerts ------------------------------------------------------------------------------

def compose_document_alert(info: DocumentInfo, findings: list[Finding], top_n: int) -> Message:
    """One alert for a document version: the ``top_n`` most severe findings, then a count of the rest."""
    if not findings:
        raise ValueError("a document alert needs at least one finding")
    ordered = sorted(findings, key=lambda f: (-RANK[f.severity], f.page is not None, f.page or 0))
    shown, rest = ordered[:top_n], ordered[top_n:]
    counts = _counts(ordered)
    lines = _document_lines(info)
    lines += ["", f"发现{len(ordered)}项问题：{counts}。", ""]
    lines += [f"{number}. {_finding_line(finding)}" for number, finding in enumerate(shown, 1)]
    if rest:
        lines += ["", f"另有{len(rest)}项未列出：{_counts(rest)}。"]
    return Message(
        title=f"{_document_subject(info)}：{counts}",
        body="\n".join(lines),
        category=ordered[0].category,
        severity=ordered[0].severity,
        region=info.region,
        source_id=info.source_id,
    )


def _counts(findings: list[Finding]) -> str:
    counted = Counter(f.severity for f in findings)
    return "、".join(f"{SEVERITY_LABELS[s]}{counted[s]}项" for s in SEVERITIES if counted[s])


def _finding_line(finding: Finding) -> str:
    where = [f"第{finding.page}页"] if finding.page else []
    # Most messages already start with their table's title; repeating it would only add noise.
    if finding.table and finding.table not in finding.message:
        where.append(f"《{finding.table}》")
    suffix = f"（{''.join(where)}）" if where else ""
    return f"【{SEVERITY_LABELS[finding.severity]}】{finding.message}{suffix}"


# --- events ---------------------------------------------------------------------------------------

def compose_event(event: Event) -> Message:
    title, lines = _EVENT_TEXT[event.kind](event)
    doc = event.document
    return Message(
        title=title,
        body="\n".join(lines),
        category=EVENT_CATEGORIES[event.kind],
        severity=EVENT_SEVERITIES[event.kind],
        region=event.region or (doc.region if doc else None),
        source_id=event.source_id or (doc.source_id if doc else None),
    )


def _replaced(event: Event) -> tuple[str, list[str]]:
    doc = event.document
    return f"文件被替换：{_document_subject(doc)}", [
        "同一网址上的文件内容已被更换，两个版本均已存档，可对比差异。",
        "",
        *_document_lines(doc),
        f"- 原版本：{_short(event.previous_sha256)}" + (f"，{_day(event.previous_seen)}首次发现" if event.previous_seen else ""),
        f"- 新版本：{_short(doc.sha256)}" + (f"，{_day(event.when)}发现" if event.when else ""),
    ]


def _withdrawn(event: Event) -> tuple[str, list[str]]:
    doc = event.document
    reason = f"（{event.error}）" if event.error else ""
    kept = "本系统保存的存档副本见下方链接。" if doc.archive_url else "本系统已保存存档副本。"
    return f"文件已撤下：{_document_subject(doc)}", [
        f"原网址已无法访问{reason}，{kept}",
        "",
        *_document_lines(doc),
        *([f"- 发现日期：{_day(event.when)}"] if event.when else []),
    ]


def _crawl_failing(event: Event) -> tuple[str, list[str]]:
    return f"采集连续失败：{event.source_name}", [
        f"数据源“{event.source_name}”（{event.source_id}）已连续{event.failures}次采集失败，期间无法发现新公开或被撤下的文件。",
        "",
        *([f"- 栏目网址：{event.url}"] if event.url else []),
        f"- 最近一次错误：{event.error or '未知'}",
    ]


def _crawl_suspicious(event: Event) -> tuple[str, list[str]]:
    return f"采集结果异常：{event.source_name}列表页链接骤减", [
        f"数据源“{event.source_name}”（{event.source_id}）的列表页本次发现{event.after}个链接，上次为{event.before}个。",
        "",
        *([f"- 栏目网址：{event.url}"] if event.url else []),
        "",
        "这是采集运行提醒，并不表示文件已被删除：常见原因是网站改版、访问被拦截或页面结构变化，请运维人员检查采集配置。"
        "已发现的文件仍照常核查，撤下的文件会另行提醒。",
    ]


def _overdue(event: Event) -> tuple[str, list[str]]:
    subject = _subject(event.entity, event.year, event.doc_kind)
    days = (event.when - event.deadline).days
    return f"逾期未公开：{subject}", [
        f"{subject}应于{_day(event.deadline)}前公开，截至{_day(event.when)}仍未发现，已逾期{days}天。",
        *(["", f"- 监测数据源：{event.source_name}"] if event.source_name else []),
    ]


def _late(event: Event) -> tuple[str, list[str]]:
    doc = event.document
    days = (doc.published - event.deadline).days
    return f"逾期公开：{_document_subject(doc)}（晚{days}天）", [
        f"公开期限为{_day(event.deadline)}，实际于{_day(doc.published)}公开，晚{days}天。",
        "",
        *_document_lines(doc),
    ]


_EVENT_TEXT = {"replaced": _replaced, "withdrawn": _withdrawn, "crawl_failing": _crawl_failing,
               "crawl_suspicious": _crawl_suspicious, "overdue": _overdue, "late": _late}


# --- shared ---------------------------------------------------------------------------------------

def _subject(entity: str | None, year: int | None, kind: str | None) -> str:
    """濮阳市教育局2023年度决算"""
    return "".join(x for x in (entity, f"{year}年度" if year else None, KIND_LABELS.get(kind, kind)) if x)


def _document_subject(doc: DocumentInfo) -> str:
    return _subject(doc.entity, doc.year, doc.kind) or doc.title


def _document_lines(doc: DocumentInfo) -> list[str]:
    year_kind = _subject(None, doc.year, doc.kind)
    return [
        *([f"- 单位：{doc.entity}"] if doc.entity else []),
        *([f"- 类别：{year_kind}"] if year_kind else []),
        f"- 文件：{doc.title}",
        f"- 来源：{doc.source_name}",
        f"- 发布日期：{_day(doc.published) if doc.published else '未标注'}",
        f"- 原文：{doc.url}",
        *([f"- 存档：{doc.archive_url}"] if doc.archive_url else []),
    ]


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _short(sha256: str | None) -> str:
    return f"sha256 {sha256[:12]}" if sha256 else "未知"
