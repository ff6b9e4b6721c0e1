"""OCR of scanned disclosures: seconds and CPU-seconds per page, alone and two at once, against the engine.

    .venv/bin/python benchmarks/ocr_speed.py [--seeds 004] [--pages 8] [--repeats 3]

On each scanned seed render (tests/fixtures/render_seeds.py "scan-pdf": 150 dpi grey pages, no text layer):
- fiscalwatch alone: parse_file of the whole scan in a child process, its OCR on the threads a parse gets
  alone (fiscalwatch.validators.checker.parse_limits): wall and CPU-seconds per page, and whether it stayed within the
  default OCR budget (every page read);
- two at once: two children each parsing the first --pages pages at the same moment, each on the threads a
  parse gets among two (as two workers run them on this machine);
- the engine called directly: RapidOCR with its own thread defaults on the same page images (rendered
  before the clock starts), in a child alone; the ratio of fiscalwatch's per-page time to it (target ≤ 1.2),
  each timed --repeats times in turn with the other and their medians compared;
- digit recall: the digits of every table cell the text PDF yields (its cells are the seed text, see
  tests/test_seed_renderings.py) found in the same cell of the scan's tables (target ≥ 99.5%);
- parity: whether the scan gives the text PDF's tables (kind, pages, rows) and its error and low-completion
  findings (rule, severity, page), with what differs.
Each child loads the OCR models and runs them once on the document's first page before its clock starts
(a parse in the pipeline pays that once per file: about 0.3 s to load, and a slower first page).
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import statistics
import sys
import time
from collections import defaultdict
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "fixtures")]

import render_seeds  # noqa: E402

from fiscalwatch.parsers import ocr, parse_file  # noqa: E402
from fiscalwatch.parsers.model import Document  # noqa: E402
from fiscalwatch.settings import Settings  # noqa: E402
from fiscalwatch.validators import validate  # noqa: E402
from fiscalwatch.validators.checker import parse_limits  # noqa: E402


def _timed(work) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _fiscalwatch(path: Path, threads: int, barrier, results) -> None:
    ocr.recognise(_images(path, 1)[0], 0, ocr.OCR_DPI, threads)  # loaded and warmed up, as the engine is below
    barrier.wait()
    wall, cpu, doc = _timed(lambda: parse_file(path, ocr=ocr.OcrBudget(threads=threads)))
    results.put((wall, cpu, doc))


def _engine_alone(images: list[np.ndarray], barrier, results) -> None:
    import cv2
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(det_box_thresh=0.3)  # the detection threshold fiscalwatch uses, its own threads
    bgr = [cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) for image in images]
    engine(bgr[0])
    barrier.wait()
    wall, cpu, _ = _timed(lambda: [engine(image, use_cls=False) for image in bgr])  # as fiscalwatch calls it
    results.put((wall, cpu, None))


def _in_children(target, argument_lists: list[tuple]) -> list[tuple]:
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(len(argument_lists)), context.Queue()
    children = [context.Process(target=target, args=(*args, barrier, results)) for args in argument_lists]
    for child in children:
        child.start()
    out = [results.get() for _ in children]
    for child in children:
        child.join()
    return out


def _first_pages(scan: Path, pages: int, target: Path) -> Path:
    source = pdfium.PdfDocument(str(scan))
    part = pdfium.PdfDocument.new()
    part.import_pages(source, list(range(min(pages, len(source)))))
    part.save(str(target))
    return target


def _images(path: Path, count: int | None = None) -> list[np.ndarray]:
    document = pdfium.PdfDocument(str(path))
    return [ocr.page_image(document[i]) for i in range(min(count or len(document), len(document)))]


def _cells(doc: Document) -> dict[tuple, str]:
    """Every figure printed in a table cell, by (table kind, its occurrence, row code or name, its occurrence,
    column key); names without punctuation, which OCR reads in other widths ('合计：', '（特定专项')."""
    cells, tables, rows = {}, defaultdict(int), defaultdict(int)
    for table in doc.tables:
        t = (table.kind, tables[table.kind])
        tables[table.kind] += 1
        for row in table.rows:
            r = (*t, row.code or re.sub(r"\W", "", row.name))
            rows[r] += 1
            for key, figure in row.values.items():
                if figure.text:
                    cells[(*r, rows[r], key)] = figure.text
    return cells


def digit_recall(text: Document, scan: Document) -> tuple[int, int, int, int]:
    """(digits found, digits printed, cells read exactly, cells printed)."""
    truth, read = _cells(text), _cells(scan)
    found = digits = exact = 0
    for key, printed in truth.items():
        wanted = "".join(c for c in printed if c.isdigit())
        got = "".join(c for c in read.get(key, "") if c.isdigit())
        digits += len(wanted)
        found += sum(block.size for block in SequenceMatcher(None, wanted, got, autojunk=False).get_matching_blocks())
        exact += printed == read.get(key)
    return found, digits, exact, len(truth)


def _tables(doc: Document) -> list[tuple]:
    return [(t.kind, tuple(t.pages), len(t.rows)) for t in doc.tables]


def _key_findings(doc: Document) -> set[tuple]:
    return {(f.rule, f.severity, f.page) for f in validate(doc).findings
            if f.severity == "error" or f.category == "low_completion"}


def _median(runs: list[tuple]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def parity(text: Document, scan: Document) -> str:
    tables = set(_tables(text)) ^ set(_tables(scan))
    findings = _key_findings(text) ^ _key_findings(scan)
    if not tables and not findings:
        return f"same {len(text.tables)} tables and {len(_key_findings(text))} error/low-completion findings"
    return f"DIFFERENT: tables {sorted(tables)}, findings {sorted(findings)}"


def measure(seed: str, pages: int, repeats: int, workdir: Path) -> None:
    scan, text_pdf = render_seeds.render(seed, "scan-pdf"), render_seeds.render(seed, "pdf")
    settings = Settings()
    alone, among_two = parse_limits(settings, 1).ocr_threads, parse_limits(settings, 2).ocr_threads
    count = len(pdfium.PdfDocument(str(scan)))

    [(wall, cpu, doc)] = _in_children(_fiscalwatch, [(scan, alone)])
    read = len(doc.ocr_pages)
    print(f"seed {seed}: {count} scanned pages; fiscalwatch alone ({alone} threads): {wall:.1f} s, "
          f"{wall / count:.2f} s/page, {cpu / count:.2f} CPU-s/page; pages read {read}/{count}"
          f"{'' if read == count else ', unread: ' + str(doc.unreadable_pages)}")

    part = _first_pages(scan, pages, workdir / f"seed{seed}-first{pages}.pdf")
    n = len(pdfium.PdfDocument(str(part)))
    images = _images(part)
    # fiscalwatch and the engine in turn, `repeats` times: what else runs on the machine weighs on both alike.
    alone_runs, engine_runs = [], []
    for _ in range(repeats):
        alone_runs += _in_children(_fiscalwatch, [(part, alone)])
        engine_runs += _in_children(_engine_alone, [(images,)])
    (alone_wall, alone_cpu), (engine_wall, engine_cpu) = _median(alone_runs), _median(engine_runs)
    pair = _in_children(_fiscalwatch, [(part, among_two), (part, among_two)])
    ratios = sorted(a[0] / e[0] for a, e in zip(alone_runs, engine_runs))
    print(f"  first {n} pages: fiscalwatch alone {alone_wall / n:.2f} s/page, {alone_cpu / n:.2f} CPU-s/page; "
          f"two at once ({among_two} thread{'s' if among_two > 1 else ''} each) "
          + ", ".join(f"{w / n:.2f} s/page {c / n:.2f} CPU-s/page" for w, c, _ in pair))
    print(f"  engine directly: {engine_wall / n:.2f} s/page, {engine_cpu / n:.2f} CPU-s/page; "
          f"fiscalwatch / engine = {alone_wall / engine_wall:.2f} (target ≤ 1.2; medians of {repeats} runs in turn, "
          f"each pair's ratio {ratios[0]:.2f}–{ratios[-1]:.2f})")

    text = parse_file(text_pdf)
    found, digits, exact, cells = digit_recall(text, doc)
    print(f"  digit recall on table cells: {found}/{digits} = {found / max(digits, 1):.2%} (target ≥ 99.5%); "
          f"cells read exactly {exact}/{cells} = {exact / max(cells, 1):.2%}")
    print(f"  against the text PDF: {parity(text, doc)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="004", help="comma-separated seed numbers, or 'all'")
    parser.add_argument("--pages", type=int, default=8, help="pages timed alone, two at once and by the engine")
    parser.add_argument("--repeats", type=int, default=3, help="runs alone and of the engine, in turn")
    args = parser.parse_args()
    seeds = render_seeds.seeds() if args.seeds == "all" else args.seeds.split(",")
    workdir = ROOT / "build" / "benchmarks"
    workdir.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        measure(seed, args.pages, args.repeats, workdir)


if __name__ == "__main__":
    main()
