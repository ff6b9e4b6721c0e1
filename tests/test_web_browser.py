"""The dashboard in a real browser (Debian's Chromium, headless) against a real uvicorn server: overview,
the overdue filter, a document's findings with page references, a phone-sized view, hostile titles, the findings
explorer down to one finding's highlighted page.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from registry_fixture import TODAY, TOKEN, add_document, add_source, dashboard_store, database_url, settings_for  # noqa: F401

from fiscalwatch.store.archive import relative_path
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Blob, FindingRow
from fiscalwatch.validators.core import Finding
from fiscalwatch.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]  # the API tests cover PostgreSQL


@contextmanager
def serving(app):
    """The app on a real uvicorn server at a free port; yields its address."""
    import uvicorn

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # a free port, held until uvicorn takes the socket over
    running = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not running.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    running.should_exit = True
    thread.join(10)
    listener.close()


@pytest.fixture
def server(dashboard_store):
    with serving(create_app(dashboard_store[0], today=TODAY)) as base:
        yield base, dashboard_store[1]


@pytest.fixture
def browser():
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"dashboard-{name}.png", full_page=True)


def test_overdue_filter_then_a_document_s_findings(server, browser):
    base, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(base + "/")
    assert page.locator("h1").inner_text() == "公开情况概览"
    assert page.locator(".chart-row").count() == 2
    shot(page, "1-overview")

    page.get_by_role("link", name="公开情况", exact=True).click()
    page.get_by_label("公开情况").select_option(label="逾期未公开")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/compliance?*timeliness=overdue*")
    rows = page.locator("table.compliance tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").first.locator("b").inner_text() for i in range(3)] == [
        "濮阳市卫生健康委员会", "濮阳市教育局机关", "华龙区教育局"]
    assert all("逾期未公开" in rows.nth(i).inner_text() for i in range(3))
    shot(page, "2-overdue")

    page.get_by_label("公开情况").select_option(label="全部")
    page.get_by_label("内容质量").select_option(label="存在错误")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**quality=errors*")
    page.locator("table.compliance tbody tr").first.get_by_role("link", name="查看").click()
    page.wait_for_url("**/documents/*")
    assert page.locator("h1").inner_text() == "濮阳市交通运输局2025年部门预算"
    findings = page.locator("li.finding")
    assert findings.count() == 2
    assert findings.first.locator(".where").inner_text() == "第4页 《部门收支总表》"
    assert findings.first.locator("blockquote").inner_text() == "本年支出合计 120.00"
    assert findings.nth(1).locator(".where").inner_text() == "第6页 《部门支出总表》"
    assert page.get_by_role("link", name="存档副本").get_attribute("href").startswith("/archive/")
    shot(page, "3-document")
    assert dialogs == []


def test_phone_view_and_a_hostile_title_and_assigning_it(server, browser):
    base, documents = server
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    dialogs = []
    phone.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    phone.goto(base + "/compliance?timeliness=overdue")
    first = phone.locator("table.compliance tbody tr").first
    assert first.bounding_box()["width"] <= 390  # rows are cards, no sideways scrolling
    shot(phone, "4-phone-overdue")

    phone.goto(base + "/unmatched")
    assert phone.get_by_role("link", name="<script>alert('x')</script>2025年预算公开附件").count() == 1
    phone.get_by_role("main").get_by_role("link", name="登录").click()
    phone.get_by_label("管理令牌").fill(TOKEN)
    phone.get_by_role("button", name="登录").click()
    phone.wait_for_url("**/unmatched")
    row = phone.locator(f"#doc-{documents['未匹配']}")
    row.get_by_label("单位").select_option(label="濮阳市卫生健康委员会")
    row.get_by_role("button", name="分配").click()
    phone.wait_for_url("**/unmatched?assigned=*")
    assert "已分配，公开情况已重新计算" in phone.locator("p.ok").inner_text()
    shot(phone, "5-phone-assigned")
    phone.goto(base + "/compliance?q=卫生健康&year=2025")
    assert "晚13天" in phone.locator("table.compliance tbody tr").first.inner_text()
    assert dialogs == []


PUTUO = Path(__file__).resolve().parents[2] / "shared/corpus/real/putuo_caizhengju_2024_dept_final.pdf"
PUTUO_SHA256 = "d45e923176f9fe4b6533829d3a2fe67f8cbcd55d07099dabf73aca62701f8eb5"
# What `fiscalwatch check` finds on page 23 of that file.
PUTUO_LOW = Finding(rule="C-NARRATIVE", category="low_completion", severity="warning", page=23, table=None,
                    message="““三公”经费财政拨款支出”预算0.95万元，决算0万元，完成率0.00%，低于30%。",
                    evidence={"item": "“三公”经费财政拨款支出", "budget": "0.95", "actual": "0", "rate": "0",
                              "stated_rate": "0", "threshold": "30",
                              "quote": "“三公”经费财政拨款支出年初预算为0.95万元，支出决算为0.00万元，完成预算的0%，"
                                       "其中：因公出国（境）费决算为0.00万元，完成预算的0%"})


def low(rate: float) -> FindingRow:
    return FindingRow.of(Finding(rule="C-EVALUATION", category="low_completion", severity="warning", page=2,
                                 table="项目支出绩效自评表", message=f"执行率{rate}%，低于30%。",
                                 evidence={"rate": rate, "budget": 10}))


@pytest.fixture
def explorer_server(database_url, tmp_path):
    """普陀区's archived final account (the real PDF, read in place through a link) with its real low-rate
    finding, another 普陀 document with a low and a high rate, and one in 长宁区."""
    settings = settings_for(database_url, tmp_path)
    archived = settings.storage_dir / relative_path(PUTUO_SHA256)
    archived.parent.mkdir(parents=True)
    archived.symlink_to(PUTUO)
    with session_scope(database_url) as session:
        add_source(session, "putuo", region="上海市/普陀区", name="普陀区财政局")
        add_source(session, "changning", region="上海市/长宁区", name="长宁区财政局")
        finance = add_document(session, "上海市普陀区财政局2024年度部门决算", date(2025, 8, 30), source_id="putuo",
                               entity="上海市普陀区财政局", year=2024, kind="final", level="部门")
        session.add(Blob(sha256=PUTUO_SHA256, size=PUTUO.stat().st_size, path=relative_path(PUTUO_SHA256),
                         filename=PUTUO.name, first_seen_at=finance.first_seen_at, status="ok", attempts=1,
                         format="pdf", kind="final", level="部门", entity="上海市普陀区财政局", year=2024, pages=25,
                         findings=[FindingRow.of(PUTUO_LOW)]))
        session.flush()
        finance.current_sha256 = finance.versions[0].sha256 = PUTUO_SHA256  # the real file instead of a placeholder
        for source_id, entity, rates in (("putuo", "上海市普陀区商务委员会", (25.0, 60.0)), ("changning", "长宁区某局", (5.0,))):
            document = add_document(session, f"{entity}2024年度部门决算", date(2025, 8, 31), source_id=source_id,
                                    entity=entity, year=2024, kind="final", level="部门")
            other = session.get(Blob, document.current_sha256)
            other.findings.extend(low(rate) for rate in rates)
        session.flush()
        finance_id = finance.id
    with serving(create_app(settings)) as base:
        yield base, finance_id


def test_explorer_low_rates_in_a_region_exported_then_a_finding_s_page(explorer_server, browser):
    base, finance_id = explorer_server
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(base + "/")
    page.get_by_role("link", name="核查发现", exact=True).click()
    page.wait_for_url("**/findings")
    page.get_by_label("地区").select_option("上海市/普陀区")
    page.get_by_label("比率低于（%）").fill("30")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**/findings?*rate_below=30*")
    page.get_by_role("link", name="比率").click()  # lowest first
    page.wait_for_url("**sort=rate*order=asc*")
    rows = page.locator("table.explorer tbody tr")
    assert rows.count() == 2
    assert [rows.nth(i).locator("td.rate").inner_text() for i in range(2)] == ["0.00%", "25.00%"]
    assert "上海市普陀区财政局" in rows.first.inner_text() and "长宁" not in page.locator("table.explorer").inner_text()
    shot(page, "6-findings-low-rates")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    exported = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert download.value.suggested_filename == "核查发现.csv"
    assert [(r[0], r[11]) for r in exported[1:]] == [("上海市普陀区财政局", "0.0"), ("上海市普陀区商务委员会", "25.0")]

    rows.first.get_by_role("link", name="查看证据").click()
    page.wait_for_url(f"**/documents/{finance_id}#finding-*")
    finding_id = page.url.rsplit("#finding-", 1)[1]
    finding = page.locator(f"#finding-{finding_id}")
    assert "完成率0.00%" in finding.locator(".message").inner_text()
    finding.get_by_text("查看原文第23页").click()
    image = finding.locator("details.page-image img")
    image.wait_for(state="visible")
    page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
    assert image.get_attribute("src") == f"/documents/{finance_id}/findings/{finding_id}/page.png"
    shot(page, "7-finding-page")
    picture = page.goto(f"{base}/documents/{finance_id}/findings/{finding_id}/page.png")
    assert picture.status == 200 and picture.headers["content-type"] == "image/png"
    assert int(picture.headers["x-highlighted"]) >= 1  # the quoted clause is boxed on the page
