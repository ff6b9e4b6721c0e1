"""How fast is `check` (parse + validate) compared with plain pdfplumber text extraction of the same file?

    .venv/bin/python benchmarks/check_speed.py [--repeat N]

For each test PDF (the five rendered seeds, a 40-page cut of seed 000, and the real corpus in
../shared/corpus/real) it prints pages, the seconds of the full check, the seconds of pdfplumber's
`page.extract_text()` over every page, both measured in this run (best of --repeat), and their
ratio. Target: the check no slower than pdfplumber's text extraction (ratio ≤ 1.0) on 40 pages.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pdfplumber
import pikepdf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "fixtures"))

from render_seeds import CACHE_DIR, Request, render_many, seeds  # noqa: E402
from timing import best_of  # noqa: E402

from fiscalwatch.validators.checker import check_file  # noqa: E402

REAL_CORPUS = REPO.parent / "shared" / "corpus" / "real"
LONG_PAGES = 40


def plumber_text(path: Path) -> None:
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_text()


def checked(path: Path) -> None:
    result = check_file(path)
    if not result.ok:
        raise SystemExit(f"{path}: {result.error}")


def forty_pages(source: Path) -> Path:
    """The first 40 pages of seed 000 (61 pages): cover, 目录, all tables and most of the narrative."""
    target = CACHE_DIR / f"{source.stem}-first{LONG_PAGES}.pdf"
    if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
        with pikepdf.open(source) as pdf:
            del pdf.pages[LONG_PAGES:]
            pdf.save(target)
    return target


def test_files() -> list[tuple[str, Path]]:
    rendered = dict(zip(seeds(), render_many([Request.of(seed, "pdf") for seed in seeds()])))
    files = [(f"seed {seed}", path) for seed, path in rendered.items()]
    files.append((f"seed 000, first {LONG_PAGES} pages", forty_pages(rendered["000"])))
    files += [(path.stem, path) for path in sorted(REAL_CORPUS.glob("*.pdf"))]
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="measure each best of N runs (default 2)")
    args = parser.parse_args()
    files = test_files()
    checked(files[0][1])  # imports and first-use costs outside the measurements
    print(f"{'file':44} {'pages':>5} {'check s':>8} {'pdfplumber s':>12} {'ratio':>6}")
    totals = [0, 0.0, 0.0]
    long_ratio = None
    for label, path in files:
        with pdfplumber.open(path) as pdf:
            pages = len(pdf.pages)
        check_seconds = best_of(args.repeat, lambda: checked(path))
        plumber_seconds = best_of(args.repeat, lambda: plumber_text(path))
        ratio = check_seconds / plumber_seconds
        if pages == LONG_PAGES:
            long_ratio = ratio
        totals = [totals[0] + pages, totals[1] + check_seconds, totals[2] + plumber_seconds]
        print(f"{label:44} {pages:5d} {check_seconds:8.3f} {plumber_seconds:12.3f} {ratio:6.2f}")
    pages, check_total, plumber_total = totals
    print(f"{'total':44} {pages:5d} {check_total:8.3f} {plumber_total:12.3f} {check_total / plumber_total:6.2f}")
    print(f"\n{len(files)} files, {pages} pages: check {check_total / pages * 1000:.1f} ms/page, "
          f"pdfplumber text {plumber_total / pages * 1000:.1f} ms/page.")
    print(f"{LONG_PAGES}-page document: check / pdfplumber = {long_ratio:.2f} (target ≤ 1.00): "
          f"{'met' if long_ratio <= 1.0 else 'NOT met'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
