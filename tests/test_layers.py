"""The layout reads as the data flow: no module imports a layer above its own (pyproject.toml's import-linter
contract), and the check itself can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parents[1]


def test_no_layer_imports_one_above_it(monkeypatch):
    monkeypatch.chdir(REPO)
    assert lint_imports(config_filename=str(REPO / "pyproject.toml")) == 0


def test_an_import_up_the_flow_breaks_the_contract(tmp_path):
    """A copy of the package whose store imports the web layer: the same contract must reject it."""
    shutil.copytree(REPO / "fiscalwatch", tmp_path / "fiscalwatch", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "fiscalwatch" / "store" / "upward.py").write_text("from fiscalwatch.web import render\n")
    run = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                          "sys.exit(lint_imports(config_filename='pyproject.toml'))"],
                         cwd=tmp_path, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "fiscalwatch.store.upward -> fiscalwatch.web.render" in run.stdout
