"""The real pipeline, end to end: `fiscalwatch watch --once` crawls a local fixture portal, archives and
checks what it finds, and alerts a local webhook receiver — once with the embedded default (SQLite store,
SQLite broker) and once with PostgreSQL and Redis on this machine."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from pipeline_support import backend, rows, run_once, write_config
from portal import FixturePortal
from render_seeds import render
from webhook import WebhookReceiver

from fiscalwatch.store.models import Alert, Blob, CrawlRun, DocumentRow, DocumentUrl, Source, Version


def _bytes(seed: str, **mutations) -> bytes:
    return render(seed, "pdf", **mutations).read_bytes()


@pytest.fixture(params=["embedded", "distributed"])
def kind(request) -> str:
    return request.param


def test_pipeline_end_to_end(kind, tmp_path):
    with FixturePortal(per_page=2) as portal, WebhookReceiver() as hooks, backend(kind, tmp_path) as store:
        db = store["database_url"]
        first = portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算", date(2024, 10, 20),
                                    attachments=[("2023年度单位决算.pdf", _bytes("000"))])
        second = portal.add_document("czyjs", "洛阳市孟津区医疗保障局2023年度部门决算", date(2024, 10, 22),
                                     attachments=[("部门决算.pdf", _bytes("001"))])
        portal.add_document("czyjs", "关于开展安全生产检查的通知", date(2024, 10, 23))  # no attachment
        gbk = portal.add_document("gbk", "2023年度部门决算公开", date(2024, 9, 30), encoding="gbk",
                                  attachments=[("决算.pdf", _bytes("002"))])
        portal.add_document("neibu", "内部审核稿", date(2024, 9, 1), attachments=[("稿.pdf", _bytes("003"))])
        portal.set_robots(disallow=["/neibu/"])
        flaky = urlsplit(portal.attachment_urls(second)[0]).path
        portal.fail_next(flaky, times=1, status=500)
        sources = [{"id": "czyjs", "name": "示例财政局 预决算公开", "url": portal.section_url("czyjs"),
                    "region": "河南省/济源市"},
                   {"id": "gbk", "name": "GBK 编码的门户", "url": portal.section_url("gbk"), "region": "河南省/洛阳市"},
                   {"id": "neibu", "name": "robots 禁止的栏目", "url": portal.section_url("neibu")}]
        config = write_config(tmp_path, store, sources, [
            {"url": hooks.url_for("/ngo"), "categories": ["low_completion", "reconciliation", "missing_table",
                                                          "document"]},
            {"url": hooks.url_for("/ops"), "categories": ["operations"]},
        ])

        # Cycle 1: every listed file is archived, checked, and alerted once, with its real anomalies.
        run_once(config, failing=("neibu",))
        ngo = hooks.wait_for(3, path="/ngo")
        by_entity = {re.split(r"\d{4}年度", m.title)[0]: m.message for m in ngo}
        assert set(by_entity) == {"济源市社会医疗保险中心", "洛阳市孟津区医疗保障局", "濮阳市医疗保障局"}, by_entity.keys()
        assert "11.38%" in by_entity["济源市社会医疗保险中心"] and "第21页" in by_entity["济源市社会医疗保险中心"]
        assert "28.35%" in by_entity["洛阳市孟津区医疗保障局"]
        assert all(b.status == "ok" for b in rows(db, Blob)), [(b.filename, b.error) for b in rows(db, Blob)]
        assert {b.entity for b in rows(db, Blob)} >= {"济源市社会医疗保险中心", "洛阳市孟津区医疗保障局"}
        assert len(portal.hits(flaky)) == 2  # a 500, then the retry that worked
        assert not [r for r in portal.requests if r.path.startswith("/neibu/")]  # robots.txt is obeyed
        assert rows(db, Source, Source.id == "neibu")[0].last_error
        assert len(rows(db, DocumentRow)) == 3

        # Cycle 2: nothing changed, so nothing is downloaded again and nothing is sent again.
        portal.clear_requests()
        run_once(config, failing=("neibu",))
        file_hits = [r for r in portal.requests if r.path.endswith(".pdf")]
        assert file_hits and all(r.status == 304 for r in file_hits)
        assert len(hooks.messages("/ngo")) == 3

        # Cycle 3: a new publication, a replaced file, a withdrawn one.
        portal.add_document("czyjs", "某县财政局2024年度部门预算", date(2025, 2, 1),
                            attachments=[("部门预算.pdf", _bytes("004"))])
        changed = _bytes("000", replacements={"90.40万元": "99.40万元"})
        portal.replace_attachment(portal.attachment_urls(first)[0], changed)
        portal.remove_document(gbk)
        run_once(config, failing=("neibu",))
        new = hooks.messages("/ngo")[3:]
        titles = [m.title for m in new]
        assert sum(t.startswith("文件被替换") for t in titles) == 1, titles
        assert sum(t.startswith("文件已撤下") for t in titles) == 1, titles
        assert any(t.startswith("济源市社会医疗保险中心") for t in titles), titles  # the new version's findings
        replaced_doc = rows(db, DocumentRow, DocumentRow.title.contains("济源"))[0]
        versions = rows(db, Version, Version.document_id == replaced_doc.id)
        assert len(versions) == 2 and sum(v.superseded_at is None for v in versions) == 1
        assert replaced_doc.current_sha256 == next(v.sha256 for v in versions if v.superseded_at is None)
        withdrawn = rows(db, DocumentRow, DocumentRow.status == "withdrawn")
        assert [d.title for d in withdrawn] == ["2023年度部门决算公开"]
        assert rows(db, DocumentUrl, DocumentUrl.fetch_status == "gone")

        # Cycle 4: quiet again; every alert row was sent exactly once.
        before = len(hooks.requests)
        run_once(config, failing=("neibu",))
        assert len(hooks.requests) == before
        alerts = rows(db, Alert)
        assert all(a.status == "sent" and a.attempts == 1 for a in alerts)
        assert len({a.key for a in alerts}) == len(alerts)
        assert all(run.status in ("ok", "failed") for run in rows(db, CrawlRun))
