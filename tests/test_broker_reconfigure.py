"""Reconfiguring the Celery app for another broker (a new deployment in one process, as the tests and
`watch` do) sends later messages to the new broker, not through connections pooled for the old one."""

from __future__ import annotations

from pipeline_support import _free_redis_db

from fiscalwatch.settings import Settings
from fiscalwatch.workers.app import configure
from fiscalwatch.workers.dispatch import send


def test_messages_follow_the_broker_after_reconfiguration():
    first, second = _free_redis_db(), _free_redis_db()
    try:
        configure(Settings(broker_url=first.url))
        assert send("tick")
        configure(Settings(broker_url=second.url))
        assert send("tick")
        assert (first.client.llen("crawl"), second.client.llen("crawl")) == (1, 1)
    finally:
        configure(Settings())
        first.client.flushdb()
        second.client.flushdb()
