"""Stage 5b, compare with the archive: once a content is stored, check it against the archived documents
it speaks of (its year's 预算, last year's document) and the ones that speak of it (its year's 决算, next
year's document). The findings live on the content whose statements they check, each naming the other
content; they are recomputed whenever either side is stored, and alerted once per pair."""

from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fiscalwatch.alerts import document_alerts
from fiscalwatch.alerts.outbox import document_info, enqueue
from fiscalwatch.parsers import serialize
from fiscalwatch.settings import Settings
from fiscalwatch.store.models import Blob, BlobContent, DocumentRow, FindingRow
from fiscalwatch.validators.cross_documents import BUDGET_FINAL, PREVIOUS_YEAR, ArchiveRule, Pair
from fiscalwatch.validators.reliability import GATE

log = logging.getLogger(__name__)
KINDS = ("budget", "final")


def compare_with_archive(session: Session, settings: Settings, sha256: str) -> int:
    """Run every archive rule this content takes part in; returns how many alerts were queued."""
    blob = session.get(Blob, sha256)
    if blob is None or blob.status != "ok" or blob.kind not in KINDS or not blob.year or not blob.entity:
        return 0
    queued = 0
    for rule, subject, other in _pairs(session, blob):
        queued += _compare(session, settings, rule, subject, other)
    return queued


def _pairs(session: Session, blob: Blob) -> list[tuple[ArchiveRule, Blob, Blob]]:
    """(rule, content whose statements are checked, content they are checked against)."""
    pairs = []
    if blob.kind == "final":
        pairs += [(BUDGET_FINAL, blob, budget) for budget in _counterpart(session, blob, "budget", blob.year)]
    else:
        pairs += [(BUDGET_FINAL, final, blob) for final in _counterpart(session, blob, "final", blob.year)]
    pairs += [(PREVIOUS_YEAR, blob, last) for last in _counterpart(session, blob, blob.kind, blob.year - 1)]
    pairs += [(PREVIOUS_YEAR, following, blob) for following in _counterpart(session, blob, blob.kind, blob.year + 1)]
    return pairs


def _counterpart(session: Session, blob: Blob, kind: str, year: int) -> list[Blob]:
    """The current, parsed content of the same entity's document of that kind and year (same level and scope:
    a 单位's figures are not its 部门's, nor 本级 the 汇总), the latest processed if several."""
    entity_ids = select(DocumentRow.entity_id).where(DocumentRow.current_sha256 == blob.sha256,
                                                  DocumentRow.entity_id.is_not(None))
    found = session.scalars(
        select(Blob).join(DocumentRow, DocumentRow.current_sha256 == Blob.sha256).where(
            DocumentRow.status == "active", Blob.status == "ok", Blob.kind == kind, Blob.year == year,
            Blob.sha256 != blob.sha256, _same(Blob.level, blob.level), _same(Blob.scope, blob.scope),
            or_(Blob.entity == blob.entity, DocumentRow.entity_id.in_(entity_ids)))
        .order_by(Blob.processed_at.desc()).limit(1)).all()
    return list(found)


def _same(column, value):
    return column.is_(None) if value is None else column == value


def _compare(session: Session, settings: Settings, rule: ArchiveRule, subject: Blob, other: Blob) -> int:
    # Locked, so two workers storing both sides at once do not both write the pair's findings.
    subject = session.get(Blob, subject.sha256, with_for_update=True)
    contents = [session.get(BlobContent, b.sha256) for b in (subject, other)]
    if any(c is None or not serialize.readable(c.content) for c in contents):
        return 0  # not kept, or kept by an older reader: compared once it is parsed again
    doubted = {f.table_title for f in other.findings if f.rule == GATE.id and f.table_title}
    pair = Pair(serialize.from_dict(contents[0].content), serialize.from_dict(contents[1].content),
                _title(session, other), doubted)
    findings = rule.run(pair, settings.rules)
    for row in [r for r in subject.findings if r.rule == rule.id and r.other_sha256 == other.sha256]:
        subject.findings.remove(row)
    subject.findings.extend(FindingRow.of(f, other_sha256=other.sha256) for f in findings)
    session.flush()
    if findings:
        log.info("%s: %d findings comparing %s with %s", rule.id, len(findings), subject.sha256[:12], other.sha256[:12])
    queued = 0
    for document in session.scalars(select(DocumentRow).where(DocumentRow.current_sha256 == subject.sha256)):
        info = document_info(session, settings, document)
        key = f"compared|{rule.id}|{document.id}|{subject.sha256}|{other.sha256}"
        for route, message in document_alerts(info, findings, settings.alerts, settings.alert_top_findings):
            queued += enqueue(session, key, route, message, document.id) is not None
    return queued


def _title(session: Session, blob: Blob) -> str:
    document = session.scalar(select(DocumentRow).where(DocumentRow.current_sha256 == blob.sha256).limit(1))
    return f"《{(document.title if document else None) or blob.filename or blob.sha256[:12]}》"
