"""Chinese alert text: one message per document version (its findings), one digest per source and crawl
run for routes that want a single message, or one message per event.

Document alerts list every error and every low-completion finding, grouped by category, each with its
page and figures; other warnings up to ``top_n``; what remains is counted, with a link to the document
page. Each channel gets the form it shows best (``channel_style``): Markdown for DingTalk and Feishu,
plain text for e-mail and WeCom robots, and for JSON webhooks the text plus the same content as fields
(``alerts.channels.pack``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Literal

from fiscalwatch.alerts.channels import Style, pack
from fiscalwatch.labels import CATEGORY, FIGURES, KIND, RANK, SEVERITIES, SEVERITY
from fiscalwatch.validators.core import Finding
from fiscalwatch.validators.version_diff import FigureChange, VersionDiff

QUOTE_CHARS = 120
# A replaced alert lists this many changed tables and figures, and quotes this many added and removed
# sentences; the rest are counted (a table read differently must not flood the alert).
CHANGES_LISTED = 10
SENTENCES_QUOTED = 2

EventKind = Literal["replaced", "withdrawn", "crawl_failing", "crawl_suspicious", "overdue", "late"]
EVENT_CATEGORIES = {"replaced": "document", "withdrawn": "document", "crawl_failing": "operations",
                    "crawl_suspicious": "operations", "overdue": "compliance", "late": "compliance"}
EVENT_SEVERITIES = {"replaced": "warning", "withdrawn": "warning", "crawl_failing": "error",
                    "crawl_suspicious": "warning", "overdue": "warning", "late": "warning"}


@dataclass(frozen=True)
class Message:
    title: str
    body: str  # in the channel's style; for JSON webhooks the packed text and fields
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

    replaced          document (the new version), previous_sha256, previous_seen, when (noticed), and what
                      changed: changes (both versions parsed), else not_compared (why not, Chinese);
                      diff_url (the dashboard's side-by-side view)
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
    changes: VersionDiff | None = None
    not_compared: str | None = None
    diff_url: str | None = None


@dataclass(frozen=True)
class Selection:
    """What one document alert shows: every error and low-completion finding (by category), other
    warnings up to the limit, and the rest as counts."""

    listed: dict[str, list[Finding]]  # category → findings, in CATEGORY order
    more: list[Finding]  # further warnings shown one by one
    rest: list[Finding] = field(default_factory=list)  # counted only

    @classmethod
    def of(cls, findings: list[Finding], top_n: int) -> Selection:
        ordered = sorted(findings, key=lambda f: (-RANK[f.severity], f.page is not None, f.page or 0))
        must = [f for f in ordered if f.severity == "error" or f.category == "low_completion"]
        listed = {c: [f for f in must if f.category == c] for c in CATEGORY}
        warnings = [f for f in ordered if f not in must and f.severity == "warning"]
        infos = [f for f in ordered if f not in must and f.severity == "info"]
        return cls({c: found for c, found in listed.items() if found}, warnings[:top_n], warnings[top_n:] + infos)


# --- document alerts ------------------------------------------------------------------------------

def compose_document_alert(info: DocumentInfo, findings: list[Finding], top_n: int,
                           style: Style = "markdown") -> Message:
    """One alert for a document version: every error and low-completion finding, ``top_n`` more, counts of the rest."""
    if not findings:
        raise ValueError("a document alert needs at least one finding")
    selection = Selection.of(findings, top_n)
    counts = _counts(findings)
    top = _top(findings)
    title = f"{_document_subject(info)}：{counts}"
    lines = [*_document_lines(info), "", f"发现{len(findings)}项问题：{counts}。"]
    lines += _selection_lines(selection, info, style)
    return Message(
        title=title,
        body=_styled(style, title, lines, {"document": _document_fields(info), "counts": _count_fields(findings),
                                            "findings": [_finding_fields(f) for f in findings]}),
        category=top.category,
        severity=top.severity,
        region=info.region,
        source_id=info.source_id,
    )


def compose_digest(source_name: str, source_id: str, region: str | None, documents: list[tuple[DocumentInfo, list[Finding]]],
                   top_n: int, style: Style = "markdown", replaced: int = 0, withdrawn: int = 0) -> Message:
    """One message for a source's crawl run: each document's alert section, one after the other."""
    if not documents and not replaced and not withdrawn:
        raise ValueError("a digest needs documents or events")
    every = [f for _, findings in documents for f in findings]
    counts = _counts(every) or "无问题"
    events = "、".join(x for x in (f"替换{replaced}个" if replaced else "", f"撤下{withdrawn}个" if withdrawn else "") if x)
    title = f"{source_name}本轮采集汇总：{len(documents)}个文件，{counts}" + (f"；文件{events}" if events else "")
    lines = [f"数据源“{source_name}”（{source_id}）本轮采集发现{len(documents)}个有问题的文件：{counts}。"]
    if events:
        lines.append(f"另有文件{events}，详见数据源页面。")
    for number, (info, findings) in enumerate(documents, 1):
        lines += ["", _heading(style, f"{number}. {_document_subject(info)}：{_counts(findings)}"),
                  *_document_lines(info), *_selection_lines(Selection.of(findings, top_n), info, style)]
    top = _top(every) if every else None
    fields = {"source_id": source_id, "replaced": replaced, "withdrawn": withdrawn, "documents": [
        {**_document_fields(info), "counts": _count_fields(findings), "findings": [_finding_fields(f) for f in findings]}
        for info, findings in documents]}
    return Message(title=title, body=_styled(style, title, lines, fields),
                   category=top.category if top else "document", severity=top.severity if top else "warning",
                   region=region, source_id=source_id)


def _selection_lines(selection: Selection, info: DocumentInfo, style: Style) -> list[str]:
    lines = []
    for category, found in selection.listed.items():
        lines += ["", _heading(style, f"【{CATEGORY[category]}】{len(found)}项")]
        lines += [line for number, f in enumerate(found, 1) for line in _finding_lines(number, f)]
    if selection.more:
        lines += ["", _heading(style, f"【其他警告】{len(selection.more)}项")]
        lines += [line for number, f in enumerate(selection.more, 1) for line in _finding_lines(number, f)]
    if selection.rest:
        where = f"，详见{info.archive_url}" if info.archive_url else ""
        lines += ["", f"另有{len(selection.rest)}项未逐条列出：{_counts(selection.rest)}{where}。"]
    return lines


def _top(findings: list[Finding]) -> Finding:
    """The finding a message is filed under: the most severe, first in the alert's group order."""
    order = list(CATEGORY)
    return min(findings, key=lambda f: (-RANK[f.severity], order.index(f.category) if f.category in order
                                        else len(order)))


def _counts(findings: list[Finding]) -> str:
    counted = Counter(f.severity for f in findings)
    return "、".join(f"{SEVERITY[s]}{counted[s]}项" for s in SEVERITIES if counted[s])


def _count_fields(findings: list[Finding]) -> dict[str, int]:
    counted = Counter(f.severity for f in findings)
    return {s: counted[s] for s in SEVERITIES}


def _finding_lines(number: int, finding: Finding) -> list[str]:
    where = [f"第{finding.page}页"] if finding.page else []
    # Most messages already start with their table's title; repeating it would only add noise.
    if finding.table and finding.table not in finding.message:
        where.append(f"《{finding.table}》")
    suffix = f"（{''.join(where)}）" if where else ""
    lines = [f"{number}. 【{SEVERITY[finding.severity]}】{finding.message}{suffix}"]
    figures = "；".join(f"{label}{finding.evidence[key]}" for key, label in FIGURES.items()
                        if finding.evidence.get(key) not in (None, ""))
    if figures:
        lines.append(f"   数据：{figures}")
    quote = finding.evidence.get("quote")
    if isinstance(quote, str) and quote:
        lines.append(f"   原文：“{_clip(quote)}”")
    return lines


def _clip(text: str) -> str:
    return f"{text[:QUOTE_CHARS]}{'…' if len(text) > QUOTE_CHARS else ''}"


def _finding_fields(finding: Finding) -> dict:
    return {"rule": finding.rule, "category": finding.category, "category_label": CATEGORY.get(
        finding.category, finding.category), "severity": finding.severity, "message": finding.message,
        "page": finding.page, "table": finding.table,
        "figures": {key: finding.evidence[key] for key in FIGURES if key in finding.evidence},
        "quote": finding.evidence.get("quote")}


def _document_fields(info: DocumentInfo) -> dict:
    return {"title": info.title, "url": info.url, "archive_url": info.archive_url, "source_id": info.source_id,
            "source_name": info.source_name, "region": info.region, "entity": info.entity, "year": info.year,
            "kind": info.kind, "published": info.published.isoformat() if info.published else None,
            "sha256": info.sha256}


def _heading(style: Style, text: str) -> str:
    return f"**{text}**" if style == "markdown" else text


def _styled(style: Style, title: str, lines: list[str], fields: dict) -> str:
    text = "\n".join(lines)
    return pack(text, fields) if style == "json" else text


# --- events ---------------------------------------------------------------------------------------

def compose_event(event: Event, style: Style = "markdown") -> Message:
    """An event's alert; JSON webhooks also get the event's fields where it has any (``_EVENT_FIELDS``)."""
    title, lines = _EVENT_TEXT[event.kind](event)
    doc = event.document
    fields = _EVENT_FIELDS.get(event.kind)
    return Message(
        title=title,
        body=_styled(style, title, lines, fields(event)) if fields else "\n".join(lines),
        category=EVENT_CATEGORIES[event.kind],
        severity=EVENT_SEVERITIES[event.kind],
        region=event.region or (doc.region if doc else None),
        source_id=event.source_id or (doc.source_id if doc else None),
    )


def _replaced(event: Event) -> tuple[str, list[str]]:
    doc = event.document
    summary = _change_summary(event.changes) if event.changes else ""
    return f"文件被替换：{_document_subject(doc)}" + (f"（{summary}）" if summary else ""), [
        "同一网址上的文件内容已被更换，两个版本均已存档，可对比差异。",
        "",
        *_document_lines(doc),
        f"- 原版本：{_short(event.previous_sha256)}" + (f"，{_day(event.previous_seen)}首次发现" if event.previous_seen else ""),
        f"- 新版本：{_short(doc.sha256)}" + (f"，{_day(event.when)}发现" if event.when else ""),
        *([f"- 对比：{event.diff_url}"] if event.diff_url else []),
        *_change_lines(event),
    ]


def _change_summary(diff: VersionDiff) -> str:
    """新增表格1张、数字变化1处"""
    counts = [("新增表格", len(diff.tables_added), "张"), ("删除表格", len(diff.tables_removed), "张"),
              ("数字变化", len(diff.figures), "处"), ("文字变化", len(diff.sentences), "处")]
    return "、".join(f"{label}{n}{unit}" for label, n, unit in counts if n) or "内容无变化"


def _change_lines(event: Event) -> list[str]:
    diff = event.changes
    if diff is None:
        return ["", f"两个版本的内容无法对比：{event.not_compared}。"] if event.not_compared else []
    if diff.empty:
        return ["", "两个版本解析出的表格、数字和文字均无变化（可能只是文件格式或排版不同）。"]
    lines = [""]
    if diff.tables_added:
        lines.append("新增表格：" + _listed([f"《{t.title}》（第{t.page}页）" for t in diff.tables_added], "张表格"))
    if diff.tables_removed:
        lines.append("删除表格：" + _listed([f"《{t.title}》（原第{t.page}页）" for t in diff.tables_removed], "张表格"))
    if diff.figures:
        lines.append(f"数字变化：{len(diff.figures)}处")
        lines += [f"{number}. 《{f.table}》{f.item}（{f.column}）：{f.old or '无'}→{f.new or '无'}（{_pages(f)}）"
                  for number, f in enumerate(diff.figures[:CHANGES_LISTED], 1)]
        if len(diff.figures) > CHANGES_LISTED:
            lines.append(f"另有{len(diff.figures) - CHANGES_LISTED}处数字变化未逐条列出。")
    if diff.sentences:
        added, removed = diff.sentences_added, diff.sentences_removed
        lines.append(f"文字变化：新增{len(added)}句、删除{len(removed)}句")
        lines += [f"   新增：“{_clip(s.text)}”（第{s.page}页）" for s in added[:SENTENCES_QUOTED]]
        lines += [f"   删除：“{_clip(s.text)}”（原第{s.page}页）" for s in removed[:SENTENCES_QUOTED]]
    return lines


def _listed(items: list[str], unit: str) -> str:
    more = f"，另有{len(items) - CHANGES_LISTED}{unit}" if len(items) > CHANGES_LISTED else ""
    return "、".join(items[:CHANGES_LISTED]) + more


def _pages(change: FigureChange) -> str:
    if change.old_page == change.new_page or change.old_page is None:
        return f"第{change.new_page}页"
    if change.new_page is None:
        return f"原第{change.old_page}页"
    return f"原第{change.old_page}页，现第{change.new_page}页"


def _replaced_fields(event: Event) -> dict:
    diff = event.changes
    return {"event": "replaced", "document": _document_fields(event.document),
            "previous_sha256": event.previous_sha256, "diff_url": event.diff_url,
            "not_compared": event.not_compared, "changes": None if diff is None else {
                "counts": {"tables_added": len(diff.tables_added), "tables_removed": len(diff.tables_removed),
                           "figures": len(diff.figures), "sentences_added": len(diff.sentences_added),
                           "sentences_removed": len(diff.sentences_removed)},
                # Lists as far as the text lists them; the diff page has everything.
                "tables_added": [asdict(t) for t in diff.tables_added[:CHANGES_LISTED]],
                "tables_removed": [asdict(t) for t in diff.tables_removed[:CHANGES_LISTED]],
                "figures": [asdict(f) for f in diff.figures[:CHANGES_LISTED]],
                "sentences_added": [asdict(s) for s in diff.sentences_added[:CHANGES_LISTED]],
                "sentences_removed": [asdict(s) for s in diff.sentences_removed[:CHANGES_LISTED]]}}


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
_EVENT_FIELDS = {"replaced": _replaced_fields}


# --- shared ---------------------------------------------------------------------------------------

def _subject(entity: str | None, year: int | None, kind: str | None) -> str:
    """濮阳市教育局2023年度决算"""
    return "".join(x for x in (entity, f"{year}年度" if year else None, KIND.get(kind, kind)) if x)


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
