"""Onboarding: the shipped example registry imports as documented, and the 名录 page tells everyone how to
import (command, config key, columns) while only a signed-in admin gets the upload form."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pipeline_support import REPO, fiscalwatch, rows, write_config

from fiscalwatch.settings import Settings
from fiscalwatch.store.registry import Entity, Expectation
from fiscalwatch.web.app import create_app
from fiscalwatch.workers.runner import prepare

EXAMPLE = REPO / "config" / "registry.example.csv"
TOKEN = "s3cret-token"


@pytest.fixture
def settings(tmp_path) -> Settings:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fw.db'}", storage_dir=tmp_path / "files",
                        web_token=TOKEN)
    prepare(settings)
    return settings


def test_the_example_registry_imports(tmp_path, settings):
    config = write_config(tmp_path, {"database_url": settings.database_url}, [], [])
    completed = fiscalwatch("registry", "import", str(EXAMPLE), "--config", str(config))
    assert completed.returncode == 0, completed.stderr
    assert "新增单位3个，更新0个，批复日期/年度3条。" in completed.stdout
    entities = {e.name: e for e in rows(settings.database_url, Entity)}
    assert set(entities) == {"濮阳市医疗保障局", "濮阳市医疗保障服务中心", "上海市普陀区财政局"}
    assert entities["濮阳市医疗保障服务中心"].level == "单位" and entities["濮阳市医疗保障局"].aliases == ["市医保局"]
    assert len(rows(settings.database_url, Expectation)) >= 3


def test_the_registry_page_explains_import_to_everyone_and_offers_it_to_admins(settings):
    client = TestClient(create_app(settings))
    page = client.get("/registry").text
    assert "如何导入名录" in page and "fiscalwatch registry import" in page and "registry_file" in page
    assert "config/registry.example.csv" in page and "批复日期" in page
    assert '<input type="file"' not in page and "登录</a>后可在本页上传导入" in page

    assert client.post("/login", data={"password": TOKEN, "next": "/registry"}, follow_redirects=False).status_code == 303
    admin_page = client.get("/registry").text
    assert '<input type="file" name="file"' in admin_page and "在下方选择文件导入" in admin_page
    assert "时间均为北京时间" in admin_page
