"""Real portal pages as crawl material: every saved HTML page of ../shared/corpus/wild/, served by the fixture
portal and crawled as a source by the real discovery and fetcher, yields what a person sees on it.

The reviewed expectations are in tests/expectations/portal_pages.yaml (one entry per page, with why). Only the
saved page exists on the fixture portal: the detail pages a list links to and its other list pages answer 404,
which must be errors on those pages, not a failed source. The test runs offline: the other government sites
that pages link to do not resolve, so nothing leaves the machine.
"""

from __future__ import annotations

import json
import re
import socket
from collections import Counter
from datetime import date
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml
from conftest import REPO
from pipeline_support import rows, write_config
from portal import FixturePortal

from fiscalwatch.crawlers.discover import MemoryPageCache, discover
from fiscalwatch.crawlers.http import Fetcher
from fiscalwatch.crawlers.ratelimit import LocalRateLimiter
from fiscalwatch.settings import Settings, SourceConfig, load_settings
from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import CrawlRun
from fiscalwatch.store.models import Source as SourceRow
from fiscalwatch.workers.crawl import run_crawl
from fiscalwatch.workers.fetching import followed_files
from fiscalwatch.workers.runner import prepare

WILD = REPO.parent / "shared" / "corpus" / "wild"
EXPECTATIONS = REPO / "tests" / "expectations" / "portal_pages.yaml"
HTML_PAGES = [entry for entry in json.loads((WILD / "MANIFEST.json").read_text(encoding="utf-8"))
              if entry["format"] == "html" or entry["notes"].startswith("[")]
EXPECTED = {entry["file"]: entry for entry in yaml.safe_load(EXPECTATIONS.read_text(encoding="utf-8"))}
_CREATE_PAGE = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*0\s*,")
_real_getaddrinfo = socket.getaddrinfo


@pytest.fixture(scope="module")
def portal():
    with FixturePortal() as running:
        yield running


@pytest.fixture
def fetcher(monkeypatch):
    def offline(host, *args, **kwargs):
        if host != "127.0.0.1":
            raise socket.gaierror(socket.EAI_NONAME, "offline test: only the fixture portal resolves")
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    settings = Settings(request_timeout=5.0, fetch_retries=0, requests_per_second=0)
    return Fetcher(settings, LocalRateLimiter(0), allowed_networks=["127.0.0.1/32"])


def serve(portal: FixturePortal, file: str) -> str:
    """The saved bytes at a neutral path (no 预决算 words in it), as text/html without a charset."""
    return portal.add_file(f"/wild/{PurePosixPath(file).stem}/index.html", (WILD / file).read_bytes(),
                           content_type="text/html")


def test_every_saved_page_has_one_reviewed_expectation():
    files = [entry["file"] for entry in HTML_PAGES]
    assert len(files) == 120 and sorted(files) == sorted(EXPECTED)
    assert all(entry.get("why") for entry in EXPECTED.values())
    tags = Counter(entry["notes"][1:entry["notes"].index("]")] for entry in HTML_PAGES)
    assert tags == {"homepage": 61, "xxgk-guide": 23, "list": 22, "detail": 5, "column-list": 3, "link-index": 2,
                    "policy-doc": 1, "xxgk-frame": 1, "anti-bot": 1, "redirect": 1}
    assert all(EXPECTED[entry["file"]]["kind"] == entry["notes"][1:entry["notes"].index("]")] for entry in HTML_PAGES)


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_saved_page_yields_what_a_person_sees(portal, fetcher, file):
    expected = EXPECTED[file]
    url = serve(portal, file)
    found = discover(SourceConfig(id="wild", name="真实门户页面", url=url), fetcher, files=followed_files())
    if expected["status"] != "ok":
        assert_refused(found, url, expected)
    elif expected["kind"] == "list":
        assert_list(found, url, expected, (WILD / file).read_text(encoding="utf-8", errors="replace"))
    else:
        assert_publication(found, url, expected)


def assert_refused(found, url, expected):
    code, message = found.source_error(url)
    assert code == expected["status"] and expected["reason"] in message, message
    assert re.search(r"[\u4e00-\u9fff]", message)
    assert found.documents == [] and found.entries == [] and found.list_links == 0
    # Nothing on the page is followed; a stub's target is, and its failure is reported there too.
    target = {url.removesuffix("index.html") + expected["target"]} if "target" in expected else set()
    assert {error_url for error_url, _, _ in found.errors} == {url} | target and found.errors[0][0] == url


def assert_list(found, url, expected, html):
    assert found.source_error(url) is None
    assert found.documents == []  # no detail page exists on the fixture portal
    assert {entry.role for entry in found.entries} == {"detail"}
    titles = [entry.title for entry in found.entries]
    assert len(titles) == expected["details"] == found.list_links
    assert sum("决算" in title for title in titles) == expected["finals"]
    assert sum("预算" in title and "决算" not in title for title in titles) == expected["budgets"]
    years = [int(re.search(r"(?:19|20)\d{2}", title).group()) for title in titles]
    assert [min(years), max(years)] == expected["years"]
    assert all(entry.published for entry in found.entries)  # every entry has its 发布日期 next to it
    # The other list pages createPageHTML announces, and every detail page, were fetched and failed there.
    assert int(_CREATE_PAGE.search(html).group(1)) == expected["pages"]
    pages = {url.replace("index.html", f"index_{n}.html") for n in range(1, expected["pages"])}
    errors = {error_url: code for error_url, code, _ in found.errors}
    assert set(errors) == pages | {entry.url for entry in found.entries}
    assert all(code == ("not_found" if urlsplit(error_url).hostname == "127.0.0.1" else "dns_error")
               for error_url, code in errors.items())


def assert_publication(found, url, expected):
    assert found.source_error(url) is None
    suffixes = expected["files"]
    assert len(found.documents) == len(suffixes)
    for document, suffix in zip(sorted(found.documents, key=lambda d: d.url), sorted(suffixes, key=lambda s: s)):
        assert document.url.endswith(suffix), (document.url, suffix)
        assert document.kind == "attachment" and document.detail_url == url == document.list_url
        assert document.file_ext == re.search(r"\.(\w+)(?:\?|$)", suffix).group(1)
        assert document.title and document.page_title
    details = [entry for entry in found.entries if entry.role == "detail"]
    assert len(details) == expected.get("details", 0)
    assert {error_url for error_url, _, _ in found.errors} == {entry.url for entry in details}


def test_unchanged_pages_keep_their_verdict_from_the_cache(portal, fetcher):
    """A 304 on the source page reuses what was found on it: the detail page's files, or the refusal."""
    cache = MemoryPageCache()
    for file in ("chongqing_gzw_2026_portal_detail.html", "wuhan_rsj-antibot_na_other.html"):
        url = serve(portal, file)
        first = discover(SourceConfig(id="wild", name="真实门户页面", url=url), fetcher, cache, files=followed_files())
        second = discover(SourceConfig(id="wild", name="真实门户页面", url=url), fetcher, cache, files=followed_files())
        assert second.unchanged_pages == 1
        assert second.documents == first.documents and second.errors == first.errors


def test_challenge_answered_with_http_521_is_an_honest_error(portal, fetcher):
    url = serve(portal, "wuhan_rsj-antibot_na_other.html")
    portal.fail_next(urlsplit(url).path, times=1, status=521)
    found = discover(SourceConfig(id="wild", name="真实门户页面", url=url), fetcher, files=followed_files())
    code, message = found.source_error(url)
    assert code == "http_521" and "反爬虫" in message and found.documents == []


def test_crawl_run_records_why_a_source_yields_nothing(tmp_path, portal):
    """Through the crawl stage on a real SQLite store: a homepage configured as a source fails the run with
    the reason in Chinese, kept on the run and on the source; a list page is a healthy run."""
    homepage = serve(portal, "suzhou_gxj-home_na_other.html")
    listing = serve(portal, "changsha_qxj_na_portal_list.html")
    config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"},
                          [{"id": "home", "name": "苏州市工业和信息化局", "url": homepage},
                           {"id": "list", "name": "长沙市气象局 预决算", "url": listing}], [], fetch_retries=0)
    settings = load_settings(config)
    prepare(settings)
    with session_scope(settings.database_url) as session:
        runs = [CrawlRun(source_id=source_id, status="queued") for source_id in ("home", "list")]
        session.add_all(runs)
        session.flush()
        run_ids = [run.id for run in runs]
    assert [run_crawl(settings, run_id).healthy for run_id in run_ids] == [False, True]

    home_run, list_run = (rows(settings.database_url, CrawlRun, CrawlRun.id == run_id)[0] for run_id in run_ids)
    assert home_run.status == "failed" and home_run.documents_found == 0
    assert [(error["url"], error["code"]) for error in home_run.errors] == [(homepage, "not_a_disclosure_page")]
    source = rows(settings.database_url, SourceRow, SourceRow.id == "home")[0]
    assert source.last_error == home_run.errors[0]["message"] and "不是预决算列表或详情页" in source.last_error
    assert source.consecutive_failures == 1
    assert list_run.status == "ok" and list_run.list_links == 15
    assert rows(settings.database_url, SourceRow, SourceRow.id == "list")[0].last_error is None


def test_a_year_in_a_list_title_and_a_detail_page_as_source(portal, fetcher):
    """A list titled like a publication is still read as a list; a detail page configured as the source
    yields its own attachments; an application form attached next to the budget is not a disclosure."""
    list_url = portal.add_section("ys2024", title="2024年部门预算公开")
    detail = portal.add_document("ys2024", "某局2024年部门预算", date(2024, 2, 1),
                                 attachments=[("某局2024年部门预算.pdf", b"%PDF-1.4"), ("政府信息公开申请表.doc", b"x")])
    budget = portal.attachment_urls(detail)[0]
    listed = discover(SourceConfig(id="wild", name="真实门户页面", url=list_url), fetcher, files=followed_files())
    assert listed.errors == [] and [(d.url, d.detail_url) for d in listed.documents] == [(budget, detail)]
    alone = discover(SourceConfig(id="wild", name="真实门户页面", url=detail), fetcher, files=followed_files())
    assert alone.errors == [] and [(d.url, d.detail_url, d.list_url) for d in alone.documents] == [
        (budget, detail, detail)]


@pytest.mark.parametrize("body, code, reason", [
    ("<html><body><script>document.write('<ul><li>…</li></ul>')</script></body></html>", "script_only", "由脚本生成"),
    ("<html><head><title>某局2025年度部门预算</title></head><body><p>详见下方。</p></body></html>", "no_documents",
     "没有附件"),
    ("<html><head><meta http-equiv='refresh' content='0; url=b.html'></head></html>", "too_many_redirects", "跳转次数"),
])
def test_other_pages_without_documents_say_why(portal, fetcher, body, code, reason):
    url = portal.add_file(f"/synthetic/{code}/a.html", body.encode(), content_type="text/html; charset=utf-8")
    portal.add_file(f"/synthetic/{code}/b.html", body.replace("b.html", "a.html").encode(), content_type="text/html")
    found = discover(SourceConfig(id="wild", name="真实门户页面", url=url), fetcher, files=followed_files())
    assert found.source_error(url)[0] == code and reason in found.source_error(url)[1]
    assert found.documents == [] and found.entries == []
