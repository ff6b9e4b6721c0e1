"""The alert outbox: alerts are written in the same transaction as the facts they report, once per
(event key, channel), and sent later by the alert queue. The unique key is what makes them exactly-once.

The Atom feed (web/feed.py) is the built-in route ``feed://`` (fiscalwatch.settings.FEED_ROUTE): what is queued
for it becomes a feed entry, once per event key, published at once and never sent, so it is no delivery that
status, metrics or `watch --once` count."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from fiscalwatch.alerts import Event, Message, compose_event, routes_for
from fiscalwatch.alerts.channels import channel_style
from fiscalwatch.settings import FEED_URL, AlertRoute
from fiscalwatch.store.models import Alert, Base


class FeedEntry(Base):
    """One alert event as the Atom feed shows it (plain text), whatever channels it was sent to."""

    __tablename__ = "feed_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # the event key, as in Alert.key before the channel
    category: Mapped[str] = mapped_column(String(30), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    source_id: Mapped[str | None] = mapped_column(String(100), index=True)
    region: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)


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
