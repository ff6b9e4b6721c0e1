"""Queuing the alerts of a document version once its content has its
final status: the findings alert, and the replaced alert saying what changed since the previous version."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fiscalwatch.alerts import Event, document_alerts
from fiscalwatch.alerts.outbox import document_info, enqueue, enqueue_event
from fiscalwatch.parsers import serialize
from fiscalwatch.settings import Settings
from fiscalwatch.store.models import PARSE_UNFINISHED, Blob, BlobContent, DocumentRow, Version
from fiscalwatch.validators.version_diff import VersionDiff, compare


def diff_path(document_id: int, old_sha256: str, new_sha256: str) -> str:
    """The dashboard's side-by-side view of two versions (web.versions)."""
    return f"/documents/{document_id}/versions/{old_sha256}..{new_sha256}"


def compare_versions(session: Session, old_sha256: str, new_sha256: str) -> tuple[VersionDiff | None, str | None]:
    """What changed between two stored contents, or why they cannot be compared (Chinese)."""
    old, new = session.get(BlobContent, old_sha256), session.get(BlobContent, new_sha256)
    reasons = [reason for reason in (_not_comparable(session.get(Blob, old_sha256), old, "原版本"),
                                     _not_comparable(session.get(Blob, new_sha256), new, "新版本")) if reason]
    if reasons:
        return None, "；".join(reasons)
    return compare(serialize.from_dict(old.content), serialize.from_dict(new.content)), None


def _not_comparable(blob: Blob | None, content: BlobContent | None, which: str) -> str | None:
    if blob is None or blob.status in PARSE_UNFINISHED:
        return f"{which}尚未完成解析"
    if blob.status == "failed":
        return f"{which}无法读取（{blob.error or blob.error_code}）"
    if blob.status == "not_a_disclosure":
        return f"{which}不是预决算文件（{blob.error or '未说明原因'}）"
    if content is None:
        return f"{which}的解析内容未保存（解析早于内容存档功能）"
    if not serialize.readable(content.content):
        return f"{which}的解析内容为旧格式，需重新解析后才能对比"
    return None


def queue_document_alerts(session: Session, settings: Settings, document: DocumentRow) -> int:
    """Queue the alerts of the document's current version, once per route; returns how many were new."""
    blob = session.get(Blob, document.current_sha256)
    if blob is None or blob.status in PARSE_UNFINISHED:
        return 0
    replaced = queue_replaced_alert(session, settings, document)
    if blob.status != "ok":
        return replaced
    # Findings comparing this content with another document are alerted once per pair (workers.comparisons).
    findings = [f.finding() for f in blob.findings if f.other_sha256 is None]
    info = document_info(session, settings, document)
    queued = [enqueue(session, f"document|{document.id}|{blob.sha256}", route, message, document.id)
              for route, message in document_alerts(info, findings, settings.alerts, settings.alert_top_findings)]
    return replaced + sum(row is not None for row in queued)


def queue_replaced_alert(session: Session, settings: Settings, document: DocumentRow) -> int:
    """If the current version replaced another, the replaced alert with what changed, once per route; returns
    how many were new. Called once the current version's content has its final status, so it can be compared."""
    previous = session.scalar(select(Version).where(
        Version.document_id == document.id, Version.sha256 != document.current_sha256,
        Version.superseded_at.is_not(None)).order_by(Version.superseded_at.desc(), Version.id.desc()).limit(1))
    if previous is None:
        return 0
    current = session.scalar(select(Version).where(Version.document_id == document.id,
                                                   Version.sha256 == document.current_sha256))
    changes, not_compared = compare_versions(session, previous.sha256, current.sha256)
    base = (settings.dashboard_url or "").rstrip("/")
    event = Event(kind="replaced", document=document_info(session, settings, document),
                  region=document.source.region, source_id=document.source_id, previous_sha256=previous.sha256,
                  previous_seen=previous.seen_at.date(), when=previous.superseded_at.date(), changes=changes,
                  not_compared=not_compared,
                  diff_url=base + diff_path(document.id, previous.sha256, current.sha256) if base else None)
    return len(enqueue_event(session, f"replaced|{document.id}|{current.sha256}", event, settings.alerts,
                             document.id))
