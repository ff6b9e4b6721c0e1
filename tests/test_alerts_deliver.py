"""Delivery through real Apprise to a local webhook receiver, and offline URL validation."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace
from datetime import date

import pytest
from webhook import WebhookReceiver

from fiscalwatch.alerts.compose import DocumentInfo, Message, compose_document_alert
from fiscalwatch.alerts.deliver import DeliveryResult, deliver, validate_url
from fiscalwatch.validators.core import Finding

MESSAGE = Message(
    title="濮阳市教育局2023年度决算：错误1项",
    body="- 单位：濮阳市教育局\n\n发现1项问题：错误1项。\n\n1. 【错误】收入支出决算总表：合计不符。（第3页）",
    category="reconciliation", severity="error", region="河南省/濮阳市", source_id="puyang",
)


@pytest.fixture
def hooks():
    with WebhookReceiver() as receiver:
        yield receiver


def test_a_message_arrives_as_sent(hooks):
    assert deliver(hooks.url_for("/ngo"), MESSAGE) == DeliveryResult(ok=True)

    [received] = hooks.wait_for(1, path="/ngo")
    assert (received.title, received.message, received.type) == (MESSAGE.title, MESSAGE.body, "failure")
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["User-Agent"] == "fiscalwatch"


def test_an_http_error_is_reported_not_raised(hooks):
    hooks.fail_next(path="/ngo")

    result = deliver(hooks.url_for("/ngo"), MESSAGE)

    assert not result.ok and "500" in result.error
    assert [(r.path, r.status) for r in hooks.requests] == [("/ngo", 500)]


def test_an_unreachable_port_is_reported():
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = deliver(f"json://127.0.0.1:{port}/hook", MESSAGE, timeout=5)

    assert not result.ok and "connection error" in result.error.lower()


def test_a_hanging_channel_times_out(hooks):
    hooks.hang_next(path="/slow")

    started = time.monotonic()
    result = deliver(hooks.url_for("/slow"), MESSAGE, timeout=0.5)

    assert time.monotonic() - started < 2
    assert not result.ok and "did not finish" in result.error
    assert [(r.path, r.status) for r in hooks.requests] == [("/slow", None)]


def test_failing_and_hanging_channels_do_not_hold_up_a_healthy_one(hooks):
    hooks.fail_next(path="/broken")
    hooks.hang_next(path="/slow")
    results: dict[str, DeliveryResult] = {}

    def send(path: str) -> None:
        results[path] = deliver(hooks.url_for(path), MESSAGE, timeout=2)

    threads = [threading.Thread(target=send, args=(path,)) for path in ("/slow", "/broken", "/ngo")]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    hooks.wait_for(1, path="/ngo", timeout=1)  # well before the hanging channel gives up
    for thread in threads:
        thread.join(timeout=5)

    assert time.monotonic() - started < 4
    assert results["/ngo"].ok
    assert not results["/broken"].ok and "500" in results["/broken"].error
    assert not results["/slow"].ok and "did not finish" in results["/slow"].error


def test_the_same_receiver_serves_later_deliveries_after_failures(hooks):
    hooks.fail_next(2)
    outcomes = [deliver(hooks.url_for("/ngo"), MESSAGE).ok for _ in range(3)]

    assert outcomes == [False, False, True]
    assert len(hooks.wait_for(1)) == 1


def test_an_unusable_url_is_reported_not_raised():
    result = deliver("dingtalk://", MESSAGE)

    assert not result.ok and "DingTalk" in result.error


@pytest.mark.parametrize("url", [
    "mailto://alerts:app-password@example.com?to=ngo@example.org",
    "mailtos://alerts:app-password@smtp.example.com:465?from=alerts@example.com&to=a@example.org,b@example.org",
    "dingtalk://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/",
    "dingtalk://SECabcdef0123456789@0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/",
    "wecombot://0123abcd-4567-89ef-0123-456789abcdef",
    "feishu://0123abcd-4567-89ef-0123-456789abcdef",
    "json://127.0.0.1:8080/hooks/fiscalwatch?rto=10",
    "jsons://hooks.example.org/fiscalwatch",
])
def test_channel_urls_are_accepted_offline(url):
    assert validate_url(url) is None


@pytest.mark.parametrize(("url", "complaint"), [
    ("dingtalk://", "DingTalk"),
    ("wecombot://", "WeCom"),
    ("feishu://", "Feishu"),
    ("mailto://", "email"),
    ("nosuchservice://token", "not a usable Apprise URL"),
    ("https://example.org/hook", "not a usable Apprise URL"),
    ("not a url", "not a usable Apprise URL"),
])
def test_unusable_urls_are_explained(url, complaint):
    assert complaint.lower() in validate_url(url).lower()


@pytest.mark.parametrize(("severity", "notify_type"), [("error", "failure"), ("warning", "warning"), ("info", "info")])
def test_the_notify_type_follows_severity(hooks, severity, notify_type):
    assert deliver(hooks.url_for("/ngo"), replace(MESSAGE, severity=severity)).ok

    [received] = hooks.wait_for(1, path="/ngo")
    assert received.type == notify_type
    assert received.body["alert"]["severity"] == severity


def test_a_json_webhook_gets_the_text_and_a_field_per_finding(hooks):
    info = DocumentInfo(title="濮阳市教育局2023年度部门决算", url="https://czj.puyang.gov.cn/t1.pdf", source_id="puyang",
                        source_name="濮阳市财政局", region="河南省/濮阳市", entity="濮阳市教育局", year=2023,
                        kind="final", published=date(2024, 9, 30), sha256="0" * 64)
    findings = [Finding("C-NARRATIVE", "low_completion", "warning", "完成率11.38%，低于30%。", 21,
                        evidence={"budget": "794.50", "actual": "90.40", "rate": "11.38"}),
                Finding("R-SUM", "reconciliation", "error", "合计不符。", 3, "收入支出决算总表",
                        {"printed": "120", "computed": "118"})]
    message = compose_document_alert(info, findings, top_n=5, style="json")

    assert deliver(hooks.url_for("/ngo"), message).ok

    [received] = hooks.wait_for(1, path="/ngo")
    assert received.message == compose_document_alert(info, findings, top_n=5, style="text").body
    alert = received.body["alert"]
    assert (alert["category"], alert["severity"], alert["source_id"]) == ("reconciliation", "error", "puyang")
    assert [(f["category"], f["severity"], f["page"], f["figures"]) for f in alert["findings"]] == [
        ("low_completion", "warning", 21, {"budget": "794.50", "actual": "90.40", "rate": "11.38"}),
        ("reconciliation", "error", 3, {"printed": "120", "computed": "118"})]
    assert alert["document"]["entity"] == "濮阳市教育局" and alert["counts"] == {"error": 1, "warning": 1, "info": 0}
