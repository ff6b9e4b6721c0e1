"""The dashboard under load (issue 13) depends on how many statements a request costs, not on this machine's
speed: counted here on a real SQLite store filled as benchmarks/dashboard_load.py does (3,000 documents,
15,000 findings, 7,000 standings). Latencies at 50 clients are that benchmark's business."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from registry_fixture import Statements
from sqlalchemy import select, update

from fiscalwatch.store.db import session_scope
from fiscalwatch.store.registry import Entity, Expectation
from fiscalwatch.web import queries

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import dashboard_load  # noqa: E402


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'fw.db'}"
    dashboard_load.fill(url, scale=1)
    return url


def test_unmatched_documents_cost_a_fixed_number_of_statements(store):
    with session_scope(store) as session, Statements(store) as statements:
        unmatched = queries.unmatched(session)
    assert len(unmatched) == 30 and all(d.source_name for d in unmatched)
    assert statements.count <= 2  # one query, whatever the number of documents (was 1 + 2 per document)


def test_the_overview_is_aggregated_once_per_data_version(store):
    queries._CACHE.clear()
    with session_scope(store) as session:
        first = queries.overview(session, 2025, None)
        with Statements(store) as statements:
            queries.years(session)
    assert statements.count == 0  # the version is read once per request (session)
    with session_scope(store) as session, Statements(store) as statements:
        again = queries.overview(session, 2025, None)
    assert again == first and statements.count == 1  # the version only
    with session_scope(store) as session:  # a refresh changes one standing, and stamps it
        target = session.scalar(select(Expectation).where(Expectation.timeliness != "overdue").limit(1))
        was = target.timeliness
        session.execute(update(Expectation).where(Expectation.id == target.id).values(
            timeliness="overdue", evaluated_at=datetime.now(timezone.utc)))
    with session_scope(store) as session:
        after = queries.overview(session, 2025, None)
    assert after.totals.timeliness["overdue"] == first.totals.timeliness["overdue"] + 1
    assert after.totals.timeliness[was] == first.totals.timeliness[was] - 1


def test_a_compliance_page_reads_only_its_rows_in_the_full_order(store):
    filters = queries.Filters(sort="days_late", order="desc", year=2025)
    with session_scope(store) as session:
        full = queries.compliance(session, filters, page=None).rows  # the export: one ordered query
        queries.compliance(session, filters, page=1)
        with Statements(store) as statements:
            third = queries.compliance(session, filters, page=3)
    # The version, then the page's rows by id: no statement sorts (or counts) the whole table per page.
    assert statements.count <= 2 and not [sql for sql in statements.sql if "ORDER BY" in sql or "count(" in sql]
    assert third.total == len(full) and third.pages == -(-len(full) // queries.PAGE_SIZE)
    assert [r.expectation_id for r in third.rows] == [r.expectation_id for r in full[2 * queries.PAGE_SIZE:3 * queries.PAGE_SIZE]]
    with session_scope(store) as session:
        region = session.scalar(select(Entity.region).limit(1))
        narrowed = queries.compliance(session, queries.Filters(region=region, timeliness="overdue"), page=1)
    assert narrowed.rows and all(r.region == region and r.timeliness == "overdue" for r in narrowed.rows)
