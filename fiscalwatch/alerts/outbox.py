"""The alert outbox: alerts are written in the same transaction as the facts they report, once per
(event key, channel), and sent later by the alert queue. The unique key is what makes them exactly-once.

The Atom feed (web/feed.py) is the built-in route ``feed://`` (fiscalwatch.settings.FEED_ROUTE): what is queued
for it becomes a feed entry, once per event key, published at once and never sent, so it is no delivery that
status, metrics or `watch --once` count."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from fiscalwatch.alerts.channels import channel_style
from fiscalwatch.alerts.compose import DocumentInfo, Event, Message, compose_event
from fiscalwatch.alerts.routing import routes_for
from fiscalwatch.settings import FEED_URL, AlertRoute, Settings
from fiscalwatch.store.models import Alert, Blob, DocumentRow, FeedEntry


def document_info(session: Session, settings: Settings, document: DocumentRow) -> DocumentInfo:
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


def enqueue(session: Session, key: str, route: AlertRoute, message: Message,
            document_id: int | None = None) -> Alert | None:
    """Queue one message for one route unless that (key, route) was queued before; returns the new row (none
    for the feed, whose entries are not deliveries)."""
    if route.url == FEED_URL:
        _publish(session, key, message, document_id)
        return None
    full_key = f"{key}|{route.url}"
    if session.scalar(select(Alert.id).where(Alert.key == full_key)) is not None:
        return None
    now = datetime.now(timezone.utc)
    row = Alert(key=full_key, channel=route.url, category=message.category, severity=message.severity,
                title=message.title, body=message.body, document_id=document_id, source_id=message.source_id,
                status="pending", attempts=0, created_at=now, next_attempt_at=now)
    session.add(row)
    session.flush()
    return row


def enqueue_event(session: Session, key: str, event: Event, routes: list[AlertRoute],
                  document_id: int | None = None) -> list[Alert]:
    """Compose an event (replaced, withdrawn, overdue…) and queue it for every route that wants it, in the
    route's channel style."""
    queued = (enqueue(session, key, route, compose_event(event, channel_style(route.url)), document_id)
              for route in routes_for(compose_event(event), routes))
    return [row for row in queued if row is not None]


def _publish(session: Session, key: str, message: Message, document_id: int | None) -> None:
    if session.scalar(select(FeedEntry.id).where(FeedEntry.key == key)) is None:
        session.add(FeedEntry(key=key, category=message.category, severity=message.severity, title=message.title,
                              body=message.body, document_id=document_id, source_id=message.source_id,
                              region=message.region, created_at=datetime.now(timezone.utc)))
        session.flush()
