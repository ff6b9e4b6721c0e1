"""Stage 2, fetch and archive: get one listed URL (conditionally), keep the bytes under their sha256,
and record what that means for the document: first version, same content, replaced, or withdrawn."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from fiscalwatch.alerts import Event
from fiscalwatch.alerts.outbox import document_info, enqueue_event
from fiscalwatch.crawlers import Fetcher, FetchResult, FileTypes, make_rate_limiter
from fiscalwatch.crawlers.image_pages import fetch_image_pages
from fiscalwatch.parsers import formats
from fiscalwatch.settings import CRAWL_LEASE, Settings
from fiscalwatch.store import leases
from fiscalwatch.store.archive import archive
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import FETCH_UNFINISHED, PARSE_UNFINISHED, Blob, DocumentRow, DocumentUrl, Version
from fiscalwatch.workers.documents import queue_document_alerts

GONE = {"not_found", "soft_404", "html_instead_of_file", "no_images"}
# A fetch's lease is above its task's hard time limit (fiscalwatch.settings), after which the URL is fetched
# again (its worker died); a URL whose fetch kills its worker this often is recorded as failed.
FETCH_LEASE = CRAWL_LEASE
MAX_FETCH_ATTEMPTS = 3


_fetchers: dict[str, Fetcher] = {}


@cache
def followed_files() -> FileTypes:
    """The links a crawl follows as files: every format the parsers read, web pages aside (parsers.formats)."""
    return FileTypes(attachments=formats.extensions(linked_only=True),
                     images=frozenset(formats.by_kind("image").extensions))


def fetcher_for(settings: Settings) -> Fetcher:
    """One fetcher per process and configuration, so robots.txt and connections are reused."""
    key = settings.model_dump_json()
    if key not in _fetchers:
        _fetchers[key] = Fetcher(settings, make_rate_limiter(settings))
    return _fetchers[key]


def take_lease(settings: Settings, url: str) -> int | None:
    """Take a queued URL, or one whose fetching worker's lease ran out; returns the attempt, None if not ours
    (fetched already: a redelivered task, or another worker's)."""
    return leases.take(settings.database_url, DocumentUrl.url, url, status=DocumentUrl.fetch_status,
                       free=DocumentUrl.fetch_status == "queued", taken="fetching",
                       attempts=DocumentUrl.fetch_attempts, lease=FETCH_LEASE)


def run_fetch(settings: Settings, url: str) -> str | None:
    """Fetch a queued URL; returns the sha256 of content that still needs parsing, if any."""
    attempt = take_lease(settings, url)
    if attempt is None:
        return None
    if attempt > MAX_FETCH_ATTEMPTS:
        _give_up(settings, url, f"worker_crashed: 下载时工作进程已异常退出{attempt - 1}次，本次不再重试")
        return None
    with session_scope(settings.database_url) as session:
        row = session.get(DocumentUrl, url)
        etag, last_modified, kind = row.etag, row.last_modified, row.kind
    fetcher = fetcher_for(settings)
    if kind == "image_pages":
        result = fetch_image_pages(fetcher, url, followed_files(), etag=etag, last_modified=last_modified)
    elif kind == "inline_html":
        result = fetcher.fetch(url, etag=etag, last_modified=last_modified, accept_html=True)
    else:
        result = fetcher.fetch_file(url, etag=etag, last_modified=last_modified)
    with session_scope(settings.database_url) as session:
        row = session.get(DocumentUrl, url)
        if row.fetch_status != "fetching" or row.fetch_attempts != attempt:
            return None  # our lease ran out and another worker took the URL: its result is the one kept
        now = datetime.now(timezone.utc)
        row.fetched_at, row.lease_until = now, None
        if result.not_modified:
            row.fetch_status = "ok"
            if row.document is not None:
                row.document.last_seen_at = now
            return None
        if not result.ok:
            return _failed(session, settings, row, result, now)
        sha256, relative = archive(settings.storage_dir, result.content)
        blob = _blob(session, sha256, relative, url, len(result.content), now)
        document = row.document or _document_for(session, row, sha256, now)
        row.document, row.etag, row.last_modified = document, result.etag, result.last_modified
        row.fetch_status, row.fetch_error = "ok", None
        document.last_seen_at = now
        if document.status == "withdrawn":
            document.status, document.withdrawn_at, document.withdrawn_reason = "active", None, None
        if document.current_sha256 != sha256:
            _new_version(session, document, blob, url, now)
        if blob.status == "pending":
            blob.queued_at = now
            return sha256
        if blob.status not in PARSE_UNFINISHED:
            # Known content under a new document or version: its findings and content were stored already.
            queue_document_alerts(session, settings, document)
        return None


def record_fetch_error(settings: Settings, url: str, code: str, message: str) -> None:
    """The fetch ends as failed (a crash: ``internal_error``; its time limit: ``timeout``)."""
    _give_up(settings, url, f"{code}: {message}")


def _give_up(settings: Settings, url: str, error: str) -> None:
    with session_scope(settings.database_url) as session:
        row = session.get(DocumentUrl, url)
        if row is not None and row.fetch_status in FETCH_UNFINISHED:
            row.fetch_status, row.fetch_error, row.lease_until = "failed", error, None


def _failed(session, settings: Settings, row: DocumentUrl, result: FetchResult, now: datetime) -> None:
    row.fetch_error = f"{result.error_code}: {result.error}"
    document = row.document
    if result.error_code not in GONE or document is None:
        row.fetch_status = "failed"
        return None
    row.fetch_status = "gone"
    still_online = any(other.fetch_status != "gone" for other in document.urls if other.url != row.url)
    if document.status == "active" and not still_online:
        document.status, document.withdrawn_at, document.withdrawn_reason = "withdrawn", now, result.error
        enqueue_event(session, f"withdrawn|{document.id}|{document.current_sha256}", Event(
            kind="withdrawn", document=document_info(session, settings, document), region=document.source.region,
            source_id=document.source_id, when=now.date(), error=result.error), settings.alerts, document.id)
    return None


def _blob(session, sha256: str, relative: str, url: str, size: int, now: datetime) -> Blob:
    blob = session.get(Blob, sha256)
    if blob is None:
        name = PurePosixPath(unquote(urlsplit(url).path)).name or None
        blob = Blob(sha256=sha256, size=size, path=relative, filename=name, first_seen_at=now, status="pending",
                    attempts=0)
        session.add(blob)
        session.flush()
    return blob


def _document_for(session, row: DocumentUrl, sha256: str, now: datetime) -> DocumentRow:
    """The same bytes already published by this source under another URL are the same document."""
    known = session.scalar(select(DocumentRow).join(Version).where(
        Version.sha256 == sha256, DocumentRow.source_id == row.source_id).limit(1))
    if known is not None:
        return known
    document = DocumentRow(source_id=row.source_id, title=row.page_title or row.title, kind=row.kind,
                        detail_url=row.detail_url, published=row.published, first_seen_at=now, last_seen_at=now,
                        status="active")
    session.add(document)
    session.flush()
    return document


def _new_version(session, document: DocumentRow, blob: Blob, url: str, now: datetime) -> None:
    previous = session.scalar(select(Version).where(Version.document_id == document.id,
                                                    Version.sha256 == document.current_sha256))
    version = session.scalar(select(Version).where(Version.document_id == document.id,
                                                   Version.sha256 == blob.sha256))
    if version is None:
        version = Version(document_id=document.id, sha256=blob.sha256, url=url, seen_at=now)
        session.add(version)
    version.superseded_at = None
    if previous is not None:
        # The replaced alert waits for the new content's parse (workers.documents.queue_replaced_alert).
        previous.superseded_at = now
    document.current_sha256 = blob.sha256
    session.flush()
