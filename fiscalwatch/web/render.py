"""Jinja templates (autoescaped: titles and everything else from crawled pages are untrusted) and the
labels and formats they share."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from fiscalwatch.labels import BEIJING, CATEGORY, EVIDENCE, KIND, QUALITY, RUN_STATUS, SEVERITY, TIMELINESS
from fiscalwatch.web.auth import is_admin
from fiscalwatch.web.deps import settings_of

templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                                           autoescape=True))
templates.env.globals.update(TIMELINESS=TIMELINESS, QUALITY=QUALITY, KINDS=KIND, SEVERITIES=SEVERITY,
                             CATEGORIES=CATEGORY, EVIDENCE=EVIDENCE, RUN_STATUS=RUN_STATUS)


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
