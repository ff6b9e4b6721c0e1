"""The format registry: each reader module declares what it reads, and sniffing, dispatch, `check`'s directory
walk and the crawler's attachment links all come from those declarations."""

from __future__ import annotations

from datetime import date

from portal import FixturePortal

from fiscalwatch.crawlers.discover import discover
from fiscalwatch.crawlers.http import Fetcher
from fiscalwatch.crawlers.ratelimit import LocalRateLimiter
from fiscalwatch.parsers import formats
from fiscalwatch.settings import Settings, SourceConfig
from fiscalwatch.workers.fetching import followed_files

READ = {"pdf", "image", "xlsx", "xls", "docx", "doc", "rtf", "odt", "ods", "xml_spreadsheet", "html"}


def test_every_reader_module_declares_its_formats_once():
    declared = formats.registry()
    kinds = [f.kind for f in declared]
    assert len(kinds) == len(set(kinds)) and set(kinds) == READ | {"zip", "rar"}
    assert {f.kind for f in declared if f.read is not None} == READ  # archives are read member by member
    owners = {}
    for format_ in declared:
        for ext in format_.extensions:
            assert owners.setdefault(ext, format_.kind) == format_.kind, ext  # one format per extension
    assert [f.order for f in declared] == sorted(f.order for f in declared)


def test_the_crawler_follows_what_the_parsers_read_and_not_web_pages():
    files = followed_files()
    assert files.attachments == formats.extensions(linked_only=True)
    assert {"odt", "ods", "rtf", "et", "wps", "bmp"} <= files.attachments  # read, but once never fetched
    assert not files.attachments & {"htm", "html"}
    assert files.images == set(formats.by_kind("image").extensions)
    assert "application/vnd.oasis.opendocument.text" in formats.mime_types(linked_only=True)
    assert "text/html" not in formats.mime_types(linked_only=True)


def test_opendocument_and_rtf_attachments_of_a_detail_page_are_fetched():
    settings = Settings(request_timeout=5.0, fetch_retries=2, requests_per_second=0)
    fetcher = Fetcher(settings, LocalRateLimiter(0), allowed_networks=["127.0.0.1/32"], retry_backoff=0.02)
    with FixturePortal(per_page=3) as portal:
        list_url = portal.add_section("czyjs")
        detail = portal.add_document("czyjs", "某局2026年部门预算公开", date(2026, 2, 10), attachments=[
            ("部门预算说明.odt", b"PK odt"), ("部门预算表.ods", b"PK ods"), ("编制说明.rtf", b"{\\rtf1}")])
        found = discover(SourceConfig(id="t", name="测试", url=list_url), fetcher, files=followed_files())
    assert found.errors == []
    assert sorted(d.file_ext for d in found.documents) == ["ods", "odt", "rtf"]
    assert {d.detail_url for d in found.documents} == {detail}


def test_a_directory_check_picks_the_registered_extensions(tmp_path, seed_pdfs):
    from fiscalwatch.cli import _expand

    for name in ("预算.pdf", "说明.odt", "报表.ET", "页面.htm", "笔记.txt", "数据.csv"):
        (tmp_path / name).write_bytes(seed_pdfs["000"].read_bytes())
    assert sorted(p.name for p in _expand((tmp_path,), recursive=False)) == ["报表.ET", "说明.odt", "页面.htm",
                                                                               "预算.pdf"]
