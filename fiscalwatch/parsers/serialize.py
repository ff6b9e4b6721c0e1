"""A parsed Document as plain JSON and back, so what one parse read can be compared with documents that
arrive later (store.models.BlobContent). Page texts are left out: comparisons read tables and sentences."""

from __future__ import annotations

from decimal import Decimal

from fiscalwatch.parsers.model import Column, Document, Evaluation, Figure, Row, Sentence, Table, TocEntry

VERSION = 1


def to_dict(doc: Document) -> dict:
    return {
        "version": VERSION,
        "kind": doc.kind, "level": doc.level, "scope": doc.scope, "entity": doc.entity, "year": doc.year,
        "format": doc.format, "page_count": doc.page_count,
        "toc": [[e.text, e.kind, e.page] for e in doc.toc],
        "tables": [_table(t) for t in doc.tables],
        "sentences": [[s.text, s.page, s.section] for s in doc.sentences],
        "evaluations": [[e.project, e.page, *(_text(v) for v in (e.year_start_budget, e.full_year_budget, e.executed,
                                                                  e.stated_rate, e.score)), e.quote]
                        for e in doc.evaluations],
        "unreadable_pages": {str(k): v for k, v in doc.unreadable_pages.items()},
        "ocr_pages": {str(k): v for k, v in doc.ocr_pages.items()},
        "cover": doc.cover,
    }


def readable(data: dict) -> bool:
    """Whether ``data`` was kept in this module's current form (an older one waits for the file's next parse)."""
    return data.get("version") == VERSION


def from_dict(data: dict) -> Document:
    return Document(
        kind=data["kind"], level=data["level"], scope=data["scope"], entity=data["entity"], year=data["year"],
        format=data["format"], page_count=data["page_count"],
        toc=[TocEntry(text, kind, page) for text, kind, page in data["toc"]],
        tables=[_from_table(t) for t in data["tables"]],
        sentences=[Sentence(text, page, section) for text, page, section in data["sentences"]],
        evaluations=[Evaluation(project, page, *(_decimal(v) for v in values), quote)
                     for project, page, *values, quote in data["evaluations"]],
        unreadable_pages={int(k): v for k, v in data["unreadable_pages"].items()},
        ocr_pages={int(k): v for k, v in data["ocr_pages"].items()},
        cover=data["cover"],
    )


def _table(table: Table) -> dict:
    return {
        "kind": table.kind, "title": table.title, "page": table.page, "pages": table.pages, "unit": table.unit,
        "unit_stated": table.unit_stated, "from_ocr": table.from_ocr, "problems": table.problems,
        "source": table.source, "notes": table.notes, "meta": table.meta,
        "columns": [[c.role, c.label, c.key, c.side] for c in table.columns],
        "rows": [{"name": r.name, "code": r.code, "page": r.page, "side": r.side, "label": r.label,
                  "printed": list(r.printed), "values": _figures(r.values), "cells": _figures(r.cells)}
                 for r in table.rows],
    }


def _from_table(data: dict) -> Table:
    return Table(
        kind=data["kind"], title=data["title"], page=data["page"], pages=data["pages"], unit=data["unit"],
        unit_stated=data["unit_stated"], from_ocr=data["from_ocr"], problems=data["problems"],
        source=data["source"], notes=data["notes"], meta=data["meta"],
        columns=[Column(role, label, key, side) for role, label, key, side in data["columns"]],
        rows=[Row(name=r["name"], code=r["code"], page=r["page"], side=r["side"], label=r["label"],
                  printed=tuple(r["printed"]), values=_from_figures(r["values"]), cells=_from_figures(r["cells"]))
              for r in data["rows"]],
    )


def _figures(figures: dict[str, Figure]) -> dict[str, list[str]]:
    return {key: [str(f.value), f.text] for key, f in figures.items()}


def _from_figures(data: dict[str, list[str]]) -> dict[str, Figure]:
    return {key: Figure(Decimal(value), text) for key, (value, text) in data.items()}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
