"""Matching crawled documents to registry entities and fiscal years, and importing the registry."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook
from registry_fixture import REGISTRY_CSV, add_document, add_source, sqlite_url  # noqa: F401  (a fixture)
from sqlalchemy import select

from fiscalwatch.compliance import RegistryError, apply_registry, assign_document, match_documents, read_registry
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import DocumentRow, Source
from fiscalwatch.store.registry import DocumentMatch, Entity, Expectation

YAML = """
entities:
  - name: 濮阳市教育局
    region: 河南省/濮阳市
    sources: [puyang-czj]
  - name: 濮阳市教育局机关
    aliases: [濮阳市教育局本级]
    level: 单位
    parent: 濮阳市教育局
    region: 河南省/濮阳市
  - name: 濮阳市卫生健康委员会
    aliases: 市卫健委；卫健委
    region: 河南省/濮阳市
    approvals:
      - {year: 2025, kind: 预算, date: 2025-02-12}
      - {year: 2024, kind: final}
  - name: 华龙区教育局
    region: 河南省/濮阳市/华龙区
  - name: 清丰县教育局
    region: 河南省/濮阳市/清丰县
    sources: [qingfeng]
  - name: 河南省教育厅
    region: 河南省
"""


def matched(url: str, title: str, source_id: str = "puyang-czj", **parsed) -> tuple[str | None, int | None, str | None]:
    with session_scope(url) as session:
        if session.get(Source, "puyang-czj") is None:
            apply_registry(session, read_registry(YAML.encode(), ".yaml"))
            add_source(session)
            add_source(session, "qingfeng", region="河南省/濮阳市/清丰县")
        document = add_document(session, title, date(2025, 3, 1), source_id=source_id,
                                **{"year": 2025, "kind": "budget", "level": "部门", **parsed})
        document_id = document.id
    with session_scope(url) as session:
        match_documents(session)
        row = session.get(DocumentMatch, document_id)
        assert session.get(DocumentRow, document_id).entity_id == row.entity_id
        return (row.entity.name if row.entity else None), row.year, row.reason


@pytest.mark.parametrize("title, parsed, expected", [
    ("濮阳市教育局2025年部门预算公开", {}, "濮阳市教育局"),
    ("关于濮阳市教育局2025年度部门预算公开的说明", {}, "濮阳市教育局"),
    ("河南省濮阳市教育局2025年部门预算", {}, "濮阳市教育局"),  # a region prefix of its own
    ("市卫健委2025年部门预算", {}, "濮阳市卫生健康委员会"),  # alias
    ("濮阳市 卫生健康委员会（汇总）2025年预算", {}, "濮阳市卫生健康委员会"),  # spaces, full-width brackets
    ("2025年部门预算公开", {"entity": "濮阳市卫生健康委员会"}, "濮阳市卫生健康委员会"),  # from the parsed cover
    ("华龙区教育局2025年部门预算", {}, "华龙区教育局"),  # not the city's 教育局 with its prefix dropped
    ("濮阳市教育局本级2025年度单位预算", {"level": "单位", "scope": "本级"}, "濮阳市教育局机关"),
])
def test_documents_match_their_entity(sqlite_url, title, parsed, expected):
    assert matched(sqlite_url, title, **parsed)[0] == expected


def test_a_department_document_s_own_accounts_match_it_when_no_unit_is_registered(sqlite_url):
    assert matched(sqlite_url, "濮阳市卫生健康委员会本级2025年单位预算", level="单位", scope="本级")[0] == "濮阳市卫生健康委员会"


@pytest.mark.parametrize("title, parsed, source, reason", [
    # An unregistered unit under a registered department is not that department.
    ("濮阳市教育局机关幼儿园2025年度单位预算", {"level": "单位"}, "puyang-czj", "未找到名称相符的单位"),
    ("2025年部门预算公开", {}, "puyang-czj", "未找到名称相符的单位"),
    ("濮阳市教育局2025年部门预算", {}, "qingfeng", "未找到名称相符的单位"),  # 清丰 lists only its own
    ("河南省教育厅2025年部门预算", {}, "puyang-czj", "未找到名称相符的单位"),  # a city lists no province entity
    ("部门预算公开", {"year": None, "kind": None}, "puyang-czj", "未能识别年度或类别（预算/决算）"),
])
def test_documents_left_for_a_person_say_why(sqlite_url, title, parsed, source, reason):
    assert matched(sqlite_url, title, source, **parsed) == (None, parsed.get("year", 2025), reason)


def test_two_entities_tied_for_the_same_name_leave_the_document_unmatched(sqlite_url):
    with session_scope(sqlite_url) as session:
        apply_registry(session, read_registry(
            "name,aliases,region\n甲县教育局,县教育局,河南省/濮阳市\n乙县教育局,县教育局,河南省/濮阳市\n".encode(), ".csv"))
    entity, _, reason = matched(sqlite_url, "县教育局2025年部门预算")
    assert entity is None and reason == "名称对应多个单位：乙县教育局、甲县教育局"


def test_the_fiscal_year_comes_from_the_document_then_its_title_never_the_publication_date(sqlite_url):
    # A final account for 2024, published (and parsed) in 2025.
    assert matched(sqlite_url, "濮阳市教育局部门决算公开", year=2024, kind="final")[1] == 2024
    # Not parsed yet: the title's fiscal year.
    assert matched(sqlite_url, "濮阳市教育局2023年度部门决算", parse_status="pending", year=None, kind=None)[1] == 2023


def test_a_person_s_assignment_survives_automatic_matching(sqlite_url):
    matched(sqlite_url, "2025年部门预算公开")
    with session_scope(sqlite_url) as session:
        document_id = session.scalar(select(DocumentRow.id))
        health = session.scalar(select(Entity.id).where(Entity.name == "濮阳市卫生健康委员会"))
        assign_document(session, document_id, health, 2024, "final")
    with session_scope(sqlite_url) as session:
        assert match_documents(session) == (1, 0)
        row = session.get(DocumentMatch, document_id)
        assert (row.entity_id, row.year, row.kind, row.method) == (health, 2024, "final", "manual")
        with pytest.raises(LookupError, match="单位999不存在"):
            assign_document(session, document_id, 999, 2025)


# --- import -------------------------------------------------------------------------------------------

def entities_and_expectations(url: str) -> tuple[dict, set]:
    with session_scope(url) as session:
        entities = {e.name: (e.level, e.region, e.aliases, e.sources, e.parent.name if e.parent else None)
                    for e in session.scalars(select(Entity))}
        expected = {(e.entity.name, e.year, e.kind, e.approval_date) for e in session.scalars(select(Expectation))}
        return entities, expected


def test_yaml_import_creates_entities_parents_and_approval_dates(sqlite_url):
    with session_scope(sqlite_url) as session:
        result = apply_registry(session, read_registry(YAML.encode(), ".yml"))
    assert (result.created, result.updated, result.expectations) == (6, 0, 2)
    entities, expected = entities_and_expectations(sqlite_url)
    assert entities["濮阳市教育局机关"] == ("单位", "河南省/濮阳市", ["濮阳市教育局本级"], [], "濮阳市教育局")
    assert entities["濮阳市卫生健康委员会"][2] == ["市卫健委", "卫健委"]
    assert expected == {("濮阳市卫生健康委员会", 2025, "budget", date(2025, 2, 12)),
                        ("濮阳市卫生健康委员会", 2024, "final", None)}


def test_csv_xlsx_and_gbk_csv_import_the_same_registry(tmp_path):
    rows = [line.split(",") for line in REGISTRY_CSV.strip().splitlines()]
    book = Workbook()
    for row in rows:
        book.active.append([date(2025, 2, 10) if cell == "2025-02-10" else cell for cell in row])
    xlsx = io.BytesIO()
    book.save(xlsx)
    from_csv = read_registry(REGISTRY_CSV.encode(), ".csv")
    assert read_registry(REGISTRY_CSV.encode("gb18030"), ".CSV") == from_csv
    assert read_registry(xlsx.getvalue(), ".xlsx") == from_csv
    assert len(from_csv) == 8
    finance = next(r for r in from_csv if r.name == "濮阳市财政局")
    assert [(a.year, a.kind, a.date) for a in finance.approvals] == [
        (2025, "budget", date(2025, 2, 10)), (2024, "final", date(2025, 8, 1))]


def test_reimport_updates_changed_entities_and_keeps_the_rest(sqlite_url):
    with session_scope(sqlite_url) as session:
        apply_registry(session, read_registry(YAML.encode(), ".yaml"))
    changed = "名称,级次,地区,年度,类型,批复日期\n华龙区教育局,部门,河南省/濮阳市/华龙区,2025,预算,2025-02-20\n" \
              "濮阳市教育局,部门,河南省/濮阳市,,,\n"
    with session_scope(sqlite_url) as session:
        result = apply_registry(session, read_registry(changed.encode(), ".csv"))
    # 濮阳市教育局 lost its source (the file has no sources column, so its sources are now none).
    assert (result.created, result.updated, result.expectations) == (0, 1, 1)
    entities, expected = entities_and_expectations(sqlite_url)
    assert len(entities) == 6 and ("华龙区教育局", 2025, "budget", date(2025, 2, 20)) in expected


@pytest.mark.parametrize("content, suffix, message", [
    ("名称,级次\n甲局,处室\n", ".csv", "第2行：级次应为“部门”或“单位”，而不是“处室”"),
    ("名称,年度,类型\n甲局,二〇二五,预算\n", ".csv", "第2行：年度无法识别：“二〇二五”"),
    ("名称,年度,类型,批复日期\n甲局,2025,预算,2025-02-30\n乙局,2025,季报,\n", ".csv",
     "第2行：批复日期无法识别：“2025-02-30”；第3行：类型应为“预算”或“决算”，而不是“季报”"),
    ("名称,上级部门\n甲局,乙局\n", ".csv", "上级部门不在名录中：乙局"),
    ("别名\n甲\n", ".csv", "第2行：缺少名称"),
    ("entities: 3", ".yaml", "YAML 名录应包含 entities 列表"),
    ("a,b", ".txt", "不支持的文件类型“.txt”"),
    ("not a workbook", ".xlsx", "无法读取 XLSX 文件"),
])
def test_bad_registry_files_are_refused_with_every_problem_named(sqlite_url, content, suffix, message):
    with pytest.raises(RegistryError, match=message), session_scope(sqlite_url) as session:
        apply_registry(session, read_registry(content.encode(), suffix))
