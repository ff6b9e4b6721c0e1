"""Discovery against the fixture portal over real HTTP: pagination styles, detail pages, cache, errors."""

from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from portal import FixturePortal

from fiscalwatch.crawlers.discover import CacheEntry, Link, MemoryPageCache, discover
from fiscalwatch.crawlers.http import Fetcher
from fiscalwatch.crawlers.pagination import page_urls
from fiscalwatch.crawlers.ratelimit import LocalRateLimiter
from fiscalwatch.settings import Selectors, Settings, SourceConfig
from fiscalwatch.workers.fetching import followed_files

BUDGET_TABLE = ("<table><tr><th>项目</th><th>预算数</th><th>决算数</th></tr>"
                "<tr><td>一般公共预算财政拨款</td><td>1,234.56</td><td>1,200.00</td></tr>"
                "<tr><td>政府性基金</td><td>0.00</td><td>0</td></tr></table>")


@pytest.fixture
def portal():
    with FixturePortal(per_page=3) as running:
        yield running


@pytest.fixture
def fetcher():
    settings = Settings(request_timeout=5.0, fetch_retries=2, requests_per_second=0)
    return Fetcher(settings, LocalRateLimiter(0), allowed_networks=["127.0.0.1/32"], retry_backoff=0.02)


def source_for(url: str, **fields) -> SourceConfig:
    return SourceConfig(id="test", name="测试来源", url=url, **fields)


def publish(portal: FixturePortal, section: str, count: int) -> dict[str, tuple[str, date, str]]:
    """``count`` documents with one PDF each; returns {attachment URL: (title, date, detail URL)}."""
    expected = {}
    for n in range(count):
        title, day = f"第{n + 1}部门2023年度部门决算", date(2024, 10, 25 - n)
        detail = portal.add_document(section, title, day, attachments=[(f"{title}.pdf", b"%%PDF %d" % n)])
        expected[portal.attachment_urls(detail)[0]] = (title, day, detail)
    return expected


@pytest.mark.parametrize("pagination", ["trs", "query", "next"])
def test_finds_exactly_the_documents_across_pages(portal, fetcher, pagination):
    list_url = portal.add_section("czyjs", pagination=pagination)
    expected = publish(portal, "czyjs", 8)  # 3 list pages
    found = discover(source_for(list_url), fetcher, files=followed_files())

    assert found.errors == []
    assert {d.url: (d.title, d.published) for d in found.documents} == {
        url: (f"{title}.pdf", day) for url, (title, day, _) in expected.items()}
    # "query": list.html and list.html?page=1 (the 首页 link) are the same page, read twice.
    assert found.list_links == 8 and found.pages_fetched == {"trs": 3, "query": 4, "next": 3}[pagination] + 8
    document = found.documents[0]
    assert document.kind == "attachment" and document.file_ext == "pdf" and document.list_url == list_url
    assert document.page_title == "第1部门2023年度部门决算"
    assert document.detail_url.endswith("/czyjs/202410/t20241025_100001.html")
    assert not [r for r in portal.requests if r.path in ("/zwgk/index.html", "/sitemap.html", "/search.html")]


def test_max_pages_limits_the_list_pages_read(portal, fetcher):
    list_url = portal.add_section("czyjs")
    publish(portal, "czyjs", 8)
    found = discover(source_for(list_url, max_pages=2), fetcher, files=followed_files())
    assert len(found.documents) == 6 and found.list_links == 6
    assert not portal.hits("/czyjs/index_2.html")


def test_gbk_section_titles_are_decoded(portal, fetcher):
    list_url = portal.add_section("bmjs", encoding="gbk")
    title = "朱镕基路街道办事处2023年度部门决算（王珺）"
    detail = portal.add_document("bmjs", title, date(2024, 9, 30), attachments=[("部门决算.pdf", b"%PDF")])
    inline = portal.add_document("bmjs", "镕城镇2024年部门预算", date(2024, 2, 1), inline_html=BUDGET_TABLE)
    found = discover(source_for(list_url), fetcher, files=followed_files())
    by_url = {d.url: d for d in found.documents}
    assert by_url[portal.attachment_urls(detail)[0]].page_title == title
    assert by_url[portal.attachment_urls(detail)[0]].title == "部门决算.pdf"
    assert by_url[inline].title == "镕城镇2024年部门预算"


def test_attachments_inline_html_direct_links_and_plain_notices(portal, fetcher):
    list_url = portal.add_section("yjsgk")
    several = portal.add_document("yjsgk", "某局2024年部门预算", date(2024, 2, 10),
                                  attachments=[("预算.xlsx", b"PK"), ("预算说明.docx", b"PK"), ("附表.rar", b"Rar!")])
    inline = portal.add_document("yjsgk", "某中心2023年度单位决算", date(2024, 9, 1), inline_html=BUDGET_TABLE)
    prose = portal.add_document("yjsgk", "某所2023年度决算公开", date(2024, 9, 2),
                                body="<p>2023年度一般公共预算财政拨款支出决算为356.20万元。</p>")
    direct = portal.add_document("yjsgk", "某局2023年度三公经费决算", date(2024, 8, 30),
                                 attachments=[("三公经费.pdf", b"%PDF")], link_directly=True)
    notice = portal.add_document("yjsgk", "关于做好预决算公开工作的通知", date(2024, 1, 5))

    found = discover(source_for(list_url), fetcher, files=followed_files())
    by_url = {d.url: d for d in found.documents}
    assert set(by_url) == {*portal.attachment_urls(several), inline, prose, direct}
    assert [by_url[url].file_ext for url in portal.attachment_urls(several)] == ["xlsx", "docx", "rar"]
    assert (by_url[inline].kind, by_url[inline].file_ext, by_url[inline].detail_url) == ("inline_html", "html", inline)
    assert by_url[inline].published == date(2024, 9, 1)
    assert by_url[prose].kind == "inline_html"
    assert (by_url[direct].kind, by_url[direct].detail_url, by_url[direct].published) == (
        "attachment", None, date(2024, 8, 30))
    assert by_url[direct].title == "某局2023年度三公经费决算"
    assert portal.hits(notice.removeprefix(portal.base_url))  # visited, but not a document


def test_unchanged_source_costs_only_304s(portal, fetcher):
    list_url = portal.add_section("czyjs")
    publish(portal, "czyjs", 5)  # 2 list pages
    cache = MemoryPageCache()
    first = discover(source_for(list_url), fetcher, cache, files=followed_files())
    assert first.unchanged_pages == 0 and len(cache.entries) == 2 + 5

    portal.clear_requests()
    second = discover(source_for(list_url), fetcher, cache, files=followed_files())
    assert second.documents == first.documents
    assert second.unchanged_pages == second.pages_fetched == 7 and second.list_links == 5
    pages = [r for r in portal.requests if r.path != "/robots.txt"]
    assert len(pages) == 7 and {r.status for r in pages} == {304}
    assert all(r.headers["If-None-Match"] for r in pages)

    portal.clear_requests()
    new = portal.add_document("czyjs", "新增单位2023年度决算", date(2024, 11, 1), attachments=[("新.pdf", b"%PDF")])
    third = discover(source_for(list_url), fetcher, cache, files=followed_files())
    assert portal.attachment_urls(new)[0] in {d.url for d in third.documents} and len(third.documents) == 6
    assert [r.status for r in portal.hits("/czyjs/index.html")] == [200]


def test_cache_entries_round_trip_as_json_ready_dicts():
    link = Link("detail", "http://example.gov.cn/czyjs/202410/t20241025_1.html", "标题", date(2024, 10, 25))
    entry = CacheEntry('"abc"', "Fri, 25 Oct 2024 00:00:00 GMT", [link.to_dict()])
    assert entry.links[0]["published"] == "2024-10-25"
    assert Link.from_dict(entry.links[0]) == link


def test_removed_document_disappears(portal, fetcher):
    list_url = portal.add_section("czyjs")
    expected = publish(portal, "czyjs", 4)
    gone, (_, _, gone_detail) = next(iter(expected.items()))
    portal.remove_document(gone_detail)
    found = discover(source_for(list_url), fetcher, files=followed_files())
    assert {d.url for d in found.documents} == set(expected) - {gone}
    assert portal.hits(gone_detail.removeprefix(portal.base_url)) == []


def test_failed_pages_are_reported_and_transient_failures_retried(portal, fetcher):
    list_url = portal.add_section("czyjs")
    expected = publish(portal, "czyjs", 2)
    (ok_url, _), (_, (_, _, broken_detail)) = expected.items()
    broken_path = broken_detail.removeprefix(portal.base_url)
    portal.fail_next("/czyjs/index.html", times=1, status=500)
    portal.fail_next(broken_path, times=10, status=502)
    found = discover(source_for(list_url), fetcher, files=followed_files())
    assert [d.url for d in found.documents] == [ok_url]
    assert [r.status for r in portal.hits("/czyjs/index.html")] == [500, 200]
    assert len(found.errors) == 1
    url, code, message = found.errors[0]
    assert (url, code) == (broken_detail, "http_502") and "HTTP 502" in message


def test_unreachable_source_is_an_error_not_an_exception(fetcher):
    found = discover(source_for("http://10.255.255.1/czyjs/index.html"), fetcher, files=followed_files())
    assert found.documents == [] and found.pages_fetched == 0
    assert [code for _, code, _ in found.errors] == ["private_address"]


def test_selectors_override_the_heuristics(portal, fetcher):
    # Entries without dates are invisible to the heuristics; a selector names them.
    detail = portal.add_document("hidden", "某局2023年度部门决算", date(2024, 10, 25),
                                 attachments=[("download", b"%PDF")])
    href = detail.removeprefix(portal.base_url)
    list_url = portal.add_file("/custom/list.html", f'<html><body><div class="items"><a href="{href}">某局决算</a>'
                               f'</div><a class="more" href="/custom/list2.html">更多</a></body></html>'.encode(),
                               content_type="text/html; charset=utf-8")
    portal.add_file("/custom/list2.html", b"<html><body></body></html>", content_type="text/html")
    assert discover(source_for(list_url), fetcher, files=followed_files()).documents == []

    selectors = Selectors(list_links="div.items a", attachments="div.fujian a", next_page="a.more")
    found = discover(source_for(list_url, selectors=selectors), fetcher, files=followed_files())
    assert [d.url for d in found.documents] == portal.attachment_urls(detail)
    assert found.documents[0].file_ext is None and found.documents[0].title == "download"
    assert portal.hits("/custom/list2.html")


def test_pagination_reads_trs_variables_and_next_links():
    html = ('<script>var countPage = 3//共多少页\nvar currentPage = 0;'
            'createPageHTML(countPage, currentPage, "index", "shtml");</script>'
            '<a href="list_more.htm">下一页&gt;&gt;</a><a href="javascript:go(2)">下一页</a>'
            '<a href="http://other.example/index_1.shtml">1</a>')
    urls = page_urls(BeautifulSoup(html, "lxml"), "http://example.gov.cn/czyjs/index.shtml")
    assert urls == ["http://example.gov.cn/czyjs/index_1.shtml", "http://example.gov.cn/czyjs/index_2.shtml",
                    "http://example.gov.cn/czyjs/list_more.htm"]
