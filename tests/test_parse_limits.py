"""The parse sandbox's limits (parse_memory_mb, parse_time_limit) come from the configuration, and `check` and
the pipeline apply the same ones: a file that takes 12 s to parse, under a 1 s limit, ends as `timeout` in both."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from pipeline_support import rows, write_config
from render_seeds import render

from fiscalwatch.cli import app
from fiscalwatch.parsers.limits import Limits
from fiscalwatch.settings import load_settings
from fiscalwatch.store.archive import archive
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Blob
from fiscalwatch.validators.checker import parse_limits
from fiscalwatch.workers.processing import run_process
from fiscalwatch.workers.runner import prepare


@pytest.fixture(scope="module")
def long_pdf(tmp_path_factory):
    """Seed 000 eight times over: 488 pages, about 12 s to parse here, far beyond the 1 s limit below."""
    seed = pdfium.PdfDocument(render("000", "pdf"))
    merged = pdfium.PdfDocument.new()
    for _ in range(8):
        merged.import_pages(seed)
    path = tmp_path_factory.mktemp("long") / "合订本.pdf"
    merged.save(path)
    return path


@pytest.fixture
def config(tmp_path):
    return write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"}, [], [],
                        parse_time_limit=1, parse_memory_mb=700)


def test_the_configured_limits_are_the_parse_limits(config):
    assert parse_limits(load_settings(config)) == Limits(memory_mb=700, seconds=1, ocr_threads=os.cpu_count(),
                                                          ocr_pages=80)


def test_each_parse_ocrs_on_its_share_of_the_cores(config):
    settings, cores = load_settings(config), os.cpu_count()
    assert [parse_limits(settings, parallel).ocr_threads for parallel in (1, cores, 4 * cores)] == [cores, 1, 1]
    assert parse_limits(settings.model_copy(update={"ocr_threads": 3}), cores).ocr_threads == 3


def test_check_parses_within_the_configured_limits(config, long_pdf):
    result = CliRunner().invoke(app, ["check", "--json", "--config", str(config), str(long_pdf)])
    [report] = json.loads(result.output)
    assert result.exit_code == 1, result.output
    assert report["error"]["code"] == "timeout" and "1秒" in report["error"]["message"]


def test_the_pipeline_parses_within_the_configured_limits(config, long_pdf):
    settings = load_settings(config)
    prepare(settings)
    content = long_pdf.read_bytes()
    sha256, relative = archive(settings.storage_dir, content)
    with session_scope(settings.database_url) as session:
        session.add(Blob(sha256=sha256, size=len(content), path=relative, filename=long_pdf.name,
                         first_seen_at=datetime.now(timezone.utc), status="pending", attempts=0))
    run_process(settings, sha256)
    [blob] = rows(settings.database_url, Blob)
    assert (blob.status, blob.error_code) == ("failed", "timeout") and "1秒" in blob.error
