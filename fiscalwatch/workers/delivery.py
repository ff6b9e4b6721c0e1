"""Stage 6, alert: send one outbox row through its channel. Rows are taken one at a time, so a slow or
failing channel only delays its own rows; failures are retried with exponential backoff, then given up.
Digest routes get one message per source and crawl run, queued once that run's work is all done."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fiscalwatch.alerts import Message, deliver
from fiscalwatch.alerts.channels import channel_style
from fiscalwatch.alerts.compose import compose_digest
from fiscalwatch.alerts.outbox import document_info, enqueue
from fiscalwatch.alerts.routing import covers, findings_for_route
from fiscalwatch.settings import AlertRoute, Settings
from fiscalwatch.store import leases
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import (FETCH_UNFINISHED, PARSE_UNFINISHED, Alert, Blob, CrawlRun, DocumentRow,
                                      DocumentUrl, Source, Version)
from fiscalwatch.validators.core import Finding

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=5)  # far above one attempt's timeout; a `sending` row past it is sent again
IDEMPOTENCY_HEADER = "Idempotency-Key"
_HEADER_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls"}
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=6)


def run_delivery(settings: Settings, alert_id: int) -> bool | None:
    """Deliver one alert if it is due and not taken; True sent, False will retry or gave up, None not ours."""
    due = (Alert.status == "pending") & (Alert.next_attempt_at <= datetime.now(timezone.utc))
    if leases.take(settings.database_url, Alert.id, alert_id, status=Alert.status, free=due, taken="sending",
                   attempts=Alert.attempts, lease=SEND_LEASE) is None:
        return None
    with session_scope(settings.database_url) as session:
        alert = session.get(Alert, alert_id)
        message = Message(title=alert.title, body=alert.body, category=alert.category, severity=alert.severity,
                          source_id=alert.source_id)
        channel, attempts, key = alert.channel, alert.attempts, alert.key
    result = deliver(keyed(channel, key), message)
    with session_scope(settings.database_url) as session:
        alert = session.get(Alert, alert_id)
        alert.lease_until = None
        if result.ok:
            alert.status, alert.sent_at, alert.last_error = "sent", datetime.now(timezone.utc), None
            return True
        alert.last_error = result.error
        if attempts >= settings.alert_max_attempts:
            alert.status = "failed"
            log.error("alert %s given up after %d attempts: %s", alert_id, attempts, result.error)
        else:
            alert.status = "pending"
            alert.next_attempt_at = datetime.now(timezone.utc) + min(FIRST_RETRY * 2 ** (attempts - 1), LAST_RETRY)
            log.warning("alert %s attempt %d failed, retrying: %s", alert_id, attempts, result.error)
        return False


def keyed(channel: str, alert_key: str) -> str:
    """The channel URL with the alert's idempotency key as a request header, for webhooks that take headers
    (json, form, xml): every attempt of one alert, including a retry after a worker died mid-send (when the
    first POST may have arrived), carries the same key, so receivers can drop the copy."""
    if channel.split("://", 1)[0].lower() not in _HEADER_SCHEMES:
        return channel
    value = idempotency_key(alert_key)
    return f"{channel}{'&' if '?' in channel else '?'}{urlencode({'+' + IDEMPOTENCY_HEADER: value})}"


def idempotency_key(alert_key: str) -> str:
    """The header value of an alert's every POST: its outbox key, hashed to a fixed length."""
    return hashlib.sha256(alert_key.encode()).hexdigest()[:32]


def queue_digests(settings: Settings) -> int:
    """For every digest route, the digest of each source's latest successful crawl run once everything it
    found is downloaded and processed; returns how many were queued."""
    routes = [route for route in settings.alerts if route.digest]
    if not routes:
        return 0
    queued = 0
    with session_scope(settings.database_url) as session:
        latest = select(func.max(CrawlRun.id)).where(CrawlRun.status == "ok").group_by(CrawlRun.source_id)
        for run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(latest.scalar_subquery()))):
            wanting = [r for r in routes if session.scalar(select(Alert.id).where(
                Alert.key == f"digest|{run.source_id}|{run.id}|{r.url}")) is None]
            if wanting and not _outstanding(session, run.source_id):
                queued += _queue_digest(session, settings, run, wanting)
    return queued


def _outstanding(session: Session, source_id: str) -> bool:
    fetching = select(DocumentUrl.url).where(DocumentUrl.source_id == source_id,
                                             DocumentUrl.fetch_status.in_(FETCH_UNFINISHED))
    parsing = select(Blob.sha256).join(DocumentRow, DocumentRow.current_sha256 == Blob.sha256).where(
        DocumentRow.source_id == source_id, Blob.status.in_(PARSE_UNFINISHED))
    return session.scalar(fetching.limit(1)) is not None or session.scalar(parsing.limit(1)) is not None


def _queue_digest(session: Session, settings: Settings, run: CrawlRun, routes: list[AlertRoute]) -> int:
    source = session.get(Source, run.source_id)
    since = run.started_at
    changed = list(session.scalars(select(DocumentRow).join(Version, Version.document_id == DocumentRow.id).where(
        DocumentRow.source_id == source.id, Version.seen_at >= since).distinct()))
    replaced = sum(len(d.versions) > 1 for d in changed)
    withdrawn = session.scalar(select(func.count()).select_from(DocumentRow).where(
        DocumentRow.source_id == source.id, DocumentRow.withdrawn_at >= since))
    documents = [(document_info(session, settings, d), _findings(session, d)) for d in changed]
    queued = 0
    for route in routes:
        if not covers(route, source.region, source.id):
            continue
        subscribed = [(info, kept) for info, findings in documents if (kept := findings_for_route(findings, route))]
        wants_events = route.categories is None or "document" in route.categories
        events = (replaced, withdrawn) if wants_events else (0, 0)
        if not subscribed and not any(events):
            continue
        message = compose_digest(source.name, source.id, source.region, subscribed, settings.alert_top_findings,
                                 channel_style(route.url), *events)
        queued += enqueue(session, f"digest|{source.id}|{run.id}", route, message) is not None
    return queued


def _findings(session: Session, document: DocumentRow) -> list[Finding]:
    blob = session.get(Blob, document.current_sha256) if document.current_sha256 else None
    if blob is None or blob.status != "ok":
        return []
    return [f.finding() for f in blob.findings]
