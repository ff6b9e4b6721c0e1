"""One delivery attempt of one message to one Apprise URL; retries belong to the worker's outbox.

Timeouts: Apprise's own ``notify(timeout=…)`` bounds the whole call in wall-clock time (the send
runs on Apprise's worker pool and is abandoned, reported as TIMEOUT, once the deadline passes).
The abandoned thread still holds its socket until the service's socket timeouts fire (``cto`` and
``rto`` URL parameters: 4 s each by default for HTTP services, 15 s connect for e-mail), so those
are capped just above the limit: a hanging channel can neither block the caller nor pin a pool
thread for long, and is reported as a timeout rather than as a vague connection error.

The notify type follows the message's severity (error → failure, warning → warning, info → info); the
body format follows the channel (``channel_style``); JSON webhooks also get an ``alert`` object.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import apprise
from apprise import AppriseAsset, NotifyFormat, NotifyType

from fiscalwatch.alerts.channels import channel_style, unpack
from fiscalwatch.alerts.compose import Message

DEFAULT_TIMEOUT = 30.0  # seconds for one attempt, connecting included
_SOCKET_SLACK = 1.0  # sockets give up this long after Apprise stops waiting

log = logging.getLogger(__name__)
_ASSET = AppriseAsset(app_id="fiscalwatch", app_desc="fiscalwatch 预决算公开监测")
_NOTIFY_TYPES = {"error": NotifyType.FAILURE, "warning": NotifyType.WARNING, "info": NotifyType.INFO}


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    error: str | None = None


def validate_url(url: str) -> str | None:
    """Why Apprise cannot use ``url`` (offline: nothing is sent), or None when it can."""
    try:
        _service(url)
    except Exception as exc:
        return str(exc) or type(exc).__name__
    return None


def deliver(url: str, message: Message, timeout: float = DEFAULT_TIMEOUT) -> DeliveryResult:
    """Send ``message`` to one channel once; never raises."""
    shown = f"{_scheme(url)}://…"  # channel URLs carry tokens and passwords: log only a private form
    try:
        service = _service(url)
        shown = service.url(privacy=True)
        service.socket_connect_timeout = min(service.socket_connect_timeout, timeout + _SOCKET_SLACK)
        service.socket_read_timeout = min(service.socket_read_timeout, timeout + _SOCKET_SLACK)
        style = channel_style(url)
        text, fields = unpack(message.body)
        if style == "json":
            service.payload_extras["alert"] = {"category": message.category, "severity": message.severity,
                                               "source_id": message.source_id, "region": message.region, **fields}
        channel = apprise.Apprise(asset=_ASSET)
        channel.add(service)
        body_format = NotifyFormat.MARKDOWN if style == "markdown" else NotifyFormat.TEXT
        with channel.notify(body=text, title=message.title, notify_type=_NOTIFY_TYPES[message.severity],
                            body_format=body_format, timeout=timeout) as result:
            if result:
                return DeliveryResult(ok=True)
            reasons = dict.fromkeys(entry.message for entry in result.logs())  # unique, in order
            return _failed(shown, " ".join(reasons) or f"delivery failed ({result.status.name.lower()})")
    except Exception as exc:
        return _failed(shown, str(exc) or type(exc).__name__)


def _service(url: str):
    """The Apprise plugin for ``url``; raises with the plugin's own complaint (e.g. "An invalid
    DingTalk API Token … was specified") or ValueError when no plugin takes the URL."""
    service = apprise.Apprise.instantiate(url, asset=_ASSET, suppress_exceptions=False)
    if service is None:
        raise ValueError(f"not a usable Apprise URL ({_scheme(url)}://…): unknown scheme, unparseable, "
                         "or unavailable on this system")
    return service


def _failed(shown: str, error: str) -> DeliveryResult:
    log.warning("alert delivery to %s failed: %s", shown, error)
    return DeliveryResult(ok=False, error=error)


def _scheme(url: str) -> str:
    return str(url).split("://", 1)[0] if "://" in str(url) else "?"
