"""Every document of ../shared/corpus/ (real and wild, read in place) against its reviewed expectation:
the same status, at least the tables reviewed, and exactly the reviewed errors — no unreviewed error."""

from __future__ import annotations

import pytest
import yaml
from corpus_expectations import EXPECTATIONS, Document, documents, error_key, observed

DOCUMENTS = documents()


@pytest.fixture(scope="module")
def results(corpus_checks) -> dict:
    return {path: observed(result) for path, result in corpus_checks.items()}


def expectation(document: Document) -> dict:
    assert document.expectation_file.is_file(), (
        f"no reviewed expectation for {document.corpus}/{document.path.name}: "
        f"draft one with `python tests/corpus_expectations.py draft {document.path}` and review it")
    return yaml.safe_load(document.expectation_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: f"{d.corpus}/{d.path.name}")
def test_document_matches_its_reviewed_expectation(document, results):
    expected, seen = expectation(document), results[document.path]
    assert seen["status"] == expected["status"]
    missing_tables = set(expected["tables"]) - set(seen["tables"])
    assert not missing_tables, f"tables no longer found: {sorted(missing_tables)}"
    reviewed = {error_key(e) for e in expected["errors"]}
    unreviewed = [e["message"] for e in seen["errors"] if error_key(e) not in reviewed]
    assert not unreviewed, "errors nobody reviewed as true:\n" + "\n".join(unreviewed)
    raised = {error_key(e) for e in seen["errors"]}
    lost = [e["message"] for e in expected["errors"] if error_key(e) not in raised]
    assert not lost, "reviewed real anomalies no longer found:\n" + "\n".join(lost)


def test_every_reviewed_error_says_why_it_is_true():
    for document in DOCUMENTS:
        if document.expectation_file.is_file():
            for error in expectation(document)["errors"]:
                why = str(error.get("why", ""))
                assert why and "TODO" not in why, (document.path.name, error["message"])


def test_no_expectation_for_a_document_that_is_gone():
    names = {d.expectation_file for d in DOCUMENTS}
    assert not [p for p in sorted(EXPECTATIONS.glob("*/*.yaml")) if p not in names]
