"""JSON API: everything the pages show, and the changes (admin token required)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, UploadFile
from sqlalchemy.orm import Session

from fiscalwatch.compliance import RegistryError
from fiscalwatch.web import actions, queries
from fiscalwatch.web.auth import admin, reader
from fiscalwatch.web.deps import db, settings_of, today_of
from fiscalwatch.web.schemas import (Assignment, ComplianceTable, DocumentOut, EntityOut, ImportOut, Overview,
                                     RefreshOut, SourceHealth, UnmatchedDocument)

router = APIRouter(prefix="/api", tags=["API"])
Store = Annotated[Session, Depends(db)]
Kind = Literal["budget", "final"]


@router.get("/overview", dependencies=[Depends(reader)])
def overview(session: Store, year: int | None = None, kind: Kind | None = None) -> Overview:
    """Counts of expected publications by timeliness and quality, in total and per region."""
    return queries.overview(session, year, kind)


@router.get("/compliance", dependencies=[Depends(reader)])
def compliance(session: Store, filters: Annotated[queries.Filters, Query()], page: int = 1) -> ComplianceTable:
    """The compliance table: one row per entity × fiscal year × kind, filtered, sorted, 200 rows a page."""
    return queries.compliance(session, filters, page)


@router.get("/documents/{document_id}", dependencies=[Depends(reader)])
def document(session: Store, document_id: int) -> DocumentOut:
    """A document with its versions, its match and the findings of its current version (with evidence)."""
    found = queries.document(session, document_id)
    if found is None:
        raise HTTPException(404, "文件不存在")
    return found


@router.get("/sources", dependencies=[Depends(reader)])
def sources(session: Store) -> list[SourceHealth]:
    """Crawl health of every source: last crawl, errors, documents found."""
    return queries.sources(session)


@router.get("/unmatched", dependencies=[Depends(reader)])
def unmatched(session: Store) -> list[UnmatchedDocument]:
    """Documents no entity was found for, with the reason, to be assigned by a person."""
    return queries.unmatched(session)


@router.get("/entities", dependencies=[Depends(reader)])
def entities(session: Store) -> list[EntityOut]:
    """The registry."""
    return queries.entities(session)


@router.post("/documents/{document_id}/assignment", dependencies=[Depends(admin)])
def assign(request: Request, document_id: int, assignment: Assignment) -> RefreshOut:
    """Assign a document to an entity and fiscal year (automatic matching leaves it alone afterwards)."""
    try:
        return actions.assign(settings_of(request), today_of(request), document_id, assignment)
    except LookupError as error:
        raise HTTPException(404, str(error)) from None
    except ValueError as error:
        raise HTTPException(400, str(error)) from None


@router.post("/registry", dependencies=[Depends(admin)])
def import_registry(request: Request, file: UploadFile) -> ImportOut:
    """Import a registry file (CSV, XLSX or YAML): entities are created or updated by name, never deleted."""
    try:
        return actions.import_registry_file(settings_of(request), today_of(request), actions.read_upload(file),
                                            file.filename or "")
    except RegistryError as error:
        raise HTTPException(400, str(error)) from None


@router.post("/refresh", dependencies=[Depends(admin)])
def refresh(request: Request) -> RefreshOut:
    """Recompute every standing now (the scheduler also does this periodically)."""
    return actions.refresh(settings_of(request), today_of(request))
