"""Which configured routes receive a message, and which findings each route subscribed to."""

from __future__ import annotations

from fiscalwatch.alerts.channels import channel_style
from fiscalwatch.alerts.compose import DocumentInfo, Message, compose_document_alert
from fiscalwatch.labels import RANK
from fiscalwatch.settings import AlertRoute
from fiscalwatch.validators.core import Finding


def routes_for(message: Message, routes: list[AlertRoute]) -> list[AlertRoute]:
    """Routes whose category, minimum severity, regions and sources all admit the message. Digest routes
    get replaced and withdrawn documents in their digest instead."""
    return [route for route in routes
            if _wants(route, message.category, message.severity) and covers(route, message.region, message.source_id)
            and not (route.digest and message.category == "document")]


def findings_for_route(findings: list[Finding], route: AlertRoute) -> list[Finding]:
    """The findings a route subscribed to (category and minimum severity), or none at all when what
    remains is only info-level: those ride along with a real problem but never alert on their own."""
    kept = [f for f in findings if _wants(route, f.category, f.severity)]
    return kept if any(f.severity != "info" for f in kept) else []


def document_alerts(info: DocumentInfo, findings: list[Finding], routes: list[AlertRoute],
                    top_n: int) -> list[tuple[AlertRoute, Message]]:
    """Per route, the alert composed from just the findings it subscribed to, in the channel's style (routes
    left with none get nothing; digest routes get the document in their digest instead)."""
    alerts = []
    for route in routes:
        subscribed = findings_for_route(findings, route)
        if subscribed and covers(route, info.region, info.source_id) and not route.digest:
            alerts.append((route, compose_document_alert(info, subscribed, top_n, channel_style(route.url))))
    return alerts


def _wants(route: AlertRoute, category: str, severity: str) -> bool:
    return ((route.categories is None or category in route.categories)
            and RANK[severity] >= RANK[route.min_severity])


def covers(route: AlertRoute, region: str | None, source_id: str | None) -> bool:
    return ((route.regions is None or any(within(region, prefix) for prefix in route.regions))
            and (route.sources is None or source_id in route.sources))


def within(region: str | None, prefix: str) -> bool:
    """Path-segment prefix: "河南省" covers "河南省" and "河南省/濮阳市", not "河南省直"."""
    if region is None:
        return False
    region, prefix = region.strip("/"), prefix.strip("/")
    return region == prefix or region.startswith(prefix + "/")
