"""The dashboard: server-rendered pages (Chinese, no external assets) and the JSON API, one FastAPI app."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from fiscalwatch.settings import Settings
from fiscalwatch.web import api, evidence, explorer, feed, metrics, pages, versions
from fiscalwatch.web.admission import Admission
from fiscalwatch.web.render import render
from fiscalwatch.web.response_cache import ResponseCache

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings, today: date | None = None) -> FastAPI:
    """The app on the settings' store; ``today`` fixes the date that changes made here are evaluated on."""
    app = FastAPIOffline(  # /docs and /redoc with their scripts served from here: no CDN, works offline
        title="fiscalwatch 预决算公开监测",
        description="预决算公开情况：应公开清单、公开时效、内容完整性与核查发现。"
                    "只读接口按配置公开；修改数据需在请求头中提供 `Authorization: Bearer <web_token>`。",
        version="0.1.0",
    )
    app.state.settings = settings
    app.state.today = today
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(evidence.router)
    app.include_router(versions.router)
    app.include_router(versions.api_router)
    app.include_router(explorer.api)
    app.include_router(explorer.pages)
    app.include_router(feed.router)
    app.add_api_route("/metrics", _metrics, include_in_schema=False)
    app.add_api_route("/healthz", _healthz, include_in_schema=False)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(Admission, limit=settings.web_concurrency)  # inside the cache: answers kept need no turn
    app.add_middleware(ResponseCache, seconds=settings.web_cache_seconds)
    return app


def _metrics(request: Request) -> Response:
    """Prometheus: crawl runs, documents and files by status, parse seconds, queue depth, alert deliveries."""
    content, media_type = metrics.exposition(metrics.snapshot(request.app.state.settings))
    return Response(content, media_type=media_type)


def _healthz(request: Request) -> JSONResponse:
    """200 when the store and the broker answer (503 otherwise); failing sources are listed, not fatal."""
    try:
        shot = metrics.snapshot(request.app.state.settings)
    except Exception as exc:  # the store does not answer
        return JSONResponse(status_code=503, content={"status": "down", "error": type(exc).__name__})
    return JSONResponse(status_code=200 if shot.healthy else 503, content={
        "status": "ok" if shot.healthy else "degraded", "broker": shot.queues is not None, "queues": shot.queues,
        "failing_sources": [s.id for s in shot.failing_sources],
        "undelivered_alerts": len(shot.undelivered)})


async def _http_error(request: Request, error: HTTPException):
    """The API answers in JSON; pages send people to the login page or show the error in Chinese."""
    if request.url.path.startswith("/api/"):
        return await http_exception_handler(request, error)
    if error.status_code == 401:
        # Back to the page after logging in; a refused form post goes home (its URL is not a page).
        back = f"{request.url.path}?{request.url.query}".rstrip("?") if request.method == "GET" else "/"
        return RedirectResponse(f"/login?{urlencode({'next': back})}", status_code=303)
    messages = {404: "页面不存在", 405: "不支持的请求方式"}
    detail = error.detail if isinstance(error.detail, str) and error.status_code != 404 else None
    return render(request, "error.html", {"message": detail or messages.get(error.status_code, "请求无法处理")},
                  status_code=error.status_code)
