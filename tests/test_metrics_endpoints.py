"""/metrics (Prometheus text format) and /healthz on the store that `watch --once` filled: crawl runs,
documents and files by status, parse seconds, queue depth, alert deliveries; a dead broker is unhealthy."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from pipeline_support import backend, fiscalwatch, write_config
from portal import FixturePortal
from prometheus_client.parser import text_string_to_metric_families
from render_seeds import render
from webhook import WebhookReceiver

from fiscalwatch.settings import Settings, load_settings
from fiscalwatch.web.app import create_app
from fiscalwatch.web.metrics import snapshot
from fiscalwatch.workers.app import configure
from fiscalwatch.workers.dispatch import send
from fiscalwatch.workers.runner import check_broker, prepare

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    work = tmp_path_factory.mktemp("metrics")
    with FixturePortal() as portal, WebhookReceiver() as hooks:
        portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算", date(2024, 10, 20),
                            attachments=[("决算.pdf", render("000", "pdf").read_bytes())])
        portal.add_section("broken")
        portal.fail_next(portal.section_url("broken").removeprefix(portal.base_url), times=10, status=503)
        config = write_config(work, {"database_url": f"sqlite:///{work / 'fw.db'}"}, [
            {"id": "good", "name": "正常的门户", "url": portal.section_url("czyjs")},
            {"id": "down", "name": "服务器出错的门户", "url": portal.section_url("broken")},
        ], [{"url": hooks.url_for("/ngo")}], fetch_retries=0)
        result = fiscalwatch("watch", "--once", "--config", str(config), "--loglevel", "WARNING")
        assert result.returncode == 1, result.stderr[-3000:]  # one source failed
        hooks.wait_for(1, path="/ngo")
    settings = load_settings(config)
    yield settings
    configure(Settings())


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_count_what_the_store_holds(watched):
    response = TestClient(create_app(watched)).get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)

    assert samples[("fiscalwatch_crawl_runs", (("status", "ok"),))] == 1
    assert samples[("fiscalwatch_crawl_runs", (("status", "failed"),))] == 1
    assert samples[("fiscalwatch_documents", (("status", "active"),))] == 1
    assert samples[("fiscalwatch_files", (("status", "ok"),))] == 1
    assert samples[("fiscalwatch_alerts", (("status", "sent"),))] == 1
    assert samples[("fiscalwatch_source_consecutive_failures", (("source", "down"),))] == 1
    assert samples[("fiscalwatch_source_consecutive_failures", (("source", "good"),))] == 0
    assert samples[("fiscalwatch_parse_seconds_count", ())] == 1
    assert 0 < samples[("fiscalwatch_parse_seconds_sum", ())] < 900
    assert samples[("fiscalwatch_parse_seconds_bucket", (("le", "+Inf"),))] == 1
    assert {q: samples[("fiscalwatch_queue_depth", (("queue", q),))] for q in ("crawl", "parse", "alert")} == {
        "crawl": 0, "parse": 0, "alert": 0}
    assert samples[("fiscalwatch_broker_up", ())] == 1


def test_healthz_answers_and_names_failing_sources(watched):
    response = TestClient(create_app(watched)).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "broker": True, "queues": {"crawl": 0, "parse": 0, "alert": 0},
                               "failing_sources": ["down"], "undelivered_alerts": 0}


def test_a_dead_broker_is_unhealthy(watched):
    dead = watched.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    client = TestClient(create_app(dead))
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["broker"] is False
    assert _samples(client.get("/metrics").text)[("fiscalwatch_broker_up", ())] == 0


def test_queue_depth_on_redis_and_postgresql(tmp_path):
    with backend("distributed", tmp_path) as store:
        settings = Settings(**store, storage_dir=tmp_path / "files")
        try:
            prepare(settings)
            configure(settings)
            assert snapshot(settings).queues == {"crawl": 0, "parse": 0, "alert": 0}  # nothing declared yet
            check_broker()
            assert send("tick") and send("tick") and send("deliver_alert", 1)
            samples = _samples(TestClient(create_app(settings)).get("/metrics").text)
        finally:
            configure(Settings())
    assert {q: samples[("fiscalwatch_queue_depth", (("queue", q),))] for q in ("crawl", "parse", "alert")} == {
        "crawl": 2, "parse": 0, "alert": 1}
