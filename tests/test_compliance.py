"""Publication compliance end to end on SQLite and PostgreSQL: registry import, matching, standings and the
overdue/late alerts, exactly once, across a fiscal-year boundary."""

from __future__ import annotations

from datetime import date

from alembic import command
from registry_fixture import (  # noqa: F401  (database_url is a fixture)
    REGISTRY_CSV,
    add_budgets_after_deadline,
    add_budgets_by_deadline,
    add_document,
    add_source,
    database_url,
    settings_for,
)
from sqlalchemy import func, select

from fiscalwatch.compliance import ImportResult, assign_document, refresh_compliance
from fiscalwatch.store.db import alembic_config, session_scope
from fiscalwatch.store.models import Alert
from fiscalwatch.store.registry import DocumentMatch, Entity, Expectation


def standings(url: str) -> dict[tuple[str, int, str], tuple]:
    with session_scope(url) as session:
        rows = session.execute(select(Entity.name, Expectation).join(Expectation.entity))
        return {(name.removeprefix("濮阳市"), e.year, e.kind): (e.timeliness, e.quality, e.days_late, e.deadline)
                for name, e in rows}


def alerts(url: str) -> list[tuple[str, str]]:
    with session_scope(url) as session:
        return [(a.key.rsplit("|", 1)[0], a.title) for a in session.scalars(select(Alert).order_by(Alert.id))]


def entity_id(url: str, name: str) -> int:
    with session_scope(url) as session:
        return session.scalar(select(Entity.id).where(Entity.name == name))


def test_statuses_and_alerts_through_a_budget_season_and_the_next_final_accounts(database_url, tmp_path):
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY_CSV, encoding="utf-8")
    settings = settings_for(database_url, tmp_path, registry_file=registry)
    # Stage 1: the deadline day (2 March 2025).
    with session_scope(database_url) as session:
        add_source(session)
        add_budgets_by_deadline(session)

    summary = refresh_compliance(settings, today=date(2025, 3, 2))

    assert summary.imported == ImportResult(created=8, updated=0, expectations=7) and summary.entities == 8
    due = date(2025, 3, 2)
    assert standings(database_url) == {
        ("教育局", 2025, "budget"): ("on_time", "ok", 0, due),
        ("财政局", 2025, "budget"): ("not_due", None, None, due),
        ("卫生健康委员会", 2025, "budget"): ("not_due", None, None, due),  # the region's default approval date
        ("医疗保障局", 2025, "budget"): ("withdrawn", "ok", 0, due),
        ("民政局", 2025, "budget"): ("on_time", "incomplete", 0, due),
        ("交通运输局", 2025, "budget"): ("on_time", "errors", 0, due),
        ("教育局机关", 2025, "budget"): ("not_due", None, None, due),
        ("华龙区教育局", 2025, "budget"): ("not_due", None, None, due),
        ("教育局", 2024, "final"): ("not_due", None, None, date(2025, 8, 21)),
        ("财政局", 2024, "final"): ("not_due", None, None, date(2025, 8, 21)),
    }
    assert alerts(database_url) == [] and summary.alerts == 0

    # Stage 2: 20 March. 财政局 published ten days late; three entities published nothing.
    with session_scope(database_url) as session:
        found = add_budgets_after_deadline(session)
    summary = refresh_compliance(settings, today=date(2025, 3, 20))

    assert summary.alerts == 4 and summary.unmatched == 1 and summary.matched == 5
    current = standings(database_url)
    assert current[("财政局", 2025, "budget")] == ("late", "ok", 10, due)
    assert {k for k, v in current.items() if v[0] == "overdue"} == {
        ("卫生健康委员会", 2025, "budget"), ("教育局机关", 2025, "budget"), ("华龙区教育局", 2025, "budget")}
    assert summary.timeliness == {"on_time": 3, "late": 1, "overdue": 3, "withdrawn": 1, "not_due": 2}
    assert summary.quality == {"ok": 3, "incomplete": 1, "errors": 1}
    health, unit, district, finance = (entity_id(database_url, n) for n in (
        "濮阳市卫生健康委员会", "濮阳市教育局机关", "华龙区教育局", "濮阳市财政局"))
    assert alerts(database_url) == [
        (f"late|{finance}|2025|budget", "逾期公开：濮阳市财政局2025年度预算（晚10天）"),
        (f"overdue|{health}|2025|budget", "逾期未公开：濮阳市卫生健康委员会2025年度预算"),
        (f"overdue|{unit}|2025|budget", "逾期未公开：濮阳市教育局机关2025年度预算"),
        (f"overdue|{district}|2025|budget", "逾期未公开：华龙区教育局2025年度预算"),
    ]

    # Re-runs (and the day after) alert nothing new.
    assert refresh_compliance(settings, today=date(2025, 3, 20)).alerts == 0
    assert refresh_compliance(settings, today=date(2025, 3, 21)).alerts == 0
    assert len(alerts(database_url)) == 4

    # Stage 3: a person assigns the unmatched document to 卫健委; it was published on 15 March, 13 days late.
    with session_scope(database_url) as session:
        assign_document(session, found["未匹配"].id, health, 2025)
    summary = refresh_compliance(settings, today=date(2025, 3, 21))
    assert summary.unmatched == 0 and summary.alerts == 1
    assert standings(database_url)[("卫生健康委员会", 2025, "budget")] == ("late", "ok", 13, due)
    assert alerts(database_url)[-1] == (f"late|{health}|2025|budget", "逾期公开：濮阳市卫生健康委员会2025年度预算（晚13天）")
    with session_scope(database_url) as session:  # automatic matching leaves a person's assignment alone
        match = session.get(DocumentMatch, found["未匹配"].id)
        assert (match.method, match.entity_id, match.year, match.kind) == ("manual", health, 2025, "budget")

    # Stage 4, across the fiscal-year boundary: the 2024 final accounts are published in 2025. The document's
    # own fiscal year (2024) counts, not the year it was published in.
    with session_scope(database_url) as session:
        final = add_document(session, "濮阳市教育局2024年度部门决算", date(2025, 8, 15), entity="濮阳市教育局",
                             year=2024, kind="final", level="部门", scope="汇总")
    assert refresh_compliance(settings, today=date(2025, 8, 21)).alerts == 0
    current = standings(database_url)
    assert current[("教育局", 2024, "final")] == ("on_time", "ok", 0, date(2025, 8, 21))
    assert current[("财政局", 2024, "final")] == ("not_due", None, None, date(2025, 8, 21))
    with session_scope(database_url) as session:
        match = session.get(DocumentMatch, final.id)
        assert (match.entity.name, match.year, match.kind, match.scope) == ("濮阳市教育局", 2024, "final", "汇总")

    summary = refresh_compliance(settings, today=date(2025, 8, 22))
    assert summary.alerts == 1
    assert alerts(database_url)[-1] == (f"overdue|{finance}|2024|final", "逾期未公开：濮阳市财政局2024年度决算")

    # Stage 5: in 2026, the 2026 budgets and the 2025 final accounts are owed, and not yet due.
    summary = refresh_compliance(settings, today=date(2026, 1, 5))
    current = standings(database_url)
    assert summary.alerts == 0 and summary.expectations == 10 + 8 + 8
    assert current[("民政局", 2026, "budget")] == ("not_due", None, None, date(2026, 3, 2))
    assert current[("民政局", 2025, "final")] == ("not_due", None, None, date(2026, 9, 20))
    assert len(alerts(database_url)) == 6


def test_the_registry_tables_are_migrated_exactly_as_modelled(database_url):
    command.check(alembic_config(database_url))  # raises when the models and the migrations differ
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count()).select_from(Expectation)) == 0
