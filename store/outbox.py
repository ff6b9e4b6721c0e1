"""The alert outbox: alerts are written in the same transaction as the facts they report, once per
(event key, channel), and sent later by the alert queue. The unique key is what makes them exactly-once."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import Event, Message, compose_event, routes_for
from fiscalwatch.settings import AlertRoute
from store.models import Alert


def enqueue(session: Session, key: str, route: AlertRoute, message: Message,
            document_id: int | None = None) -> Alert | None:
    """Queue one message for one route unless that (key, route) was queued before; returns the new row."""
    full_key = f"{key}|{route.url}"
    if session.scalar(select(Alert.id).where(Alert.key == full_key)) is not None:
        return None
    now = datetime.now(timezone.utc)
    row = Alert(key=full_key, channel=route.url, category=message.category, severity=message.severity,
                title=message.title, body=message.body, document_id=document_id, source_id=message.source_id,
                region=message.region,
                status="pending", attempts=0, created_at=now, next_attempt_at=now)
    session.add(row)
    session.flush()
    return row


def enqueue_event(session: Session, key: str, event: Event, routes: list[AlertRoute],
                  document_id: int | None = None) -> list[Alert]:
    """Compose an event (replaced, withdrawn, overdue…) and queue it for every route that wants it."""
    message = compose_event(event)
    queued = (enqueue(session, key, route, message, document_id) for route in routes_for(message, routes))
    return [row for row in queued if row is not None]
