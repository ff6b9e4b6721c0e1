"""The command line beyond single files: directories (recursively with -r), thresholds from --config,
help text without type placeholders, and `--help` that imports nothing heavy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fiscalwatch.cli import app

FISCALWATCH = Path(sys.executable).with_name("fiscalwatch")
LOW_RATE = "完成率11.38%，低于"  # seed 000: a completion rate of 11.38% (below 30%, above 10%)
HEAVY = ("parsers", "validators", "celery", "fastapi", "sqlalchemy", "pydantic", "pdfplumber", "pypdfium2", "cv2",
         "onnxruntime", "openpyxl", "apprise", "workers", "store", "web")


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(FISCALWATCH), *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, seed_pdfs) -> Path:
    root = tmp_path_factory.mktemp("disclosures")
    (root / "2023年度决算.pdf").write_bytes(seed_pdfs["000"].read_bytes())
    (root / "说明.txt").write_text("不是公开文件\n", encoding="utf-8")
    (root / "附件").mkdir()
    (root / "附件" / "部门决算.PDF").write_bytes(seed_pdfs["004"].read_bytes())
    (root / "空目录").mkdir()
    return root


def test_help_imports_only_the_command_line():
    probe = ("import sys\nfrom fiscalwatch.cli import app\n"
             "try:\n    app(['check', '--help'])\nexcept SystemExit:\n    pass\n"
             f"print([m for m in sys.modules if m.split('.')[0] in {HEAVY!r}])")
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("[]"), completed.stdout


def test_help_shows_metavars_not_types():
    commands = [[name] for name in app.commands if name != "registry"] + [["registry", n] for n in
                                                                          app.commands["registry"].commands]
    for command in commands:
        completed = run(*command, "--help")
        assert completed.returncode == 0, (command, completed.stderr)
        assert "<bool>" not in completed.stdout and "BOOLEAN" not in completed.stdout, command
        if "--config" in completed.stdout:
            assert "--config PATH" in completed.stdout, command
    check = run("check", "--help").stdout
    assert "Usage: fiscalwatch check [OPTIONS] FILE..." in check and "--threshold PERCENT" in check


@pytest.mark.slow
def test_a_directory_checks_its_supported_files_and_r_goes_down(folder):
    flat = run("check", "--json", folder)
    assert flat.returncode == 0, flat.stderr
    assert [Path(r["file"]).name for r in json.loads(flat.stdout)] == ["2023年度决算.pdf"]

    deep = run("check", "--json", "-r", folder)
    assert deep.returncode == 0, deep.stderr
    reports = json.loads(deep.stdout)
    assert sorted(Path(r["file"]).name for r in reports) == ["2023年度决算.pdf", "部门决算.PDF"]
    assert all(r["status"] == "ok" and r["findings"] for r in reports)


@pytest.mark.slow
def test_text_report_ends_with_a_count_per_status(folder, tmp_path):
    broken = tmp_path / "损坏.pdf"
    broken.write_bytes(b"%PDF-1.4\n")
    completed = run("check", folder / "2023年度决算.pdf", broken)
    assert completed.returncode == 1
    assert completed.stdout.rstrip().endswith("共核查2份：已核查1个，无法读取1个")


@pytest.mark.slow
def test_an_empty_directory_is_said_not_a_traceback(folder):
    completed = run("check", folder / "空目录")
    assert completed.returncode == 2
    assert "目录中没有可核查的文件" in completed.stderr and "Traceback" not in completed.stderr


@pytest.mark.slow
def test_check_uses_the_configured_threshold(folder, tmp_path):
    config = tmp_path / "fw.yaml"
    config.write_text(yaml.safe_dump({"rules": {"low_completion_threshold": 10}}), encoding="utf-8")
    pdf = folder / "2023年度决算.pdf"

    def messages(*args) -> str:
        completed = run("check", "--json", *args, pdf, cwd=tmp_path)  # no config/fiscalwatch.yaml here
        assert completed.returncode == 0, completed.stderr
        return " ".join(f["message"] for f in json.loads(completed.stdout)[0]["findings"])

    assert LOW_RATE in messages()  # default 30%
    assert LOW_RATE not in messages("--config", config)  # 11.38% is above the configured 10%
    assert LOW_RATE in messages("--config", config, "--threshold", "20")  # the option wins
    missing = run("check", "--config", tmp_path / "nope.yaml", pdf)
    assert missing.returncode == 2 and "配置文件不存在" in missing.stderr


NOTICE = ("<html><head><meta charset='utf-8'><title>关于开展安全生产检查的通知</title></head><body>"
          "<h1>关于开展安全生产检查的通知</h1><p>各科室：为做好安全生产工作，现将有关事项通知如下。</p></body></html>")


@pytest.mark.slow
def test_a_page_that_is_no_disclosure_is_counted_apart(folder, tmp_path):
    notice = tmp_path / "通知.html"
    notice.write_text(NOTICE, encoding="utf-8")
    completed = run("check", folder / "2023年度决算.pdf", notice)
    assert completed.returncode == 0, completed.stderr  # read fine, just not a disclosure
    assert "非预决算文件：文件不是预决算公开文件" in completed.stdout
    assert completed.stdout.rstrip().endswith("共核查2份：已核查1个，非预决算文件1个")


@pytest.mark.slow
def test_publication_judges_the_files_as_one(folder, tmp_path):
    notice = tmp_path / "通知.html"
    notice.write_text(NOTICE, encoding="utf-8")
    pdf = folder / "2023年度决算.pdf"

    completed = run("check", "--json", "--publication", pdf, notice)
    assert completed.returncode == 0, completed.stderr
    [publication] = json.loads(completed.stdout)
    assert [(Path(m["file"]).name, m["status"]) for m in publication["members"]] == [
        ("2023年度决算.pdf", "ok"), ("通知.html", "not_a_disclosure")]
    assert publication["status"] == "ok" and publication["findings"]
    alone = json.loads(run("check", "--json", pdf).stdout)[0]
    assert {f["rule"] for f in alone["findings"]} <= {f["rule"] for f in publication["findings"]}

    text = run("check", "--publication", pdf, notice).stdout
    assert text.startswith("== 发布内容，共2个文件")
    assert f"  - {pdf}：共" in text and f"  - {notice}：非预决算文件：" in text
    assert text.rstrip().endswith("共核查1份：已核查1个")
