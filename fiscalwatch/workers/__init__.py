"""Celery workers: the pipeline stages crawl → fetch → parse/validate → alert, and the roles that run them."""
