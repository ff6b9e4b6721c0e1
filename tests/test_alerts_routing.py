"""Which routes receive which messages, and which findings each route sees."""

from __future__ import annotations

from datetime import date

from fiscalwatch.alerts.compose import DocumentInfo, Event, Message, compose_event
from fiscalwatch.alerts.routing import document_alerts, findings_for_route, routes_for
from fiscalwatch.settings import AlertRoute
from fiscalwatch.validators.core import Finding


def route(name: str, **filters) -> AlertRoute:
    return AlertRoute(url=f"json://127.0.0.1/{name}", **filters)


def message(category="reconciliation", severity="error", region="河南省/濮阳市", source_id="puyang") -> Message:
    return Message("标题", "正文", category, severity, region, source_id)


def names(routes: list[AlertRoute]) -> list[str]:
    return [r.url.rsplit("/", 1)[1] for r in routes]


def test_a_route_without_filters_takes_everything():
    assert names(routes_for(message(severity="info", region=None, source_id=None), [route("all")])) == ["all"]


def test_category_filter():
    routes = [route("recon", categories=["reconciliation"]), route("ops", categories=["operations"])]

    assert names(routes_for(message(), routes)) == ["recon"]
    assert names(routes_for(message(category="operations"), routes)) == ["ops"]


def test_min_severity_admits_that_severity_and_above():
    routes = [route("info"), route("warning", min_severity="warning"), route("error", min_severity="error")]

    assert names(routes_for(message(severity="error"), routes)) == ["info", "warning", "error"]
    assert names(routes_for(message(severity="warning"), routes)) == ["info", "warning"]
    assert names(routes_for(message(severity="info"), routes)) == ["info"]


def test_regions_match_by_path_prefix():
    routes = [route("province", regions=["河南省"]), route("city", regions=["河南省/濮阳市/"]),
              route("other", regions=["河南省/郑州市", "山东省"])]

    assert names(routes_for(message(region="河南省/濮阳市/华龙区"), routes)) == ["province", "city"]
    assert names(routes_for(message(region="河南省"), routes)) == ["province"]
    assert names(routes_for(message(region="河南省直"), routes)) == []  # a prefix of the name, not of the path
    assert names(routes_for(message(region=None), routes)) == []


def test_sources_filter():
    routes = [route("puyang", sources=["puyang"]), route("anyang", sources=["anyang", "hebi"])]

    assert names(routes_for(message(source_id="puyang"), routes)) == ["puyang"]
    assert names(routes_for(message(source_id=None), routes)) == []


def test_events_route_by_their_category():
    routes = [route("ngo", categories=["document", "compliance", "reconciliation"], min_severity="warning"),
              route("ops", categories=["operations"])]
    failing = compose_event(Event("crawl_failing", source_id="puyang", source_name="濮阳市财政局", failures=3,
                                  error="timeout"))
    overdue = compose_event(Event("overdue", entity="濮阳市教育局", year=2023, doc_kind="final",
                                  deadline=date(2024, 9, 30), when=date(2024, 10, 3)))

    assert names(routes_for(failing, routes)) == ["ops"]
    assert names(routes_for(overdue, routes)) == ["ngo"]


FINDINGS = [
    Finding("sum", "reconciliation", "error", "收入支出决算总表：合计不符。", 3, "收入支出决算总表"),
    Finding("rate", "low_completion", "warning", "执行率仅12%。", 7, "项目支出决算表"),
    Finding("tail", "reconciliation", "info", "尾差。", 4, "收入支出决算总表"),
    Finding("table", "missing_table", "error", "缺少《三公经费支出决算表》。"),
]


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def test_findings_for_route_keeps_what_the_route_subscribed_to():
    assert rules(findings_for_route(FINDINGS, route("all"))) == ["sum", "rate", "tail", "table"]
    assert rules(findings_for_route(FINDINGS, route("errors", min_severity="error"))) == ["sum", "table"]
    assert rules(findings_for_route(FINDINGS, route("recon", categories=["reconciliation"]))) == ["sum", "tail"]
    assert findings_for_route(FINDINGS, route("docs", categories=["document"])) == []


def test_info_findings_alone_are_not_worth_an_alert():
    info_only = [f for f in FINDINGS if f.severity == "info"]

    assert findings_for_route(info_only, route("all")) == []
    assert findings_for_route(FINDINGS, route("low", categories=["reconciliation"], min_severity="warning")) \
        == [FINDINGS[0]]


DOC = DocumentInfo(title="濮阳市教育局2023年度部门决算", url="https://czj.puyang.gov.cn/t1.pdf", source_id="puyang",
                   source_name="濮阳市财政局", region="河南省/濮阳市", entity="濮阳市教育局", year=2023, kind="final",
                   published=date(2024, 9, 30), sha256="0" * 64)


def test_document_alerts_compose_per_route_from_its_own_findings():
    routes = [route("all"), route("rates", categories=["low_completion"]),
              route("tables", categories=["missing_table"], regions=["山东省"]),
              route("documents", categories=["document"])]

    alerts = dict((names([r])[0], m) for r, m in document_alerts(DOC, FINDINGS, routes, top_n=5))

    assert sorted(alerts) == ["all", "rates"]  # "tables" covers another region; "documents" has nothing
    assert alerts["all"].title.endswith("错误2项、警告1项、提示1项")
    assert alerts["rates"].title.endswith("：警告1项")
    assert "执行率仅12%" in alerts["rates"].body and "合计不符" not in alerts["rates"].body
    assert (alerts["rates"].category, alerts["rates"].severity) == ("low_completion", "warning")


def test_digest_routes_take_documents_in_their_digest_only():
    routes = [route("each"), route("digest", digest=True), route("ops", categories=["operations"], digest=True)]
    withdrawn = compose_event(Event("withdrawn", document=DOC, when=date(2024, 12, 1), error="HTTP 404"))
    failing = compose_event(Event("crawl_failing", source_id="puyang", source_name="濮阳市财政局", failures=3,
                                  error="timeout"))

    assert names([r for r, _ in document_alerts(DOC, FINDINGS, routes, top_n=5)]) == ["each"]
    assert names(routes_for(withdrawn, routes)) == ["each"]  # counted in the digest instead
    assert names(routes_for(failing, routes)) == ["each", "digest", "ops"]  # operations never wait for a digest
