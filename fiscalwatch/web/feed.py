"""The Atom feed of alerts (/feeds/alerts.atom): every alert event once, newest first, optionally only those of a
region (and below), a source or a category: subscriptions for people without a chat bot. Feed readers cannot log
in, so on a private dashboard the feed takes ``?token=<feed_token>``, a key that reads the feed and nothing else."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from fiscalwatch.labels import CATEGORY
from fiscalwatch.store.models import FeedEntry
from fiscalwatch.web.auth import is_admin
from fiscalwatch.web.deps import db, settings_of
from fiscalwatch.web.explorer import public_base
from fiscalwatch.web.queries import in_region

router = APIRouter(include_in_schema=False)
ENTRIES = 100  # the newest entries a feed document holds; readers keep what they fetched before
_EMPTY_SINCE = datetime(2024, 1, 1, tzinfo=timezone.utc)  # the `updated` of a feed with no entries yet


async def feed_reader(request: Request, token: str | None = None) -> None:
    settings = settings_of(request)
    if not settings.alert_feed:
        raise HTTPException(404)
    if settings.web_public or is_admin(request):
        return
    if not (settings.feed_token and token and hmac.compare_digest(token.encode(), settings.feed_token.encode())):
        raise HTTPException(403, "订阅地址需带有效的 token 参数（配置项 feed_token）")


@router.get("/feeds/alerts.atom", dependencies=[Depends(feed_reader)])
def alerts_feed(request: Request, session: Annotated[Session, Depends(db)], region: str = "", source: str = "",
                category: str = ""):
    entries = session.scalars(_filtered(session, select(FeedEntry), region, source, category)
                              .order_by(FeedEntry.created_at.desc(), FeedEntry.id.desc()).limit(ENTRIES)).all()
    base = public_base(request)
    wanted = {key: value for key, value in (("region", region), ("source", source), ("category", category)) if value}
    feed = FeedGenerator()
    feed.id(f"{base}/feeds/alerts.atom" + (f"?{urlencode(wanted)}" if wanted else ""))
    feed.title("预决算公开监测提醒" + (f"（{'，'.join(_describe(wanted))}）" if wanted else ""))
    feed.author({"name": "fiscalwatch"})
    feed.link(href=str(request.url), rel="self")
    feed.link(href=f"{base}/", rel="alternate")
    feed.language("zh-CN")
    feed.updated(entries[0].created_at if entries else _EMPTY_SINCE)
    for entry in entries:
        item = feed.add_entry(order="append")
        item.id(f"urn:fiscalwatch:alert:{hashlib.sha256(entry.key.encode()).hexdigest()[:32]}")
        item.title(entry.title)
        item.content(entry.body, type="text")
        item.published(entry.created_at)
        item.updated(entry.created_at)
        item.category(term=entry.category, label=CATEGORY.get(entry.category, entry.category))
        if entry.document_id is not None:
            item.link(href=f"{base}/documents/{entry.document_id}", rel="alternate")
    return Response(feed.atom_str(pretty=True), media_type="application/atom+xml; charset=utf-8")


def _filtered(session: Session, query: Select, region: str, source: str, category: str) -> Select:
    if region:
        query = query.where(in_region(session, FeedEntry.region, region))
    if source:
        query = query.where(FeedEntry.source_id == source)
    if category:
        query = query.where(FeedEntry.category == category)
    return query


def _describe(wanted: dict[str, str]) -> list[str]:
    labels = {"region": "地区", "source": "数据源", "category": "类别"}
    return [f"{labels[key]}：{CATEGORY.get(value, value) if key == 'category' else value}"
            for key, value in wanted.items()]
