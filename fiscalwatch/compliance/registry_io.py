"""Import the registry of entities and expected publications from CSV, XLSX or YAML.

CSV and XLSX have one row per entity, or per entity × year × kind when a year (and its approval date) is given;
rows of the same entity merge. Headers may be English or Chinese:

    name/名称, aliases/别名, level/级次, region/地区, parent/上级部门, sources/数据源,
    year/年度, kind/类型, approval_date/批复日期

YAML: ``entities: [{name, aliases: [...], level, region, parent, sources: [...],
approvals: [{year, kind, date}]}]``. Lists in cells are separated by ；、,| and dates written 2024-02-20,
2024/2/20 or 2024年2月20日. Entities are updated by name and never deleted.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import yaml
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from fiscalwatch.store.registry import Entity, Expectation

HEADERS = {
    "name": ("name", "名称", "单位名称", "部门名称"),
    "aliases": ("aliases", "别名"),
    "level": ("level", "级次", "层级"),
    "region": ("region", "地区", "区划"),
    "parent": ("parent", "上级部门", "主管部门"),
    "sources": ("sources", "数据源"),
    "year": ("year", "年度"),
    "kind": ("kind", "类型", "类别"),
    "approval_date": ("approval_date", "批复日期"),
}
_KINDS = {"budget": "budget", "预算": "budget", "final": "final", "决算": "final"}
_LEVELS = {"部门": "部门", "department": "部门", "单位": "单位", "unit": "单位"}
_LIST = re.compile(r"[;；,，、|]")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class RegistryError(ValueError):
    """A registry file that cannot be imported; the message (Chinese) lists every problem."""


@dataclass
class Approval:
    year: int
    kind: str
    date: date | None


@dataclass
class EntityRecord:
    name: str
    aliases: list[str] = field(default_factory=list)
    level: str = "部门"
    region: str | None = None
    parent: str | None = None
    sources: list[str] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    expectations: int  # expectations created or given an approval date


def import_registry(session: Session, path: Path) -> ImportResult:
    return apply_registry(session, read_registry(path.read_bytes(), path.suffix))


def read_registry(content: bytes, suffix: str) -> list[EntityRecord]:
    suffix = suffix.lower().lstrip(".")
    if suffix in ("yaml", "yml"):
        return _from_yaml(content)
    if suffix == "xlsx":
        return _from_rows(_xlsx_rows(content))
    if suffix == "csv":
        return _from_rows(_csv_rows(content))
    raise RegistryError(f"不支持的文件类型“.{suffix}”，请使用 CSV、XLSX 或 YAML")


def apply_registry(session: Session, records: list[EntityRecord]) -> ImportResult:
    entities = {e.name: e for e in session.scalars(select(Entity))}
    missing = sorted({r.parent for r in records if r.parent and r.parent not in entities}
                     - {r.name for r in records})
    if missing:
        raise RegistryError("上级部门不在名录中：" + "、".join(missing))
    new = [r.name for r in records if r.name not in entities]
    for name in new:
        entities[name] = Entity(name=name)
        session.add(entities[name])
    session.flush()
    changed = set()
    for record in records:
        entity = entities[record.name]
        values = dict(aliases=record.aliases, level=record.level, region=record.region, sources=record.sources,
                      parent_id=entities[record.parent].id if record.parent else None)
        for key, value in values.items():
            if getattr(entity, key) != value:
                setattr(entity, key, value)
                changed.add(record.name)
    return ImportResult(len(new), len(changed - set(new)), _apply_approvals(session, records, entities))


def _apply_approvals(session: Session, records: list[EntityRecord], entities: dict[str, Entity]) -> int:
    changed = 0
    rows = {(e.entity_id, e.year, e.kind): e for e in session.scalars(select(Expectation))}
    for record in records:
        entity = entities[record.name]
        for approval in record.approvals:
            key = (entity.id, approval.year, approval.kind)
            row = rows.get(key)
            if row is None:
                row = rows[key] = Expectation(entity_id=entity.id, year=approval.year, kind=approval.kind)
                session.add(row)
            elif approval.date is None or row.approval_date == approval.date:
                continue
            row.approval_date = approval.date
            changed += 1
    session.flush()
    return changed


# --- reading ----------------------------------------------------------------------------------------

def _from_yaml(content: bytes) -> list[EntityRecord]:
    try:
        data = yaml.safe_load(content) or {}
    except yaml.YAMLError as error:
        raise RegistryError(f"YAML 格式错误：{error}") from None
    items = data.get("entities") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise RegistryError("YAML 名录应包含 entities 列表")
    rows = []
    for item in items:
        approvals = item.get("approvals") or [{}]
        rows += [{**item, "year": a.get("year"), "kind": a.get("kind"), "approval_date": a.get("date")}
                 for a in approvals]
    return _from_rows(rows)


def _csv_rows(content: bytes) -> list[dict]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RegistryError("CSV 编码无法识别，请保存为 UTF-8")
    return list(csv.DictReader(io.StringIO(text)))


def _xlsx_rows(content: bytes) -> list[dict]:
    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as error:  # openpyxl raises many types for a damaged or disguised file
        raise RegistryError(f"无法读取 XLSX 文件：{error}") from None
    rows = sheet.iter_rows(values_only=True)
    header = [str(cell).strip() if cell is not None else "" for cell in next(rows, [])]
    return [dict(zip(header, row)) for row in rows if any(cell not in (None, "") for cell in row)]


def _from_rows(rows: list[dict]) -> list[EntityRecord]:
    records: dict[str, EntityRecord] = {}
    problems = []
    for number, raw in enumerate(rows, 2):
        row = _canonical(raw)
        try:
            _merge(records, row)
        except ValueError as error:
            problems.append(f"第{number}行：{error}")
    if problems:
        raise RegistryError("；".join(problems[:20]) + ("……" if len(problems) > 20 else ""))
    return list(records.values())


def _canonical(raw: dict) -> dict:
    names = {alias: key for key, aliases in HEADERS.items() for alias in aliases}
    return {names[str(k).strip().lower()]: v for k, v in raw.items()
            if k is not None and str(k).strip().lower() in names and v not in (None, "")}


def _merge(records: dict[str, EntityRecord], row: dict) -> None:
    name = _text(row.get("name"))
    if not name:
        raise ValueError("缺少名称")
    record = records.setdefault(name, EntityRecord(name=name))
    if "aliases" in row:
        record.aliases = _list(row["aliases"])
    if "level" in row:
        level = _LEVELS.get(_text(row["level"]).lower())
        if level is None:
            raise ValueError(f"级次应为“部门”或“单位”，而不是“{row['level']}”")
        record.level = level
    if "region" in row:
        record.region = "/".join(part.strip() for part in _text(row["region"]).split("/") if part.strip()) or None
    if "parent" in row:
        record.parent = _text(row["parent"]) or None
    if "sources" in row:
        record.sources = _list(row["sources"])
    if "year" in row:
        record.approvals += [Approval(_year(row["year"]), kind, _date(row.get("approval_date")))
                             for kind in _kinds(row.get("kind"))]
    elif "approval_date" in row:
        raise ValueError("有批复日期但缺少年度")


def _text(value) -> str:
    return str(value).strip() if value is not None else ""


def _list(value) -> list[str]:
    items = value if isinstance(value, list) else _LIST.split(_text(value))
    return [_text(item) for item in items if _text(item)]


def _year(value) -> int:
    try:
        year = int(float(_text(value)))
    except ValueError:
        raise ValueError(f"年度无法识别：“{value}”") from None
    if not 2000 <= year <= 2100:
        raise ValueError(f"年度超出范围：{year}")
    return year


def _kinds(value) -> list[str]:
    if value in (None, ""):
        return ["budget", "final"]
    kind = _KINDS.get(_text(value).lower())
    if kind is None:
        raise ValueError(f"类型应为“预算”或“决算”，而不是“{value}”")
    return [kind]


def _date(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(_text(value))
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:  # no such day
            pass
    raise ValueError(f"批复日期无法识别：“{value}”")
