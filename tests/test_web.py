"""The dashboard's JSON API and pages on a populated store, SQLite and PostgreSQL (FastAPI TestClient)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from registry_fixture import TODAY, TOKEN, dashboard_store, database_url  # noqa: F401  (fixtures)
from sqlalchemy import select

from fiscalwatch.store.db import session_scope
from fiscalwatch.store.registry import Entity
from fiscalwatch.web.app import create_app
from fiscalwatch.web.export import to_csv, to_xlsx
from fiscalwatch.web.schemas import ComplianceRow

SCRIPT_TITLE = "<script>alert('x')</script>2025年预算公开附件"


@pytest.fixture
def client(dashboard_store):
    return TestClient(create_app(dashboard_store[0], today=TODAY))


def admin_headers() -> dict:
    return {"Authorization": f"Bearer {TOKEN}"}


def test_overview_counts_by_region(client):
    overview = client.get("/api/overview", params={"year": 2025}).json()
    assert overview["totals"]["timeliness"] == {"on_time": 3, "late": 1, "overdue": 3, "withdrawn": 1}
    assert overview["totals"]["quality"] == {"ok": 3, "incomplete": 1, "errors": 1}
    assert overview["totals"]["on_time_rate"] == 37.5 and overview["unmatched"] == 1
    assert [(r["region"], r["expected"]) for r in overview["regions"]] == [
        ("河南省/濮阳市", 7), ("河南省/濮阳市/华龙区", 1)]
    assert overview["years"] == [2025, 2024]
    page = client.get("/", params={"year": "2025", "kind": ""})
    assert page.status_code == 200 and "按时公开率（已到期部分）：37.5%" in page.text


@pytest.mark.parametrize("params, expected", [
    ({"timeliness": "overdue"}, ["濮阳市卫生健康委员会", "濮阳市教育局机关", "华龙区教育局"]),  # by region, name
    ({"quality": "incomplete"}, ["濮阳市民政局"]),
    ({"region": "河南省/濮阳市/华龙区"}, ["华龙区教育局"]),
    ({"region": "/河南省/濮阳市/华龙区/"}, ["华龙区教育局"]),  # regions are paths, as alert routes read them
    ({"region": "河南省/濮阳市/华龙"}, []),  # a path's segments, not a prefix of its text
    ({"kind": "final", "sort": "entity", "order": "desc"}, ["濮阳市财政局", "濮阳市教育局"]),
    ({"q": "教育局", "year": "2025", "level": "单位"}, ["濮阳市教育局机关"]),
    ({"sort": "days_late", "order": "desc", "year": "2025", "timeliness": ""}, ["濮阳市财政局"]),
])
def test_compliance_table_filters_and_sorts(client, params, expected):
    rows = client.get("/api/compliance", params=params).json()["rows"]
    assert [r["entity"] for r in rows][:len(expected)] == expected
    if "sort" not in params or params["sort"] != "days_late":
        assert len(rows) == len(expected)


def test_compliance_rows_carry_what_the_table_shows(client, dashboard_store):
    rows = client.get("/api/compliance", params={"q": "财政局", "kind": "budget"}).json()["rows"]
    assert rows == [{
        "expectation_id": rows[0]["expectation_id"], "entity_id": rows[0]["entity_id"], "entity": "濮阳市财政局",
        "level": "部门", "region": "河南省/濮阳市", "parent": None, "year": 2025, "kind": "budget",
        "approval_date": "2025-02-10", "deadline": "2025-03-02", "timeliness": "late", "quality": "ok",
        "published": "2025-03-12", "days_late": 10, "missing_tables": 0, "errors": 0,
        "document_id": dashboard_store[1]["财政局"], "document_title": "关于濮阳市财政局2025年度部门预算公开的说明"}]
    page = client.get("/compliance", params={"timeliness": "late"}).text
    assert "晚10天" in page and "共 1 条" in page


def test_bad_filters_are_refused(client):
    assert client.get("/api/compliance", params={"kind": "quarterly"}).status_code == 422
    assert client.get("/api/compliance", params={"sort": "name; drop table"}).status_code == 422


def test_document_with_findings_evidence_and_links(client, dashboard_store):
    document = client.get(f"/api/documents/{dashboard_store[1]['交通局']}").json()
    assert document["match"] == {"entity_id": document["match"]["entity_id"], "entity": "濮阳市交通运输局",
                                 "year": 2025, "kind": "budget", "scope": None, "method": "auto", "reason": None}
    assert [(f["page"], f["table"], f["evidence"]["quote"]) for f in document["findings"]] == [
        (4, "部门收支总表", "本年支出合计 120.00"), (6, "部门支出总表", "合计 120.00")]
    assert document["source_url"].startswith("https://puyang-czj.example.gov.cn/")
    page = client.get(f"/documents/{dashboard_store[1]['交通局']}").text
    assert "第4页" in page and "《部门收支总表》" in page and "<blockquote>本年支出合计 120.00</blockquote>" in page
    assert f'href="/archive/{document["sha256"]}"' in page and f'href="{document["source_url"]}"' in page
    assert client.get("/api/documents/999").status_code == 404
    assert client.get("/documents/999").status_code == 404


def test_the_archived_copy_is_served_sandboxed(client, dashboard_store):
    sha256 = client.get(f"/api/documents/{dashboard_store[1]['交通局']}").json()["sha256"]
    response = client.get(f"/archive/{sha256}")
    assert response.status_code == 200 and response.content == b"%PDF-1.4 archived copy"
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-security-policy"] == "sandbox"
    assert response.headers["x-content-type-options"] == "nosniff"
    other = client.get(f"/api/documents/{dashboard_store[1]['教育局']}").json()["sha256"]
    assert client.get(f"/archive/{other}").status_code == 404  # known, but its file is not in the archive
    assert client.get("/archive/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_titles_from_crawled_pages_are_escaped(client, dashboard_store):
    for path in ("/unmatched", f"/documents/{dashboard_store[1]['未匹配']}"):
        page = client.get(path).text
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    unmatched = client.get("/api/unmatched").json()
    assert [(d["title"], d["reason"]) for d in unmatched] == [(SCRIPT_TITLE, "未找到名称相符的单位")]


def test_sources_health(client):
    health = {s["id"]: s for s in client.get("/api/sources").json()}
    assert health["puyang-czj"]["documents"] == 6 and health["puyang-czj"]["withdrawn"] == 1
    assert health["puyang-czj"]["last_run"] == {"status": "ok", "started_at": None, "finished_at": None,
                                                "documents_found": 6, "new_documents": 2, "errors": 0}
    assert health["broken"]["consecutive_failures"] == 4 and health["broken"]["last_run"] is None
    page = client.get("/sources").text
    assert "连续失败4次" in page and "HTTP 521" in page and "成功 · 发现6个，新增2个" in page


def test_csv_and_xlsx_exports_match_the_table(client):
    params = {"year": 2025, "sort": "entity"}
    rows = client.get("/api/compliance", params=params).json()["rows"]
    response = client.get("/export/compliance.csv", params=params)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    exported = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert exported[0][:9] == ["单位", "级次", "地区", "上级部门", "年度", "类别", "批复日期", "公开期限", "公开情况"]
    assert [r[0] for r in exported[1:]] == [r["entity"] for r in rows]
    late = next(r for r in exported if r[0] == "濮阳市财政局")
    assert late[8:12] == ["逾期公开", "2025-03-12", "10", "内容完整"]
    sheet = load_workbook(io.BytesIO(client.get("/export/compliance.xlsx", params=params).content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert [list(map(str, v)) for v in values[:1]] == [exported[0]] and len(values) == len(exported)
    assert next(v for v in values if v[0] == "濮阳市财政局")[9].date() == date(2025, 3, 12)
    assert client.get("/export/compliance.pdf").status_code == 404


def test_exports_defuse_spreadsheet_formulas_in_crawled_titles():
    row = ComplianceRow(expectation_id=1, entity_id=1, entity="甲局", level="部门", region=None, parent=None, year=2025,
                        kind="budget", approval_date=None, deadline=None, timeliness="on_time", quality="ok",
                        published=None, days_late=0, missing_tables=0, errors=0, document_id=1,
                        document_title='=HYPERLINK("http://evil.example","点我")')
    assert "'=HYPERLINK" in to_csv([row]).decode("utf-8-sig")
    cell = load_workbook(io.BytesIO(to_xlsx([row]))).active["P2"]
    assert cell.data_type == "s" and cell.value.startswith("'=HYPERLINK")


def test_changes_need_the_token(client, dashboard_store):
    document_id = dashboard_store[1]["未匹配"]
    assignment = {"entity_id": 1, "year": 2025}
    assert client.post(f"/api/documents/{document_id}/assignment", json=assignment).status_code == 401
    assert client.post(f"/api/documents/{document_id}/assignment", json=assignment,
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/api/refresh").status_code == 401
    page = client.post(f"/unmatched/{document_id}", data={"entity_id": 1, "year": 2025}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2F"
    assert "登录</a>后可分配" in client.get("/unmatched").text


def test_without_a_configured_token_nothing_can_be_changed(dashboard_store):
    settings, ids = dashboard_store
    client = TestClient(create_app(settings.model_copy(update={"web_token": None}), today=TODAY))
    response = client.post("/api/refresh", headers={"Authorization": "Bearer "})
    assert response.status_code == 403 and response.json() == {"detail": "未配置管理令牌（web_token），无法修改数据"}
    assert "未配置管理令牌，无法分配" in client.get("/unmatched").text


def test_private_dashboards_need_a_login_for_reading_too(dashboard_store):
    client = TestClient(create_app(dashboard_store[0].model_copy(update={"web_public": False}), today=TODAY))
    assert client.get("/api/overview").status_code == 401
    redirect = client.get("/compliance?timeliness=overdue&year=2025", follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == "/login?next=%2Fcompliance%3Ftimeliness%3Doverdue%26year%3D2025"
    assert client.get("/api/overview", headers=admin_headers()).status_code == 200


def test_assigning_a_document_through_the_api_recomputes_its_entity(client, dashboard_store):
    with session_scope(dashboard_store[0].database_url) as session:
        health = session.scalar(select(Entity.id).where(Entity.name == "濮阳市卫生健康委员会"))
    response = client.post(f"/api/documents/{dashboard_store[1]['未匹配']}/assignment",
                           json={"entity_id": health, "year": 2025}, headers=admin_headers())
    assert response.status_code == 200
    assert response.json()["unmatched"] == 0 and response.json()["alerts"] == 1  # the late alert
    row = client.get("/api/compliance", params={"q": "卫生健康", "year": 2025}).json()["rows"][0]
    assert (row["timeliness"], row["days_late"], row["document_id"]) == ("late", 13, dashboard_store[1]["未匹配"])
    assert client.post("/api/documents/999/assignment", json={"entity_id": health, "year": 2025},
                       headers=admin_headers()).json() == {"detail": "文件999不存在"}
    too_early = {"entity_id": health, "year": 1999}
    assert client.post(f"/api/documents/{dashboard_store[1]['教育局']}/assignment", json=too_early,
                       headers=admin_headers()).status_code == 422


def test_login_then_assign_from_the_unmatched_page(client, dashboard_store):
    wrong = client.post("/login", data={"password": "guess", "next": "/unmatched"})
    assert wrong.status_code == 401 and "令牌不正确" in wrong.text
    login = client.post("/login", data={"password": TOKEN, "next": "/unmatched"}, follow_redirects=False)
    assert login.status_code == 303 and login.headers["location"] == "/unmatched"
    page = client.get("/unmatched").text
    assert 'action="/unmatched/' in page and "<optgroup label=\"河南省/濮阳市\">" in page
    with session_scope(dashboard_store[0].database_url) as session:
        unit = session.scalar(select(Entity.id).where(Entity.name == "濮阳市教育局机关"))
    document_id = dashboard_store[1]["未匹配"]
    done = client.post(f"/unmatched/{document_id}", data={"entity_id": unit, "year": 2025, "kind": "budget"})
    assert done.status_code == 200 and f"文件 {document_id} 已分配" in done.text
    assert "没有待匹配的文件" in done.text
    failed = client.post(f"/unmatched/{document_id}", data={"entity_id": 999, "year": 2025})
    assert failed.status_code == 400 and "单位999不存在" in failed.text
    client.post("/logout")
    assert "登录</a>后可分配" in client.get("/unmatched").text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(client, target):
    response = client.post("/login", data={"password": TOKEN, "next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_registry_upload(client, dashboard_store):
    registry = "名称,级次,地区,数据源\n濮阳市审计局,部门,河南省/濮阳市,puyang-czj\n".encode("gb18030")
    response = client.post("/api/registry", files={"file": ("名录.csv", registry, "text/csv")},
                           headers=admin_headers())
    assert response.status_code == 200
    assert {k: response.json()[k] for k in ("created", "updated", "expectations")} == {
        "created": 1, "updated": 0, "expectations": 0}
    assert response.json()["refresh"]["timeliness"]["overdue"] == 4
    bad = client.post("/api/registry", files={"file": ("名录.csv", "名称,级次\n甲局,处室\n".encode(), "text/csv")},
                      headers=admin_headers())
    assert bad.status_code == 400 and bad.json()["detail"] == "第2行：级次应为“部门”或“单位”，而不是“处室”"
    client.post("/login", data={"password": TOKEN})
    page = client.post("/registry", files={"file": ("x.txt", b"a", "text/plain")})
    assert page.status_code == 400 and "导入失败，未做任何修改：不支持的文件类型“.txt”" in page.text
    assert "濮阳市审计局" in client.get("/registry").text


def test_openapi_documents_the_api_and_docs_load_nothing_from_outside(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/overview", "/api/compliance", "/api/documents/{document_id}", "/api/sources", "/api/unmatched",
            "/api/entities", "/api/documents/{document_id}/assignment", "/api/registry", "/api/refresh"} <= set(paths)
    assert not any(p.startswith(("/compliance", "/login")) for p in paths)
    docs = client.get("/docs").text
    assert "/static-offline-docs/swagger-ui-bundle.js" in docs and "https://" not in docs
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
