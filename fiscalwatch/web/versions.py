"""Two versions of one document side by side, as changedetection.io shows a page's changes: tables added
or removed, figures changed (old | new, with pages), sentences removed on the left and added on the right
with the changed characters marked. The page and its JSON twin read the same comparison as the alert."""

from __future__ import annotations

import difflib
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy.orm import Session

from fiscalwatch.store.models import DocumentRow, Version
from fiscalwatch.validators.version_diff import SentenceHunk
from fiscalwatch.web.auth import reader
from fiscalwatch.web.deps import db
from fiscalwatch.web.render import render
from fiscalwatch.workers.documents import compare_versions

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["API"])
Store = Annotated[Session, Depends(db)]
PATH = "/documents/{document_id}/versions/{old}..{new}"


@router.get(PATH, dependencies=[Depends(reader)])
def version_diff(request: Request, session: Store, document_id: int, old: str, new: str):
    document, before, after = _versions(session, document_id, old, new)
    changes, not_compared = compare_versions(session, old, new)
    return render(request, "version_diff.html", {
        "document": document, "old": before, "new": after, "changes": changes, "not_compared": not_compared,
        "hunks": [_marked(hunk) for hunk in changes.sentences] if changes else []})


@api_router.get(PATH, dependencies=[Depends(reader)])
def version_diff_json(session: Store, document_id: int, old: str, new: str) -> dict:
    """What changed between two versions of a document: tables added and removed, figures changed (table,
    item, column, old and new as printed, page in each), sentence hunks (removed, added); or, when either
    version could not be parsed, `not_compared` says why."""
    _versions(session, document_id, old, new)
    changes, not_compared = compare_versions(session, old, new)
    return {"document_id": document_id, "old_sha256": old, "new_sha256": new,
            "changes": asdict(changes) if changes else None, "not_compared": not_compared}


def _versions(session: Session, document_id: int, old: str, new: str) -> tuple[DocumentRow, Version, Version]:
    document = session.get(DocumentRow, document_id)
    versions = {v.sha256: v for v in document.versions} if document else {}
    if old not in versions or new not in versions or old == new:
        raise HTTPException(404, "该文件没有这两个版本")
    return document, versions[old], versions[new]


def _marked(hunk: SentenceHunk) -> dict:
    """A hunk's two sides as (text, changed) segments: what differs within the sentences is marked."""
    before, after = "".join(s.text for s in hunk.removed), "".join(s.text for s in hunk.added)
    left, right = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        left += [(before[i1:i2], tag != "equal")] if i2 > i1 else []
        right += [(after[j1:j2], tag != "equal")] if j2 > j1 else []
    return {"left": left, "right": right, "old_pages": _pages(hunk.removed), "new_pages": _pages(hunk.added)}


def _pages(sentences) -> str:
    pages = sorted({s.page for s in sentences})
    return "、".join(f"第{p}页" for p in pages)

