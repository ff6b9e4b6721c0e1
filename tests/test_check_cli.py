"""The `fiscalwatch check` command line: unreadable inputs fail one by one, the others are still
checked, the exit status says whether every file was read, and the text report is Chinese, grouped
by severity, with page references. Also: a scanned PDF read without OCR is not "all tables missing"."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from fiscalwatch.parsers import OcrBudget, parse_file
from fiscalwatch.validators import validate

FISCALWATCH = Path(sys.executable).with_name("fiscalwatch")
pytestmark = pytest.mark.slow  # renders the seeds and runs the checker in subprocesses


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(FISCALWATCH), "check", *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, seed_pdfs) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    good = seed_pdfs["004"]
    files = {"good": good, "other": seed_pdfs["002"]}
    files["not_pdf"] = folder / "决算.pdf"
    files["not_pdf"].write_text("这不是 PDF 文件，只是一段文字。\n", encoding="utf-8")
    files["encrypted"] = folder / "encrypted.pdf"
    with pikepdf.open(good) as pdf:
        pdf.save(files["encrypted"], encryption=pikepdf.Encryption(user="secret", owner="owner"))
    files["truncated"] = folder / "truncated.pdf"
    files["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    files["empty"] = folder / "empty.pdf"
    files["empty"].write_bytes(b"")
    return files


def test_unreadable_files_fail_alone_and_set_the_exit_status(inputs):
    order = ["good", "not_pdf", "encrypted", "truncated", "empty", "other"]
    completed = run("--json", *(inputs[name] for name in order))
    assert completed.returncode == 1, completed.stderr
    reports = {Path(r["file"]).name: r for r in json.loads(completed.stdout)}
    assert len(reports) == len(order)
    codes = {name: reports[inputs[name].name]["error"] for name in order}
    assert codes["good"] is None and codes["other"] is None
    assert codes["not_pdf"]["code"] == "unsupported_format"
    assert codes["encrypted"]["code"] == "encrypted" and "加密" in codes["encrypted"]["message"]
    assert codes["truncated"]["code"] == "corrupt_pdf" and "损坏" in codes["truncated"]["message"]
    assert codes["empty"]["code"] == "empty_file" and "为空" in codes["empty"]["message"]
    for name in ("not_pdf", "encrypted", "truncated", "empty"):
        report = reports[inputs[name].name]
        assert report["status"] == "failed" and report["document"] is None and report["findings"] == []
    for name in ("good", "other"):  # checked in full despite the failures around them
        report = reports[inputs[name].name]
        assert report["status"] == "ok" and len(report["tables"]) >= 9
        assert any(f["severity"] == "error" for f in report["findings"])


def test_exit_status_is_zero_when_every_file_is_read(inputs):
    completed = run(inputs["good"], inputs["other"])
    assert completed.returncode == 0, completed.stderr


def test_text_report_is_chinese_grouped_by_severity_with_pages(inputs):
    completed = run(inputs["good"], inputs["encrypted"])
    assert completed.returncode == 1
    good, encrypted = completed.stdout.split("\n\n== ")
    assert "鄂州市医疗保障服务中心 2022年度 部门决算" in good and "识别表格9张" in good
    findings = json.loads(run("--json", inputs["good"]).stdout)[0]["findings"]
    counts = {s: sum(f["severity"] == s for f in findings) for s in ("error", "warning", "info")}
    assert counts["error"] >= 2  # the seed's real anomalies (their number is the seed tests' business)
    assert f"结果：错误{counts['error']}项，警告{counts['warning']}项，提示{counts['info']}项" in good
    positions = [good.index(label) for label in ("【错误】", "【警告】", "【提示】")]
    assert positions == sorted(positions)
    errors = good[positions[0]:positions[1]]
    assert "授予小微企业合同金额100万元大于授予中小企业合同金额55.34万元" in errors
    assert all(re.match(r"    - 第\d+页 ", line) for line in errors.splitlines()[1:] if line.strip())
    assert "无法读取：PDF 已加密，需要密码才能打开（encrypted）" in encrypted


def test_scanned_pdf_without_ocr_is_not_all_tables_missing():
    """Pages without a text layer are reported once as unreadable, and no table is called missing.

    (OCR of the same file is covered by the OCR tests.)"""
    from render_seeds import render

    scan = render("003", "scan-pdf")
    doc = parse_file(scan, ocr=OcrBudget(pages=0))
    assert doc.tables == [] and len(doc.unreadable_pages) == doc.page_count == 31
    validation = validate(doc)
    assert not [f for f in validation.findings if f.category == "missing_table"]
    unreadable = [f for f in validation.findings if f.rule == "unreadable_scan"]
    assert len(unreadable) == 1 and unreadable[0].evidence["pages"] == list(range(1, 32))
    assert any(s["rule"] == "M-REQUIRED" for s in validation.skipped)  # said, not silently passed
