"""Which document this is: kind, level, entity and fiscal year, from the cover and headers."""

from __future__ import annotations

import re
from collections import Counter

from fiscalwatch.parsers.model import Document

_TITLE = re.compile(
    r"(?P<before>.*?)(?P<year>20\d{2})\s*(?:年度?)?\s*(?P<mid>[^\d\s]{0,30}?)"
    r"(?P<level>部门|单位)?\s*(?P<scope>汇总|本级)?\s*(?P<kind>决算|预算)"
)
_ORG = re.compile(
    r"(局|中心|委员会|委|办公室|办事处|部|院|所|站|处|厅|会|队|馆|校|政府|街道|镇|乡|社|室|团|公司|集团|医院|大学|署)$"
)
_COVER_ENTITY = re.compile(r"(?:预算主管部门|主管部门|部门名称|单位名称|预算单位|编制单位|编制部门)\s*[:：]\s*(\S{4,40})")
_ENTITY_FIELD = re.compile(r"(?:部门名称|单位名称|编制单位|预算单位|单位)\s*[:：]\s*([^\s:：\d]{4,40}?)(?=\s|$|\d)")
_NOISE = re.compile(r"仅供内部审核|征求意见稿|草稿|目\s*录")
# A cover title fits in this many characters; the title pattern's lazy prefix makes longer lines (a page of
# text without line breaks, a hostile file) cost time growing much faster than their length.
TITLE_PREFIX = 200


def identify(doc: Document) -> None:
    cover_lines = [l.strip() for text in doc.page_texts[:2] for l in text.splitlines() if l.strip()]
    cover_lines = [l for l in cover_lines if not _NOISE.search(l)]
    doc.cover = "\n".join(cover_lines[:12])
    _from_title(doc, cover_lines[:15])
    text = "\n".join(doc.page_texts)
    if doc.kind is None:
        finals = len(re.findall(r"决算", text))
        budgets = len(re.findall(r"预算表|预算总表|(?:部门|单位)预算|预算情况", text))
        doc.kind = "final" if finals > budgets else "budget" if budgets else None
    if doc.year is None:
        years = Counter(re.findall(r"(20\d{2})\s*年度", text))
        doc.year = int(years.most_common(1)[0][0]) if years else None
    if doc.entity is None:
        names = Counter(m.group(1) for m in _ENTITY_FIELD.finditer(text) if _ORG.search(m.group(1)))
        if names:
            doc.entity = names.most_common(1)[0][0]
        else:
            overview = re.search(r"^(\S{4,40}?)(?:部门|单位)?概况$", text, re.M)
            doc.entity = overview.group(1) if overview else None
    if doc.level is None and doc.kind:
        word = "决算" if doc.kind == "final" else "预算"
        unit = len(re.findall(f"单位{word}", text))
        dept = len(re.findall(f"部门{word}", text))
        doc.level = "单位" if unit > dept else "部门" if dept else None


def _from_title(doc: Document, lines: list[str]) -> None:
    lines = [line[:TITLE_PREFIX] for line in lines]
    for index in range(len(lines)):
        # Cover titles are often broken over two or three lines.
        compact = next((c for c in ("".join(lines[index:index + n]) for n in (1, 2, 3)) if _TITLE.search(c)), "")
        compact = re.sub(r"\s+", "", compact)
        match = _TITLE.search(compact)
        if not match or "表" in compact[match.end():match.end() + 2]:
            continue
        doc.kind = "final" if match.group("kind") == "决算" else "budget"
        doc.year = int(match.group("year"))
        doc.level = match.group("level") or _level_word(match.group("mid"))
        doc.scope = match.group("scope") or next((s for s in ("汇总", "本级") if s in compact), None)
        after = _entity_between(match.group("mid"))
        field = next((m.group(1) for l in lines if (m := _COVER_ENTITY.search(l))), None)
        doc.entity = field or _org_name(match.group("before")) or after or _nearby_org(lines, index)
        return


def _level_word(text: str) -> str | None:
    return "单位" if "单位" in text else "部门" if "部门" in text else None


def _entity_between(mid: str) -> str | None:
    return _org_name(re.sub(r"(部门|单位|汇总|本级)+$", "", mid))


def _org_name(text: str) -> str | None:
    """An organisation's name, possibly qualified (本级)/(汇总); page debris such as 第一部分 is none."""
    name = re.sub(r"\s+", "", text).strip("：:")
    bare = re.sub(r"[（(](本级|汇总|部门|单位)[)）]$", "", name)
    if len(bare) < 4 or not _ORG.search(bare) or re.match(r"第[一二三四五六七八九十]+部分", bare):
        return None
    return name


def _nearby_org(lines: list[str], index: int) -> str | None:
    for offset in (-1, 1, -2, 2, -3):
        position = index + offset
        if 0 <= position < len(lines):
            candidate = _org_name(lines[position])
            if candidate and len(candidate) <= 40 and not re.search(r"\d{4}", candidate):
                return candidate
    return None
