"""Parse and validate one file: the unit of work shared by `fiscalwatch check` and the workers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from parsers import Parsed, UnreadableFile, no_documents, parse_documents, primary
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
    member: str | None = None  # inside an archive: the member this result is for
    members: list[CheckResult] = field(default_factory=list)  # archives: every member; the top level is the primary

    @property
    def ok(self) -> bool:
        return self.error_code is None

    def to_dict(self) -> dict:
        doc = self.document
        return {
            "file": self.file,
            "member": self.member,
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
            "members": [m.to_dict() for m in self.members],
        }


def check_file(path: Path, low_completion_threshold: Decimal = Decimal(30)) -> CheckResult:
    """Plain files give one result. Archives give the primary member's result at the top level
    (so consumers of single documents work unchanged) with every member's result in `members`."""
    try:
        parsed = parse_documents(path)
    except UnreadableFile as exc:
        return CheckResult(file=str(path), error_code=exc.code, error=exc.message)
    results = [_check(str(path), p, low_completion_threshold) for p in parsed]
    if len(parsed) == 1 and parsed[0].name is None:
        return results[0]
    best = primary(parsed)
    if best is None:
        error = no_documents()
        return CheckResult(file=str(path), error_code=error.code, error=error.message, members=results)
    top = results[parsed.index(best)]
    return replace(top, members=results)


def _check(file: str, parsed: Parsed, low_completion_threshold: Decimal) -> CheckResult:
    result = CheckResult(file=file, document=parsed.document, member=parsed.name)
    if parsed.error:
        result.error_code, result.error = parsed.error.code, parsed.error.message
        return result
    validation = validate(parsed.document, low_completion_threshold)
    result.findings, result.skipped = validation.findings, validation.skipped
    return result
