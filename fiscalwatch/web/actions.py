"""The changes a person can make from the dashboard; each is followed by a compliance refresh, so what the
pages show (and the alerts queued) reflect it at once."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from fastapi import UploadFile

from fiscalwatch.compliance import RegistryError, apply_registry, assign_document, read_registry, refresh_compliance
from fiscalwatch.settings import Settings
from fiscalwatch.store.db import session_scope
from fiscalwatch.web.schemas import Assignment, ImportOut, RefreshOut

MAX_UPLOAD = 20 * 1024 * 1024


def refresh(settings: Settings, today: date | None) -> RefreshOut:
    summary = asdict(refresh_compliance(settings, today))
    summary.pop("imported")
    return RefreshOut(**summary)


def assign(settings: Settings, today: date | None, document_id: int, assignment: Assignment) -> RefreshOut:
    """Raises LookupError (no such document or entity) or ValueError (kind unknown)."""
    with session_scope(settings.database_url) as session:
        assign_document(session, document_id, assignment.entity_id, assignment.year, assignment.kind)
    return refresh(settings, today)


def import_registry_file(settings: Settings, today: date | None, content: bytes, filename: str) -> ImportOut:
    """Raises RegistryError, naming every problem, and imports nothing then."""
    suffix = filename.rsplit(".", 1)[-1] if "." in filename else ""
    with session_scope(settings.database_url) as session:
        result = apply_registry(session, read_registry(content, suffix))
    return ImportOut(**asdict(result), refresh=refresh(settings, today))


def read_upload(file: UploadFile) -> bytes:
    content = file.file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise RegistryError(f"文件过大（上限{MAX_UPLOAD // 1024 // 1024}MB）")
    return content
