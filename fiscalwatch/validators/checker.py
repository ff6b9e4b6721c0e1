"""Parse and validate one file: the unit of work shared by `fiscalwatch check` and the workers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from fiscalwatch.parsers import OcrBudget, Parsed, UnreadableFile, no_documents, parse_documents, primary
from fiscalwatch.parsers.disclosure import not_a_disclosure
from fiscalwatch.parsers.limits import Limits, run_limited
from fiscalwatch.parsers.model import Document
from fiscalwatch.settings import RuleParams, Settings
from fiscalwatch.validators import validate
from fiscalwatch.validators.core import Finding

WHOLE = 100_000  # OCR pages of a whole read: every page, within the parse's time limit


@dataclass
class CheckResult:
    file: str
    document: Document | None = None
    findings: list[Finding] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    error_code: str | None = None
    error: str | None = None  # Chinese, for people
    member: str | None = None  # inside an archive: the member this result is for
    # Archives: every member, the top level being the primary. Publications: every file.
    members: list[CheckResult] = field(default_factory=list)
    not_disclosure: str | None = None  # why the file is not a disclosure (Chinese), if it is not

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def status(self) -> str:
        return "failed" if not self.ok else "not_a_disclosure" if self.not_disclosure else "ok"

    def to_dict(self) -> dict:
        doc = self.document
        return {
            "file": self.file,
            "member": self.member,
            "status": self.status,
            "error": {"code": self.error_code, "message": self.error} if not self.ok else None,
            "not_a_disclosure": self.not_disclosure,
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


def check_file(path: Path, params: RuleParams | None = None,
               limits: Limits | None = None) -> CheckResult:
    """Plain files give one result. Archives give the primary member's result at the top level
    (so consumers of single documents work unchanged) with every member's result in `members`.
    ``limits``: the parse's (see parse_limited)."""
    try:
        parsed = parse_limited(path, limits)
    except UnreadableFile as exc:
        return CheckResult(file=str(path), error_code=exc.code, error=exc.message)
    results = [_check(str(path), p, params) for p in parsed]
    if len(parsed) == 1 and parsed[0].name is None:
        return results[0]
    best = primary(parsed)
    if best is None:
        error = no_documents()
        return CheckResult(file=str(path), error_code=error.code, error=error.message, members=results)
    top = results[parsed.index(best)]
    return replace(top, members=results)


def parse_limits(settings: Settings, parallel: int = 1, *, whole: bool = False) -> Limits:
    """The configured limits of one parse (parse_memory_mb, parse_time_limit, ocr_threads, ocr_max_pages)
    among ``parallel`` parses at once: without ocr_threads, each parse's OCR gets its share of the cores.
    ``whole``: every scanned page is OCR'd (the later read of a file its first read left unfinished)."""
    return Limits(memory_mb=settings.parse_memory_mb, seconds=settings.parse_time_limit,
                  ocr_threads=settings.ocr_threads or max(1, (os.cpu_count() or 1) // parallel),
                  ocr_pages=WHOLE if whole else settings.ocr_max_pages)


def parse_limited(path: Path, limits: Limits | None = None) -> list[Parsed]:
    """parse_documents under memory and time limits (parsers.limits): whatever a hostile or broken file does to
    a reader ends as an UnreadableFile with a clear code, never as a traceback. Without ``limits``: the
    settings' defaults, unless the environment overrides them (FISCALWATCH_PARSE_TIME_LIMIT, …)."""
    limits = limits or parse_limits(Settings())
    return run_limited(lambda: parse_documents(path, ocr=OcrBudget.within(limits)), memory_mb=limits.memory_mb,
                       seconds=limits.seconds)


def check_publication(paths: list[Path], params: RuleParams | None = None,
                      limits: Limits | None = None) -> CheckResult:
    """Several files published together (a detail page's attachments, e.g. 情况说明 and 报表 apart):
    each file's own checks, and completeness judged once on all of them together."""
    files = [_check_parts(path, params, limits) for path in paths]
    members = [m for parts in files for m in parts]
    disclosures = [m for m in members if m.status == "ok"]
    result = CheckResult(file="；".join(str(p) for p in paths), members=members)
    if not disclosures:
        failed = next((m for m in members if not m.ok), None)
        if failed:
            result.error_code, result.error = failed.error_code, failed.error
        else:
            result.not_disclosure = "发布内容中没有预决算公开文件"
        return result
    for member in disclosures:
        for table in member.document.tables:
            table.source = member.file
    result.document = _union([m.document for m in disclosures])
    completeness = validate(result.document, params, scope="publication")
    result.findings = [f for m in disclosures for f in _from(m)] + completeness.findings
    result.skipped = [s for m in disclosures for s in m.skipped] + completeness.skipped
    return result


def _check_parts(path: Path, params: RuleParams | None, limits: Limits | None) -> list[CheckResult]:
    try:
        parsed = parse_limited(path, limits)
    except UnreadableFile as exc:
        return [CheckResult(file=str(path), error_code=exc.code, error=exc.message)]
    return [_check(str(path), p, params, scope="member") for p in parsed]


def _from(member: CheckResult) -> list[Finding]:
    """A member's findings, each saying which file (and archive member) it is about."""
    where = f"{member.file}:{member.member}" if member.member else member.file
    return [replace(f, evidence={**f.evidence, "file": where}) for f in member.findings]


def _union(docs: list[Document]) -> Document:
    """One document standing for the publication: identity from the files that state it, every table
    and 目录 entry of every file (completeness is all that is judged on it)."""
    def first(attribute: str):
        return next((getattr(d, attribute) for d in docs if getattr(d, attribute)), None)

    return Document(kind=first("kind"), level=first("level"), scope=first("scope"), entity=first("entity"),
                    year=first("year"), format=docs[0].format, page_count=sum(d.page_count for d in docs),
                    toc=[e for d in docs for e in d.toc], tables=[t for d in docs for t in d.tables],
                    sentences=[s for d in docs for s in d.sentences])


def _check(file: str, parsed: Parsed, params: RuleParams | None, scope: str = "file") -> CheckResult:
    result = CheckResult(file=file, document=parsed.document, member=parsed.name)
    if parsed.error:
        result.error_code, result.error = parsed.error.code, parsed.error.message
        return result
    result.not_disclosure = not_a_disclosure(parsed.document)
    if result.not_disclosure:
        return result
    validation = validate(parsed.document, params, scope)
    result.findings, result.skipped = validation.findings, validation.skipped
    return result
