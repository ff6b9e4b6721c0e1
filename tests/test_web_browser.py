"""The dashboard in a real browser (Debian's Chromium, headless) against a real uvicorn server: overview,
the overdue filter, a document's findings with page references, a phone-sized view, hostile titles.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from registry_fixture import TODAY, TOKEN, dashboard_store, database_url  # noqa: F401  (fixtures)

from web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]  # the API tests cover PostgreSQL


@pytest.fixture
def server(dashboard_store):
    import uvicorn

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # a free port, held until uvicorn takes the socket over
    app = create_app(dashboard_store[0], today=TODAY)
    running = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not running.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", dashboard_store[1]
    running.should_exit = True
    thread.join(10)
    listener.close()


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
