"""Standings of one expected publication, and deadlines from approval dates and regional defaults."""

from __future__ import annotations

from datetime import date

import pytest

from fiscalwatch.compliance.deadlines import due_date
from fiscalwatch.compliance.status import Candidate, Standing, evaluate
from fiscalwatch.settings import Settings

DEADLINE = date(2025, 3, 2)


def candidate(document_id=1, published=date(2025, 3, 1), seen=None, active=True, scope=None, parse_status="ok",
              missing=0, errors=0) -> Candidate:
    return Candidate(document_id, active, published, seen or published or date(2025, 3, 1), scope, parse_status,
                     missing, errors)


@pytest.mark.parametrize("today, expected", [(DEADLINE, "not_due"), (date(2025, 3, 3), "overdue")])
def test_nothing_published_is_due_on_the_deadline_and_overdue_the_day_after(today, expected):
    assert evaluate(DEADLINE, [], today) == Standing(expected)


@pytest.mark.parametrize("published, timeliness, days_late", [
    (date(2025, 1, 20), "on_time", 0),  # before the approval even: early is on time
    (DEADLINE, "on_time", 0),
    (date(2025, 3, 3), "late", 1),
])
def test_timeliness_counts_from_the_stated_publication_date(published, timeliness, days_late):
    standing = evaluate(DEADLINE, [candidate(published=published)], date(2025, 6, 1))
    assert (standing.timeliness, standing.days_late, standing.published) == (timeliness, days_late, published)


def test_without_a_stated_date_finding_it_in_time_proves_it_on_time_and_later_proves_nothing():
    in_time = evaluate(DEADLINE, [candidate(published=None, seen=date(2025, 2, 1))], date(2025, 6, 1))
    assert in_time.timeliness == "on_time"
    late_find = evaluate(DEADLINE, [candidate(published=None, seen=date(2025, 5, 1))], date(2025, 6, 1))
    assert (late_find.timeliness, late_find.days_late) == ("undated", None)


def test_withdrawn_only_when_no_matched_document_is_still_online():
    gone = candidate(1, date(2025, 3, 5), active=False)
    assert evaluate(DEADLINE, [gone], date(2025, 6, 1)) == Standing("withdrawn", "ok", date(2025, 3, 5), 3, 0, 0, 1)
    # Republished elsewhere: online again, and still late from the first publication.
    again = candidate(2, date(2025, 4, 1), missing=2)
    assert evaluate(DEADLINE, [gone, again], date(2025, 6, 1)) == Standing("late", "incomplete", date(2025, 3, 5),
                                                                              3, 2, 0, 2)


def test_the_main_document_is_the_roll_up_and_its_quality_counts():
    own = candidate(1, scope="本级", errors=3)
    roll_up = candidate(2, date(2025, 3, 2), scope="汇总")
    assert evaluate(DEADLINE, [own, roll_up], DEADLINE) == Standing("on_time", "ok", date(2025, 3, 1), 0, 0, 0, 2)


@pytest.mark.parametrize("fields, quality", [
    ({"missing": 1, "errors": 4}, "incomplete"),
    ({"errors": 4}, "errors"),
    ({"parse_status": "pending"}, "pending"),
    ({"parse_status": "processing"}, "pending"),
    ({"parse_status": None}, "pending"),  # not fetched yet
    ({"parse_status": "failed"}, "unreadable"),
])
def test_quality(fields, quality):
    assert evaluate(DEADLINE, [candidate(**fields)], DEADLINE).quality == quality


SETTINGS = Settings(default_approval={"": {"budget": "02-28", "final": "08-31"}, "河南省/": {"final": "07-31"},
                                      "河南省/濮阳市": {"budget": "02-10"}}, publication_deadline_days=20)


@pytest.mark.parametrize("region, year, kind, approval, expected", [
    ("河南省/濮阳市", 2025, "budget", None, date(2025, 3, 2)),  # the city's own default
    ("河南省/濮阳市/华龙区", 2025, "budget", None, date(2025, 3, 2)),  # inherited from the city
    ("河南省/濮阳市", 2024, "final", None, date(2025, 8, 20)),  # the province's; approved the year after
    ("北京市", 2024, "final", None, date(2025, 9, 20)),  # everywhere else
    (None, 2025, "budget", None, date(2025, 3, 20)),
    ("河南省/濮阳市", 2025, "budget", date(2025, 3, 15), date(2025, 4, 4)),  # the registry's date wins
])
def test_deadlines(region, year, kind, approval, expected):
    assert due_date(SETTINGS, approval, region, year, kind) == expected


def test_a_region_without_any_default_is_a_configuration_error():
    settings = Settings(default_approval={"河南省": {"budget": "2-1"}})
    with pytest.raises(ValueError, match="default_approval has no final date"):
        due_date(settings, None, "河南省", 2024, "final")
    with pytest.raises(ValueError, match="MM-DD expected"):
        due_date(Settings(default_approval={"": {"budget": "02-30"}}), None, None, 2025, "budget")
