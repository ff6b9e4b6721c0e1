"""The periodic compliance pass: registry → expectations → matching → standings → alerts."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from fiscalwatch.alerts import Event
from fiscalwatch.alerts.outbox import document_info, enqueue_event
from fiscalwatch.compliance.deadlines import due_date
from fiscalwatch.compliance.matching import match_documents
from fiscalwatch.compliance.registry_io import ImportResult, import_registry
from fiscalwatch.compliance.status import Candidate, evaluate
from fiscalwatch.labels import TIMELINESS
from fiscalwatch.settings import Settings
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Blob, DocumentRow, FindingRow, Source
from fiscalwatch.store.registry import DocumentMatch, Entity, Expectation

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class RefreshSummary:
    imported: ImportResult | None  # from settings.registry_file
    entities: int
    expectations: int
    matched: int  # documents with an entity (automatic or manual)
    unmatched: int
    timeliness: dict[str, int]
    quality: dict[str, int]
    alerts: int  # outbox rows queued by this pass

    def describe(self) -> str:
        """One Chinese line for the command line."""
        counts = "、".join(f"{label}{self.timeliness[key]}" for key, label in TIMELINESS.items()
                          if self.timeliness.get(key))
        return (f"单位{self.entities}个，应公开{self.expectations}项（{counts or '无'}）；"
                f"已匹配文件{self.matched}个，待匹配{self.unmatched}个；新提醒{self.alerts}条。")


def refresh_compliance(settings: Settings, today: date | None = None) -> RefreshSummary:
    """Recompute every expected publication's standing as of ``today`` and queue overdue and late alerts
    (each once per entity × year × kind, however often this runs). Withdrawn and replaced documents are
    alerted by the pipeline when it notices them; here they only change the standing."""
    today = today or datetime.now(CHINA).date()  # deadlines are dates in China, whatever the server's zone
    with session_scope(settings.database_url) as session:
        imported = import_registry(session, settings.registry_file) if settings.registry_file else None
        _expect(session, settings, today)
        matched, unmatched = match_documents(session)
        expectations = session.scalars(select(Expectation).options(joinedload(Expectation.entity))).all()
        candidates = _candidates(session)
        now = datetime.now(timezone.utc)
        queued = 0
        for expectation in expectations:
            _stand(expectation, settings, candidates, today, now)
            queued += _alert(session, settings, expectation, today)
        return RefreshSummary(
            imported=imported, entities=session.scalar(select(func.count(Entity.id))),
            expectations=len(expectations), matched=matched, unmatched=unmatched,
            timeliness=dict(Counter(e.timeliness for e in expectations)),
            quality=dict(Counter(e.quality for e in expectations if e.quality)), alerts=queued)


def _expect(session: Session, settings: Settings, today: date) -> None:
    """Every entity owes a budget for each year from the start year to this one, and a final account for
    each year before this one (it is approved the year after)."""
    start = settings.compliance_start_year or today.year - 1
    have = set(session.execute(select(Expectation.entity_id, Expectation.year, Expectation.kind)))
    for entity_id in session.scalars(select(Entity.id)):
        owed = [(year, "budget") for year in range(start, today.year + 1)]
        owed += [(year, "final") for year in range(start, today.year)]
        session.add_all(Expectation(entity_id=entity_id, year=year, kind=kind)
                        for year, kind in owed if (entity_id, year, kind) not in have)
    session.flush()


def _candidates(session: Session) -> dict[tuple[int, int, str], list[Candidate]]:
    """Matched documents per (entity, year, kind)."""
    errors = defaultdict(Counter)
    for sha256, category, count in session.execute(
            select(FindingRow.sha256, FindingRow.category, func.count())
            .where(FindingRow.severity == "error", FindingRow.sha256.in_(select(DocumentRow.current_sha256)))
            .group_by(FindingRow.sha256, FindingRow.category)):
        errors[sha256][category == "missing_table"] += count
    grouped = defaultdict(list)
    rows = session.execute(select(DocumentMatch, DocumentRow, Blob.status).join(
        DocumentRow, DocumentRow.id == DocumentMatch.document_id).outerjoin(
        Blob, Blob.sha256 == DocumentRow.current_sha256).where(DocumentMatch.entity_id.is_not(None)))
    for match, document, parse_status in rows:
        counted = errors[document.current_sha256]
        grouped[match.entity_id, match.year, match.kind].append(Candidate(
            document_id=document.id, active=document.status == "active", published=document.published,
            first_seen=document.first_seen_at.date(), scope=match.scope, parse_status=parse_status,
            missing_tables=counted[True], errors=counted[False]))
    return grouped


def _stand(expectation: Expectation, settings: Settings, candidates: dict, today: date, now: datetime) -> None:
    entity = expectation.entity
    expectation.deadline = due_date(settings, expectation.approval_date, entity.region, expectation.year,
                                    expectation.kind)
    standing = evaluate(expectation.deadline, candidates.get((entity.id, expectation.year, expectation.kind), []),
                        today)
    for key, value in asdict(standing).items():
        setattr(expectation, key, value)
    expectation.evaluated_at = now


def _alert(session: Session, settings: Settings, expectation: Expectation, today: date) -> int:
    entity = expectation.entity
    key = f"{entity.id}|{expectation.year}|{expectation.kind}"
    if expectation.timeliness == "overdue":
        source = session.get(Source, entity.sources[0]) if entity.sources else None
        return len(enqueue_event(session, f"overdue|{key}", Event(
            kind="overdue", entity=entity.name, year=expectation.year, doc_kind=expectation.kind,
            deadline=expectation.deadline, when=today, region=entity.region,
            source_id=source.id if source else None, source_name=source.name if source else None), settings.alerts))
    if expectation.days_late:
        document = session.get(DocumentRow, expectation.document_id)
        info = replace(document_info(session, settings, document), entity=entity.name, year=expectation.year,
                       kind=expectation.kind, published=expectation.published)
        return len(enqueue_event(session, f"late|{key}", Event(
            kind="late", document=info, deadline=expectation.deadline, region=entity.region),
            settings.alerts, document.id))
    return 0
