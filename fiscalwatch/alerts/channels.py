"""How each kind of channel shows an alert, and the JSON webhook's structured fields.

Apprise's ``json://`` service posts ``{"version", "title", "message", "attachments", "type"}``; its
payload extras add fields to that object. The outbox stores one text per alert, so for JSON webhooks
that text is packed: the readable message and the fields, split again just before sending.
"""

from __future__ import annotations

import json
from typing import Literal

Style = Literal["markdown", "text", "json"]

_STYLES: dict[str, Style] = {
    "dingtalk": "markdown", "feishu": "markdown", "lark": "markdown",
    # Apprise's WeCom robot sends text messages only: Markdown marks would show as typed.
    "wecombot": "text",
    "mailto": "text", "mailtos": "text",
    "json": "json", "jsons": "json",
    "feed": "text",  # the built-in Atom feed (fiscalwatch.settings.FEED_URL): entries are plain text
}
PACKED = "fiscalwatch-alert/1"


def channel_style(url: str) -> Style:
    """Markdown where the channel renders it (DingTalk, Feishu), plain text for e-mail and WeCom robots (sent
    as text by Apprise), text plus fields for JSON webhooks; Markdown for anything else (Apprise converts it)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return _STYLES.get(scheme, "markdown")


def pack(text: str, fields: dict) -> str:
    return json.dumps({"format": PACKED, "message": text, "alert": fields}, ensure_ascii=False)


def unpack(body: str) -> tuple[str, dict]:
    """The readable text and the fields of a stored body; a plain body has no fields of its own."""
    if body.startswith("{"):
        try:
            packed = json.loads(body)
        except ValueError:
            packed = None
        if isinstance(packed, dict) and packed.get("format") == PACKED:
            return packed["message"], packed["alert"]
    return body, {}
