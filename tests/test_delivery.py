"""The alert stage on a real store and a local webhook receiver: each outbox row is sent once, a failing
channel is retried with backoff and never blocks another, and gives up after alert_max_attempts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from webhook import WebhookReceiver

from fiscalwatch.alerts import Message
from fiscalwatch.alerts.outbox import enqueue
from fiscalwatch.settings import AlertRoute, Settings
from fiscalwatch.store.db import migrate, session_scope
from fiscalwatch.store.models import Alert
from fiscalwatch.workers.delivery import run_delivery

MESSAGE = Message(title="济源市社会医疗保险中心2023年度决算：警告1项", body="完成率11.38%，低于30%。",
                  category="low_completion", severity="warning")


@pytest.fixture
def hooks():
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def settings(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fw.db'}", storage_dir=tmp_path / "files",
                        alert_max_attempts=3)
    migrate(settings.database_url)
    return settings


def _queue(settings, hooks, *paths) -> list[int]:
    with session_scope(settings.database_url) as session:
        rows = [enqueue(session, "document|1|abc", AlertRoute(url=hooks.url_for(path)), MESSAGE) for path in paths]
        assert enqueue(session, "document|1|abc", AlertRoute(url=hooks.url_for(paths[0])), MESSAGE) is None
        return [row.id for row in rows]


def _alert(settings, alert_id) -> Alert:
    with session_scope(settings.database_url) as session:
        return session.get(Alert, alert_id)


def _make_due(settings, alert_id) -> None:
    with session_scope(settings.database_url) as session:
        session.get(Alert, alert_id).next_attempt_at = datetime.now(timezone.utc) - timedelta(seconds=1)


def test_a_failing_channel_is_retried_and_does_not_block_the_other(settings, hooks):
    failing, working = _queue(settings, hooks, "/down", "/up")
    hooks.fail_next(1, path="/down")
    assert run_delivery(settings, failing) is False
    assert run_delivery(settings, working) is True
    row = _alert(settings, failing)
    assert row.status == "pending" and row.attempts == 1 and "500" in row.last_error
    assert row.next_attempt_at > datetime.now(timezone.utc) + timedelta(seconds=20)  # backoff
    assert run_delivery(settings, failing) is None  # not due yet

    _make_due(settings, failing)
    assert run_delivery(settings, failing) is True
    assert [m.path for m in hooks.messages()] == ["/up", "/down"]
    assert run_delivery(settings, failing) is None and run_delivery(settings, working) is None  # sent: never again
    assert len(hooks.messages()) == 2 and hooks.messages()[0].title == MESSAGE.title


def test_gives_up_after_the_configured_attempts(settings, hooks):
    [alert_id] = _queue(settings, hooks, "/down")
    hooks.fail_next(5, path="/down")
    for _ in range(3):
        _make_due(settings, alert_id)
        assert run_delivery(settings, alert_id) is False
    row = _alert(settings, alert_id)
    assert row.status == "failed" and row.attempts == 3
    _make_due(settings, alert_id)
    assert run_delivery(settings, alert_id) is None
    assert hooks.messages() == []
