"""The Chinese text of document alerts, digests and event alerts, in each channel's style."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from fiscalwatch.alerts.channels import channel_style, unpack
from fiscalwatch.alerts.compose import DocumentInfo, Event, compose_digest, compose_document_alert, compose_event
from fiscalwatch.validators.core import Finding

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


def test_every_error_and_low_completion_is_listed_by_category_with_pages():
    message = compose_document_alert(INFO, FINDINGS, top_n=5, style="text")
    body = message.body

    groups = [line for line in body.splitlines() if line.startswith("【")]
    assert groups == ["【执行率低】2项", "【勾稽不符】2项", "【缺少表格】1项"]  # low completion first, as watchdogs ask
    assert numbered(body) == [
        f"1. 【警告】项目“校舍维修”预算执行率仅12%。（第7页《{PROJECTS}》）",
        f"2. 【警告】项目“校车购置”预算执行率仅20%。（第9页《{PROJECTS}》）",
        f"1. 【错误】{SUMMARY}：本年收入合计印为100，按各项收入之和计算应为95，相差5万元。（第3页）",
        f"2. 【错误】{SUMMARY}：本年支出合计印为120，按各项支出之和计算应为118，相差2万元。（第5页）",
        "1. 【错误】缺少《政府性基金预算财政拨款收入支出决算表》。",
    ]
    assert "发现7项问题：错误3项、警告2项、提示2项。" in body
    assert body.endswith(f"另有2项未逐条列出：提示2项，详见{INFO.archive_url}。")
    assert message.title == "濮阳市教育局2023年度决算：错误3项、警告2项、提示2项"
    assert (message.category, message.severity) == ("reconciliation", "error")  # most severe, first group
    assert (message.region, message.source_id) == ("河南省/濮阳市", "puyang-czj")


def test_the_limit_never_hides_errors_or_low_completion():
    many = [finding("error", f"第{n}处合计不符。", n) for n in range(1, 13)]
    many += [finding("warning", f"项目{n}执行率仅{n}%。", 20 + n, category="low_completion") for n in range(1, 9)]
    many += [finding("warning", f"用词不一致{n}。", 40 + n, category="document") for n in range(1, 5)]
    body = compose_document_alert(INFO, many, top_n=1, style="text").body

    for f in many[:20]:
        assert f.message in body
    assert "【其他警告】1项" in body and "用词不一致1。" in body and "用词不一致2。" not in body
    assert "另有3项未逐条列出：警告3项" in body


def test_figures_and_quote_are_shown_beside_the_finding():
    rate = Finding(rule="C-NARRATIVE", category="low_completion", severity="warning", page=21,
                   message="“其他行政事业单位医疗支出”预算794.50万元，决算90.40万元，完成率11.38%，低于30%。",
                   evidence={"budget": "794.50", "actual": "90.40", "rate": "11.38", "threshold": "30",
                             "quote": "年初预算为794.50万元，支出决算为90.40万元，完成年初预算的11.38%。"})
    lines = compose_document_alert(INFO, [rate], top_n=5, style="text").body.splitlines()

    at = lines.index(f"1. 【警告】{rate.message}（第21页）")
    assert lines[at + 1] == "   数据：实际数90.40；预算数794.50；计算比率11.38；阈值30"
    assert lines[at + 2] == "   原文：“年初预算为794.50万元，支出决算为90.40万元，完成年初预算的11.38%。”"


def test_markdown_has_headings_text_has_none():
    markdown = compose_document_alert(INFO, FINDINGS, top_n=5, style="markdown").body
    text = compose_document_alert(INFO, FINDINGS, top_n=5, style="text").body

    assert "**【执行率低】2项**" in markdown and "**" not in text
    assert markdown.replace("**", "") == text


def test_json_style_packs_the_text_and_a_field_per_finding():
    message = compose_document_alert(INFO, FINDINGS, top_n=5, style="json")
    text, fields = unpack(message.body)

    assert text == compose_document_alert(INFO, FINDINGS, top_n=5, style="text").body
    assert fields["document"]["entity"] == "濮阳市教育局" and fields["document"]["archive_url"] == INFO.archive_url
    assert fields["counts"] == {"error": 3, "warning": 2, "info": 2}
    assert len(fields["findings"]) == len(FINDINGS)  # every finding, infos too
    rate = next(f for f in fields["findings"] if "校舍维修" in f["message"])
    assert (rate["category"], rate["category_label"], rate["severity"], rate["page"], rate["table"]) == (
        "low_completion", "执行率低", "warning", 7, PROJECTS)


def test_everything_shown_means_no_remainder_line():
    message = compose_document_alert(INFO, FINDINGS[:2], top_n=5)

    assert len(numbered(message.body)) == 1
    assert "另有" in message.body and "提示1项" in message.body  # infos are counted, not listed
    assert "另有" not in compose_document_alert(INFO, FINDINGS[1:2], top_n=5).body
    assert (message.severity, message.category) == ("warning", "low_completion")


def test_missing_details_are_said_or_left_out():
    bare = replace(INFO, entity=None, year=None, kind=None, published=None, archive_url=None)
    message = compose_document_alert(bare, FINDINGS, top_n=1)

    assert message.title == "濮阳市教育局2023年度部门决算公开：错误3项、警告2项、提示2项"
    assert "- 发布日期：未标注" in message.body
    assert "单位" not in message.body and "类别" not in message.body and "存档" not in message.body
    assert message.body.endswith("另有2项未逐条列出：提示2项。")


def test_a_document_alert_needs_findings():
    with pytest.raises(ValueError):
        compose_document_alert(INFO, [], top_n=5)


def test_digest_puts_each_document_of_a_crawl_run_in_one_message():
    other = replace(INFO, entity="濮阳市民政局", title="濮阳市民政局2023年度部门决算", sha256="ef56" * 16,
                    archive_url="https://fiscalwatch.example.org/documents/43")
    message = compose_digest("濮阳市财政局预决算公开", "puyang-czj", "河南省/濮阳市",
                             [(INFO, FINDINGS), (other, FINDINGS[1:2])], top_n=5, style="json", withdrawn=1)
    text, fields = unpack(message.body)

    assert message.title == "濮阳市财政局预决算公开本轮采集汇总：2个文件，错误3项、警告3项、提示2项；文件撤下1个"
    assert "1. 濮阳市教育局2023年度决算：错误3项、警告2项、提示2项" in text
    assert "2. 濮阳市民政局2023年度决算：警告1项" in text
    assert text.count("【执行率低】") == 2 and "另有文件撤下1个" in text
    assert [d["entity"] for d in fields["documents"]] == ["濮阳市教育局", "濮阳市民政局"]
    assert fields["withdrawn"] == 1 and len(fields["documents"][0]["findings"]) == len(FINDINGS)
    assert (message.category, message.severity, message.source_id) == ("reconciliation", "error", "puyang-czj")


@pytest.mark.parametrize(("url", "style"), [
    ("dingtalk://token/", "markdown"), ("wecombot://key", "text"), ("feishu://token/", "markdown"),
    ("mailto://user:pass@example.com", "text"), ("mailtos://user:pass@example.com", "text"),
    ("json://127.0.0.1/hook", "json"), ("jsons://hooks.example.org/x", "json"), ("tgram://bot/chat", "markdown"),
])
def test_each_channel_gets_its_style(url, style):
    assert channel_style(url) == style


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
