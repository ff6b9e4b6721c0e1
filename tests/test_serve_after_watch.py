"""`fiscalwatch serve` on the embedded default shows what `fiscalwatch watch --once` collected:
documents with their findings, source health, and compliance standings from a registry — and the
overdue entity was alerted in the same cycle."""

from __future__ import annotations

import socket
import time
from datetime import date

import pytest
import requests
from pipeline_support import run_once, spawn, write_config
from portal import FixturePortal
from render_seeds import render
from webhook import WebhookReceiver

REGISTRY = """名称,别名,级次,地区,上级部门,数据源,年度,类型,批复日期
济源市社会医疗保险中心,,单位,河南省/济源市,,czyjs,2023,决算,2024-09-20
濮阳市医疗保障局,市医保局,部门,河南省/濮阳市,,czyjs,2024,预算,2024-02-01
濮阳市民政局,,部门,河南省/濮阳市,,czyjs,2024,预算,2024-02-01
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def collected(tmp_path):
    with FixturePortal() as portal, WebhookReceiver() as hooks:
        portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算", date(2024, 10, 20),
                            attachments=[("决算.pdf", render("000", "pdf").read_bytes())])
        portal.add_document("czyjs", "濮阳市医疗保障局2024年部门预算公开", date(2024, 3, 15),
                            attachments=[("预算.pdf", render("002", "pdf").read_bytes())])
        registry = tmp_path / "registry.csv"
        registry.write_text(REGISTRY, encoding="utf-8")
        config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"},
                              [{"id": "czyjs", "name": "示例门户", "url": portal.section_url("czyjs"),
                                "region": "河南省"}],
                              [{"url": hooks.url_for("/ngo")}], registry_file=str(registry))
        run_once(config)
        yield config, hooks


def test_serve_shows_what_watch_once_collected(collected):
    config, hooks = collected
    assert any(m.title.startswith("逾期未公开") and "濮阳市民政局" in m.title for m in hooks.messages())
    port = _free_port()
    server = spawn("serve", "--config", str(config), "--port", str(port), "--loglevel", "WARNING")
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                overview = requests.get(f"{base}/api/overview", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read()
                time.sleep(0.3)
        assert overview.status_code == 200

        standings = requests.get(f"{base}/api/compliance", timeout=10).json()
        by_entity = {row["entity"]: row for row in standings["rows"]}
        standing = {entity: (row["timeliness"], row["quality"], row["days_late"], row["errors"], row["missing_tables"])
                    for entity, row in by_entity.items()}
        assert standing == {
            "济源市社会医疗保险中心": ("late", "errors", 10, 2, 0),  # due 2024-10-10, published 10-20, two real errors
            "濮阳市医疗保障局": ("late", "incomplete", 23, 1, 1),  # due 2024-02-21, a table its 目录 promises is absent
            "濮阳市民政局": ("overdue", None, None, 0, 0),
        }

        sources = requests.get(f"{base}/api/sources", timeout=10).json()
        assert "示例门户" in str(sources)

        document_id = by_entity["济源市社会医疗保险中心"]["document_id"]
        page = requests.get(f"{base}/documents/{document_id}", timeout=10).text
        assert "11.38%" in page and "第21页" in page
    finally:
        server.terminate()
        server.wait(timeout=30)
