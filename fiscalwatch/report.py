"""The Chinese text people read on the console: `fiscalwatch check` reports, one line per crawl, download
and processed file while the monitor runs, and the summary of `watch --once`."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from fiscalwatch.checker import CheckResult
    from fiscalwatch.store.models import Blob, CrawlRun, DocumentUrl, Source
    from fiscalwatch.web.metrics import Snapshot
    from fiscalwatch.workers.runner import OnceReport

KIND = {"final": "决算", "budget": "预算"}
SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}
STATUS = {"ok": "已核查", "failed": "无法读取", "not_a_disclosure": "非预决算文件"}
INFO_SHOWN = 8
BEIJING = ZoneInfo("Asia/Shanghai")


def render(result: CheckResult) -> str:
    if result.members:
        primary = f"，主要文件：{result.member}" if result.member else ""
        head = [f"== {result.file}", f"  压缩包，共{len(result.members)}个文件{primary}"]
        return "\n".join(head + [render(member) for member in result.members])
    lines = [f"== {result.file}" + (f" » {result.member}" if result.member else "")]
    return "\n".join(lines + _body(result))


def render_publication(result: CheckResult) -> str:
    """Files judged as one publication: each file's status, then the publication's findings."""
    lines = [f"== 发布内容，共{len(result.members)}个文件"]
    for member in result.members:
        name = f"{member.file} » {member.member}" if member.member else member.file
        lines.append(f"  - {name}：{_member_status(member)}")
    return "\n".join(lines + _body(result))


def _member_status(member: CheckResult) -> str:
    if member.status == "failed":
        return f"无法读取：{member.error}（{member.error_code}）"
    if member.status == "not_a_disclosure":
        return f"非预决算文件：{member.not_disclosure}"
    return f"共{member.document.page_count}页，识别表格{len(member.document.tables)}张"


def _body(result: CheckResult) -> list[str]:
    if result.status == "failed":
        return [f"  无法读取：{result.error}（{result.error_code}）"]
    if result.status == "not_a_disclosure":
        return [f"  非预决算文件：{result.not_disclosure}（不作核查）"]
    doc = result.document
    title = " ".join(str(x) for x in (doc.entity or "（未识别主体）", f"{doc.year}年度" if doc.year else "",
                                      f"{doc.level or ''}{KIND.get(doc.kind, '')}", doc.scope or "") if x)
    lines = [f"  {title}；共{doc.page_count}页，识别表格{len(doc.tables)}张"]
    if doc.ocr_pages:
        mean = sum(doc.ocr_pages.values()) / len(doc.ocr_pages)
        lines.append(f"  其中{len(doc.ocr_pages)}页为扫描件，经文字识别（平均置信度{mean:.0%}），相关结论请人工复核")
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in SEVERITY}
    lines.append("  结果：" + "，".join(f"{SEVERITY[s]}{n}项" for s, n in counts.items()))
    for severity, label in SEVERITY.items():
        found = [f for f in result.findings if f.severity == severity]
        if not found:
            continue
        lines.append(f"  【{label}】")
        shown = found if severity != "info" else found[:INFO_SHOWN]
        for finding in shown:
            where = f"第{finding.page}页 " if finding.page else ""
            lines.append(f"    - {where}{finding.message}〔{finding.rule}〕")
        if len(found) > len(shown):
            lines.append(f"    …另有{len(found) - len(shown)}条提示（--json 可查看全部）")
    if result.skipped:
        lines.append("  【未能执行的检查】")
        for skipped in result.skipped:
            lines.append(f"    - {skipped['title']}：{skipped['reason']}〔{skipped['rule']}〕")
    return lines


def summary(results: list[CheckResult]) -> str:
    """The last line of a text report: how many files were checked, not disclosures, or unreadable."""
    counted = Counter(r.status for r in results)
    parts = "，".join(f"{STATUS.get(status, status)}{counted[status]}个" for status in
                     [*STATUS, *sorted(set(counted) - set(STATUS))] if counted[status])
    return f"共核查{len(results)}份：{parts}"


def severity_counts(severities: list[str]) -> str:
    counted = Counter(severities)
    return "、".join(f"{label}{counted[s]}项" for s, label in SEVERITY.items() if counted[s]) or "未发现问题"


def crawl_line(run: CrawlRun, source: Source, to_recheck: int) -> str:
    """One crawl: what it found, or why it failed."""
    who = f"{source.name}（{source.id}）"
    if run.status == "ok":
        return (f"采集完成：{who}：抓取页面{run.pages_fetched}个，列出文件{run.documents_found}个，"
                f"新文件{run.new_documents}个，需重新下载核对{to_recheck}个")
    reason = crawl_reason(run, source.url)
    streak = f"；已连续失败{source.consecutive_failures}次" if source.consecutive_failures > 1 else ""
    label = "采集失败" if run.status == "failed" else f"采集结果（{run.status}）"
    return f"{label}：{who}：{reason}{streak}"


def crawl_reason(run: CrawlRun, source_url: str) -> str:
    """Why a crawl run did not succeed, in the words the crawler recorded: the source page's own error
    (unreachable, or no list of disclosures) if there is one, else the first."""
    if not run.errors:
        return "未记录原因"
    first = next((e for e in run.errors if e.get("url") == source_url), run.errors[0])
    where = f"（{first['url']}）" if first.get("url") else ""
    more = f"，另有{len(run.errors) - 1}个错误" if len(run.errors) > 1 else ""
    return f"{first.get('message') or first.get('code')}{where}{more}"


def fetch_line(row: DocumentUrl, replaced: bool) -> str | None:
    """A download worth telling: a new document, a replaced or withdrawn one, or a failure."""
    title = row.page_title or row.title or row.url
    document = row.document
    if row.fetch_status == "failed":
        return f"下载失败：{title}：{row.fetch_error}（{row.url}）"
    if row.fetch_status == "gone" and document is not None and document.status == "withdrawn":
        return f"文件已撤下：{title}：{document.withdrawn_reason or row.fetch_error}"
    if replaced:
        return f"文件已更换：{title}（{row.url}）"
    if document is not None and document.first_seen_at == row.fetched_at:
        return f"新文件：{title}（{row.url}）"
    return None


def blob_line(blob: Blob, title: str | None) -> str:
    """A processed file (named by its document's title): its status and findings by severity, or why it
    could not be read."""
    name = "：".join(x for x in (title, blob.filename) if x) or blob.sha256[:12]
    if blob.status == "failed":
        return f"无法读取：{name}：{blob.error}（{blob.error_code}）"
    label = STATUS.get(blob.status, blob.status)
    subject = "".join(str(x) for x in (blob.entity, f"{blob.year}年度" if blob.year else None,
                                        KIND.get(blob.kind)) if x)
    pages = f"{blob.pages}页，" if blob.pages else ""
    return f"{label}：{name}：{subject + '，' if subject else ''}{pages}{severity_counts([f.severity for f in blob.findings])}"


def once_summary(report: OnceReport) -> str:
    """What `watch --once` did: every source (with the reason it failed), files processed, alerts sent."""
    failed = [s for s in report.sources if not s.ok]
    lines = [f"本轮监测：数据源{len(report.sources)}个，采集成功{len(report.sources) - len(failed)}个，失败{len(failed)}个"]
    for source in report.sources:
        if source.ok:
            lines.append(f"  ✓ {source.name}（{source.id}）：抓取页面{source.pages}个，列出文件{source.documents}个，"
                         f"新文件{source.new}个")
        else:
            lines.append(f"  ✗ {source.name}（{source.id}）：采集失败：{source.reason}")
    lines.append(f"共列出文件{sum(s.documents for s in report.sources)}个，其中新文件{sum(s.new for s in report.sources)}个")
    processed = report.processed
    parts = "，".join(f"{STATUS.get(status, status)}{count}个" for status, count in sorted(processed.items()))
    lines.append(f"处理文件{sum(processed.values())}个" + (f"：{parts}" if parts else ""))
    lines.append(f"发送提醒{report.alerts_sent}条" + (f"，发送失败{len(report.alerts_failed)}条" if report.alerts_failed else ""))
    lines += [f"  ✗ 提醒发送失败：{failure}" for failure in report.alerts_failed]
    if not report.finished:
        lines.append("本轮未在时限内完成，未完成的任务已记录，下次运行时继续。")
    return "\n".join(lines)


def status_text(shot: Snapshot) -> str:
    """`fiscalwatch status`: sources and their health, queues, documents and files, undelivered alerts."""
    lines = [f"状态（{_beijing(shot.taken_at)}）", "", f"数据源{len(shot.sources)}个："]
    for source in shot.sources:
        if not source.active:
            health = "已停用"
        elif source.consecutive_failures:
            health = f"连续失败{source.consecutive_failures}次：{source.last_error}"
        elif source.last_success_at:
            health = "正常"
        else:
            health = "尚未采集"
        lines.append(f"  {source.name}（{source.id}）：{health}；最近采集{_beijing(source.last_crawl_at)}，"
                     f"最近成功{_beijing(source.last_success_at)}；文件{source.documents}个")
    queues = ("，".join(f"{name} {count}" for name, count in shot.queues.items()) if shot.queues is not None
              else "无法连接消息队列")
    lines.append(f"队列待处理：{queues}")
    lines.append("公开文件：" + (_status_counts(shot.documents, {"active": "在线", "withdrawn": "已撤下"}) or "无"))
    lines.append("文件处理：" + (_status_counts(shot.files, {"pending": "待处理", "processing": "处理中", **STATUS})
                              or "无"))
    lines.append(f"未送达提醒{len(shot.undelivered)}条" + ("：" if shot.undelivered else ""))
    for alert in shot.undelivered:
        state = {"pending": "待发送", "sending": "发送中", "failed": "已放弃"}.get(alert.status, alert.status)
        error = f"，{alert.last_error}" if alert.last_error else ""
        lines.append(f"  [{state}，已尝试{alert.attempts}次{error}] {alert.title} → {alert.channel}")
    return "\n".join(lines)


def _status_counts(counted: Counter, labels: dict[str, str]) -> str:
    return "，".join(f"{labels.get(status, status)}{count}个" for status, count in sorted(counted.items()))


def _beijing(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") + "（北京时间）"
