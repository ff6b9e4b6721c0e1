"""The findings explorer (/findings, /api/findings, /export/findings.*) on SQLite and PostgreSQL: every finding of
the current version of each active document, filtered, sorted by amount or rate, paginated and exported."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from registry_fixture import Statements, add_document, add_source, database_url, settings_for  # noqa: F401  (fixture)
from sqlalchemy import select, update

from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Blob, DocumentRow, FindingRow, Version
from fiscalwatch.validators.core import Finding
from fiscalwatch.web import queries
from fiscalwatch.web.app import create_app
from fiscalwatch.web.explorer import FindingFilters, explore

FINAL = dict(year=2024, kind="final", level="部门")


def low(rate: float, budget: float, page: int = 3) -> FindingRow:
    return FindingRow.of(Finding(rule="C-NARRATIVE", category="low_completion", severity="warning",
                                 message=f"预算完成率为{rate}%，低于30%。", page=page, table=None,
                                 evidence={"rate": rate, "budget": budget, "threshold": 30}))


def mismatch(difference: float, page: int = 5) -> FindingRow:
    return FindingRow.of(Finding(rule="R-HIER", category="reconciliation", severity="error",
                                 message=f"合计与各项之和相差{difference}万元。", page=page, table="一般公共预算财政拨款支出决算表",
                                 evidence={"printed": 100 + difference, "computed": 100, "difference": difference}))


def with_findings(session, document, *findings: FindingRow):
    blob = session.get(Blob, document.current_sha256)
    blob.findings.extend(findings)
    session.flush()
    return document


@pytest.fixture
def store(database_url, tmp_path):
    """Findings in 濮阳 (city and a district), in 河南省直 (a name, not a path, under 河南省) and in 山东; one withdrawn
    document, one replaced version, one cross-document finding, one budget, and a document with 60 findings."""
    settings = settings_for(database_url, tmp_path, dashboard_url="https://fw.example.org")
    with session_scope(database_url) as session:
        add_source(session, "py", region="河南省/濮阳市")
        add_source(session, "hl", region="河南省/濮阳市/华龙区")
        add_source(session, "hnz", region="河南省直")
        add_source(session, "sd", region="山东省/济南市")
        edu = with_findings(session, add_document(session, "濮阳市教育局2024年度部门决算", date(2025, 8, 20), source_id="py",
                                                  entity="濮阳市教育局", **FINAL),
                            low(12.5, 300), low(28.0, 50, page=7), mismatch(2.0))
        with_findings(session, add_document(session, "华龙区教育局2024年度部门决算", date(2025, 8, 21), source_id="hl",
                                            entity="华龙区教育局", **FINAL), low(25.0, 80), low(45.0, 90))
        with_findings(session, add_document(session, "河南省直某局2024年度部门决算", date(2025, 8, 22), source_id="hnz",
                                            entity="河南省直某局", **FINAL), low(10.0, 20))
        with_findings(session, add_document(session, "济南市某局2024年度部门决算", date(2025, 8, 23), source_id="sd",
                                            entity="济南市某局", **FINAL), low(5.0, 10))
        with_findings(session, add_document(session, "濮阳市民政局2024年度部门决算", date(2025, 8, 24), source_id="py",
                                            entity="濮阳市民政局", status="withdrawn", **FINAL), low(1.0, 10))
        # Replaced: the old version's finding no longer counts; the new one compares with 教育局's document.
        old = with_findings(session, add_document(session, "濮阳市财政局2024年度部门决算（旧）", date(2025, 8, 25),
                                                  source_id="py", entity="濮阳市财政局", **FINAL), low(2.0, 10))
        new = with_findings(session, add_document(session, "=HYPERLINK(\"x\")濮阳市财政局2024年度部门决算", date(2025, 8, 26),
                                                  source_id="py", entity="濮阳市财政局", **FINAL))
        with_findings(session, new, FindingRow.of(
            Finding(rule="C-EVALUATION", category="low_completion", severity="warning", message="执行率29%。", page=2,
                    table="项目支出绩效自评表", evidence={"rate": 29.0, "budget": 40}), other_sha256=edu.current_sha256))
        old.status = "withdrawn"  # its content lives on as a superseded version of another document
        session.add(Version(document_id=new.id, sha256=old.current_sha256, url="https://py.example.gov.cn/old.pdf",
                            seen_at=new.first_seen_at, superseded_at=new.first_seen_at))
        with_findings(session, add_document(session, "濮阳市交通运输局2025年部门预算", date(2025, 2, 20), source_id="py",
                                            entity="濮阳市交通运输局", year=2025, kind="budget", level="部门"),
                      FindingRow(rule="M-REQUIRED", category="missing_table", severity="error", message="缺少《三公经费表》。",
                                 page=None, table_title=None, evidence={}))
        with_findings(session, add_document(session, "濮阳市水利局2024年度部门决算", date(2025, 8, 27), source_id="py",
                                            entity="濮阳市水利局", **FINAL), *[mismatch(float(n)) for n in range(1, 61)])
        ids = {"edu": edu.id, "new": new.id}
    return settings, ids


@pytest.fixture
def client(store):
    return TestClient(create_app(store[0]))


def api(client, **params) -> dict:
    response = client.get("/api/findings", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_execution_rates_below_30_in_a_region_lowest_first(client, store):
    found = api(client, region="河南省/濮阳市", rate_below=30, sort="rate", order="asc")
    assert [(r["entity"], r["rate"]) for r in found["rows"]] == [
        ("濮阳市教育局", 12.5), ("华龙区教育局", 25.0), ("濮阳市教育局", 28.0), ("濮阳市财政局", 29.0)]
    assert found["total"] == 4 and found["pages"] == 1
    first = found["rows"][0]
    assert first["evidence_url"] == f"/documents/{store[1]['edu']}#finding-{first['finding_id']}"
    assert (first["category"], first["severity"], first["page"], first["amount"]) == (
        "low_completion", "warning", 3, 300)
    highest = api(client, region="河南省/濮阳市", rate_below=30, sort="rate", order="desc")["rows"]
    assert [r["rate"] for r in highest] == [29.0, 28.0, 25.0, 12.5]


def test_a_region_covers_the_regions_below_it_by_path(client):
    rates = sorted(r["rate"] for r in api(client, region="河南省", category="low_completion")["rows"])
    assert rates == [12.5, 25.0, 28.0, 29.0, 45.0]  # not 河南省直 (10), 山东 (5), withdrawn (1) or replaced (2)
    assert [r["rate"] for r in api(client, region="河南省直")["rows"]] == [10.0]
    assert api(client, region="河南")["total"] == 0


def test_filters_by_entity_rule_severity_year_and_kind(client):
    assert {r["entity"] for r in api(client, entity="华龙")["rows"]} == {"华龙区教育局"}
    assert {r["rule"] for r in api(client, rule="C-EVALUATION")["rows"]} == {"C-EVALUATION"}
    errors = api(client, severity="error")
    assert errors["total"] == 62 and {r["severity"] for r in errors["rows"]} == {"error"}
    [budget] = api(client, kind="budget")["rows"]
    assert (budget["entity"], budget["year"], budget["rule"]) == ("濮阳市交通运输局", 2025, "M-REQUIRED")
    assert api(client, year=2025)["total"] == 1 and api(client, year=2024)["total"] == 68
    assert api(client, category="low_completion", severity="", region="")["total"] == 7  # empty means any
    assert client.get("/api/findings", params={"severity": "fatal"}).status_code == 422


def test_a_cross_document_finding_links_to_the_other_document(client, store):
    [row] = api(client, rule="C-EVALUATION")["rows"]
    assert row["document_id"] == store[1]["new"] and row["other_document_id"] == store[1]["edu"]
    assert row["other_document_url"] == f"/documents/{store[1]['edu']}"
    assert row["other_document_title"] == "濮阳市教育局2024年度部门决算"
    page = client.get("/findings", params={"rule": "C-EVALUATION"}).text
    assert f'href="/documents/{store[1]["new"]}#finding-{row["finding_id"]}"' in page
    assert f'href="/documents/{store[1]["edu"]}"' in page


def test_pages_sorted_by_amount(client):
    first = api(client, entity="水利局", sort="amount", order="desc")
    assert (first["total"], first["pages"], first["page"]) == (60, 2, 1)
    assert [r["amount"] for r in first["rows"]] == [float(n) for n in range(60, 10, -1)]
    second = api(client, entity="水利局", sort="amount", order="desc", page=2)
    assert [r["amount"] for r in second["rows"]] == [float(n) for n in range(10, 0, -1)]
    assert api(client, entity="水利局", page=99)["page"] == 2  # past the end: the last page
    newest = api(client, entity="水利局")["rows"]  # default: newest first
    assert [r["finding_id"] for r in newest] == sorted((r["finding_id"] for r in newest), reverse=True)


def test_a_broad_filter_is_counted_and_paged_to_a_thousand(store, monkeypatch):
    """Counting every match of a broad filter cost more than the page: it stops past COUNTED, says there are
    more, and pages that far; the export still holds every match."""
    settings, _ = store
    monkeypatch.setattr("fiscalwatch.web.explorer.COUNTED", 50)
    client = TestClient(create_app(settings))
    found = api(client, entity="水利局", sort="amount", order="desc")
    assert (found["total"], found["more"], found["pages"]) == (50, True, 1)
    assert [r["amount"] for r in found["rows"]] == [float(n) for n in range(60, 10, -1)]
    assert (api(client, entity="教育局")["total"], api(client, entity="教育局")["more"]) == (5, False)
    assert "超过 50 条" in client.get("/findings", params={"entity": "水利局"}).text
    assert len(list(csv.reader(io.StringIO(client.get("/export/findings.csv", params={"entity": "水利局"}).text)))) == 61


def test_a_page_costs_the_same_queries_however_many_rows(store):
    settings, _ = store
    spent = []
    for filters in (FindingFilters(rule="C-EVALUATION"), FindingFilters(sort="amount")):
        with session_scope(settings.database_url) as session, Statements(settings.database_url) as statements:
            rows = explore(session, filters).rows
        spent.append((len(rows), statements.count))
    assert spent[0][0] == 1 and spent[1][0] == 50
    assert spent[0][1] == spent[1][1]


def test_the_order_is_kept_while_the_data_is_unchanged(store):
    """A filter's order is computed once per data version: the next page reads only its own rows. A parse's new
    finding moves the version; a withdrawn document's rows leave the page at once."""
    settings, _ = store
    url = settings.database_url
    queries._CACHE.clear()
    filters = FindingFilters(entity="水利局", sort="amount", order="desc")
    with session_scope(url) as session, Statements(url) as first:
        assert [r.amount for r in explore(session, filters).rows][:2] == [60.0, 59.0]
    with session_scope(url) as session, Statements(url) as second:
        assert [r.amount for r in explore(session, filters, page=2).rows] == [float(n) for n in range(10, 0, -1)]
    assert second.count == first.count - 1  # the version and the page, not the order
    with session_scope(url) as session:
        blob = session.scalar(select(Blob).where(Blob.entity == "濮阳市水利局"))
        blob.findings.append(mismatch(100.0))
    with session_scope(url) as session:
        found = explore(session, filters)
    assert (found.total, found.rows[0].amount) == (61, 100.0)
    with session_scope(url) as session:
        session.execute(update(DocumentRow).where(DocumentRow.current_sha256 == blob.sha256).values(status="withdrawn"))
    with session_scope(url) as session:
        assert explore(session, filters).rows == []


def test_the_page_shows_filters_sorting_and_export_links(client):
    page = client.get("/findings", params={"region": "河南省", "rate_below": "30", "sort": "rate", "order": "asc"})
    assert page.status_code == 200
    text = page.text
    assert '<a href="/findings" aria-current="page">核查发现</a>' in text
    assert "共 4 条" in text and "12.50%" in text and "执行率低" in text
    assert text.index("12.50%") < text.index("25.00%") < text.index("28.00%")
    exported = "/export/findings.csv?region=%E6%B2%B3%E5%8D%97%E7%9C%81&amp;rate_below=30.0&amp;sort=rate&amp;order=asc"
    assert exported in text


def test_exports_hold_the_whole_filtered_list_in_order(client, store):
    params = {"region": "河南省", "category": "low_completion", "sort": "rate", "order": "asc"}
    response = client.get("/export/findings.csv", params=params)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    exported = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert exported[0][:8] == ["单位", "地区", "年度", "类别", "问题类别", "严重程度", "规则", "说明"]
    assert [r[11] for r in exported[1:]] == ["12.5", "25.0", "28.0", "29.0", "45.0"]
    edu = exported[1]
    assert edu[:7] == ["濮阳市教育局", "河南省/濮阳市", "2024", "决算", "执行率低", "警告", "C-NARRATIVE"]
    assert edu[13].startswith(f"https://fw.example.org/documents/{store[1]['edu']}#finding-")
    crossed = exported[4]
    assert crossed[12].startswith("'=HYPERLINK")  # a crawled title never runs as a formula
    assert crossed[15] == f"https://fw.example.org/documents/{store[1]['edu']}"
    all_of_them = list(csv.reader(io.StringIO(client.get("/export/findings.csv").content.decode("utf-8-sig"))))
    assert len(all_of_them) == 1 + 69  # every page, not one
    sheet = load_workbook(io.BytesIO(client.get("/export/findings.xlsx", params=params).content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "核查发现" and list(values[0]) == exported[0]
    assert [v[11] for v in values[1:]] == [12.5, 25.0, 28.0, 29.0, 45.0]
    assert values[4][12].startswith("'=HYPERLINK")
    assert client.get("/export/findings.pdf").status_code == 404


def test_the_api_is_documented(client):
    schema = client.get("/openapi.json").json()
    parameters = {p["name"] for p in schema["paths"]["/api/findings"]["get"]["parameters"]}
    assert {"category", "rule", "severity", "region", "year", "entity", "kind", "rate_below", "sort", "order",
            "page"} <= parameters
    assert "evidence_url" in schema["components"]["schemas"]["ExploredFinding"]["properties"]
