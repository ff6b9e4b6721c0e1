"""The Atom feed of alerts (/feeds/alerts.atom) on SQLite and PostgreSQL: every alert event once, with or without
chat channels, never a delivery; per region, source or category; a read-only token on a private dashboard."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest
from fastapi.testclient import TestClient
from pipeline_support import fiscalwatch, rows, write_config
from portal import FixturePortal
from registry_fixture import add_document, add_source, database_url, settings_for  # noqa: F401  (fixture)
from render_seeds import render
from sqlalchemy import select

from fiscalwatch.alerts import Event
from fiscalwatch.alerts.outbox import document_info, enqueue_event
from fiscalwatch.settings import FEED_ROUTE, AlertRoute
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Alert, Blob, DocumentRow, FeedEntry, FindingRow
from fiscalwatch.validators.core import Finding
from fiscalwatch.web.app import create_app
from fiscalwatch.workers.documents import queue_document_alerts

ATOM = {"atom": "http://www.w3.org/2005/Atom"}
CHANNELS = [AlertRoute(url="json://127.0.0.1:9/ngo"), AlertRoute(url="json://127.0.0.1:9/press", min_severity="error")]


def low(rate: float) -> FindingRow:
    return FindingRow.of(Finding(rule="C-NARRATIVE", category="low_completion", severity="warning",
                                 message=f"预算完成率为{rate}%，低于30%。", page=3, table=None,
                                 evidence={"rate": rate, "budget": 100}))


def mismatch() -> FindingRow:
    return FindingRow.of(Finding(rule="R-HIER", category="reconciliation", severity="error", message="合计与各项之和相差2万元。",
                                 page=5, table="支出决算表", evidence={"printed": 102, "computed": 100, "difference": 2}))


def publish(session, settings, source_id: str, entity: str, *findings: FindingRow) -> DocumentRow:
    """A processed document and its alerts, as the pipeline queues them."""
    document = add_document(session, f"{entity}2024年度部门决算", date(2025, 8, 20), source_id=source_id, entity=entity,
                            year=2024, kind="final", level="部门")
    blob = session.get(Blob, document.current_sha256)
    blob.findings.extend(findings)
    session.flush()
    queue_document_alerts(session, settings, document)
    return document


def feed(client, **params) -> ET.Element:
    response = client.get("/feeds/alerts.atom", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    return ET.fromstring(response.content)


def titles(atom: ET.Element) -> list[str]:
    return [entry.findtext("atom:title", namespaces=ATOM) for entry in atom.findall("atom:entry", ATOM)]


@pytest.fixture
def store(database_url, tmp_path):
    """Alerts of documents in 濮阳 (city, district), 河南省直 and 山东, a withdrawal and a failing crawl, with two
    chat channels configured."""
    settings = settings_for(database_url, tmp_path, alerts=CHANNELS, dashboard_url="https://fw.example.org")
    with session_scope(database_url) as session:
        add_source(session, "py", region="河南省/濮阳市")
        add_source(session, "hl", region="河南省/濮阳市/华龙区")
        add_source(session, "hnz", region="河南省直")
        add_source(session, "sd", region="山东省/济南市", name="济南市财政局")
        edu = publish(session, settings, "py", "濮阳市教育局", low(12.5))
        publish(session, settings, "hl", "华龙区教育局", low(25.0), mismatch())
        publish(session, settings, "hnz", "河南省直某局", low(10.0))
        publish(session, settings, "sd", "济南市某局", mismatch())
        enqueue_event(session, f"withdrawn|{edu.id}|{edu.current_sha256}", Event(
            kind="withdrawn", document=document_info(session, settings, edu), region="河南省/濮阳市", source_id="py",
            when=date(2025, 9, 1), error="HTTP 404"), settings.alerts, edu.id)
        enqueue_event(session, "crawl_failing|sd|1", Event(
            kind="crawl_failing", source_id="sd", source_name="济南市财政局", region="山东省/济南市",
            url="https://sd.example.gov.cn/", failures=3, error="HTTP 521"), settings.alerts)
        ids = {"edu": edu.id}
    return settings, ids


def test_each_event_is_one_entry_whatever_the_channels_and_no_delivery(store):
    settings, ids = store
    assert settings.alerts == [*CHANNELS, FEED_ROUTE]
    entries = rows(settings.database_url, FeedEntry)
    assert len(entries) == 6 and len({e.key for e in entries}) == 6
    alerts = rows(settings.database_url, Alert)
    assert {a.channel for a in alerts} == {c.url for c in CHANNELS}  # the feed is never an outbox row to send
    assert len(alerts) == 6 + 3  # ngo gets all six, press only the three with an error
    with session_scope(settings.database_url) as session:  # the pipeline queuing a document again adds nothing
        queue_document_alerts(session, settings, session.get(DocumentRow, ids["edu"]))
    assert len(rows(settings.database_url, FeedEntry)) == 6 and len(rows(settings.database_url, Alert)) == 9
    [edu] = [e for e in entries if e.key == f"document|{ids['edu']}|{e.key.rsplit('|', 1)[1]}"]
    assert "预算完成率为12.5%" in edu.body and "**" not in edu.body  # plain text, not the Markdown of chat channels
    assert (edu.category, edu.severity, edu.region, edu.source_id) == ("low_completion", "warning", "河南省/濮阳市", "py")


def test_the_feed_shows_every_alert_newest_first_linking_to_the_document(store):
    settings, ids = store
    atom = feed(TestClient(create_app(settings)))
    assert atom.findtext("atom:title", namespaces=ATOM) == "预决算公开监测提醒"
    shown = titles(atom)
    assert len(shown) == 6 and shown[0] == "采集连续失败：济南市财政局" and shown[1].startswith("文件已撤下")
    edu = next(e for e in atom.findall("atom:entry", ATOM) if "濮阳市教育局" in e.findtext("atom:title", namespaces=ATOM)
               and not e.findtext("atom:title", namespaces=ATOM).startswith("文件已撤下"))
    assert edu.find("atom:link", ATOM).get("href") == f"https://fw.example.org/documents/{ids['edu']}"
    assert edu.find("atom:content", ATOM).get("type") == "text"
    assert "预算完成率为12.5%" in edu.findtext("atom:content", namespaces=ATOM)
    assert edu.find("atom:category", ATOM).get("term") == "low_completion"
    assert edu.find("atom:category", ATOM).get("label") == "执行率低"
    ids_shown = [e.findtext("atom:id", namespaces=ATOM) for e in atom.findall("atom:entry", ATOM)]
    again = feed(TestClient(create_app(settings))).findall("atom:entry", ATOM)
    assert len(set(ids_shown)) == 6 and ids_shown == [e.findtext("atom:id", namespaces=ATOM) for e in again]


def test_feeds_per_region_source_and_category(store):
    client = TestClient(create_app(store[0]))
    henan = titles(feed(client, region="河南省"))
    assert len(henan) == 3 and not any("河南省直" in t or "济南" in t for t in henan)  # by path, not by name
    assert any("华龙区教育局" in t for t in henan)
    assert len(titles(feed(client, region="河南省/濮阳市/华龙区"))) == 1
    assert [t for t in titles(feed(client, region="河南省直"))] == ["河南省直某局2024年度决算：警告1项"]
    jinan = titles(feed(client, source="sd"))
    assert len(jinan) == 2 and jinan[0] == "采集连续失败：济南市财政局"
    low_rates = titles(feed(client, category="low_completion"))
    assert len(low_rates) == 2 and all("警告1项" in t for t in low_rates)  # 华龙区's alert is filed under its error
    assert titles(feed(client, region="河南省/濮阳市", category="document")) == [t for t in henan if t.startswith("文件已撤下")]
    narrowed = feed(client, region="河南省", category="low_completion")
    assert narrowed.findtext("atom:title", namespaces=ATOM) == "预决算公开监测提醒（地区：河南省，类别：执行率低）"
    assert titles(feed(client, region="湖北省")) == []


def test_without_chat_channels_the_feed_still_has_every_alert(database_url, tmp_path):
    settings = settings_for(database_url, tmp_path, alerts=[])
    assert settings.alerts == [FEED_ROUTE]
    with session_scope(database_url) as session:
        add_source(session, "py", region="河南省/濮阳市")
        document = publish(session, settings, "py", "濮阳市教育局", low(12.5))
    assert rows(database_url, Alert) == []
    [entry] = feed(TestClient(create_app(settings))).findall("atom:entry", ATOM)
    assert entry.findtext("atom:title", namespaces=ATOM) == "濮阳市教育局2024年度决算：警告1项"
    assert entry.find("atom:link", ATOM).get("href") == f"https://fw.example.org/documents/{document.id}"


def test_the_feed_can_be_turned_off(database_url, tmp_path):
    settings = settings_for(database_url, tmp_path, alerts=CHANNELS, alert_feed=False)
    assert settings.alerts == CHANNELS
    with session_scope(database_url) as session:
        add_source(session, "py", region="河南省/濮阳市")
        publish(session, settings, "py", "濮阳市教育局", low(12.5))
    assert rows(database_url, FeedEntry) == [] and len(rows(database_url, Alert)) == 1
    assert TestClient(create_app(settings)).get("/feeds/alerts.atom").status_code == 404


def test_a_private_dashboard_opens_its_feed_to_the_feed_token_only(store):
    settings = store[0].model_copy(update={"web_public": False, "web_token": "admin-secret", "feed_token": "feed-key"})
    client = TestClient(create_app(settings))
    assert client.get("/feeds/alerts.atom").status_code == 403
    assert client.get("/feeds/alerts.atom", params={"token": "wrong"}).status_code == 403
    assert client.get("/feeds/alerts.atom", params={"token": "admin-secret"}).status_code == 403
    assert len(titles(feed(client, token="feed-key", category="low_completion"))) == 2
    assert client.get("/feeds/alerts.atom", headers={"Authorization": "Bearer admin-secret"}).status_code == 200
    assert client.get("/api/findings", params={"token": "feed-key"}).status_code == 401  # it opens the feed only
    unset = TestClient(create_app(settings.model_copy(update={"feed_token": None})))
    assert unset.get("/feeds/alerts.atom", params={"token": ""}).status_code == 403


@pytest.mark.slow
def test_a_monitoring_run_without_channels_fills_the_feed(tmp_path):
    db = f"sqlite:///{tmp_path / 'fw.db'}"
    with FixturePortal() as portal:
        portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算", date(2024, 10, 20),
                            attachments=[("决算.pdf", render("000", "pdf").read_bytes())])
        source = {"id": "czyjs", "name": "示例门户", "url": portal.section_url("czyjs"), "region": "河南省/济源市"}
        no_channels = write_config(tmp_path, {"database_url": db}, [source], [],
                                   dashboard_url="https://fiscalwatch.example.org")
        result = fiscalwatch("watch", "--once", "--config", str(no_channels), "--loglevel", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "未配置提醒渠道" in result.stderr and "feed://" not in result.stderr  # the feed is no channel to fix
    assert "发送提醒0条" in result.stdout and rows(db, Alert) == []
    [document] = rows(db, DocumentRow)
    with session_scope(db) as session:
        stored = session.scalars(select(FindingRow).where(FindingRow.sha256 == document.current_sha256)).all()
        assert any(f.category == "low_completion" for f in stored)
    settings = settings_for(db, tmp_path, alerts=[], dashboard_url="https://fiscalwatch.example.org")
    [entry] = feed(TestClient(create_app(settings)), region="河南省").findall("atom:entry", ATOM)
    assert entry.findtext("atom:title", namespaces=ATOM).startswith("济源市社会医疗保险中心")
    assert "11.38%" in entry.findtext("atom:content", namespaces=ATOM)
    assert entry.find("atom:link", ATOM).get("href") == f"https://fiscalwatch.example.org/documents/{document.id}"
