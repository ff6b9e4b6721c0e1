"""Jinja templates (autoescaped: titles and everything else from crawled pages are untrusted) and the
labels and formats they share."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from fiscalwatch.alerts.compose import SEVERITY_LABELS
from fiscalwatch.compliance import KINDS, QUALITY, TIMELINESS
from fiscalwatch.web.auth import is_admin
from fiscalwatch.web.deps import settings_of

BEIJING = ZoneInfo("Asia/Shanghai")
CATEGORIES = {"missing_table": "缺少表格", "reconciliation": "勾稽关系", "low_completion": "执行率低",
              "document": "文件问题"}
RUN_STATUS = {"queued": "排队中", "running": "进行中", "ok": "成功", "failed": "失败"}
# Evidence keys the validators write (validators/*_rules.py), as the document page labels them.
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

templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                                           autoescape=True))
templates.env.globals.update(TIMELINESS=TIMELINESS, QUALITY=QUALITY, KINDS=KINDS, SEVERITIES=SEVERITY_LABELS,
                             CATEGORIES=CATEGORIES, EVIDENCE=EVIDENCE, RUN_STATUS=RUN_STATUS)


def _when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def _evidence(value) -> str:
    """Lists and mappings read as text, not as Python."""
    if isinstance(value, list):
        return "；".join(map(_evidence, value))
    if isinstance(value, dict):
        return "，".join(f"{EVIDENCE.get(k, k)} {_evidence(v)}" for k, v in value.items())
    return str(value)


def _web_url(value: str | None) -> str | None:
    """Only http(s) addresses become links: a crawled javascript: URL stays text."""
    return value if value and value.lower().startswith(("http://", "https://")) else None


def _query(params: dict, **changes) -> str:
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


templates.env.filters.update(when=_when, web_url=_web_url, evidence=_evidence)
templates.env.globals["query"] = _query


def render(request: Request, name: str, context: dict, status_code: int = 200):
    settings = settings_of(request)
    return templates.TemplateResponse(request, name, {
        **context, "admin": is_admin(request), "can_change": bool(settings.web_token),
    }, status_code=status_code)
