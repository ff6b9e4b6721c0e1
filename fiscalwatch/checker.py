"""Parse and validate one file: the unit of work shared by `fiscalwatch check` and the workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from parsers import UnreadableFile, parse_file
from parsers.model import Document
from validators import validate
from validators.core import Finding


@dataclass
class CheckResult:
    file: str
    document: Document | None = None
    findings: list[Finding] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    error_code: str | None = None
    error: str | None = None  # Chinese, for people

    @property
    def ok(self) -> bool:
        return self.error_code is None

    def to_dict(self) -> dict:
        doc = self.document
        return {
            "file": self.file,
            "status": "ok" if self.ok else "failed",
            "error": {"code": self.error_code, "message": self.error} if not self.ok else None,
            "document": {
                "kind": doc.kind,
                "level": doc.level,
                "scope": doc.scope,
                "entity": doc.entity,
                "year": doc.year,
                "format": doc.format,
                "pages": doc.page_count,
                "unreadable_pages": sorted(doc.unreadable_pages),
                "ocr_pages": {str(k): v for k, v in sorted(doc.ocr_pages.items())},
            }
            if doc
            else None,
            "tables": [
                {"title": t.title, "kind": t.kind, "page": t.page, "pages": t.pages, "unit": t.unit, "rows": len(t.rows)}
                for t in (doc.tables if doc else [])
            ],
            "findings": [f.to_dict() for f in self.findings],
            "skipped_checks": self.skipped,
        }


def check_file(path: Path, low_completion_threshold: Decimal = Decimal(30)) -> CheckResult:
    result = CheckResult(file=str(path))
    try:
        result.document = parse_file(path)
    except UnreadableFile as exc:
        result.error_code, result.error = exc.code, exc.message
        return result
    validation = validate(result.document, low_completion_threshold)
    result.findings, result.skipped = validation.findings, validation.skipped
    return result
