"""Persistence: documents, versions, archived content, findings and the alert outbox."""
