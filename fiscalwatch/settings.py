"""Configuration: a YAML file (the contract other tools rely on), overridable by FISCALWATCH_* env vars."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, YamlConfigSettingsSource

DEFAULT_CONFIG = Path("config/fiscalwatch.yaml")
Severity = Literal["error", "warning", "info"]
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# A crawl run or a fetch in progress is leased for this long (workers.crawl, workers.fetching): its task's
# hard time limit (crawl_time_limit + CRAWL_KILL_GRACE) ends first, so a live task never loses its lease.
CRAWL_LEASE = timedelta(minutes=15)
CRAWL_KILL_GRACE = 60  # seconds between a crawl task's soft time limit and the kill of its worker


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"duration like 30m, 6h or 1d expected, got {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class Selectors(BaseModel):
    """Optional CSS selectors that override link discovery on one source."""

    list_links: str | None = None  # links to detail pages (or files) on a list page
    attachments: str | None = None  # attachment links on a detail page
    next_page: str | None = None  # the "next page" link
    content: str | None = None  # the body of an inline-HTML disclosure


class SourceConfig(BaseModel):
    id: str
    name: str
    url: str
    interval: timedelta = timedelta(hours=6)
    region: str | None = None
    max_pages: int = 10
    selectors: Selectors | None = None

    _parse_interval = field_validator("interval", mode="before")(parse_duration)


class AlertRoute(BaseModel):
    url: str  # any Apprise URL
    categories: list[str] | None = None
    min_severity: Severity = "info"
    regions: list[str] | None = None
    sources: list[str] | None = None
    digest: bool = False  # one message per source and crawl run instead of one per document


class RuleParams(BaseModel):
    """Every tunable a rule reads, carried to every rule as one object (validators.core.Context.params);
    `fiscalwatch rules` lists which rule reads which. Descriptions are what people read (Chinese)."""

    model_config = {"frozen": True}

    low_completion_threshold: Decimal = Field(default=Decimal(30), ge=0, le=100,
                                              description="完成率、执行率低于此百分比时提示")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FISCALWATCH_", env_nested_delimiter="__", extra="ignore")

    database_url: str = "sqlite:///var/fiscalwatch.db"
    broker_url: str = ""  # empty: embedded, server-less (SQLite-backed) transport
    storage_dir: Path = Path("var/files")
    allow_private_networks: bool = False
    sources: list[SourceConfig] = Field(default_factory=list)
    alerts: list[AlertRoute] = Field(default_factory=list)

    rules: RuleParams = Field(default_factory=RuleParams)
    user_agent: str = "fiscalwatch/0.1 (+https://github.com/fiscalwatch; budget disclosure monitor)"
    requests_per_second: float = 1.0  # per host, shared by all workers
    request_timeout: float = 30.0
    max_file_bytes: int = 200 * 1024 * 1024
    fetch_retries: int = 3
    alert_top_findings: int = 5
    dashboard_url: str | None = None  # public address of `fiscalwatch serve`, for links in alerts
    alert_max_attempts: int = 8  # delivery attempts per alert before it is marked failed

    # Workers and scheduling.
    tick_seconds: float = 30.0  # how often the scheduler looks for due sources and stranded work
    crawl_jitter: float = 0.1  # each source's next crawl is spread by up to this share of its interval
    crawl_failure_alert: int = 3  # consecutive failed crawls before operators are alerted
    # A failed crawl is retried after crawl_retry_delay, doubling per failure up to crawl_retry_max_delay (and
    # never later than the source's interval): with the defaults the third failure, and its alert, come ~15 min in.
    crawl_retry_delay: timedelta = timedelta(minutes=5)
    crawl_retry_max_delay: timedelta = timedelta(hours=1)
    # Seconds a crawl or fetch task may run (links and pages are capped, so only a hanging or trickling site
    # gets near it): then it is stopped and recorded as failed, and the source retried like any failed crawl.
    crawl_time_limit: int = Field(default=600, gt=0, lt=CRAWL_LEASE.total_seconds() - CRAWL_KILL_GRACE)
    # One file's parse runs in a child limited to these (parsers.limits), in the workers and in `check` alike:
    # beyond them the file is recorded as too_large or timeout.
    parse_memory_mb: int = Field(default=1500, gt=0)
    parse_time_limit: int = 900  # seconds; above OCR's own 600 s budget, then the file is recorded as failed
    parse_lease_seconds: int = 1200  # a crashed parse is retried after this; keep above parse_time_limit
    max_parse_attempts: int = 3  # a file that crashes its worker this often is recorded as failed
    worker_concurrency: int | None = None  # default: number of CPUs
    # CPU threads of one parse's OCR engine; default: the cores shared among the parses that run at once
    # (worker_concurrency in a worker, one in `check`). More threads than that only make the parses spin.
    ocr_threads: int | None = Field(default=None, gt=0)
    # Scanned pages a file's first read OCRs; the rest are read once the parse queue is idle, and the file's
    # alerts wait for that whole read (workers.processing).
    ocr_max_pages: int = Field(default=80, gt=0)
    worker_max_memory_mb: int = 1500  # a worker child above this is replaced after its task
    once_timeout: float = 3600.0  # `watch --once` gives up after this many seconds
    compliance_refresh_seconds: float = 900.0  # how often publication standings are recomputed
    sentry_dsn: str | None = Field(default=None, validation_alias="SENTRY_DSN")

    _parse_retry = field_validator("crawl_retry_delay", "crawl_retry_max_delay", mode="before")(parse_duration)

    # --- Publication compliance and the dashboard (compliance/, web/) ---
    registry_file: Path | None = None  # entities and expected publications (CSV, XLSX or YAML), imported on refresh
    publication_deadline_days: int = 20  # public within 20 days of approval (财预〔2016〕143号)
    compliance_start_year: int | None = None  # first fiscal year expected of every entity; default: last year
    # Usual approval (批复) date per region prefix ("" = everywhere) as MM-DD: a budget for year Y is approved in Y,
    # a final account for Y in Y+1. The longest matching region wins; a date in the registry beats both.
    default_approval: dict[str, dict[Literal["budget", "final"], str]] = Field(
        default_factory=lambda: {"": {"budget": "02-28", "final": "08-31"}})
    web_public: bool = True  # read-only pages and API without login
    web_workers: int | None = Field(default=None, gt=0)  # `serve` processes; default: one per CPU
    web_concurrency: int = Field(default=2, gt=0)  # requests a `serve` process works on at once (web/admission.py)
    # How long each `serve` process answers a GET again from memory (web/response_cache.py); 0: never.
    web_cache_seconds: float = Field(default=1.0, ge=0)
    web_token: str | None = None  # admin token (API bearer, login password); unset: nothing can be changed

    # --- The Atom feed of alerts (web/feed.py) ---
    alert_feed: bool = True  # every alert also goes to /feeds/alerts.atom, once per event, with or without channels
    # Read-only key of the feed on a private dashboard (?token=…): feed readers cannot log in, and the admin
    # token would be written into every reader's subscription list.
    feed_token: str | None = None

    @model_validator(mode="after")
    def _feed_route(self) -> Settings:
        """The feed is one more route, taking every alert: whatever routes and stores alerts serves it too."""
        if self.alert_feed and all(route.url != FEED_URL for route in self.alerts):
            self.alerts = [*self.alerts, FEED_ROUTE]
        return self


def broker_url_for(settings: Settings) -> str:
    """The configured broker, or the embedded SQLite-backed transport next to the archive."""
    if settings.broker_url:
        return settings.broker_url
    return f"sqla+sqlite:///{(settings.storage_dir.parent / 'broker.sqlite').resolve()}"


def concurrency_for(settings: Settings) -> int:
    """Tasks a worker runs at once: worker_concurrency, or one per CPU."""
    return settings.worker_concurrency or os.cpu_count() or 1


def load_settings(path: Path | None = None) -> Settings:
    """Settings from the YAML file (default config/fiscalwatch.yaml if present); env vars win."""
    yaml_file = path if path is not None else (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
    if path is not None and not path.exists():
        raise FileNotFoundError(f"config file not found: {path}")

    class FileSettings(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                       file_secret_settings):
            sources = [init_settings, env_settings]
            if yaml_file is not None:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
            return tuple(sources)

    return FileSettings()


FEED_URL = "feed://"  # the built-in route of the Atom feed: never sent, written to the feed (store.outbox)
FEED_ROUTE = AlertRoute(url=FEED_URL)
