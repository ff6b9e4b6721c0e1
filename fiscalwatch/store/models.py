"""Database schema. Content (blobs) is keyed by sha256; documents are logical publications
found at one or more URLs; versions link the two over time."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (JSON, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator,
                        UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from fiscalwatch.validators.core import Finding


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime stored; use datetime.now(timezone.utc)")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Source(Base):
    """A disclosure list page being watched (mirrors the config, plus crawl health)."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(200))
    interval_seconds: Mapped[int] = mapped_column(Integer)
    next_crawl_at: Mapped[datetime | None]
    last_crawl_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_link_count: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)


# The statuses of work not done yet, per kind: waiting for a worker, then taken by one under a lease
# (store.leases). A new in-progress status belongs here, so every count and recovery sees it.
CRAWL_UNFINISHED = ("queued", "running")
FETCH_UNFINISHED = ("queued", "fetching")
PARSE_UNFINISHED = ("pending", "processing")


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    cycle: Mapped[str | None] = mapped_column(String(64), index=True)
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)  # queued | running | ok | failed
    # While running: the worker's lease; a run whose lease ran out (its worker died) is taken up again.
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    documents_found: Mapped[int] = mapped_column(Integer, default=0)
    new_documents: Mapped[int] = mapped_column(Integer, default=0)
    list_links: Mapped[int | None] = mapped_column(Integer)
    errors: Mapped[list] = mapped_column(JSON, default=list)


class PageCache(Base):
    """Validators and links of list/detail pages, so an unchanged page costs a 304."""

    __tablename__ = "page_cache"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    links: Mapped[list] = mapped_column(JSON, default=list)
    fetched_at: Mapped[datetime]


class Blob(Base):
    """One exact content, archived once, parsed and validated once."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)  # relative to the storage dir
    filename: Mapped[str | None] = mapped_column(String(500))
    first_seen_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | processing | ok | failed
    error_code: Mapped[str | None] = mapped_column(String(50))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None]
    queued_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    format: Mapped[str | None] = mapped_column(String(20))
    kind: Mapped[str | None] = mapped_column(String(20))
    level: Mapped[str | None] = mapped_column(String(20))
    scope: Mapped[str | None] = mapped_column(String(20))
    entity: Mapped[str | None] = mapped_column(String(300))
    year: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    report: Mapped[dict | None] = mapped_column(JSON)  # tables, skipped checks, OCR pages
    # Scanned pages the first read left at its OCR budget (ocr_max_pages): the file is read whole once the
    # parse queue is idle, and its alerts wait for that read.
    ocr_unread: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    findings: Mapped[list[FindingRow]] = relationship(back_populates="blob", cascade="all, delete-orphan",
                                                      order_by="FindingRow.id", foreign_keys="FindingRow.sha256")


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_category_severity", "category", "severity"),
                      Index("ix_findings_rule", "rule"), Index("ix_findings_rate", "rate"),
                      Index("ix_findings_amount", "amount"),
                      # The explorer lists findings without an amount or rate last in either order; SQLite
                      # has no such index (it scans these orders fast enough there).
                      Index("ix_findings_rate_desc", text("rate DESC NULLS LAST")).ddl_if(dialect="postgresql"),
                      Index("ix_findings_amount_desc", text("amount DESC NULLS LAST")).ddl_if(dialect="postgresql"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    rule: Mapped[str] = mapped_column(String(50))
    category: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    table_title: Mapped[str | None] = mapped_column(String(300))
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    # A finding that compares this content with another archived document (its 预算, last year's) names it.
    other_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    # What the findings explorer sorts by: the money a finding is about (万元) and its rate (%).
    amount: Mapped[float | None] = mapped_column(Float)
    rate: Mapped[float | None] = mapped_column(Float)

    blob: Mapped[Blob] = relationship(back_populates="findings", foreign_keys=[sha256])

    @classmethod
    def of(cls, finding: Finding, other_sha256: str | None = None) -> FindingRow:
        """The stored form of a validators.core.Finding."""
        evidence = finding.evidence
        return cls(rule=finding.rule, category=finding.category, severity=finding.severity, message=finding.message,
                   page=finding.page, table_title=finding.table, evidence=evidence, other_sha256=other_sha256,
                   amount=_amount(evidence), rate=_number(evidence.get("rate")))

    def finding(self) -> Finding:
        """The validators.core.Finding this row stores (what alerts are composed from)."""
        return Finding(rule=self.rule, category=self.category, severity=self.severity, message=self.message,
                       page=self.page, table=self.table_title, evidence=self.evidence)


# The money a finding is about, in order of preference: the gap it found, else the budget it measures.
_AMOUNT_KEYS = ("difference", "budget", "printed", "stated", "actual")


def _amount(evidence: dict) -> float | None:
    for key in _AMOUNT_KEYS:
        value = _number(evidence.get(key))
        if value is not None:
            return abs(value)
    return None


def _number(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class BlobContent(Base):
    """What a parse read from one content, kept so that other documents can be compared with it later
    (its 预算 or last year's document, an earlier version): parsers.serialize's form of the parsed Document."""

    __tablename__ = "blob_contents"

    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), primary_key=True)
    content: Mapped[dict] = mapped_column(JSON)


class DocumentRow(Base):
    """A publication: what a person would call one disclosure, wherever and however often it changes."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_source_status", "source_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="attachment")  # attachment | inline_html | image_pages
    detail_url: Mapped[str | None] = mapped_column(Text)
    published: Mapped[date | None] = mapped_column(Date)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | withdrawn
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    current_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    entity_id: Mapped[int | None] = mapped_column(Integer, index=True)

    urls: Mapped[list[DocumentUrl]] = relationship(back_populates="document", cascade="all, delete-orphan")
    versions: Mapped[list[Version]] = relationship(back_populates="document", order_by="Version.id")
    current: Mapped[Blob | None] = relationship(foreign_keys=[current_sha256])
    source: Mapped[Source] = relationship()


class DocumentUrl(Base):
    """A URL the crawler listed, with what the listing said and how fetching it went. Several URLs
    (mirrors, re-uploads of the same bytes) can belong to one document; a failed first fetch has none."""

    __tablename__ = "document_urls"

    url: Mapped[str] = mapped_column(String(2000), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="attachment")  # attachment | inline_html | image_pages
    title: Mapped[str | None] = mapped_column(Text)
    page_title: Mapped[str | None] = mapped_column(Text)
    published: Mapped[date | None] = mapped_column(Date)
    detail_url: Mapped[str | None] = mapped_column(Text)
    list_url: Mapped[str | None] = mapped_column(Text)
    file_ext: Mapped[str | None] = mapped_column(String(20))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    first_seen_at: Mapped[datetime]
    last_listed_at: Mapped[datetime]  # last crawl whose list or detail pages still linked to it
    # queued | fetching (under a worker's lease) | ok | failed | gone
    fetch_status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    fetch_error: Mapped[str | None] = mapped_column(Text)
    lease_until: Mapped[datetime | None]  # while fetching: a fetch whose lease ran out (its worker died) is redone
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    queued_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime | None]

    document: Mapped[DocumentRow | None] = relationship(back_populates="urls")


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("document_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    url: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]

    document: Mapped[DocumentRow] = relationship(back_populates="versions")
    blob: Mapped[Blob] = relationship()


class Alert(Base):
    """Outbox: one row per (event, channel); the unique key makes every alert exactly-once."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(Text)  # Apprise URL
    category: Mapped[str] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    source_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


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
