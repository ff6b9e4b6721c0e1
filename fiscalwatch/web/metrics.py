"""How the monitor is doing, read from the store and the broker: `fiscalwatch status`, `/healthz` and the
Prometheus `/metrics` all show this one snapshot."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import func, select

from fiscalwatch.labels import STATUS, beijing
from fiscalwatch.settings import Settings
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Alert, Blob, CrawlRun, DocumentRow
from fiscalwatch.web.queries import sources
from fiscalwatch.web.schemas import SourceHealth

PARSE_BUCKETS = (1, 5, 15, 60, 300, 900)  # seconds


@dataclass(frozen=True)
class Undelivered:
    id: int
    title: str
    channel: str  # scheme and host only: channel URLs carry tokens
    status: str  # pending | sending | failed
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass
class Snapshot:
    taken_at: datetime
    sources: list[SourceHealth]
    queues: dict[str, int] | None  # None: the broker could not be reached
    documents: Counter  # publication status (active / withdrawn)
    files: Counter  # file (blob) status: pending, processing, ok, failed, …
    crawl_runs: Counter  # crawl run status, ever
    alerts: Counter  # alert status: pending, sending, sent, failed
    undelivered: list[Undelivered]
    parse_seconds: list[float] = field(default_factory=list)  # per processed file, where recorded

    @property
    def failing_sources(self) -> list[SourceHealth]:
        return [s for s in self.sources if s.active and s.consecutive_failures]

    @property
    def healthy(self) -> bool:
        """The store answers and the broker too (failing sources are reported, not a reason to restart us)."""
        return self.queues is not None


def snapshot(settings: Settings) -> Snapshot:
    from fiscalwatch.workers.app import configure, queue_depths

    configure(settings)
    with session_scope(settings.database_url) as session:
        def counted(column) -> Counter:
            return Counter(dict(session.execute(select(column, func.count()).group_by(column)).all()))

        undelivered = [Undelivered(a.id, a.title, _channel(a.channel), a.status, a.attempts, a.last_error,
                                   a.created_at)
                       for a in session.scalars(select(Alert).where(Alert.status != "sent").order_by(Alert.id))]
        seconds = session.scalars(select(Blob.report["parse_seconds"].as_float()).where(Blob.processed_at.is_not(None)))
        result = Snapshot(
            taken_at=datetime.now(timezone.utc), sources=sources(session), queues=None,
            documents=counted(DocumentRow.status), files=counted(Blob.status), crawl_runs=counted(CrawlRun.status),
            alerts=counted(Alert.status), undelivered=undelivered,
            parse_seconds=[s for s in seconds if s is not None])
    result.queues = queue_depths()
    return result


def _channel(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


def exposition(shot: Snapshot) -> tuple[bytes, str]:
    """The snapshot in Prometheus' text format, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
    from prometheus_client.core import HistogramMetricFamily

    registry = CollectorRegistry()

    def gauge(name: str, text: str, labels: tuple[str, ...], values: dict) -> None:
        metric = Gauge(name, text, labels, registry=registry)
        for key, value in values.items():
            (metric.labels(key) if labels else metric).set(value)

    gauge("fiscalwatch_crawl_runs", "Crawl runs recorded, by status", ("status",), shot.crawl_runs)
    gauge("fiscalwatch_documents", "Publications, by status", ("status",), shot.documents)
    gauge("fiscalwatch_files", "Archived files (one per content), by processing status", ("status",), shot.files)
    gauge("fiscalwatch_alerts", "Alert deliveries, by status", ("status",), shot.alerts)
    gauge("fiscalwatch_source_consecutive_failures", "Failed crawls in a row, per active source", ("source",),
          {s.id: s.consecutive_failures for s in shot.sources if s.active})
    gauge("fiscalwatch_source_last_success_timestamp_seconds", "Last successful crawl (Unix time), per source",
          ("source",), {s.id: s.last_success_at.timestamp() for s in shot.sources if s.last_success_at})
    gauge("fiscalwatch_queue_depth", "Messages waiting per queue", ("queue",), shot.queues or {})
    gauge("fiscalwatch_broker_up", "1 when the broker answered", (), {None: int(shot.queues is not None)})

    class ParseSeconds:
        def collect(self):
            ordered = sorted(shot.parse_seconds)
            buckets = [(str(b), sum(1 for s in ordered if s <= b)) for b in PARSE_BUCKETS]
            yield HistogramMetricFamily("fiscalwatch_parse_seconds", "Seconds to parse and validate one file",
                                        buckets=[*buckets, ("+Inf", len(ordered))], sum_value=sum(ordered))

    registry.register(ParseSeconds())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def status_text(shot: Snapshot) -> str:
    """`fiscalwatch status`: sources and their health, queues, documents and files, undelivered alerts."""
    lines = [f"状态（{beijing(shot.taken_at)}）", "", f"数据源{len(shot.sources)}个："]
    for source in shot.sources:
        if not source.active:
            health = "已停用"
        elif source.consecutive_failures:
            health = f"连续失败{source.consecutive_failures}次：{source.last_error}"
        elif source.last_success_at:
            health = "正常"
        else:
            health = "尚未采集"
        lines.append(f"  {source.name}（{source.id}）：{health}；最近采集{beijing(source.last_crawl_at)}，"
                     f"最近成功{beijing(source.last_success_at)}；文件{source.documents}个")
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
