"""Request-scoped access to the settings and the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from fastapi import Request
from sqlalchemy.orm import Session

from fiscalwatch.settings import Settings
from fiscalwatch.store.db import session_scope


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def today_of(request: Request) -> date | None:
    """The date standings are computed for: fixed by create_app (tests, demos), else None for today in China."""
    return request.app.state.today


def db(request: Request) -> Iterator[Session]:
    with session_scope(settings_of(request).database_url) as session:
        yield session
