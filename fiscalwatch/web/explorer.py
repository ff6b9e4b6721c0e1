"""The findings explorer: every finding of the current version of each active document (a replaced version's
or a withdrawn document's findings no longer describe what is published), filtered, sorted by amount or rate,
a page at a time or whole for exports; page /findings, API /api/findings, exports /export/findings.csv|xlsx."""

from __future__ import annotations

from math import ceil
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fiscalwatch.labels import CATEGORIES, SEVERITIES
from fiscalwatch.store.models import Blob, DocumentRow, FindingRow, Source, Version
from fiscalwatch.web.auth import reader
from fiscalwatch.web.deps import db, settings_of
from fiscalwatch.web.export import findings_sheet, to_csv, to_xlsx
from fiscalwatch.web.queries import PAGE_SIZE, cached, in_region, regions_above, years
from fiscalwatch.web.render import render
from fiscalwatch.web.schemas import ExploredFinding, ExploredFindings

api = APIRouter(prefix="/api", tags=["API"])
pages = APIRouter(include_in_schema=False)
Store = Annotated[Session, Depends(db)]
_EXPORTS = {"csv": ("text/csv; charset=utf-8", to_csv),
            "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx)}
_SORTS = {"newest": FindingRow.id, "amount": FindingRow.amount, "rate": FindingRow.rate}
COUNTED = 1000  # findings a filter is counted and paged to: 20 pages; narrower filters reach the rest


class FindingFilters(BaseModel):
    """The explorer's filters and order (query parameters; empty means any)."""

    category: Literal[CATEGORIES] | None = None
    rule: str | None = None
    severity: Literal[SEVERITIES] | None = None
    region: str | None = Field(None, description="a region and everything under it, e.g. 河南省")
    year: int | None = None
    entity: str | None = Field(None, description="part of the entity's name")
    kind: Literal["budget", "final"] | None = None
    rate_below: float | None = Field(None, description="only findings with a rate below this, %")
    sort: Literal["newest", "amount", "rate"] = "newest"
    order: Literal["asc", "desc"] = "desc"

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_any(cls, value):
        return None if value == "" else value


Filters = Annotated[FindingFilters, Query()]
_COLUMNS = (FindingRow.id.label("finding_id"), DocumentRow.id.label("document_id"), DocumentRow.title.label("document_title"),
            Blob.entity, Blob.year, Blob.kind, Blob.level, Source.region, Source.id.label("source_id"), FindingRow.rule,
            FindingRow.category, FindingRow.severity, FindingRow.message, FindingRow.page,
            FindingRow.table_title.label("table"), FindingRow.amount, FindingRow.rate, FindingRow.other_sha256)


def explore(session: Session, filters: FindingFilters, page: int | None = 1) -> ExploredFindings:
    """One page of the filtered findings (or all of them with ``page=None``, for exports)."""
    if page is None:
        found = list(session.execute(_ordered(_filtered(session, select(*_COLUMNS), filters), filters)))
        return ExploredFindings(total=len(found), page=1, pages=1, rows=_rows(session, found))
    # The order of the first COUNTED + 1 matches, kept while the data is unchanged: ordering a broad filter's
    # matches costs more than a page (counting them all cost more still: a filter is paged to COUNTED).
    order = cached(session, ("explorer", filters.model_dump_json()), lambda: list(session.execute(
        _ordered(_filtered(session, select(FindingRow.id, DocumentRow.id), filters), filters).limit(COUNTED + 1))))
    total = len(order)
    pages = max(ceil(min(total, COUNTED) / PAGE_SIZE), 1)
    page = min(max(page, 1), pages)
    wanted = {tuple(pair): n for n, pair in enumerate(order[(page - 1) * PAGE_SIZE:min(page * PAGE_SIZE, COUNTED)])}
    # The page's rows as they are now: a finding or document gone since the order was kept drops out.
    rows = session.execute(_filtered(session, select(*_COLUMNS), FindingFilters())
                           .where(FindingRow.id.in_({finding for finding, _ in wanted})))
    found = sorted((row for row in rows if (row.finding_id, row.document_id) in wanted),
                   key=lambda row: wanted[row.finding_id, row.document_id])
    return ExploredFindings(total=min(total, COUNTED), more=total > COUNTED, page=page, pages=pages,
                            rows=_rows(session, found))


def _filtered(session: Session, query: Select, filters: FindingFilters) -> Select:
    query = (query.select_from(FindingRow).join(Blob, Blob.sha256 == FindingRow.sha256)
             .join(DocumentRow, (DocumentRow.current_sha256 == FindingRow.sha256) & (DocumentRow.status == "active"))
             .join(Source, Source.id == DocumentRow.source_id))
    if filters.region:
        query = query.where(in_region(session, Source.region, filters.region))
    if filters.entity:
        query = query.where(Blob.entity.contains(filters.entity.strip(), autoescape=True))
    if filters.rate_below is not None:
        query = query.where(FindingRow.rate < filters.rate_below)
    for column, value in ((FindingRow.category, filters.category), (FindingRow.rule, filters.rule),
                          (FindingRow.severity, filters.severity), (Blob.year, filters.year),
                          (Blob.kind, filters.kind)):
        if value is not None:
            query = query.where(column == value)
    return query


def _ordered(query: Select, filters: FindingFilters) -> Select:
    key = _SORTS[filters.sort]
    return query.order_by((key.desc() if filters.order == "desc" else key.asc()).nulls_last(),
                          FindingRow.id.desc(), DocumentRow.id)


def _rows(session: Session, found: list) -> list[ExploredFinding]:
    others = _documents_of(session, {row.other_sha256 for row in found if row.other_sha256})
    rows = []
    for row in found:
        fields = dict(row._mapping)
        other_id, other_title = others.get(fields.pop("other_sha256"), (None, None))
        rows.append(ExploredFinding(**fields, other_document_id=other_id, other_document_title=other_title))
    return rows


def _documents_of(session: Session, hashes: set[str]) -> dict[str, tuple[int, str | None]]:
    """The document each content is a version of (the first one, should several share it)."""
    if not hashes:
        return {}
    query = (select(Version.sha256, DocumentRow.id, DocumentRow.title).join(DocumentRow, DocumentRow.id == Version.document_id)
             .where(Version.sha256.in_(hashes)).order_by(DocumentRow.id.desc()))
    return {sha256: (document_id, title) for sha256, document_id, title in session.execute(query)}


@api.get("/findings", dependencies=[Depends(reader)])
def findings_api(session: Store, filters: Filters, page: int = 1) -> ExploredFindings:
    """Every finding of the current version of each active document, filtered and sorted, 50 a page; each
    row links to its evidence (`evidence_url`) and, for a cross-document finding, to the other document."""
    return explore(session, filters, page)


@pages.get("/findings", dependencies=[Depends(reader)])
def findings_page(request: Request, session: Store, filters: Filters, page: int = 1):
    return render(request, "findings.html", {
        "table": explore(session, filters, page), "filters": filters,
        "params": filters.model_dump(exclude_defaults=True), "years": years(session),
        "regions": regions_above(session, Source.region)})


@pages.get("/export/findings.{extension}", dependencies=[Depends(reader)])
def findings_export(request: Request, session: Store, filters: Filters, extension: str):
    if extension not in _EXPORTS:
        raise HTTPException(404)
    media_type, convert = _EXPORTS[extension]
    content = convert(explore(session, filters, page=None).rows, findings_sheet(public_base(request)))
    name = quote(f"核查发现.{extension}")
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=findings.{extension}; filename*=UTF-8''{name}"})


def public_base(request: Request) -> str:
    """Where people reach the dashboard: `dashboard_url`, else the address this request came to."""
    return (settings_of(request).dashboard_url or str(request.base_url)).rstrip("/")
