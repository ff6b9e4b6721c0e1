"""Access: read-only pages are public when configured; every change needs the admin token, sent as
``Authorization: Bearer <token>`` or proven once on the login page (a cookie derived from the token)."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import HTTPException, Request

from fiscalwatch.web.deps import settings_of

COOKIE = "fiscalwatch_session"


def session_cookie(token: str) -> str:
    # Derived rather than the token itself, so the cookie is useless as an API token; changing the token
    # logs everyone out.
    return hmac.new(token.encode(), b"fiscalwatch dashboard session", hashlib.sha256).hexdigest()


def is_admin(request: Request) -> bool:
    token = settings_of(request).web_token
    if not token:
        return False
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer ") and hmac.compare_digest(bearer[7:].strip().encode(), token.encode()):
        return True
    return hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), session_cookie(token).encode())


def token_matches(request: Request, password: str) -> bool:
    token = settings_of(request).web_token
    return bool(token) and hmac.compare_digest(password.encode(), token.encode())


async def reader(request: Request) -> None:
    """Dependency of every read-only page and API call (async: no I/O, so no trip to a thread)."""
    if not settings_of(request).web_public and not is_admin(request):
        raise HTTPException(401, "请先登录")


async def admin(request: Request) -> None:
    """Dependency of everything that changes data."""
    if not settings_of(request).web_token:
        raise HTTPException(403, "未配置管理令牌（web_token），无法修改数据")
    if not is_admin(request):
        raise HTTPException(401, "需要管理令牌，请先登录")
