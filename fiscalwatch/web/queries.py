"""Reading the store for the pages and the JSON API (both show exactly these)."""

from __future__ import annotations

import time
from array import array
from collections import defaultdict
from math import ceil
from typing import Literal

from pydantic import BaseModel, field_validator
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session, aliased, joinedload

from fiscalwatch.alerts.routing import within
from fiscalwatch.labels import RANK
from fiscalwatch.store.models import Blob, CrawlRun, DocumentRow, FindingRow, Source, Version
from fiscalwatch.store.registry import DocumentMatch, Entity, Expectation
from fiscalwatch.web.evidence import page_links
from fiscalwatch.web.schemas import (ComplianceRow, ComplianceTable, Counts, DocumentOut, EntityOut, FindingOut,
                                     LastRun, MatchOut, Overview, RegionCounts, SourceHealth, UnmatchedDocument,
                                     VersionOut)

PAGE_SIZE = 50
NO_REGION = "未标注地区"
# Worst first, so that sorting by status puts what needs attention on top.
_TIMELINESS_ORDER = case({"overdue": 0, "withdrawn": 1, "late": 2, "undated": 3, "on_time": 4, "not_due": 5},
                         value=Expectation.timeliness, else_=6)
_QUALITY_ORDER = case({"incomplete": 0, "errors": 1, "unreadable": 2, "pending": 3, "ok": 4},
                      value=Expectation.quality, else_=5)
_SORTS = {
    "entity": Entity.name, "region": Entity.region, "year": Expectation.year, "kind": Expectation.kind,
    "deadline": Expectation.deadline, "timeliness": _TIMELINESS_ORDER, "published": Expectation.published,
    "days_late": Expectation.days_late, "quality": _QUALITY_ORDER,
}


class Filters(BaseModel):
    """The compliance table's filters and order (query parameters; empty means any)."""

    region: str | None = None  # a region and everything under it
    year: int | None = None
    kind: Literal["budget", "final"] | None = None
    level: Literal["部门", "单位"] | None = None
    timeliness: Literal["not_due", "on_time", "late", "overdue", "withdrawn", "undated"] | None = None
    quality: Literal["ok", "incomplete", "errors", "pending", "unreadable"] | None = None
    q: str | None = None  # part of the entity's name
    sort: Literal["entity", "region", "year", "kind", "deadline", "timeliness", "published", "days_late",
                  "quality"] = "region"
    order: Literal["asc", "desc"] = "asc"

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_any(cls, value):
        return None if value == "" else value


# Results that read every standing or finding (the overview's aggregates, the compliance table's order, the
# explorer's order) are kept per database and question, and reused while the data is unchanged: the version is
# a few indexed maxima (a refresh stamps every standing it keeps, a new or matched document moves the others, a
# parse adds findings, a replacement adds a version). What moves no maximum (a document withdrawn or back, a
# parse that found nothing where there were findings) is seen within CACHE_SECONDS.
_CACHE: dict[tuple, tuple[tuple, float, object]] = {}
_CACHE_KEPT = 64
CACHE_SECONDS = 60.0


def cached(session: Session, question: tuple, compute):
    if "version" not in session.info:  # read once per request
        session.info["version"] = tuple(session.execute(select(
            select(func.max(Expectation.evaluated_at)).scalar_subquery(),
            select(func.max(Expectation.id)).scalar_subquery(),
            select(func.max(DocumentRow.id)).scalar_subquery(),
            select(func.max(DocumentMatch.matched_at)).scalar_subquery(),
            select(func.max(FindingRow.id)).scalar_subquery(),
            select(func.max(Version.id)).scalar_subquery())).one())
    version = session.info["version"]
    key = (str(session.get_bind().url), *question)
    now = time.monotonic()
    kept = _CACHE.get(key)
    if kept is not None and kept[0] == version and kept[1] > now:
        return kept[2]
    if len(_CACHE) >= _CACHE_KEPT:
        _CACHE.clear()
    value = compute()
    _CACHE[key] = (version, now + CACHE_SECONDS, value)
    return value


def overview(session: Session, year: int | None, kind: str | None) -> Overview:
    return cached(session, ("overview", year, kind), lambda: _overview(session, year, kind)).model_copy(deep=True)


def _overview(session: Session, year: int | None, kind: str | None) -> Overview:
    counted = select(Entity.region, Expectation.timeliness, Expectation.quality, func.count()).join(
        Entity, Expectation.entity_id == Entity.id)
    rows = session.execute(_filtered(session, counted, Filters(year=year, kind=kind))
                           .group_by(Entity.region, Expectation.timeliness, Expectation.quality))
    regions: dict[str, RegionCounts] = {}
    totals = Counts()
    for region, timeliness, quality, count in rows:
        counted = regions.setdefault(region or NO_REGION, RegionCounts(region=region or NO_REGION))
        for counts in (counted, totals):
            counts.expected += count
            counts.timeliness[timeliness] = counts.timeliness.get(timeliness, 0) + count
            if quality:
                counts.quality[quality] = counts.quality.get(quality, 0) + count
    return Overview(
        year=year, kind=kind, totals=totals, regions=sorted(regions.values(), key=lambda r: r.region),
        years=years(session),
        unmatched=session.scalar(_without_entity(select(func.count(DocumentRow.id)))),
        evaluated_at=session.scalar(select(func.max(Expectation.evaluated_at))),
    )


def years(session: Session) -> list[int]:
    return cached(session, ("years",), lambda: list(session.scalars(
        select(Expectation.year).distinct().order_by(Expectation.year.desc()))))


def regions(session: Session) -> list[str]:
    """Every region of the registry and the regions above it: 河南省, 河南省/濮阳市, …"""
    return cached(session, ("regions",), lambda: _regions(session))


def _regions(session: Session) -> list[str]:
    return regions_above(session, Entity.region)


def regions_above(session: Session, column) -> list[str]:
    """Every region in ``column`` and the regions above it: 河南省, 河南省/濮阳市, …"""
    found = set()
    for region in session.scalars(select(column).distinct().where(column.is_not(None))):
        parts = region.strip("/").split("/")
        found |= {"/".join(parts[:length]) for length in range(1, len(parts) + 1)}
    return sorted(found)


def in_region(session: Session, column, region: str):
    """``column`` within ``region`` by path, as alert routes cover regions ("河南省" covers 河南省/濮阳市, not
    河南省直): the condition names the distinct regions stored that it covers."""
    known = session.scalars(select(column).distinct().where(column.is_not(None)))
    return column.in_([r for r in known if within(r, region)])


def compliance(session: Session, filters: Filters, page: int | None = 1) -> ComplianceTable:
    """The table, one page of it (or all of it with ``page=None``, for exports)."""
    parent = aliased(Entity)
    query = (select(Expectation, Entity, parent.name, DocumentRow.title)
             .join(Entity, Expectation.entity_id == Entity.id)
             .outerjoin(parent, Entity.parent_id == parent.id)
             .outerjoin(DocumentRow, DocumentRow.id == Expectation.document_id))
    if page is None:
        return _table(list(session.execute(_ordered(_filtered(session, query, filters), filters))), None, 1)
    order = cached(session, ("compliance", filters.model_dump_json()), lambda: array("q", session.scalars(
        _ordered(_filtered(session, select(Expectation.id).join(Entity, Expectation.entity_id == Entity.id), filters),
                 filters))))
    pages = max(ceil(len(order) / PAGE_SIZE), 1)
    page = min(max(page, 1), pages)
    ids = order[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    position = {expectation_id: n for n, expectation_id in enumerate(ids)}
    found = sorted(session.execute(query.where(Expectation.id.in_(list(ids)))), key=lambda row: position[row[0].id])
    return _table(found, len(order), page, pages)


def _ordered(query: Select, filters: Filters) -> Select:
    key = _SORTS[filters.sort]
    return query.order_by((key.desc() if filters.order == "desc" else key.asc()).nulls_last(),
                          Entity.region, Entity.name, Expectation.year.desc(), Expectation.kind, Expectation.id)


def _table(found: list, total: int | None, page: int, pages: int = 1) -> ComplianceTable:
    rows = [ComplianceRow(
        expectation_id=e.id, entity_id=entity.id, entity=entity.name, level=entity.level, region=entity.region,
        parent=parent_name, year=e.year, kind=e.kind, approval_date=e.approval_date, deadline=e.deadline,
        timeliness=e.timeliness, quality=e.quality, published=e.published, days_late=e.days_late,
        missing_tables=e.missing_tables, errors=e.errors, document_id=e.document_id, document_title=title,
    ) for e, entity, parent_name, title in found]
    return ComplianceTable(total=len(rows) if total is None else total, page=page, pages=pages, rows=rows)


def _filtered(session: Session, query: Select, filters: Filters) -> Select:
    if filters.region:
        query = query.where(in_region(session, Entity.region, filters.region))
    if filters.q:
        query = query.where(Entity.name.contains(filters.q.strip(), autoescape=True))
    for column, value in ((Expectation.year, filters.year), (Expectation.kind, filters.kind),
                          (Entity.level, filters.level), (Expectation.timeliness, filters.timeliness),
                          (Expectation.quality, filters.quality)):
        if value is not None:
            query = query.where(column == value)
    return query


def document(session: Session, document_id: int) -> DocumentOut | None:
    row = session.get(DocumentRow, document_id, options=[joinedload(DocumentRow.source), joinedload(DocumentRow.current)])
    if row is None:
        return None
    blob: Blob | None = row.current
    match = session.get(DocumentMatch, document_id)
    urls = [u.url for u in row.urls]
    return DocumentOut(
        id=row.id, title=row.title, source_id=row.source_id, source_name=row.source.name, region=row.source.region,
        source_url=row.detail_url or (urls[0] if urls else None), urls=urls, published=row.published,
        first_seen_at=row.first_seen_at, status=row.status, withdrawn_at=row.withdrawn_at,
        withdrawn_reason=row.withdrawn_reason, sha256=row.current_sha256, filename=blob.filename if blob else None,
        parse_status=blob.status if blob else None, parse_error=blob.error if blob else None,
        parsed_kind=blob.kind if blob else None, parsed_year=blob.year if blob else None,
        parsed_entity=blob.entity if blob else None, pages=blob.pages if blob else None,
        match=MatchOut(entity_id=match.entity_id, entity=match.entity.name if match.entity else None, year=match.year,
                       kind=match.kind, scope=match.scope, method=match.method, reason=match.reason)
        if match else None,
        versions=[VersionOut(sha256=v.sha256, url=v.url, seen_at=v.seen_at, superseded_at=v.superseded_at)
                  for v in row.versions],
        findings=[FindingOut(id=f.id, rule=f.rule, category=f.category, severity=f.severity, message=f.message,
                             page=f.page, table=f.table_title, evidence=f.evidence or {},
                             **page_links(row.id, blob, f))
                  for f in sorted(blob.findings, key=_finding_order)] if blob else [],
    )


def _finding_order(finding) -> tuple:
    """Most severe first, then by page (whole-document findings before page ones), as alerts list them."""
    return -RANK.get(finding.severity, -1), finding.page is not None, finding.page or 0, finding.id


def sources(session: Session) -> list[SourceHealth]:
    documents: dict[str, dict[str, int]] = defaultdict(dict)
    for source_id, status, count in session.execute(
            select(DocumentRow.source_id, DocumentRow.status, func.count()).group_by(DocumentRow.source_id, DocumentRow.status)):
        documents[source_id][status] = count
    latest = select(func.max(CrawlRun.id)).group_by(CrawlRun.source_id).scalar_subquery()
    runs = {run.source_id: run for run in session.scalars(select(CrawlRun).where(CrawlRun.id.in_(latest)))}
    health = []
    for source in session.scalars(select(Source).order_by(Source.region, Source.name)):
        run = runs.get(source.id)
        counted = documents[source.id]
        health.append(SourceHealth(
            id=source.id, name=source.name, url=source.url, region=source.region, active=source.active,
            last_crawl_at=source.last_crawl_at, last_success_at=source.last_success_at,
            consecutive_failures=source.consecutive_failures, last_error=source.last_error,
            last_link_count=source.last_link_count, documents=sum(counted.values()),
            withdrawn=counted.get("withdrawn", 0),
            last_run=LastRun(status=run.status, started_at=run.started_at, finished_at=run.finished_at,
                             documents_found=run.documents_found, new_documents=run.new_documents,
                             errors=len(run.errors or [])) if run else None,
        ))
    return health


def _without_entity(query: Select) -> Select:
    """Documents with no entity: matched to none, or not looked at yet."""
    return (query.select_from(DocumentRow).outerjoin(DocumentMatch, DocumentMatch.document_id == DocumentRow.id)
            .where(DocumentMatch.entity_id.is_(None)))


def unmatched(session: Session) -> list[UnmatchedDocument]:
    query = _without_entity(select(DocumentRow, DocumentMatch)).options(
        joinedload(DocumentRow.source), joinedload(DocumentRow.current)).order_by(DocumentRow.published.desc().nulls_last(),
                                                                           DocumentRow.id.desc())
    return [UnmatchedDocument(
        id=doc.id, title=doc.title, source_id=doc.source_id, source_name=doc.source.name, published=doc.published,
        parsed_entity=doc.current.entity if doc.current else None, year=match.year if match else None,
        kind=match.kind if match else None, reason=match.reason if match else "尚未匹配，等待下次刷新",
    ) for doc, match in session.execute(query)]


def entities(session: Session) -> list[EntityOut]:
    parent = aliased(Entity)
    query = select(Entity, parent.name).outerjoin(parent, Entity.parent_id == parent.id).order_by(
        Entity.region, Entity.name)
    return [EntityOut(id=e.id, name=e.name, aliases=e.aliases or [], level=e.level, region=e.region,
                      parent=parent_name, sources=e.sources or []) for e, parent_name in session.execute(query)]
