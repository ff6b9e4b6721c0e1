"""Hostile and broken files (issue 13): a fast subset of benchmarks/fuzz_files.py's corpus through `check`'s
own function, the parse sandbox's limits, the sniffing of stored zips, and conversion without network."""

from __future__ import annotations

import http.server
import json
import resource
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from fiscalwatch.parsers import UnreadableFile, formats
from fiscalwatch.parsers.convert import SOFFICE, converted
from fiscalwatch.parsers.limits import run_limited
from fiscalwatch.settings import Settings
from fiscalwatch.validators.checker import check_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import fuzz_files  # noqa: E402

# Every status a hostile file may end with: read, not a disclosure, or failed with a stated reason.
FAILURE_CODES = {"corrupt", "corrupt_pdf", "corrupt_archive", "corrupt_office", "unreadable_page", "too_deep",
                 "too_large", "timeout", "empty_file", "empty_pdf", "unsupported_format", "archive_path_traversal",
                 "archive_bomb", "archive_too_many_members", "archive_too_large", "archive_no_documents",
                 "nested_too_deep", "encrypted", "conversion_failed"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    files = fuzz_files.generate(tmp_path_factory.mktemp("fuzz"), count=150, seed=13, fast=True)
    return files, fuzz_files.check_all(files)


@pytest.mark.slow
def test_every_hostile_file_ends_with_a_status_and_json(corpus):
    files, outcomes = corpus
    print("\n" + fuzz_files.report(outcomes))
    assert len(outcomes) == len(files) == 150
    assert [o.file.path.name for o in outcomes if o.traceback] == []
    assert {o.status for o in outcomes} <= {"ok", "failed", "not_a_disclosure"}
    unexplained = [(o.file.path.name, o.code) for o in outcomes if o.status == "failed" and o.code not in FAILURE_CODES]
    assert unexplained == []
    ceiling = Settings().parse_memory_mb + 512
    assert max(o.peak_rss_mb for o in outcomes) < ceiling


@pytest.mark.slow
def test_each_bomb_family_ends_as_expected(corpus):
    _, outcomes = corpus
    by_name = {o.file.path.name: o for o in outcomes}
    for depth in (2000, 5000):
        for tag in ("div", "table", "span"):
            assert by_name[f"nested-{tag}-{depth}.html"].status in ("failed", "not_a_disclosure", "ok")
    assert by_name["nested-div-5000.html"].code in (None, "too_deep")
    # Stored or deflated, an archive with a climbing member path is refused whole.
    for kind in ("stored_pdf_first", "deflated_pdf_first", "stored_traversal", "deflated_traversal"):
        assert by_name[f"zip-{kind}.zip"].code == "archive_path_traversal", kind
    assert by_name["zip-bomb.zip"].code == "archive_bomb"
    assert by_name["zip-many.zip"].code == "archive_too_many_members"


@pytest.mark.slow
def test_damaged_pdf_pages_are_unreadable_and_the_rest_is_read(corpus):
    _, outcomes = corpus
    pdfs = [o for o in outcomes if o.file.family == "mutated_pdf"]
    # A page PDFium cannot load, or whose text index disagrees with its text, is no reason to drop the file.
    assert [o.file.path.name for o in pdfs if o.code == "corrupt"] == []
    partial = [o for o in pdfs if o.unreadable and len(o.unreadable) < o.pages]
    assert partial, "no mutated PDF was read in part"


@pytest.mark.slow
def test_a_page_tree_bomb_is_refused_as_too_large(corpus):
    _, outcomes = corpus
    assert {o.code for o in outcomes if o.file.family == "page_tree_bomb"} == {"too_large"}


def _inherited_mb() -> float:
    """The parse child starts as a fork of this process, so its peak includes what the test process holds
    (about 500 MB late in a full run); a bomb shows as growth beyond that."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_span_bomb_is_refused_before_it_takes_memory(tmp_path):
    path = tmp_path / "决算.html"
    path.write_bytes(fuzz_files.span_bomb(999999, 400))
    result = check_file(path)
    assert result.error_code == "too_large"
    from fiscalwatch.parsers import limits

    assert limits.last_usage.peak_rss_mb < _inherited_mb() + 200  # the areas are summed before anything is allocated


def test_a_stored_zip_whose_first_member_is_a_pdf_is_an_archive(tmp_path):
    pdf = fuzz_files.page_tree_bomb(1)
    path = tmp_path / "附件.pdf"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("第一部分.pdf", pdf)
        archive.writestr("第二部分.pdf", pdf)
    assert pdf[:5] in path.read_bytes()[:1024]  # what made it look like a PDF
    assert formats.sniff(path) == "zip"
    result = check_file(path)
    assert sorted(m.member for m in result.members) == ["第一部分.pdf", "第二部分.pdf"]


def test_the_sandbox_turns_memory_time_and_depth_into_statuses():
    def hog():
        blocks = []
        while True:
            blocks.append(bytearray(64 * 1024 * 1024))

    def deep(n=0):
        return deep(n + 1)

    def hang():
        threading.Event().wait()

    for work, code in ((hog, "too_large"), (deep, "too_deep"), (lambda: [][1], "corrupt")):
        with pytest.raises(UnreadableFile) as failed:
            run_limited(work, memory_mb=256, seconds=600)
        assert failed.value.code == code
    with pytest.raises(UnreadableFile) as failed:
        run_limited(hang, memory_mb=256, seconds=1)
    assert failed.value.code == "timeout"
    assert run_limited(lambda: {"ok": [1, 2]}, memory_mb=256, seconds=600) == {"ok": [1, 2]}


def test_threads_in_the_sandbox_do_not_each_reserve_a_heap():
    """The limit counts address space: glibc's 64 MB heap per allocating thread (an OCR engine's pool) is
    space no parse touches, and it pushed the whole scan of seed 004 past its limit. Eight threads that each
    keep a few 100 KB blocks grow the sandbox by their stacks (8 × 8 MB) and at most two heaps."""
    def peak_growth_of_threads_allocating() -> int:
        def peak() -> int:
            status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
            return int(status["VmPeak"].split()[0]) * 1024

        before, kept, ready = peak(), [], threading.Barrier(9)

        def allocate():
            ready.wait()  # all at once, so that each contends for a heap of its own
            kept.extend(bytearray(100_000) for _ in range(5))
        workers = [threading.Thread(target=allocate) for _ in range(8)]
        for worker in workers:
            worker.start()
        ready.wait()
        for worker in workers:
            worker.join()
        return peak() - before

    assert run_limited(peak_growth_of_threads_allocating, memory_mb=1024, seconds=600) < 300 * 1024 * 1024


def _odt_linking(url: str, path: Path) -> Path:
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
               'xmlns:xlink="http://www.w3.org/1999/xlink" '
               'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2">'
               '<office:body><office:text><text:p>2023年度部门决算</text:p><text:p>'
               '<draw:frame draw:name="i1" svg:width="2cm" svg:height="2cm">'
               f'<draw:image xlink:href="{url}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/>'
               '</draw:frame></text:p></office:text></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '</manifest:manifest>')
    with zipfile.ZipFile(path, "w") as odt:
        odt.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        odt.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        odt.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


@pytest.mark.slow
@pytest.mark.skipif(not SOFFICE, reason="LibreOffice is not installed")
def test_conversion_fetches_no_linked_resource(tmp_path):
    hits = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        odt = _odt_linking(f"http://127.0.0.1:{server.server_address[1]}/linked.png", tmp_path / "说明.odt")
        with converted(odt, "odt", "docx") as output:
            assert output.stat().st_size > 0
        result = check_file(odt)  # `check` converts the same way
        json.dumps(result.to_dict(), ensure_ascii=False)
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []


def test_a_parse_dies_with_the_worker_that_started_it():
    """A worker killed at its hard time limit must not leave its parse running on."""
    import os
    import signal
    import time

    worker = os.fork()
    if worker == 0:
        try:
            run_limited(lambda: threading.Event().wait(), memory_mb=256, seconds=600)
        finally:
            os._exit(0)
    parse = None
    deadline = time.monotonic() + 60
    while parse is None and time.monotonic() < deadline:
        children = Path(f"/proc/{worker}/task/{worker}/children").read_text().split()
        parse = int(children[0]) if children else None
        time.sleep(0.05)
    assert parse is not None
    os.kill(worker, signal.SIGKILL)
    os.waitpid(worker, 0)
    deadline = time.monotonic() + 60
    while not _gone(parse) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(parse)


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # exited, waiting for its reaper
    except FileNotFoundError:
        return True


def test_a_cover_line_of_a_million_characters_is_identified_quickly():
    """The title pattern only sees a bounded prefix of each line; on a whole line its cost grows much faster
    than the line (5,000 characters took 20 s, 20,000 took 4.6 min), so 1,000,000 would never end."""
    from fiscalwatch.parsers.identify import identify
    from fiscalwatch.parsers.model import Document

    cover = "预" * 1_000_000 + "\n" + "2024" * 250_000 + "\n某县财政局2024年度部门预算"
    document = run_limited(lambda: _identified(identify, Document(page_texts=[cover])), memory_mb=512, seconds=60)
    assert (document.kind, document.year) == ("budget", 2024)


def _identified(identify, document):
    identify(document)
    return document


@pytest.mark.parametrize("name, make, cause", [
    # 30 million characters in one cell: 90 MB of XML from a 90 KB file (a 1 MB one holds 300 million).
    ("cell.xlsx", lambda: fuzz_files.huge_cell_xlsx(30_000_000), "解压后超过"),
    ("cell-3m.xlsx", lambda: fuzz_files.huge_cell_xlsx(3_000_000), "单元格或段落的文字超过"),
    ("dimension.xlsx", fuzz_files.dimension_bomb_xlsx, "表格范围"),  # whole grid claimed: 1.48 GB and 99 s before
    ("cell.docx", lambda: fuzz_files.huge_docx(3_000_000), "单元格或段落的文字超过"),
    ("span.docx", lambda: fuzz_files.span_bomb_docx(100_000_000), "一行超过"),
])
def test_office_cell_and_dimension_bombs_are_too_large_before_they_take_memory(tmp_path, name, make, cause):
    from fiscalwatch.parsers import limits

    path = tmp_path / name
    path.write_bytes(make())
    result = check_file(path)
    assert result.error_code == "too_large" and cause in result.error, result.error
    assert limits.last_usage.peak_rss_mb < _inherited_mb() + 150  # what the process had, and no cell of it read


def test_an_ordinary_sheet_reads_the_same_from_the_cells_it_holds(tmp_path):
    """Only the cells a sheet holds are read (no empty rectangle made): gaps, merges and borders stay."""
    from openpyxl import Workbook
    from openpyxl.styles import Border, Side

    from fiscalwatch.parsers.spreadsheet import read_xlsx

    book = Workbook()
    sheet = book.active
    sheet["A1"] = "2023年度部门收支决算总表"
    sheet.merge_cells("A1:D1")
    sheet["D3"] = "单位：万元"
    for row, values in enumerate([("项目", "", "金额", ""), ("收入合计", "", "12.00", ""), ("支出合计", "", "12.00", "")],
                                 start=4):
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row, col, value or None)
            cell.border = Border(left=Side(style="thin"))
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    path = tmp_path / "表.xlsx"
    book.save(path)
    [page] = read_xlsx(path).pages
    lines = [b.text for b in page.blocks if hasattr(b, "text")]
    grids = [b.rows for b in page.blocks if hasattr(b, "rows")]
    assert lines == ["2023年度部门收支决算总表", "单位：万元"]
    assert grids == [[["项目", "金额"], ["收入合计", "12.00"], ["支出合计", "12.00"]]]
