"""The Celery application: one definition for the embedded default and the distributed deployment;
only the broker URL differs (SQLite-backed kombu transport vs Redis)."""

from __future__ import annotations

import logging
import os
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

from celery import Celery
from celery.signals import beat_embedded_init, setup_logging, worker_process_init
from kombu import Exchange, Queue
from kombu.exceptions import ChannelError

from fiscalwatch.labels import BEIJING
from fiscalwatch.settings import CRAWL_KILL_GRACE, Settings, broker_url_for, concurrency_for, load_settings
from fiscalwatch.store.db import forget_inherited_connections

CONFIG_ENV = "FISCALWATCH_CONFIG"
QUEUES = ("crawl", "parse", "alert")

app = Celery("fiscalwatch", include=["fiscalwatch.workers.tasks"])
_settings: Settings | None = None


# The worker's main process (`watch`, `worker`): its pool children and embedded scheduler die with it, so a
# killed `watch` leaves nothing running on (their work is leased in the database and taken up again).
_MAIN_PID = os.getpid()


@worker_process_init.connect
def _after_fork(**_) -> None:
    _die_with_main()
    forget_inherited_connections()


@beat_embedded_init.connect
def _embedded_beat_started(**_) -> None:
    _die_with_main()


def _die_with_main() -> None:
    # Imported here: loaded already in a worker (its tasks parse), and kept out of light commands (`status`).
    from fiscalwatch.parsers.limits import die_with_parent

    die_with_parent(parent=_MAIN_PID)


class BeijingTime(logging.Formatter):
    """Console times in one stated zone: 2026-12-02 08:15:03（北京时间）."""

    def formatTime(self, record, datefmt=None) -> str:
        return datetime.fromtimestamp(record.created, BEIJING).strftime("%Y-%m-%d %H:%M:%S") + "（北京时间）"


def setup_console(loglevel: str = "INFO") -> None:
    """The console: our readable lines at INFO; Celery's and kombu's own chatter only at DEBUG."""
    level = logging.getLevelName(loglevel.upper())
    handler = logging.StreamHandler()
    handler.setFormatter(BeijingTime("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("celery", "kombu", "amqp", "alembic"):
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else max(level, logging.WARNING))


@setup_logging.connect
def _keep_our_console(loglevel=None, **_) -> None:
    """Celery configures no logging of its own once a receiver handles this signal."""
    setup_console(logging.getLevelName(loglevel) if isinstance(loglevel, int) else (loglevel or "INFO"))


def configure(settings: Settings) -> Celery:
    # The producer pool Celery keeps was made for the earlier broker: drop it, so messages sent after a
    # reconfiguration go to the new one (kombu pools producers per broker connection itself).
    app.amqp._producer_pool = None
    broker = broker_url_for(settings)
    if broker.startswith("sqla+sqlite:///"):
        Path(broker.removeprefix("sqla+sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    app.conf.update(
        broker_url=broker,
        broker_connection_retry_on_startup=True,
        # Redis redelivers an unacknowledged task after this long; work is also leased in the
        # database, so the longest task (a parse) bounds it. (The SQLite transport hands these
        # options to SQLAlchemy, which accepts none of them.)
        broker_transport_options={"visibility_timeout": settings.parse_lease_seconds + 60}
        if broker.startswith(("redis://", "rediss://")) else {},
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_queues=[Queue(name, Exchange(name), routing_key=name) for name in QUEUES],
        task_default_queue="crawl",
        task_routes={
            "fiscalwatch.workers.tasks.crawl_source": {"queue": "crawl"},
            "fiscalwatch.workers.tasks.fetch_document": {"queue": "crawl"},
            "fiscalwatch.workers.tasks.tick": {"queue": "crawl"},
            "fiscalwatch.workers.tasks.refresh_standings": {"queue": "crawl"},
            "fiscalwatch.workers.tasks.process_blob": {"queue": "parse"},
            "fiscalwatch.workers.tasks.deliver_alert": {"queue": "alert"},
        },
        task_acks_late=True,
        # A worker killed mid-task acknowledges it; the database lease brings the work back instead,
        # so a file that kills its worker cannot loop forever (see max_parse_attempts).
        task_reject_on_worker_lost=False,
        worker_prefetch_multiplier=1,
        worker_concurrency=concurrency_for(settings),
        worker_max_memory_per_child=settings.worker_max_memory_mb * 1024,
        worker_hijack_root_logger=False,
        task_annotations={
            "fiscalwatch.workers.tasks.process_blob": {"soft_time_limit": settings.parse_time_limit,
                                           "time_limit": settings.parse_time_limit + 30},
            # Below the lease of their work (CRAWL_LEASE): a crawl that runs away is stopped, never taken twice.
            **{f"fiscalwatch.workers.tasks.{name}": {"soft_time_limit": settings.crawl_time_limit,
                                         "time_limit": settings.crawl_time_limit + CRAWL_KILL_GRACE}
               for name in ("crawl_source", "fetch_document")}},
        beat_schedule={"tick": {"task": "fiscalwatch.workers.tasks.tick", "schedule": settings.tick_seconds},
                       "standings": {"task": "fiscalwatch.workers.tasks.refresh_standings",
                                     "schedule": settings.compliance_refresh_seconds}},
        beat_schedule_filename=str(settings.storage_dir.parent / "celerybeat-schedule"),
        timezone="UTC",
    )
    return app


def bootstrap(config_path: Path | None = None) -> Settings:
    """Settings for this process (workers find the config through FISCALWATCH_CONFIG) and the app configured."""
    global _settings
    if config_path is None and os.environ.get(CONFIG_ENV):
        config_path = Path(os.environ[CONFIG_ENV])
    _settings = load_settings(config_path)
    if config_path is not None:
        os.environ[CONFIG_ENV] = str(config_path.resolve())
    configure(_settings)
    init_sentry(_settings)
    return _settings


def queue_depths() -> dict[str, int] | None:
    """Messages waiting per queue, or None when the broker cannot be reached."""
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1)
            return {name: _depth(connection.default_channel, name) for name in QUEUES}
    except Exception as exc:
        logging.getLogger(__name__).warning("queue depths unavailable: %s", exc)
        return None


def _depth(channel, name: str) -> int:
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except ChannelError:  # never declared on this broker: nothing has waited there
        return 0


def current_settings() -> Settings:
    return _settings if _settings is not None else bootstrap()


def init_sentry(settings: Settings) -> None:
    """Error reporting when SENTRY_DSN is set; tagged with the release so regressions are attributable."""
    if not settings.sentry_dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration

    sentry_sdk.init(dsn=settings.sentry_dsn, release=f"fiscalwatch@{version('fiscalwatch')}",
                    integrations=[CeleryIntegration(monitor_beat_tasks=True)])
