"""What alerts say about a document, and queuing the one alert per document version."""

from __future__ import annotations

from sqlalchemy.orm import Session

from alerts import DocumentInfo, document_alerts
from fiscalwatch.settings import Settings
from store.models import Blob, Document
from store.outbox import enqueue
from validators.core import Finding


def document_info(session: Session, settings: Settings, document: Document) -> DocumentInfo:
    blob = session.get(Blob, document.current_sha256) if document.current_sha256 else None
    url = next((u.url for u in document.urls if u.fetch_status == "ok"), None) or (
        document.urls[0].url if document.urls else document.detail_url or "")
    base = (settings.dashboard_url or "").rstrip("/")
    return DocumentInfo(
        title=document.title or (blob.filename if blob else "") or url,
        url=url,
        source_id=document.source_id,
        source_name=document.source.name,
        region=document.source.region,
        entity=blob.entity if blob else None,
        year=blob.year if blob else None,
        kind=blob.kind if blob else None,
        published=document.published,
        sha256=document.current_sha256 or "",
        archive_url=f"{base}/documents/{document.id}" if base else None,
    )


def queue_document_alerts(session: Session, settings: Settings, document: Document) -> int:
    """Queue the findings alert of the document's current version, once per route; returns how many were new."""
    blob = session.get(Blob, document.current_sha256)
    if blob is None or blob.status != "ok":
        return 0
    findings = [Finding(rule=f.rule, category=f.category, severity=f.severity, message=f.message, page=f.page,
                        table=f.table_title, evidence=f.evidence) for f in blob.findings]
    info = document_info(session, settings, document)
    queued = [enqueue(session, f"document|{document.id}|{blob.sha256}", route, message, document.id)
              for route, message in document_alerts(info, findings, settings.alerts, settings.alert_top_findings)]
    return sum(row is not None for row in queued)
