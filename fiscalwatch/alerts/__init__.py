"""Alerts: compose Chinese messages, route them to the configured channels, deliver through Apprise."""

from fiscalwatch.alerts.compose import DocumentInfo, Event, Message, compose_document_alert, compose_event
from fiscalwatch.alerts.deliver import DeliveryResult, deliver, validate_url
from fiscalwatch.alerts.routing import document_alerts, findings_for_route, routes_for

__all__ = [
    "DeliveryResult", "DocumentInfo", "Event", "Message", "compose_document_alert", "compose_event", "deliver",
    "document_alerts", "findings_for_route", "routes_for", "validate_url",
]
