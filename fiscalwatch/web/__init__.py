"""The dashboard and its API: compliance per entity and year, findings, alerts feed, evidence and versions."""
