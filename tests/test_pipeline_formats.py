"""Every published format through the real pipeline (embedded default): spreadsheets, Word, a zip bundle,
an inline-HTML disclosure on a GBK page and a file with the wrong extension are archived, parsed and
alerted with the same anomalies as their PDF versions."""

from __future__ import annotations

import re
from datetime import date

from pipeline_support import backend, rows, run_once, write_config
from portal import FixturePortal
from render_seeds import render
from webhook import WebhookReceiver

from fiscalwatch.store.models import Blob, DocumentRow


def _body(seed: str) -> str:
    page = render(seed, "html").read_text(encoding="utf-8")
    return re.search(r"<body[^>]*>(.*)</body>", page, re.S).group(1)


def test_every_format_through_the_pipeline(tmp_path):
    with FixturePortal() as portal, WebhookReceiver() as hooks, backend("embedded", tmp_path) as store:
        portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算报表", date(2024, 10, 20),
                            attachments=[("决算报表.xlsx", render("000", "xlsx").read_bytes())])
        portal.add_document("czyjs", "洛阳市孟津区医疗保障局2023年度部门决算", date(2024, 10, 22),
                            attachments=[("部门决算.docx", render("001", "docx").read_bytes())])
        portal.add_document("czyjs", "鄂州市医疗保障服务中心2022年度部门决算（打包下载）", date(2023, 9, 1),
                            attachments=[("决算公开.zip", render("004", "zip").read_bytes())])
        portal.add_document("czyjs", "濮阳市医疗保障局2024年部门预算", date(2024, 3, 1),
                            attachments=[("部门预算.pdf", render("002", "doc").read_bytes())])  # a .doc named .pdf
        portal.add_document("gbk", "临汾市医疗保险服务中心2023年度单位决算公开", date(2024, 9, 30), encoding="gbk",
                            inline_html=_body("003"))
        config = write_config(tmp_path, store, [
            {"id": "czyjs", "name": "财政局门户", "url": portal.section_url("czyjs")},
            {"id": "gbk", "name": "GBK 门户", "url": portal.section_url("gbk")},
        ], [{"url": hooks.url_for("/ngo")}])
        run_once(config)

        db = store["database_url"]
        blobs = rows(db, Blob)
        assert all(b.status == "ok" for b in blobs), [(b.filename, b.error) for b in blobs]
        assert sorted(b.format for b in blobs) == ["doc", "docx", "html", "pdf", "xlsx"]
        assert len(rows(db, DocumentRow, DocumentRow.kind == "inline_html")) == 1

        messages = {re.split(r"\d{4}年度", m.title)[0]: m.message for m in hooks.wait_for(5, path="/ngo")}
        assert "11.38%" in messages["济源市社会医疗保险中心"]
        assert "28.35%" in messages["洛阳市孟津区医疗保障局"]
        assert "180.70%" in messages["鄂州市医疗保障服务中心"]
        assert "65.91%" in messages["濮阳市医疗保障局"]
        assert "仅供内部审核" in messages["临汾市医疗保险服务中心"]
