"""Stages 3–5, parse, validate and store findings: once per content hash, under a lease so a crashed
worker's file is picked up again, and a file that keeps crashing workers ends as failed, not in a loop."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select

from fiscalwatch.parsers import serialize
from fiscalwatch.settings import Settings, concurrency_for
from fiscalwatch.store import leases
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Blob, BlobContent, DocumentRow, FindingRow
from fiscalwatch.validators.checker import CheckResult, check_file, parse_limits
from fiscalwatch.workers.comparisons import compare_with_archive
from fiscalwatch.workers.documents import queue_document_alerts
from fiscalwatch.workers.publications import check_with_companions, companions, place_completeness

log = logging.getLogger(__name__)


def take_lease(settings: Settings, sha256: str) -> int | None:
    """Take the lease on a pending (or abandoned) blob; returns the attempt number, None if not ours."""
    return leases.take(settings.database_url, Blob.sha256, sha256, status=Blob.status, free=Blob.status == "pending",
                       taken="processing", attempts=Blob.attempts,
                       lease=timedelta(seconds=settings.parse_lease_seconds))


def run_process(settings: Settings, sha256: str) -> None:
    attempt = take_lease(settings, sha256)
    if attempt is None:
        return
    if attempt > settings.max_parse_attempts:
        record_failure(settings, sha256, "worker_crashed",
                       f"处理该文件时工作进程已异常退出{attempt - 1}次（可能内存或时间超限），不再重试")
        return
    with session_scope(settings.database_url) as session:
        blob = session.get(Blob, sha256)
        path, whole = settings.storage_dir / blob.path, blob.ocr_unread > 0
    limits = parse_limits(settings, concurrency_for(settings), whole=whole)
    others, completeness = companions(settings, sha256), {}
    try:
        if others:
            result, completeness = check_with_companions(path, sha256, others, settings.rules, limits)
        else:
            result = check_file(path, settings.rules, limits)
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:  # a parser bug must end as a recorded failure, not a retry loop
        log.exception("checking %s crashed", sha256)
        result = CheckResult(file=sha256, error_code="internal_error", error=f"解析程序内部错误（{type(exc).__name__}）")
    store_result(settings, sha256, result, completeness)


def store_result(settings: Settings, sha256: str, result: CheckResult, completeness: dict | None = None) -> None:
    """Findings, status and the alerts they cause, in one transaction. `completeness`: the findings of a
    publication of several files, by the file that holds them (see workers.publications). A first read that
    left scanned pages at the OCR budget keeps its findings for the dashboard, and its alerts wait for the
    whole read (workers.dispatch.read_unfinished_scans); a whole read that fails leaves the first read's."""
    with session_scope(settings.database_url) as session:
        blob = session.get(Blob, sha256)
        whole = blob.ocr_unread > 0
        if whole and not result.ok:
            log.warning("whole read of %s failed (%s), its first read stands", sha256, result.error_code)
            blob.status, blob.lease_until, blob.ocr_unread = "ok", None, 0
            blob.report = {**blob.report, "whole_read_error": {"code": result.error_code, "message": result.error}}
            _settled(session, settings, sha256)
            return
        blob.findings.clear()
        session.flush()
        report = result.to_dict()
        document = report["document"] or {}
        blob.status = result.status
        blob.error_code, blob.error = result.error_code, result.error or result.not_disclosure
        blob.format, blob.kind, blob.level = document.get("format"), document.get("kind"), document.get("level")
        blob.scope, blob.entity, blob.year = document.get("scope"), document.get("entity"), document.get("year")
        blob.pages = document.get("pages")
        # Archives: findings are the main member's; every member's own result is kept with the report.
        blob.report = {key: report[key] for key in ("document", "tables", "skipped_checks", "member", "members")}
        blob.lease_until, blob.processed_at = None, datetime.now(timezone.utc)
        blob.findings.extend(FindingRow.of(f) for f in result.findings)
        _keep_content(session, sha256, result)
        session.flush()
        if completeness:
            place_completeness(session, completeness)
            session.flush()
        blob.ocr_unread = 0 if whole else sum(reason == "ocr_limit" for reason in _unreadable(result).values())
        if not blob.ocr_unread:
            _settled(session, settings, sha256)


def _keep_content(session, sha256: str, result: CheckResult) -> None:
    content = session.get(BlobContent, sha256)
    if result.status == "ok" and result.document is not None:
        if content is None:
            session.add(content := BlobContent(sha256=sha256))
        content.content = serialize.to_dict(result.document)
    elif content is not None:
        session.delete(content)


def _settled(session, settings: Settings, sha256: str) -> None:
    """The content's findings are final: alert them, then compare it with the archive."""
    for document in session.scalars(select(DocumentRow).where(DocumentRow.current_sha256 == sha256)):
        queue_document_alerts(session, settings, document)
    try:  # a comparison that fails must not cost the file its own result
        with session.begin_nested():
            compare_with_archive(session, settings, sha256)
    except Exception:
        log.exception("comparing %s with the archive failed", sha256)


def _unreadable(result: CheckResult) -> dict[int, str]:
    return result.document.unreadable_pages if result.document else {}


def record_failure(settings: Settings, sha256: str, code: str, message: str) -> None:
    store_result(settings, sha256, CheckResult(file=sha256, error_code=code, error=message))
