"""Reviewed expectations for every document in ../shared/corpus/: its status, its tables and each of
its error-level findings with the reason a person checked it is true.

One YAML file per document under tests/expectations/<corpus>/<file>.yaml. An error the checker raises
that no expectation holds is unreviewed and fails the tests; so does an expected error no longer raised.
`python tests/corpus_expectations.py draft FILE...` prints a draft for a document, and
`python tests/corpus_expectations.py missing` writes one for every document that has none: their errors
carry `why: TODO` until someone reads the page and writes why each is true (a test rejects any TODO left).
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

TESTS = Path(__file__).resolve().parent
SHARED = TESTS.parent.parent / "shared" / "corpus"
EXPECTATIONS = TESTS / "expectations"
CORPORA = ("real", "wild")
# Evidence keys holding the figures an error rests on; they identify an error across runs.
FIGURE_KEYS = ("stated", "computed", "printed", "table_value", "difference", "budget", "actual", "rate",
               "expected", "toc_entry", "part", "whole", "other", "row")


@dataclass(frozen=True)
class Document:
    corpus: str
    path: Path

    @property
    def expectation_file(self) -> Path:
        return EXPECTATIONS / self.corpus / f"{self.path.name}.yaml"


def documents() -> list[Document]:
    """Every document of both corpora (a missing corpus is an error, never a skip)."""
    found = []
    for corpus in CORPORA:
        folder = SHARED / corpus
        assert folder.is_dir(), f"corpus not found at {folder} (it lives beside the repository, in shared/)"
        found += [Document(corpus, p) for p in sorted(folder.iterdir())
                  if p.suffix in (".pdf", ".html") and p.is_file()]
    return found


def error_key(finding: dict) -> tuple:
    evidence = finding.get("evidence") or finding.get("figures") or {}
    figures = tuple((k, str(evidence[k])) for k in FIGURE_KEYS if k in evidence)
    return finding["rule"], finding.get("page"), figures


def checked(path: Path):
    from fiscalwatch.validators.checker import check_file

    return check_file(path)


def check_all(paths: list[Path], workers: int = 2) -> dict:
    """CheckResult per path, two processes at a time (the corpus takes minutes on one core)."""
    with ProcessPoolExecutor(workers) as pool:
        return dict(zip(paths, pool.map(checked, paths)))


def observed(result) -> dict:
    """What `check` says of a document, reduced to what the expectations hold."""
    result = result.to_dict()
    return {
        "status": result["status"],
        "tables": sorted({t["kind"] for t in result["tables"]}),
        "errors": [{"rule": f["rule"], "page": f["page"], "message": f["message"],
                    "figures": {k: str(f["evidence"][k]) for k in FIGURE_KEYS if k in f["evidence"]}}
                   for f in result["findings"] if f["severity"] == "error"],
    }


def draft(path: Path, result=None) -> str:
    seen = observed(result or checked(path))
    for error in seen["errors"]:
        error["why"] = "TODO"
    return yaml.safe_dump({"file": path.name, **seen}, allow_unicode=True, sort_keys=False, width=120)


def write_missing() -> None:
    todo = [d for d in documents() if not d.expectation_file.is_file()]
    for document, result in zip(todo, check_all([d.path for d in todo]).values()):
        document.expectation_file.parent.mkdir(parents=True, exist_ok=True)
        document.expectation_file.write_text(draft(document.path, result), encoding="utf-8")
        print(document.expectation_file)


if __name__ == "__main__":
    if sys.argv[1:2] == ["draft"]:
        for name in sys.argv[2:]:
            print(draft(Path(name)))
    elif sys.argv[1:2] == ["missing"]:
        write_missing()
    else:
        sys.exit(__doc__)
