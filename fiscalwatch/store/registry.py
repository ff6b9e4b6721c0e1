"""Compliance registry: the entities that must publish, what each must publish per fiscal year, and which
entity and year every crawled document belongs to. Same declarative base as store.models, same migrations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fiscalwatch.store.models import Base, DocumentRow


class Entity(Base):
    """A department (部门) or unit (单位) obliged to publish its budget and final account."""

    __tablename__ = "entities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    aliases: Mapped[list] = mapped_column(JSON, default=list)
    level: Mapped[str] = mapped_column(String(10), default="部门")  # 部门 | 单位
    region: Mapped[str | None] = mapped_column(String(200), index=True)  # "河南省/濮阳市"
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"))
    sources: Mapped[list] = mapped_column(JSON, default=list)  # ids of the sources where it publishes

    parent: Mapped[Entity | None] = relationship(remote_side=[id])


class Expectation(Base):
    """One publication an entity owes (entity × fiscal year × kind) and, after each refresh, how it stands."""

    __tablename__ = "expectations"
    __table_args__ = (UniqueConstraint("entity_id", "year", "kind"), Index("ix_expectations_year_kind", "year", "kind"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entities.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)  # fiscal year
    kind: Mapped[str] = mapped_column(String(20))  # budget | final
    approval_date: Mapped[date | None] = mapped_column(Date)  # 批复日期 when known; else the region's default

    # Computed by compliance.refresh_compliance.
    deadline: Mapped[date | None] = mapped_column(Date)
    timeliness: Mapped[str] = mapped_column(String(20), default="not_due", index=True)
    quality: Mapped[str | None] = mapped_column(String(20), index=True)
    published: Mapped[date | None] = mapped_column(Date)
    days_late: Mapped[int | None] = mapped_column(Integer)
    missing_tables: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    evaluated_at: Mapped[datetime | None] = mapped_column(index=True)

    entity: Mapped[Entity] = relationship()
    document: Mapped[DocumentRow | None] = relationship()


class DocumentMatch(Base):
    """Which entity, fiscal year and kind a document is, found automatically or assigned by a person.
    A row without an entity is an unmatched document, with the reason."""

    __tablename__ = "document_matches"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entities.id"), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(20))
    scope: Mapped[str | None] = mapped_column(String(20))  # 汇总 | 本级
    method: Mapped[str] = mapped_column(String(10), default="auto")  # auto | manual
    reason: Mapped[str | None] = mapped_column(Text)  # why it is unmatched (Chinese, shown to people)
    matched_at: Mapped[datetime] = mapped_column(index=True)

    document: Mapped[DocumentRow] = relationship()
    entity: Mapped[Entity | None] = relationship()
