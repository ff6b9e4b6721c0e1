"""Stage 6, alert: send one outbox row through its channel. Rows are claimed one at a time, so a slow or
failing channel only delays its own rows; failures are retried with exponential backoff, then given up."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, update

from alerts import Message, deliver
from fiscalwatch.settings import Settings
from store.db import session_scope
from store.models import Alert

log = logging.getLogger(__name__)

SEND_LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=6)


def run_delivery(settings: Settings, alert_id: int) -> bool | None:
    """Deliver one alert if it is due and not taken; True sent, False will retry or gave up, None not ours."""
    now = datetime.now(timezone.utc)
    with session_scope(settings.database_url) as session:
        claimed = session.execute(
            update(Alert)
            .where(Alert.id == alert_id, or_((Alert.status == "pending") & (Alert.next_attempt_at <= now),
                                             (Alert.status == "sending") & (Alert.lease_until < now)))
            .values(status="sending", lease_until=now + SEND_LEASE, attempts=Alert.attempts + 1))
        if claimed.rowcount != 1:
            return None
        alert = session.get(Alert, alert_id)
        message = Message(title=alert.title, body=alert.body, category=alert.category, severity=alert.severity,
                          source_id=alert.source_id)
        channel, attempts = alert.channel, alert.attempts
    result = deliver(channel, message)
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
