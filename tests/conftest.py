"""Shared test setup: the seed renderer on sys.path, and session fixtures built from it.

Tests import helpers as top-level modules (`from portal import FixturePortal`,
`from render_seeds import render`), so tests/ and tests/fixtures/ go on sys.path.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
for folder in (TESTS, TESTS / "fixtures"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from render_seeds import Request, render, render_many, seeds  # noqa: E402

# The real disclosures are shared, never copied into the repository.
REAL_CORPUS = REPO.parent / "shared" / "corpus" / "real"


@pytest.fixture(scope="session")
def seed_pdf():
    """Factory: the PDF of a seed, optionally mutated (see render_seeds.render)."""

    def make(seed: str, **options) -> Path:
        return render(seed, "pdf", **options)

    return make


@pytest.fixture(scope="session")
def seed_pdfs() -> dict[str, Path]:
    """Every seed as a PDF, rendered in one LibreOffice run."""
    names = seeds()
    return dict(zip(names, render_many([Request.of(seed, "pdf") for seed in names])))


# Mutated copies of the seeds: each breaks one thing a checker must catch.
MUTATIONS = {
    "dropped_required": ("004", {"drop_tables": ("一般公共预算财政拨款基本支出决算明细表",)}),
    "dropped_toc_only": ("003", {"drop_tables": ("部门决算公开相关信息统计表",)}),
    "dropped_three_public": ("004", {"drop_tables": ("财政拨款“三公”经费支出决算表",)}),
    # 支出决算表 合计 row: 基本支出 3,057.68 → 3,157.68.
    "changed_total": ("000", {"replacements": {"\t合计\t5,510.47\t3,057.68\t": "\t合计\t5,510.47\t3,157.68\t"}}),
    "changed_narrative": ("004", {"replacements": {"2022 年度收入合计 1067.01 万元": "2022 年度收入合计 1076.01 万元"}}),
}


@pytest.fixture(scope="session")
def mutated_pdfs() -> dict[str, Path]:
    """The MUTATIONS as PDFs, rendered in one LibreOffice run."""
    requests = [Request.of(seed, "pdf", **options) for seed, options in MUTATIONS.values()]
    return dict(zip(MUTATIONS, render_many(requests)))


@pytest.fixture(scope="session")
def real_corpus() -> list[Path]:
    if not REAL_CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {REAL_CORPUS} (it lives beside the repository, in shared/)")
    files = sorted(REAL_CORPUS.glob("*.pdf"))
    assert files, f"{REAL_CORPUS} holds no PDF"
    return files


@pytest.fixture(scope="session")
def corpus_checks() -> dict:
    """`check_file` of every document in ../shared/corpus (real and wild), once per test session."""
    from corpus_expectations import check_all, documents

    return check_all([d.path for d in documents()])


def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (`-n 2`) each test file runs whole on one worker, so its module fixtures are built
    once, and the files that read the whole corpus share one worker and so one corpus_checks. (Scheduling
    by scope, as xdist's `loadgroup` would do from marks it can no longer attach on pytest 9.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _scope_of(nodeid.split("::", 1)[0])

    return ByFile(config, log)


@functools.cache
def _scope_of(test_file: str) -> str:
    return "corpus_checks" if "corpus_checks" in (REPO / test_file).read_text(encoding="utf-8") else test_file
