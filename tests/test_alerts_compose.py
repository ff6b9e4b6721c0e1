"""The Chinese text of document alerts and event alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from alerts.compose import DocumentInfo, Event, compose_document_alert, compose_event
from validators.core import Finding

INFO = DocumentInfo(
    title="濮阳市教育局2023年度部门决算公开", url="https://czj.puyang.gov.cn/yjs/202409/P020240930_1.pdf",
    source_id="puyang-czj", source_name="濮阳市财政局预决算公开", region="河南省/濮阳市", entity="濮阳市教育局",
    year=2023, kind="final", published=date(2024, 9, 30), sha256="ab12" * 16,
    archive_url="https://fiscalwatch.example.org/documents/42",
)

SUMMARY = "收入支出决算总表"
PROJECTS = "项目支出决算表"


def finding(severity: str, message: str, page: int | None = None, table: str | None = None,
            category: str = "reconciliation") -> Finding:
    return Finding(rule="r", category=category, severity=severity, message=message, page=page, table=table)


FINDINGS = [
    finding("info", f"{SUMMARY}有2处合计与明细相差在四舍五入尾差范围内。", 4, SUMMARY),
    finding("warning", "项目“校车购置”预算执行率仅20%。", 9, PROJECTS, "low_completion"),
    finding("error", f"{SUMMARY}：本年支出合计印为120，按各项支出之和计算应为118，相差2万元。", 5, SUMMARY),
    finding("warning", "项目“校舍维修”预算执行率仅12%。", 7, PROJECTS, "low_completion"),
    finding("error", f"{SUMMARY}：本年收入合计印为100，按各项收入之和计算应为95，相差5万元。", 3, SUMMARY),
    finding("error", "缺少《政府性基金预算财政拨款收入支出决算表》。", category="missing_table"),
    finding("info", "未找到绩效自评表，相关检查未执行。", category="document"),
]


def numbered(body: str) -> list[str]:
    return [line for line in body.splitlines() if line[:1].isdigit()]


def test_document_alert_header_names_the_document_and_links_both_copies():
    body = compose_document_alert(INFO, FINDINGS, top_n=5).body

    for line in ("- 单位：濮阳市教育局", "- 类别：2023年度决算", "- 文件：濮阳市教育局2023年度部门决算公开",
                 "- 来源：濮阳市财政局预决算公开", "- 发布日期：2024年9月30日",
                 f"- 原文：{INFO.url}", f"- 存档：{INFO.archive_url}"):
        assert line in body.splitlines()


def test_document_alert_lists_most_severe_first_then_by_page_and_counts_the_rest():
    message = compose_document_alert(INFO, FINDINGS, top_n=5)

    assert numbered(message.body) == [
        "1. 【错误】缺少《政府性基金预算财政拨款收入支出决算表》。",  # no page: a whole-document problem leads
        f"2. 【错误】{SUMMARY}：本年收入合计印为100，按各项收入之和计算应为95，相差5万元。（第3页）",
        f"3. 【错误】{SUMMARY}：本年支出合计印为120，按各项支出之和计算应为118，相差2万元。（第5页）",
        f"4. 【警告】项目“校舍维修”预算执行率仅12%。（第7页《{PROJECTS}》）",
        f"5. 【警告】项目“校车购置”预算执行率仅20%。（第9页《{PROJECTS}》）",
    ]
    assert "发现7项问题：错误3项、警告2项、提示2项。" in message.body
    assert message.body.endswith("另有2项未列出：提示2项。")
    assert message.title == "濮阳市教育局2023年度决算：错误3项、警告2项、提示2项"
    assert (message.category, message.severity) == ("missing_table", "error")
    assert (message.region, message.source_id) == ("河南省/濮阳市", "puyang-czj")


def test_top_n_cuts_across_severities_and_the_rest_is_counted_per_severity():
    body = compose_document_alert(INFO, FINDINGS, top_n=2).body

    assert len(numbered(body)) == 2
    assert body.endswith("另有5项未列出：错误1项、警告2项、提示2项。")


def test_everything_shown_means_no_remainder_line():
    message = compose_document_alert(INFO, FINDINGS[:2], top_n=5)

    assert len(numbered(message.body)) == 2
    assert "另有" not in message.body
    assert (message.severity, message.category) == ("warning", "low_completion")


def test_missing_details_are_said_or_left_out():
    bare = replace(INFO, entity=None, year=None, kind=None, published=None, archive_url=None)
    message = compose_document_alert(bare, FINDINGS, top_n=1)

    assert message.title == "濮阳市教育局2023年度部门决算公开：错误3项、警告2项、提示2项"
    assert "- 发布日期：未标注" in message.body
    assert "单位" not in message.body and "类别" not in message.body and "存档" not in message.body


def test_a_document_alert_needs_findings():
    with pytest.raises(ValueError):
        compose_document_alert(INFO, [], top_n=5)


SOURCE = dict(source_id="puyang-czj", source_name="濮阳市财政局预决算公开", url="https://czj.puyang.gov.cn/yjs/",
              region="河南省/濮阳市")

EVENTS = {
    "replaced": (
        Event("replaced", document=INFO, previous_sha256="cd34" * 16, previous_seen=date(2024, 9, 30),
              when=date(2024, 11, 2)),
        "document", "warning", "文件被替换：濮阳市教育局2023年度决算",
        ["同一网址", "sha256 cd34cd34cd34，2024年9月30日首次发现", "sha256 ab12ab12ab12，2024年11月2日发现",
         f"- 原文：{INFO.url}"],
    ),
    "withdrawn": (
        Event("withdrawn", document=INFO, when=date(2024, 12, 1), error="HTTP 404"),
        "document", "warning", "文件已撤下：濮阳市教育局2023年度决算",
        ["原网址已无法访问（HTTP 404）", f"- 存档：{INFO.archive_url}", "- 发现日期：2024年12月1日"],
    ),
    "crawl_failing": (
        Event("crawl_failing", failures=5, error="HTTP 503 Service Unavailable", **SOURCE),
        "operations", "error", "采集连续失败：濮阳市财政局预决算公开",
        ["（puyang-czj）已连续5次采集失败", "- 最近一次错误：HTTP 503 Service Unavailable",
         "- 栏目网址：https://czj.puyang.gov.cn/yjs/"],
    ),
    "crawl_suspicious": (
        Event("crawl_suspicious", before=120, after=3, **SOURCE),
        "operations", "warning", "采集结果异常：濮阳市财政局预决算公开列表页链接骤减",
        ["本次发现3个链接，上次为120个", "并不表示文件已被删除"],
    ),
    "overdue": (
        Event("overdue", entity="濮阳市教育局", year=2023, doc_kind="final", deadline=date(2024, 9, 30),
              when=date(2024, 10, 20), **SOURCE),
        "compliance", "warning", "逾期未公开：濮阳市教育局2023年度决算",
        ["应于2024年9月30日前公开，截至2024年10月20日仍未发现，已逾期20天"],
    ),
    "late": (
        Event("late", document=INFO, deadline=date(2024, 9, 10)),
        "compliance", "warning", "逾期公开：濮阳市教育局2023年度决算（晚20天）",
        ["公开期限为2024年9月10日，实际于2024年9月30日公开，晚20天", f"- 原文：{INFO.url}"],
    ),
}


@pytest.mark.parametrize("kind", EVENTS)
def test_each_event_kind_composes(kind):
    event, category, severity, title, fragments = EVENTS[kind]
    message = compose_event(event)

    assert (message.title, message.category, message.severity) == (title, category, severity)
    for fragment in fragments:
        assert fragment in message.body
    assert (message.region, message.source_id) == ("河南省/濮阳市", "puyang-czj")
