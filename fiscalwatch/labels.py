"""The words people read for the project's codes, in one place: the console, alerts, exports and the
dashboard all label a severity, a category or a status the same way."""

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

SEVERITIES = ("error", "warning", "info")
CATEGORIES = ("missing_table", "reconciliation", "low_completion", "document")

SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}
RANK = {severity: rank for rank, severity in enumerate(reversed(SEVERITIES))}  # info 0 < warning 1 < error 2
# Watchdogs ask for low completion first: the order of the groups in an alert.
CATEGORY = {"low_completion": "执行率低", "reconciliation": "勾稽不符", "missing_table": "缺少表格",
            "document": "文件问题"}
assert set(CATEGORY) == set(CATEGORIES) and set(SEVERITY) == set(SEVERITIES)
KIND = {"budget": "预算", "final": "决算"}

# What became of a stored file (Blob.status), and of a crawl run.
STATUS = {"ok": "已核查", "failed": "无法读取", "not_a_disclosure": "非预决算文件"}
RUN_STATUS = {"queued": "排队中", "running": "进行中", "ok": "成功", "failed": "失败"}

# Publication compliance of one entity and year (compliance.status).
TIMELINESS = {
    "not_due": "未到期",
    "on_time": "按时公开",
    "late": "逾期公开",
    "overdue": "逾期未公开",
    "withdrawn": "已撤下",
    "undated": "已公开（日期不详）",
}
QUALITY = {
    "ok": "内容完整",
    "incomplete": "缺少表格",
    "errors": "存在错误",
    "pending": "待解析",
    "unreadable": "无法解析",
}

# Evidence keys the validators write (validators/*_rules.py).
EVIDENCE = {
    "quote": "原文", "quotes": "原文", "stated": "文中数", "computed": "计算数", "printed": "印刷数", "expected": "应为",
    "actual": "实际数", "budget": "预算数", "rate": "计算比率", "stated_rate": "文中比率", "threshold": "阈值",
    "difference": "差额", "tolerance": "容差", "unit": "单位", "item": "项目", "items": "项数", "row": "行",
    "code": "科目编码", "names": "名称", "pages": "页码", "places": "位置", "section": "章节", "table_value": "表中数",
    "other_table": "对照表格", "other_page": "对照页", "other": "对照", "part": "部分", "whole": "总数",
    "year": "年度", "document_year": "文件年度", "toc_entry": "目录条目", "notes": "表注", "reasons": "原因",
    "formula": "算式", "word": "用词", "level": "级次", "entity": "单位", "table_entity": "表中单位",
    "table_page": "表格页", "current": "本年", "previous": "上年", "base": "基数", "message": "说明",
    "ocr_confidence": "识别置信度", "withheld": "未作结论的核对", "listed": "目录所列表格", "stated_unit": "文中单位",
    "file": "文件", "basis": "依据",
}
# The figures an alert quotes beside a finding, in this order.
FIGURES = {key: EVIDENCE[key] for key in ("printed", "stated", "computed", "expected", "actual", "budget", "rate",
                                          "stated_rate", "difference", "threshold")}

BEIJING = ZoneInfo("Asia/Shanghai")  # the time zone of every date and time people read


def severity_counts(severities: list[str]) -> str:
    """“错误2项、警告1项”, or 未发现问题."""
    counted = Counter(severities)
    return "、".join(f"{label}{counted[s]}项" for s, label in SEVERITY.items() if counted[s]) or "未发现问题"


def beijing(value: datetime | None) -> str:
    """A moment as people read it: Beijing time to the minute, “—” if unknown."""
    if value is None:
        return "—"
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") + "（北京时间）"
