"""The Chinese lines people read on the console while the monitor runs: one per crawl, download and processed
file, and the summary of `watch --once`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fiscalwatch.labels import KIND, STATUS, severity_counts
from fiscalwatch.store.models import Blob, CrawlRun, DocumentUrl, Source

if TYPE_CHECKING:
    from fiscalwatch.workers.runner import OnceReport


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
