"""A corpus of bad files, and what `check` makes of each: mutated real PDFs (the shared corpus and rendered
seeds, cut to their first pages), deeply nested HTML, rowspan/colspan bombs, huge paragraphs and cells,
spreadsheet dimension bombs, PDF page-tree bombs, stored and compressed zips with traversal or bombs, and
plain garbage. Every file must end with a status and JSON, no traceback; the peak memory and time of each
parse (in its limited child, see parsers.limits) are printed.

    .venv/bin/python benchmarks/fuzz_files.py [--count 1000] [--seed 13] [--out DIR] [--time-limit 120]

tests/test_hostile_files.py runs a fast subset of the same corpus (``generate(..., count=150, fast=True)``).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import re
import statistics
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "corpus" / "real"
SEEDS = ("000", "001", "002", "003", "004")
BASE_PAGES = 3  # mutated PDFs keep their source's first pages: each parse stays short


@dataclass(frozen=True)
class Bad:
    path: Path
    family: str


# --- PDFs ------------------------------------------------------------------------------------------

def _base_pdfs(out: Path) -> list[bytes]:
    """The first pages of every real corpus PDF and of every rendered seed."""
    import pypdfium2 as pdfium

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    from render_seeds import render

    sources = sorted(REAL.glob("*.pdf")) + [render(seed, "pdf") for seed in SEEDS]
    bases = []
    for n, source in enumerate(sources):
        document = pdfium.PdfDocument(str(source))
        small = pdfium.PdfDocument.new()
        small.import_pages(document, list(range(min(BASE_PAGES, len(document)))))
        path = out / f"base-{n}.pdf"
        small.save(path)
        bases.append(path.read_bytes())
        path.unlink()
    return bases


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """One of the damage kinds seen on real sites and in the adversarial run."""
    data = bytearray(data)
    kind = rng.choice(("bytes", "bytes", "bytes", "truncate", "zero", "duplicate", "xref"))
    if kind == "bytes":  # 5-10 bytes changed anywhere
        for _ in range(rng.randint(5, 10)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == "truncate":
        del data[rng.randint(len(data) // 10, len(data) - 1):]
    elif kind == "zero":
        start = rng.randrange(len(data))
        data[start:start + rng.randint(16, 4096)] = bytes(min(rng.randint(16, 4096), len(data) - start))
    elif kind == "duplicate":
        start = rng.randrange(len(data))
        chunk = data[start:start + rng.randint(64, 8192)]
        at = rng.randrange(len(data))
        data[at:at] = chunk
    else:  # the cross-reference table and trailer damaged
        tail = max(len(data) - 2048, 0)
        for _ in range(rng.randint(5, 20)):
            data[rng.randrange(tail, len(data))] = rng.choice(b"0123456789 /<>R")
    return bytes(data)


def page_tree_bomb(kids: int) -> bytes:
    """A PDF whose page tree lists one page ``kids`` times (the adversarial run used a million)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count %d /Kids [" % kids + b"3 0 R " * kids + b"] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
    ]
    return _pdf(objects)


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


# --- HTML ------------------------------------------------------------------------------------------

_HEAD = "<!DOCTYPE html><html><head><meta charset='utf-8'><title>2023年度部门决算</title></head><body>"


def nested_html(depth: int, tag: str) -> bytes:
    inner = "<p>一般公共预算财政拨款支出决算表 单位：万元</p>"
    if tag == "table":
        return (_HEAD + "<table><tr><td>" * depth + inner + "</td></tr></table>" * depth + "</body></html>").encode()
    return (_HEAD + f"<{tag}>" * depth + inner + f"</{tag}>" * depth + "</body></html>").encode()


def span_bomb(span: int, cells: int) -> bytes:
    """A small table whose cells each span ``span`` rows and columns (the run's 49 KB file: 999999)."""
    rows = "".join(f"<tr><td rowspan='{span}' colspan='{span}'>{n}</td><td>合计</td><td>1,234.56</td></tr>"
                   for n in range(cells))
    return (_HEAD + "<p>2023年度一般公共预算财政拨款支出决算表</p><table>" + rows + "</table></body></html>").encode()


def huge_paragraph(megabytes: float) -> bytes:
    text = "本部门2023年度一般公共预算财政拨款支出决算数为1,234.56万元，" * int(megabytes * 1024 * 1024 / 90)
    return (_HEAD + "<p>" + text + "</p></body></html>").encode()


# --- office and archives --------------------------------------------------------------------------

def huge_cell_xlsx(characters: int) -> bytes:
    """One cell of ``characters`` characters, written as rich-text runs of at most a million each (openpyxl
    itself stops a cell at Excel's 32,767; a hand-made file does not, nor does any reader's XML limit)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"] = "2023年度部门收支决算总表", "单位：万元"
    sheet["A2"] = "PLACEHOLDER"
    buffer = io.BytesIO()
    book.save(buffer)
    runs = [min(1_000_000, characters - start) for start in range(0, characters, 1_000_000)]
    cell = '<c r="A2" t="inlineStr"><is>' + "".join(f"<r><t>{'预' * n}</t></r>" for n in runs) + "</is></c>"
    return _replace_part(buffer.getvalue(), "xl/worksheets/sheet1.xml",
                         lambda text: re.sub(r'<c r="A2"[^>]*>.*?</c>', lambda _: cell, text))


def _replace_part(package: bytes, name: str, change: Callable[[str], str]) -> bytes:
    """The zip package with part ``name`` rewritten (deflated, as Office writes it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == name:
                content = change(content.decode()).encode()
            target.writestr(item, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def dimension_bomb_xlsx() -> bytes:
    """A workbook whose sheet claims the whole grid (A1:XFD1048576) and a cell at the grid's far corner."""
    return _replace_part(huge_cell_xlsx(10), "xl/worksheets/sheet1.xml", lambda text: text.replace(
        '<dimension ref="A1:B2"/>', '<dimension ref="A1:XFD1048576"/>').replace(
        "</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>1</t></is></c></row></sheetData>'))


def span_bomb_docx(span: int) -> bytes:
    """A Word table whose cell claims ``span`` grid columns (w:gridSpan)."""
    return _replace_part(huge_docx(10), "word/document.xml", lambda text: text.replace(
        "<w:tcPr>", f'<w:tcPr><w:gridSpan w:val="{span}"/>', 1))


def huge_docx(characters: int) -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("2023年度部门决算")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "项目"
    table.cell(1, 1).text = "决" * characters
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def hostile_zip(kind: str, member: bytes) -> bytes:
    out = io.BytesIO()
    stored = kind.startswith("stored")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as archive:
        if kind in ("stored_pdf_first", "deflated_pdf_first"):
            archive.writestr("2023年度部门决算.pdf", member)
            archive.writestr("../../../../tmp/fiscalwatch-escaped.pdf", member)
        elif kind in ("stored_traversal", "deflated_traversal"):
            archive.writestr("/etc/cron.d/fiscalwatch", b"* * * * * root true\n")
            archive.writestr("决算.pdf", member)
        elif kind == "bomb":
            info = zipfile.ZipInfo("决算.pdf")
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, b"\0" * (50 * 1024 * 1024))
        elif kind == "many":
            for n in range(400):
                archive.writestr(f"{n}.pdf", member[:100])
        elif kind == "nested":
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w") as nested:
                deeper = io.BytesIO()
                with zipfile.ZipFile(deeper, "w") as deepest:
                    deepest.writestr("决算.pdf", member)
                nested.writestr("inner.zip", deeper.getvalue())
            archive.writestr("outer.zip", inner.getvalue())
    return out.getvalue()


def garbage(rng: random.Random) -> bytes:
    kind = rng.choice(("random", "pk", "ole", "empty", "html_tail"))
    noise = rng.randbytes(rng.randint(1, 20000))
    return {"random": noise, "pk": b"PK\x03\x04" + noise, "ole": bytes.fromhex("d0cf11e0a1b11ae1") + noise,
            "empty": b"\x00" * rng.randint(1, 100), "html_tail": b"<html><body><table>" + noise}[kind]


# --- the corpus -----------------------------------------------------------------------------------

def generate(out: Path, count: int = 1000, seed: int = 13, fast: bool = False) -> list[Bad]:
    """``count`` bad files in ``out`` (deterministic for a seed). ``fast``: bombs sized to end in seconds
    once capped (the benchmark keeps the adversarial run's full sizes)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    bases = _base_pdfs(out)
    big = not fast
    fixed: list[tuple[str, str, Callable[[], bytes]]] = [
        *[("nested_html", f"nested-{tag}-{depth}.html", lambda d=depth, t=tag: nested_html(d, t))
          for depth in ((2000, 20000, 100000) if big else (2000, 5000)) for tag in ("div", "table", "span")],
        *[("span_bomb", f"span-{span}-{cells}.html", lambda s=span, c=cells: span_bomb(s, c))
          for span in (999999, 65534, 5000) for cells in ((1, 20, 400) if big else (1, 20))],
        ("huge_paragraph", "paragraph.html", lambda: huge_paragraph(18 if big else 2)),
        *[("cell_bomb", f"cell-{n}.xlsx", lambda n=n: huge_cell_xlsx(n)) for n in ((5_000_000, 30_000_000) if big
                                                                                  else (100_000,))],
        *([("cell_bomb", "dimension.xlsx", dimension_bomb_xlsx)] if big else []),
        *[("cell_bomb", f"cell-{n}.docx", lambda n=n: huge_docx(n)) for n in ((5_000_000,) if big else (500_000,))],
        ("cell_bomb", "span.docx", lambda: span_bomb_docx(100_000_000)),
        *[("page_tree_bomb", f"pagetree-{kids}.pdf", lambda k=kids: page_tree_bomb(k))
          for kids in ((1_000_000, 100_000) if big else (100_000,))],
        *[("zip", f"zip-{kind}.zip", lambda k=kind: hostile_zip(k, bases[-1]))
          for kind in ("stored_pdf_first", "deflated_pdf_first", "stored_traversal", "deflated_traversal", "bomb",
                       "many", "nested")],
    ]
    files = []
    for family, name, make in fixed:
        path = out / name
        path.write_bytes(make())
        files.append(Bad(path, family))
    for n in range(max(count - len(files), 0)):
        if n % 10 == 9:
            path, family = out / f"garbage-{n}.bin", "garbage"
            path.write_bytes(garbage(rng))
        else:
            path, family = out / f"mutated-{n}.pdf", "mutated_pdf"
            path.write_bytes(_mutate(rng.choice(bases), rng))
        files.append(Bad(path, family))
    return files


@dataclass
class Outcome:
    file: Bad
    status: str | None  # ok | failed | not_a_disclosure; None when check raised
    code: str | None
    seconds: float
    peak_rss_mb: float
    traceback: str | None = None
    pages: int = 0  # pages of the document read (0 when none)
    unreadable: list[int] | None = None  # its pages that could not be read


def check_all(files: list[Bad], progress: bool = False) -> list[Outcome]:
    """Each file through fiscalwatch.validators.checker.check_file, as `check` does, its JSON rendered."""
    import traceback

    from fiscalwatch.parsers import limits
    from fiscalwatch.validators.checker import check_file

    outcomes = []
    for n, bad in enumerate(files):
        started = time.monotonic()
        limits.last_usage.peak_rss_mb = 0.0
        try:
            result = check_file(bad.path)
            json.dumps(result.to_dict(), ensure_ascii=False)
            document = result.document
            outcome = Outcome(bad, result.status, result.error_code, 0.0, 0.0, None,
                              document.page_count if document else 0,
                              sorted(document.unreadable_pages) if document else None)
        except Exception:
            outcome = Outcome(bad, None, None, 0.0, 0.0, traceback.format_exc())
        outcome.seconds, outcome.peak_rss_mb = time.monotonic() - started, limits.last_usage.peak_rss_mb
        outcomes.append(outcome)
        if progress and (n + 1) % 100 == 0:
            print(f"  {n + 1}/{len(files)}", file=sys.stderr)
    return outcomes


def report(outcomes: list[Outcome]) -> str:
    lines = [f"files: {len(outcomes)}, tracebacks: {sum(o.traceback is not None for o in outcomes)}"]
    statuses = Counter(f"{o.status}:{o.code}" if o.code else str(o.status) for o in outcomes)
    lines.append("statuses: " + ", ".join(f"{key} {n}" for key, n in statuses.most_common()))
    partial = [o for o in outcomes if o.unreadable and len(o.unreadable) < o.pages]
    lines.append(f"read with unreadable pages: {len(partial)} files")
    for family in sorted({o.file.family for o in outcomes}):
        mine = [o for o in outcomes if o.file.family == family]
        slowest = max(mine, key=lambda o: o.seconds)
        median = statistics.median(o.seconds for o in mine)
        lines.append(f"  {family:15} {len(mine):5} files  time median {median:6.2f} s"
                     f"  max {slowest.seconds:6.2f} s ({slowest.file.path.name})"
                     f"  peak RSS max {max(o.peak_rss_mb for o in mine):7.1f} MB")
    heaviest = max(outcomes, key=lambda o: o.peak_rss_mb)
    slowest = max(outcomes, key=lambda o: o.seconds)
    lines.append(f"peak RSS max {heaviest.peak_rss_mb:.1f} MB ({heaviest.file.path.name}); "
                 f"time max {slowest.seconds:.2f} s ({slowest.file.path.name}); "
                 f"total {sum(o.seconds for o in outcomes):.0f} s")
    for o in outcomes:
        if o.traceback:
            lines.append(f"TRACEBACK {o.file.path.name}:\n{o.traceback}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--time-limit", type=int, default=None, help="parse time limit in seconds (default: settings)")
    args = parser.parse_args()
    if args.time_limit:
        import os

        os.environ["FISCALWATCH_PARSE_TIME_LIMIT"] = str(args.time_limit)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="fiscalwatch-fuzz-") as work:
        out = args.out or Path(work)
        files = generate(out, args.count, args.seed)
        print(f"generated {len(files)} files in {out}", file=sys.stderr)
        print(report(check_all(files, progress=True)))


if __name__ == "__main__":
    main()
