"""What operators see from `fiscalwatch watch --once`: a Chinese line per crawl and per processed file while
it runs (Celery's own task log only at DEBUG), a summary at the end, and a non-zero exit status naming the
source and the reason when a source could not be crawled."""

from __future__ import annotations

import re
import socket
from datetime import date

import pytest
from pipeline_support import fiscalwatch, rows, write_config
from portal import FixturePortal
from render_seeds import render

from fiscalwatch.store.models import CrawlRun, Source

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as probe:  # free a moment ago, nobody listening now
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_sources_fail_the_run_with_their_reasons(tmp_path):
    with FixturePortal() as portal:
        portal.add_document("czyjs", "济源市社会医疗保险中心2023年度单位决算", date(2024, 10, 20),
                            attachments=[("决算.pdf", render("000", "pdf").read_bytes())])
        portal.add_section("broken")
        broken = portal.section_url("broken").removeprefix(portal.base_url)
        portal.fail_next(broken, times=10, status=503)
        db = f"sqlite:///{tmp_path / 'fw.db'}"
        config = write_config(tmp_path, {"database_url": db}, [
            {"id": "good", "name": "正常的门户", "url": portal.section_url("czyjs")},
            {"id": "refused", "name": "拒绝连接的门户", "url": f"http://127.0.0.1:{_closed_port()}/index.html"},
            {"id": "nodns", "name": "域名不存在的门户", "url": "http://fiscalwatch-test.invalid/index.html"},
            {"id": "down", "name": "服务器出错的门户", "url": portal.section_url("broken")},
        ], [], fetch_retries=0)

        result = fiscalwatch("watch", "--once", "--config", str(config), "--loglevel", "INFO")

    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    summary = result.stdout
    assert "本轮监测：数据源4个，采集成功1个，失败3个" in summary
    assert re.search(r"✓ 正常的门户（good）：抓取页面\d+个，列出文件1个，新文件1个", summary), summary
    assert re.search(r"✗ 拒绝连接的门户（refused）：采集失败：无法连接", summary), summary
    assert re.search(r"✗ 域名不存在的门户（nodns）：采集失败：域名解析失败", summary), summary
    assert re.search(r"✗ 服务器出错的门户（down）：采集失败：.*503", summary), summary
    assert "共列出文件1个，其中新文件1个" in summary and "处理文件1个：已核查1个" in summary

    log = result.stderr
    assert "（北京时间）" in log
    assert re.search(r"采集失败：拒绝连接的门户（refused）：", log) and re.search(r"采集完成：正常的门户（good）：", log)
    assert re.search(r"已核查：济源市社会医疗保险中心2023年度单位决算：\S+\.pdf：济源市社会医疗保险中心2023年度决算，\d+页，错误\d+项、警告\d+项", log), log
    assert "succeeded" not in log and "crawl_source" not in log  # Celery's own task log stays at DEBUG
    assert {s.id: s.consecutive_failures for s in rows(db, Source)} == {"good": 0, "refused": 1, "nodns": 1, "down": 1}
    assert sorted(r.status for r in rows(db, CrawlRun)) == ["failed", "failed", "failed", "ok"]


def test_a_run_where_everything_works_exits_zero(tmp_path):
    with FixturePortal() as portal:
        portal.add_document("czyjs", "2023年度部门决算", date(2024, 10, 20))  # listed, no attachment
        config = write_config(tmp_path, {"database_url": f"sqlite:///{tmp_path / 'fw.db'}"},
                              [{"id": "good", "name": "正常的门户", "url": portal.section_url("czyjs")}], [])
        result = fiscalwatch("watch", "--once", "--config", str(config), "--loglevel", "WARNING")
        debug = fiscalwatch("watch", "--once", "--config", str(config), "--loglevel", "DEBUG")

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "本轮监测：数据源1个，采集成功1个，失败0个" in result.stdout and "发送提醒0条" in result.stdout
    assert "采集完成" not in result.stderr  # INFO lines are not shown at WARNING
    assert debug.returncode == 0, debug.stderr[-3000:]
    assert "采集完成：正常的门户（good）" in debug.stderr
    assert "Task fiscalwatch.workers.tasks.crawl_source[" in debug.stderr  # Celery's own log, at DEBUG only
