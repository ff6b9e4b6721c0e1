"""What changed between two parsed versions of one document: tables added or removed, figures changed,
narrative sentences added or removed. Pure: two parsers.model Documents in, a VersionDiff out.

Tables are identified by catalog kind and title, rows by code (else name), side and how often that
identity occurred before in the table, figures by their column (its key, else its header label). Values
are compared in 万元, so a table reprinted in another unit is no change. Sentences are compared by their
text without whitespace, and a run of sentences that only reads differently split (a page break moved)
is no change either.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from fiscalwatch.parsers.model import Document, Figure, Row, Sentence, Table

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class TableRef:
    kind: str
    title: str
    page: int


@dataclass(frozen=True)
class FigureChange:
    """One figure of a table both versions have; ``old`` or ``new`` is None where its row or column is
    in one version only. Figures as printed."""

    table: str
    item: str  # "30102 津贴补贴"
    column: str  # header label, levels joined with "/"
    old: str | None
    new: str | None
    old_page: int | None
    new_page: int | None


@dataclass(frozen=True)
class SentenceHunk:
    """Consecutive sentences of the old version replaced by consecutive sentences of the new one
    (either side may be empty)."""

    removed: list[Sentence]
    added: list[Sentence]


@dataclass(frozen=True)
class VersionDiff:
    tables_added: list[TableRef] = field(default_factory=list)
    tables_removed: list[TableRef] = field(default_factory=list)
    figures: list[FigureChange] = field(default_factory=list)
    sentences: list[SentenceHunk] = field(default_factory=list)

    @property
    def sentences_added(self) -> list[Sentence]:
        return [s for hunk in self.sentences for s in hunk.added]

    @property
    def sentences_removed(self) -> list[Sentence]:
        return [s for hunk in self.sentences for s in hunk.removed]

    @property
    def empty(self) -> bool:
        return not (self.tables_added or self.tables_removed or self.figures or self.sentences)


def compare(old: Document, new: Document) -> VersionDiff:
    old_tables, new_tables = _keyed(old.tables, _table_key), _keyed(new.tables, _table_key)
    return VersionDiff(
        tables_added=[_ref(t) for key, t in new_tables.items() if key not in old_tables],
        tables_removed=[_ref(t) for key, t in old_tables.items() if key not in new_tables],
        figures=[change for key, table in old_tables.items() if key in new_tables
                 for change in _figure_changes(table, new_tables[key])],
        sentences=_sentence_hunks(old.sentences, new.sentences),
    )


def _keyed(items, identity) -> dict:
    """Items by their identity plus its occurrence number, so repeated identities pair up in order."""
    seen: Counter = Counter()
    keyed = {}
    for item in items:
        key = identity(item)
        keyed[(*key, seen[key])] = item
        seen[key] += 1
    return keyed


def _table_key(table: Table) -> tuple:
    return table.kind, _SPACE.sub("", table.title)


def _ref(table: Table) -> TableRef:
    return TableRef(table.kind, table.title, table.page)


def _figure_changes(old: Table, new: Table) -> list[FigureChange]:
    old_rows, new_rows = _keyed(old.rows, _row_key), _keyed(new.rows, _row_key)
    changes = []
    for key in dict.fromkeys([*old_rows, *new_rows]):
        old_row, new_row = old_rows.get(key), new_rows.get(key)
        old_figures, new_figures = _figures(old, old_row), _figures(new, new_row)
        for column in dict.fromkeys([*old_figures, *new_figures]):
            before, after = old_figures.get(column), new_figures.get(column)
            if _amount(old, before) == _amount(new, after):
                continue
            changes.append(FigureChange(
                table=new.title, item=(new_row or old_row).where, column=_label(old if after is None else new, column),
                old=before.text if before else None, new=after.text if after else None,
                old_page=old_row.page if before else None, new_page=new_row.page if after else None))
    return changes


def _row_key(row: Row) -> tuple:
    return row.code or row.name, row.side


def _figures(table: Table, row: Row | None) -> dict[tuple, Figure]:
    """A row's figures by column: its key and side where the column has a meaning, else its header label."""
    if row is None:
        return {}
    keyed = {c.label for c in table.columns if c.key and c.side == row.side}
    return {**{(key, row.side): f for key, f in row.values.items()},
            **{(label,): f for label, f in row.cells.items() if label not in keyed}}


def _amount(table: Table, figure: Figure | None) -> Decimal | None:
    return None if figure is None else figure.value * table.factor


def _label(table: Table, column: tuple) -> str:
    if len(column) == 1:
        return column[0]
    key, side = column
    return next((c.label for c in table.columns if c.key == key and c.side == side), key)


def _sentence_hunks(old: list[Sentence], new: list[Sentence]) -> list[SentenceHunk]:
    before, after = [_SPACE.sub("", s.text) for s in old], [_SPACE.sub("", s.text) for s in new]
    hunks = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag != "equal" and "".join(before[i1:i2]) != "".join(after[j1:j2]):
            hunks.append(SentenceHunk(old[i1:i2], new[j1:j2]))
    return hunks
