"""Shared test setup: the seed renderer on sys.path, and session fixtures built from it.

Tests import helpers as top-level modules (`from portal import FixturePortal`,
`from render_seeds import render`), so tests/ and tests/fixtures/ go on sys.path.
"""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def real_corpus() -> list[Path]:
    if not REAL_CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {REAL_CORPUS} (it lives beside the repository, in shared/)")
    files = sorted(REAL_CORPUS.glob("*.pdf"))
    assert files, f"{REAL_CORPUS} holds no PDF"
    return files
