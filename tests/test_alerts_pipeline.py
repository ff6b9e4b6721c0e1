"""A watch of a portal whose documents have errors and low completion rates: every error and every
low-completion finding the checker stored reaches the alert, by category with its page, on a per-document
JSON webhook (text and fields) and in the digest of a digest route; then a failed delivery makes
`watch --once` exit non-zero and say so."""

from __future__ import annotations

from datetime import date

import pytest
from pipeline_support import fiscalwatch, rows, write_config
from portal import FixturePortal
from render_seeds import render
from webhook import WebhookReceiver

from fiscalwatch.store.db import session_scope
from fiscalwatch.store.models import Alert, Blob, DocumentRow, FindingRow

pytestmark = pytest.mark.slow


def _must_show(db: str) -> dict[str, list]:
    """Per entity, the stored findings an alert may never leave out."""
    with session_scope(db) as session:
        return {blob.entity: [f for f in session.query(FindingRow).filter(FindingRow.sha256 == blob.sha256)
                              if f.severity == "error" or f.category == "low_completion"]
                for blob in session.query(Blob)}


def test_alerts_carry_every_error_and_low_completion_finding(tmp_path):
    with FixturePortal() as portal, WebhookReceiver() as hooks:
        portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算", date(2024, 10, 20),
                            attachments=[("决算.pdf", render("000", "pdf").read_bytes())])
        portal.add_document("czyjs", "洛阳市孟津区医疗保障局2023年度部门决算", date(2024, 10, 22),
                            attachments=[("部门决算.pdf", render("001", "pdf").read_bytes())])
        db = f"sqlite:///{tmp_path / 'fw.db'}"
        config = write_config(tmp_path, {"database_url": db},
                              [{"id": "czyjs", "name": "示例门户", "url": portal.section_url("czyjs"),
                                "region": "河南省"}],
                              [{"url": hooks.url_for("/ngo")}, {"url": hooks.url_for("/digest"), "digest": True}],
                              alert_top_findings=1, dashboard_url="https://fiscalwatch.example.org")

        result = fiscalwatch("watch", "--once", "--config", str(config), "--loglevel", "WARNING")
        assert result.returncode == 0, result.stderr[-3000:]
        assert "发送提醒3条" in result.stdout

        must = _must_show(db)
        assert set(must) == {"济源市社会医疗保险中心", "洛阳市孟津区医疗保障局"}
        assert any(f.category == "low_completion" for f in must["济源市社会医疗保险中心"])
        assert any(f.severity == "error" for f in must["济源市社会医疗保险中心"])
        alerts = {m.body["alert"]["document"]["entity"]: m for m in hooks.wait_for(2, path="/ngo")}
        for entity, findings in must.items():
            text, fields = alerts[entity].message, alerts[entity].body["alert"]
            for f in findings:
                label = {"low_completion": "【执行率低】", "reconciliation": "【勾稽不符】", "missing_table": "【缺少表格】",
                         "document": "【文件问题】"}[f.category]
                assert f.message in text and label in text, (entity, f.message)
                assert f.page is None or f"{f.message}（第{f.page}页" in text
            assert {(f.rule, f.page) for f in findings} <= {(f["rule"], f["page"]) for f in fields["findings"]}
            document = rows(db, DocumentRow, DocumentRow.current_sha256 == fields["document"]["sha256"])[0]
            assert fields["document"]["archive_url"] == f"https://fiscalwatch.example.org/documents/{document.id}"
        assert "11.38%" in alerts["济源市社会医疗保险中心"].message
        assert "28.35%" in alerts["洛阳市孟津区医疗保障局"].message

        [digest] = hooks.wait_for(1, path="/digest")
        assert digest.title.startswith("示例门户本轮采集汇总：2个文件")
        for findings in must.values():
            assert all(f.message in digest.message for f in findings)
        assert {d["entity"] for d in digest.body["alert"]["documents"]} == set(must)

        # The next cycle's digest would only repeat nothing; a failing channel makes the run say so and fail.
        portal.add_document("czyjs", "某县财政局2024年度部门预算", date(2025, 2, 1),
                            attachments=[("部门预算.pdf", render("004", "pdf").read_bytes())])
        hooks.fail_next(10, path="/ngo")
        result = fiscalwatch("watch", "--once", "--config", str(config), "--loglevel", "WARNING")
        assert result.returncode == 1, result.stdout
        assert "发送失败1条" in result.stdout and "提醒发送失败" in result.stdout and "500" in result.stdout
        failed = rows(db, Alert, Alert.status != "sent")
        assert len(failed) == 1 and failed[0].channel.endswith("/ngo") and failed[0].attempts == 1
        assert len(hooks.messages("/digest")) == 2  # the new run's digest went out
