"""Which entity, fiscal year and kind each crawled document is.

The year and kind come from the parsed document (its cover and headers), then from its title, never from the
publication date: a final account for 2023 is published in 2024. The entity is the registry name (or alias,
or the name without its region prefix) found in the parsed entity, the title or the file name; the longest
one wins, and two entities tied for it leave the document for a person to assign.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from fiscalwatch.compliance.names import PLACE_ENDINGS, normalize, region_parts, variants
from fiscalwatch.parsers.identify import identify
from fiscalwatch.parsers.model import Document
from fiscalwatch.store.models import DocumentRow, Source
from fiscalwatch.store.registry import DocumentMatch, Entity

# What may follow an entity name in a title: the year, the level, the kind, a bracket, punctuation.
_FOLLOWS = re.compile(r"$|\d|年|部门|单位|本级|汇总|预算|决算|关于|公开|[(\-_—:：.,，、]")


@dataclass(frozen=True)
class Identity:
    """What a document says it is."""

    year: int | None
    kind: str | None  # budget | final
    level: str | None  # 部门 | 单位
    scope: str | None  # 汇总 | 本级


def identify_document(document: DocumentRow) -> Identity:
    """The parsed document's own answer first, the title's second."""
    blob = document.current if document.current is not None and document.current.status == "ok" else None
    title = Document(page_texts=[normalize(document.title)])
    identify(title)
    scope = (blob and blob.scope) or title.scope or next(
        (word for word in ("汇总", "本级") if word in (document.title or "")), None)
    return Identity(year=(blob and blob.year) or title.year, kind=(blob and blob.kind) or title.kind,
                    level=(blob and blob.level) or title.level, scope=scope)


class Matcher:
    """The registry's names, indexed once per refresh."""

    def __init__(self, entities: list[Entity], sources: dict[str, Source]):
        self._entities = entities
        self._sources = sources
        self._index: dict[str, list[Entity]] = defaultdict(list)  # every way a name is written → entities
        for entity in entities:
            for name in variants(entity.name, entity.aliases or [], entity.region):
                self._index[name].append(entity)
        self._lengths = sorted({len(name) for name in self._index})
        self._full = {e.id: {normalize(n) for n in [e.name, *(e.aliases or [])]} for e in entities}
        self._places = {e.id: region_parts(e.region) for e in entities}
        self._by_source: dict[str, set[int]] = {}

    def match(self, document: DocumentRow, identity: Identity) -> tuple[Entity | None, str | None]:
        """The entity, or None and the reason in Chinese."""
        if identity.year is None or identity.kind is None:
            return None, "未能识别年度或类别（预算/决算）"
        candidates = self._candidates(document.source_id)
        blob = document.current
        texts = [blob.entity if blob else None, document.title,
                 PurePosixPath(blob.filename).stem if blob and blob.filename else None]
        reason = "未找到名称相符的单位"
        for text in filter(None, map(normalize, texts)):
            found = self._best(text, candidates, identity)
            if len(found) == 1:
                return found[0], None
            if found:
                reason = "名称对应多个单位：" + "、".join(sorted(e.name for e in found))
        return None, reason

    def _candidates(self, source_id: str) -> set[int]:
        """Entities that publish at this source: listed with it, or (listing none) within its region."""
        if source_id not in self._by_source:
            source = self._sources.get(source_id)
            region = region_parts(source.region if source else None)
            self._by_source[source_id] = {
                e.id for e in self._entities
                if source_id in (e.sources or []) or (not e.sources and self._places[e.id][:len(region)] == region)}
        return self._by_source[source_id]

    def _best(self, text: str, candidates: set[int], identity: Identity) -> list[Entity]:
        """The entities whose longest name found in the text is the longest found."""
        longest: dict[int, tuple[int, Entity]] = {}
        for start in range(len(text)):
            for length in self._lengths:
                if start + length > len(text):
                    break
                name = text[start:start + length]
                for entity in self._index.get(name, ()):
                    if (entity.id in candidates and length > longest.get(entity.id, (0,))[0]
                            and _level_fits(entity, identity) and self._fits(name, text, start, entity)):
                        longest[entity.id] = (length, entity)
        best = max((length for length, _ in longest.values()), default=0)
        return [entity for length, entity in longest.values() if length == best]

    def _fits(self, name: str, text: str, start: int, entity: Entity) -> bool:
        before, after = text[:start], text[start + len(name):]
        # After a place name only a full name fits, and only after one of the entity's own places: a
        # shortened name (its place dropped) after another place is another place's entity.
        foreign_place = before[-1:] != "" and before[-1] in PLACE_ENDINGS and (
            name not in self._full[entity.id] or not any(before.endswith(p) for p in self._places[entity.id]))
        return bool(_FOLLOWS.match(after)) and not foreign_place


def _level_fits(entity: Entity, identity: Identity) -> bool:
    # A unit's document never satisfies its department, except the department's own 本级 accounts.
    return not (identity.level == "单位" and entity.level == "部门" and identity.scope != "本级")


def match_documents(session: Session) -> tuple[int, int]:
    """Match every document not assigned by a person; returns how many documents have an entity and how many
    have none."""
    matcher = Matcher(list(session.scalars(select(Entity))), {s.id: s for s in session.scalars(select(Source))})
    rows = {row.document_id: row for row in session.scalars(select(DocumentMatch))}
    counts = [0, 0]
    for document in session.scalars(select(DocumentRow).options(selectinload(DocumentRow.current))).all():
        row = rows.get(document.id)
        if row is not None and row.method == "manual":
            counts[0] += 1
            continue
        identity = identify_document(document)
        entity, reason = matcher.match(document, identity)
        _record(session, row, document, entity, identity, "auto", reason)
        counts[entity is None] += 1
    return counts[0], counts[1]


def assign_document(session: Session, document_id: int, entity_id: int, year: int, kind: str | None = None) -> None:
    """A person's assignment; automatic matching leaves it alone from then on."""
    document = session.get(DocumentRow, document_id)
    entity = session.get(Entity, entity_id)
    if document is None or entity is None:
        raise LookupError(f"文件{document_id}不存在" if document is None else f"单位{entity_id}不存在")
    identity = identify_document(document)
    kind = kind or identity.kind
    if kind not in ("budget", "final"):
        raise ValueError("无法识别文件类别，请指定预算（budget）或决算（final）")
    _record(session, session.get(DocumentMatch, document_id), document, entity,
            Identity(year, kind, identity.level, identity.scope), "manual", None)


def find_entity(session: Session, reference: str) -> Entity:
    """An entity by id, name or alias (as a person types it on the command line)."""
    entity = session.get(Entity, int(reference)) if reference.isdigit() else session.scalar(
        select(Entity).where(Entity.name == reference.strip()))
    if entity is None:
        wanted = normalize(reference)
        entity = next((e for e in session.scalars(select(Entity))
                       if wanted in {normalize(a) for a in e.aliases or []}), None)
    if entity is None:
        raise LookupError(f"名录中没有单位“{reference}”")
    return entity


def _record(session: Session, row: DocumentMatch | None, document: DocumentRow, entity: Entity | None,
            identity: Identity, method: str, reason: str | None) -> None:
    values = dict(entity_id=entity.id if entity else None, year=identity.year, kind=identity.kind,
                  scope=identity.scope, method=method, reason=reason)
    document.entity_id = values["entity_id"]
    if row is None:
        row = DocumentMatch(document_id=document.id)
        session.add(row)
    elif all(getattr(row, key) == value for key, value in values.items()):
        return
    for key, value in values.items():
        setattr(row, key, value)
    row.matched_at = datetime.now(timezone.utc)
