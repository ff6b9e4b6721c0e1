"""`check` over the real and wild corpora (../shared/corpus, read in place): per document, the tables
its own 目录 lists and how many of them were found, errors, warnings and seconds; then a summary line.

    .venv/bin/python benchmarks/corpus_report.py [--workers N] [--corpus wild|real]

A listed table counts as found when a table of the same catalogue kind was found, or, for titles
outside the catalogue, a found table's title ends like the listed one. Beijing-style files whose
tables are a separate attachment (the manifest's notes say so) list tables they do not hold; they
are shown but left out of the recall figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fiscalwatch.parsers.catalog import classify_title, normalise_title  # noqa: E402
from fiscalwatch.validators.checker import check_file  # noqa: E402

SHARED = REPO.parent / "shared" / "corpus"
ELSEWHERE = "不在本文件中"  # the manifest's note for tables published as another attachment


def measured(path: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    result = check_file(path).to_dict()
    return result, time.perf_counter() - started


def found_listed(listed: list[str], tables: list[dict], doc_kind: str | None) -> int:
    kinds = {t["kind"] for t in tables}
    titles = [normalise_title(t["title"]) for t in tables]
    found = 0
    for title in listed:
        hit = classify_title(title, doc_kind, strict=False)
        short = normalise_title(title)[-8:]
        found += bool(hit and hit[0] in kinds or any(t.endswith(short) for t in titles))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--corpus", choices=("wild", "real"), action="append")
    args = parser.parse_args()
    manifest = {}
    paths = []
    for corpus in args.corpus or ("real", "wild"):
        folder = SHARED / corpus
        manifest.update({e["file"]: e for e in json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))})
        paths += sorted(p for p in folder.iterdir() if p.suffix in (".pdf", ".html"))
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(measured, paths))
    wall = time.perf_counter() - started
    totals = {"listed": 0, "found": 0, "errors": 0, "warnings": 0, "seconds": 0.0}
    statuses: dict[str, int] = {}
    print(f"{'document':48} {'status':17} {'listed':>6} {'found':>5} {'errors':>6} {'warn':>5} {'s':>6}")
    for path, (result, seconds) in zip(paths, results):
        entry = manifest.get(path.name, {})
        listed = entry.get("toc_tables") or []
        doc = result["document"] or {}
        found = found_listed(listed, result["tables"], doc.get("kind"))
        errors = sum(f["severity"] == "error" for f in result["findings"])
        warnings = sum(f["severity"] == "warning" for f in result["findings"])
        elsewhere = ELSEWHERE in (entry.get("notes") or "")
        if not elsewhere:
            totals["listed"] += len(listed)
            totals["found"] += found
        totals["errors"] += errors
        totals["warnings"] += warnings
        totals["seconds"] += seconds
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        mark = " (tables elsewhere)" if elsewhere else ""
        print(f"{path.name[:48]:48} {result['status']:17} {len(listed):6} {found:5} {errors:6} {warnings:5} "
              f"{seconds:6.2f}{mark}")
    recall = totals["found"] / totals["listed"] * 100 if totals["listed"] else 100.0
    print(f"summary: {len(paths)} documents ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))}); "
          f"目录 tables found {totals['found']}/{totals['listed']} ({recall:.1f}%); errors {totals['errors']}, "
          f"warnings {totals['warnings']}; check {totals['seconds']:.1f} s in all, {wall:.1f} s wall "
          f"with {args.workers} workers")


if __name__ == "__main__":
    main()
