"""Row identities read from a table's own header: a total column equals the columns one level below
it in the header tree, whatever groups the template prints (财政拨款 split into 一般公共预算/政府性基金/
国有资本经营, 基本支出 split into 人员经费/公用经费, 上年结转 columns, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fiscalwatch.parsers.model import Column, Table

_TOTAL = re.compile(r"^(本年)?(收入|支出)?(合计|总计|小计)$")
# Columns that are not parts of a sum: comparisons with last year, shares, "of which" subsets.
_NOT_ADDITIVE = re.compile(r"上年(?!结转|结余)|比上年|增减|增长|变动|%|％|百分比|其中|占比")


@dataclass(frozen=True)
class Identity:
    total: str  # column key
    parts: tuple[str, ...]


def identities(table: Table, side: int) -> list[Identity]:
    # Columns read without a meaning keep no figures; a level holding one cannot be summed.
    columns = [c for c in table.columns if c.role == "amount" and c.side == side]
    keys = [c.key for c in columns if c.key]
    if len(set(keys)) != len(keys):
        return []  # two columns read under one meaning: the row cannot tell them apart
    items = [(c, _path(c)) for c in columns]
    if any(_NOT_ADDITIVE.search(label) for _, path in items for label in path):
        items = [(c, p) for c, p in items if not any(_NOT_ADDITIVE.search(label) for label in p)]
    found: list[Identity] = []
    _level(items, 0, found)
    return found


def _path(column: Column) -> list[str]:
    return [re.sub(r"\s+", "", part) for part in column.label.split("/") if re.sub(r"\s+", "", part)]


def _level(items: list[tuple[Column, list[str]]], depth: int, found: list[Identity]) -> list[str] | None:
    """The keys whose sum is this level's value (one total column, or its parts); records identities."""
    groups: dict[str, list[tuple[Column, list[str]]]] = {}
    for column, path in items:
        if len(path) > depth:
            groups.setdefault(path[depth], []).append((column, path))
    values: list[tuple[str, list[str] | None]] = []
    for label, members in groups.items():
        leaf = [c for c, p in members if len(p) == depth + 1]
        if leaf and len(members) == 1:
            values.append((label, [leaf[0].key] if leaf[0].key else None))
        elif not leaf:
            values.append((label, _level(members, depth + 1, found)))
        else:
            values.append((label, None))  # a header that is both a column and a group: not read as a tree
    totals = [(label, keys) for label, keys in values if _TOTAL.match(label) and keys and len(keys) == 1]
    if len(totals) != 1:
        parts = [k for _, keys in values if keys for k in keys]
        return parts if all(keys for _, keys in values) and parts else None
    total = totals[0][1][0]
    parts = [keys for label, keys in values if not _TOTAL.match(label)]
    if parts and all(parts) and len([k for keys in parts for k in keys]) >= 2:
        found.append(Identity(total, tuple(k for keys in parts for k in keys)))
    return [total]
