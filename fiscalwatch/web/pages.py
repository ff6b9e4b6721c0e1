"""The dashboard's pages; each shows what the API route of the same name returns."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from fiscalwatch.compliance import RegistryError
from fiscalwatch.store.archive import relative_path
from fiscalwatch.store.models import Blob
from fiscalwatch.web import actions, queries
from fiscalwatch.web.auth import COOKIE, admin, reader, session_cookie, token_matches
from fiscalwatch.web.deps import db, settings_of, today_of
from fiscalwatch.web.export import to_csv, to_xlsx
from fiscalwatch.web.render import render
from fiscalwatch.web.schemas import Assignment, ImportOut

router = APIRouter(include_in_schema=False)
Store = Annotated[Session, Depends(db)]
TableFilters = Annotated[queries.Filters, Query()]
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_EXPORTS = {"csv": ("text/csv; charset=utf-8", to_csv),
            "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx)}


@router.get("/", dependencies=[Depends(reader)])
def overview(request: Request, session: Store, filters: TableFilters):
    return render(request, "overview.html", {
        "overview": queries.overview(session, filters.year, filters.kind), "filters": filters})


@router.get("/compliance", dependencies=[Depends(reader)])
def compliance(request: Request, session: Store, filters: TableFilters, page: int = 1):
    return render(request, "compliance.html", {
        "table": queries.compliance(session, filters, page), "filters": filters,
        "params": filters.model_dump(exclude_defaults=True), "years": queries.years(session),
        "regions": queries.regions(session)})


@router.get("/export/compliance.{extension}", dependencies=[Depends(reader)])
def export(session: Store, filters: TableFilters, extension: str):
    if extension not in _EXPORTS:
        raise HTTPException(404)
    media_type, convert = _EXPORTS[extension]
    content = convert(queries.compliance(session, filters, page=None).rows)
    name = quote(f"预决算公开情况.{extension}")
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f"attachment; filename=compliance.{extension}; filename*=UTF-8''{name}"})


@router.get("/documents/{document_id}", dependencies=[Depends(reader)])
def document(request: Request, session: Store, document_id: int):
    found = queries.document(session, document_id)
    if found is None:
        raise HTTPException(404)
    return render(request, "document.html", {"document": found})


@router.get("/archive/{sha256}", dependencies=[Depends(reader)])
def archived(request: Request, session: Store, sha256: str):
    """Our copy of a file. Only PDFs open in the browser; anything else (HTML pages included) downloads,
    sandboxed, so content from a crawled site never runs on the dashboard's origin."""
    blob = session.get(Blob, sha256) if _SHA256.match(sha256) else None
    path = settings_of(request).storage_dir / relative_path(sha256) if blob else None
    if path is None or not path.is_file():
        raise HTTPException(404, "存档文件不存在")
    inline = blob.format == "pdf"
    return FileResponse(path, media_type="application/pdf" if inline else "application/octet-stream",
                        filename=blob.filename or sha256, content_disposition_type="inline" if inline else "attachment",
                        headers={"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"})


@router.get("/sources", dependencies=[Depends(reader)])
def sources(request: Request, session: Store):
    return render(request, "sources.html", {"sources": queries.sources(session)})


@router.get("/unmatched", dependencies=[Depends(reader)])
def unmatched(request: Request, session: Store, assigned: int | None = None):
    return _unmatched(request, session, assigned=assigned)


def _unmatched(request: Request, session: Session, assigned: int | None = None, error: str | None = None):
    return render(request, "unmatched.html", {
        "documents": queries.unmatched(session), "entities": queries.entities(session), "assigned": assigned,
        "error": error}, status_code=400 if error else 200)


@router.post("/unmatched/{document_id}", dependencies=[Depends(admin)])
def assign(request: Request, session: Store, document_id: int, entity_id: Annotated[int, Form()],
           year: Annotated[int, Form(ge=2000, le=2100)], kind: Annotated[str, Form()] = ""):
    try:
        actions.assign(settings_of(request), today_of(request), document_id,
                       Assignment(entity_id=entity_id, year=year, kind=kind or None))
    except (LookupError, ValueError) as error:
        return _unmatched(request, session, error=str(error))
    return RedirectResponse(f"/unmatched?assigned={document_id}", status_code=303)


@router.get("/registry", dependencies=[Depends(reader)])
def registry(request: Request, session: Store):
    return _registry(request, session)


def _registry(request: Request, session: Session, result: ImportOut | None = None, error: str | None = None):
    return render(request, "registry.html", {"entities": queries.entities(session), "result": result,
                                             "error": error}, status_code=400 if error else 200)


@router.post("/registry", dependencies=[Depends(admin)])
def import_registry(request: Request, session: Store, file: UploadFile):
    try:
        result = actions.import_registry_file(settings_of(request), today_of(request), actions.read_upload(file),
                                              file.filename or "")
    except RegistryError as error:
        return _registry(request, session, error=str(error))
    return _registry(request, session, result=result)


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", {"next": _local(next), "error": None})


@router.post("/login")
def login(request: Request, password: Annotated[str, Form()], next: Annotated[str, Form()] = "/"):
    settings = settings_of(request)
    if not token_matches(request, password):
        return render(request, "login.html", {"next": _local(next), "error": "令牌不正确" if settings.web_token
                                              else "未配置管理令牌（web_token），无法登录"}, status_code=401)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(COOKIE, session_cookie(settings.web_token), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=7 * 24 * 3600)
    return response


@router.post("/logout")
def logout():
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def _local(target: str) -> str:
    """Only a path on this site (no open redirect to another host)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"
