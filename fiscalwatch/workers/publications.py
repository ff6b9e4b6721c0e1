"""A detail page's attachments are one publication: completeness (missing tables) is judged on all of
them together, and the publication's completeness findings live on its main file (the one with the
most tables); the other files keep only their own checks."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from fiscalwatch.parsers.limits import Limits
from fiscalwatch.settings import RuleParams, Settings
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Blob, DocumentRow, FindingRow
from fiscalwatch.validators.checker import CheckResult, check_publication
from fiscalwatch.validators.completeness_rules import PUBLICATION_RULES


def companions(settings: Settings, sha256: str) -> dict[str, Path]:
    """Archived files published on the same detail page as this content (sha256 → path), itself excluded."""
    with session_scope(settings.database_url) as session:
        pages = session.execute(select(DocumentRow.source_id, DocumentRow.detail_url).where(
            DocumentRow.current_sha256 == sha256, DocumentRow.detail_url.is_not(None))).all()
        found: dict[str, Path] = {}
        for source_id, detail_url in pages:
            for blob in session.scalars(select(Blob).join(DocumentRow, DocumentRow.current_sha256 == Blob.sha256).where(
                    DocumentRow.source_id == source_id, DocumentRow.detail_url == detail_url,
                    DocumentRow.status == "active", Blob.sha256 != sha256)):
                found[blob.sha256] = settings.storage_dir / blob.path
        return found


def check_with_companions(path: Path, sha256: str, others: dict[str, Path], params: RuleParams,
                          limits: Limits) -> tuple[CheckResult, dict]:
    """This file's own result, and the publication's completeness findings for each member's sha256
    (all of them on the main file, none on the others); each file parsed within ``limits``."""
    paths = {str(path): sha256, **{str(p): sha for sha, p in others.items()}}
    publication = check_publication([path, *others.values()], params, limits)
    own = max((m for m in publication.members if m.file == str(path)), key=_tables)
    own.findings = [f for f in own.findings if f.rule not in PUBLICATION_RULES]
    main = paths[max(publication.members, key=_tables).file]
    completeness = [f for f in publication.findings if f.rule in PUBLICATION_RULES]
    return own, {sha: completeness if sha == main else [] for sha in paths.values()}


def _tables(member: CheckResult) -> int:
    return len(member.document.tables) if member.document else -1


def place_completeness(session, completeness: dict[str, list]) -> None:
    """Give the publication's completeness findings to its main file and take them from the others."""
    for sha in completeness:
        blob = session.get(Blob, sha)
        if blob is None or blob.status != "ok":
            continue
        for row in [r for r in blob.findings if r.rule in PUBLICATION_RULES]:
            blob.findings.remove(row)
        blob.findings.extend(FindingRow.of(f) for f in completeness.get(sha, []))
