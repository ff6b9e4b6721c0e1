"""A populated compliance store for the compliance and web tests: throwaway databases (SQLite, and the real
PostgreSQL on this machine when it answers), documents written straight through the models, and a registry of
entities that published on time, late, not at all, withdrew, or published with a missing table or errors."""

from __future__ import annotations

import hashlib
import uuid
from contextlib import contextmanager
from datetime import date, datetime, time, timezone

import pytest
from sqlalchemy import event

from fiscalwatch.compliance import refresh_compliance
from fiscalwatch.settings import AlertRoute, Settings
from fiscalwatch.store.archive import relative_path
from fiscalwatch.store.db import engine_for, migrate, session_scope
from fiscalwatch.store.models import Blob, CrawlRun, DocumentRow, DocumentUrl, FindingRow, Source, Version

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"
REGION = "河南省/濮阳市"
SOURCE = "puyang-czj"

# The 2025 budgets are approved on 10 February (due 2 March); the 2024 final accounts on 1 August 2025
# (due 21 August 2025): a fiscal year's budget is published in that year, its final account in the next.
REGISTRY_CSV = """名称,别名,级次,地区,上级部门,数据源,年度,类型,批复日期
濮阳市教育局,,部门,河南省/濮阳市,,puyang-czj,2025,预算,2025-02-10
濮阳市教育局,,,,,,2024,决算,2025-08-01
濮阳市财政局,,部门,河南省/濮阳市,,puyang-czj,2025,预算,2025/2/10
濮阳市财政局,,,,,,2024,决算,2025年8月1日
濮阳市卫生健康委员会,市卫健委,部门,河南省/濮阳市,,puyang-czj,,,
濮阳市医疗保障局,市医保局,部门,河南省/濮阳市,,puyang-czj,2025,预算,2025-02-10
濮阳市民政局,,部门,河南省/濮阳市,,puyang-czj,2025,预算,2025-02-10
濮阳市交通运输局,,部门,河南省/濮阳市,,puyang-czj,2025,预算,2025-02-10
濮阳市教育局机关,濮阳市教育局本级,单位,河南省/濮阳市,濮阳市教育局,puyang-czj,,,
华龙区教育局,,部门,河南省/濮阳市/华龙区,,,,,
"""


def settings_for(database_url: str, tmp_path, **overrides) -> Settings:
    values = dict(
        database_url=database_url, storage_dir=tmp_path / "files", compliance_start_year=2025,
        # 卫健委 has no approval date in the registry: its region's default applies.
        default_approval={"": {"budget": "02-28", "final": "08-31"}, REGION: {"budget": "02-10"}},
        alerts=[AlertRoute(url="json://127.0.0.1:9/compliance")], dashboard_url="https://fw.example.org",
    )
    return Settings(**{**values, **overrides})


@contextmanager
def postgres_database():
    """A database of its own on the local PostgreSQL, dropped afterwards; skips when none answers."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 not reachable: {error}")
    name = f"fw_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES + name
    try:
        yield url
    finally:
        engine_for(url).dispose()
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A migrated, empty store on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fiscalwatch.db'}"
        migrate(url)
        yield url
        engine_for(url).dispose()
        return
    with postgres_database() as url:
        migrate(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'fiscalwatch.db'}"
    migrate(url)
    yield url
    engine_for(url).dispose()


def at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=timezone.utc)


def add_source(session, source_id: str = SOURCE, region: str | None = REGION, **fields) -> Source:
    values = dict(name="濮阳市财政局预决算公开", url=f"https://{source_id}.example.gov.cn/yjsgk/index.html",
                  interval_seconds=21600, consecutive_failures=0, active=True)
    source = Source(id=source_id, region=region, **{**values, **fields})
    session.add(source)
    session.flush()
    return source


def add_document(session, title: str, published: date | None, *, seen: date | None = None,
                 source_id: str = SOURCE, status: str = "active", parse_status: str = "ok",
                 entity: str | None = None, year: int | None = None, kind: str | None = None,
                 level: str | None = None, scope: str | None = None,
                 findings: list[dict] | None = None, filename: str | None = None) -> DocumentRow:
    """A crawled document with one archived, parsed version (and its findings)."""
    seen_at = at(seen or published)
    digest = hashlib.sha256(f"{title}|{published}|{source_id}".encode()).hexdigest()
    url = f"https://{source_id}.example.gov.cn/yjsgk/{digest[:10]}.pdf"
    blob = Blob(sha256=digest, size=1000, path=relative_path(digest), filename=filename or f"{digest[:8]}.pdf",
                first_seen_at=seen_at, status=parse_status, attempts=1, format="pdf", kind=kind, level=level,
                scope=scope, entity=entity, year=year, pages=20)
    blob.findings = [FindingRow(**finding) for finding in findings or []]
    document = DocumentRow(source_id=source_id, title=title, detail_url=url.replace(".pdf", ".html"),
                        published=published, first_seen_at=seen_at, last_seen_at=seen_at, status=status,
                        withdrawn_at=seen_at if status == "withdrawn" else None, current_sha256=digest)
    session.add_all([blob, document])
    session.flush()
    session.add_all([
        Version(document_id=document.id, sha256=digest, url=url, seen_at=seen_at),
        DocumentUrl(url=url, source_id=source_id, document_id=document.id, title=title, published=published,
                    detail_url=document.detail_url, first_seen_at=seen_at, last_listed_at=seen_at,
                    fetch_status="gone" if status == "withdrawn" else "ok"),
    ])
    session.flush()
    return document


def missing_table(title: str) -> dict:
    return dict(rule="M-REQUIRED", category="missing_table", severity="error",
                message=f"缺少《{title}》。", page=None, table_title=None, evidence={"expected": title})


def reconciliation_error(page: int, table: str, quoted: str) -> dict:
    return dict(rule="R-SUM", category="reconciliation", severity="error",
                message=f"{table}：本年支出合计印为120，按各项支出之和计算应为118，相差2万元。", page=page,
                table_title=table, evidence={"quote": quoted, "computed": "118", "printed": "120"})


BUDGET = dict(year=2025, kind="budget", level="部门")


def add_budgets_by_deadline(session) -> dict[str, DocumentRow]:
    """The 2025 budgets the crawler found by their deadline, 2 March 2025."""
    return {
        "教育局": add_document(session, "濮阳市教育局2025年部门预算公开", date(2025, 2, 25),
                            entity="濮阳市教育局", **BUDGET),
        "医保局": add_document(session, "市医保局2025年部门预算", date(2025, 2, 20), status="withdrawn",
                            entity=None, **BUDGET),
        "民政局": add_document(session, "2025年部门预算公开", date(2025, 2, 27), entity="濮阳市民政局",
                            findings=[missing_table("政府性基金预算支出表")], **BUDGET),
        "交通局": add_document(session, "濮阳市交通运输局2025年部门预算", date(2025, 3, 1),
                            entity="濮阳市交通运输局", findings=[
                                reconciliation_error(4, "部门收支总表", "本年支出合计 120.00"),
                                reconciliation_error(6, "部门支出总表", "合计 120.00")], **BUDGET),
    }


def add_budgets_after_deadline(session) -> dict[str, DocumentRow]:
    return {
        "财政局": add_document(session, "关于濮阳市财政局2025年度部门预算公开的说明", date(2025, 3, 12),
                            entity="濮阳市财政局", **BUDGET),
        # The title names no registered entity and the parser found none: a person must assign it.
        "未匹配": add_document(session, "<script>alert('x')</script>2025年预算公开附件", date(2025, 3, 15),
                            entity=None, **BUDGET),
    }


TOKEN = "s3cret-token"
TODAY = date(2025, 3, 20)


@pytest.fixture
def dashboard_store(database_url, tmp_path) -> tuple[Settings, dict[str, int]]:
    """The 2025 budget season as of 20 March 2025, refreshed, with one archived file, a crawl run and a failing
    source: the settings (admin token TOKEN) and the document ids by entity."""
    registry = tmp_path / "registry.csv"
    registry.write_text(REGISTRY_CSV, encoding="utf-8")
    settings = settings_for(database_url, tmp_path, registry_file=registry, web_token=TOKEN)
    with session_scope(database_url) as session:
        add_source(session)
        add_source(session, "broken", region="河南省/濮阳市/华龙区", name="华龙区财政局", consecutive_failures=4,
                   last_error="HTTP 521")
        documents = {**add_budgets_by_deadline(session), **add_budgets_after_deadline(session)}
        session.add(CrawlRun(source_id=SOURCE, status="ok", pages_fetched=3, documents_found=6, new_documents=2,
                             errors=[]))
        ids = {name: doc.id for name, doc in documents.items()}
        archived = documents["交通局"].current_sha256
    path = settings.storage_dir / relative_path(archived)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"%PDF-1.4 archived copy")
    refresh_compliance(settings, TODAY)
    return settings, ids


class Statements:
    """The SQL statements run on a store while inside the block (count, and their text in `sql`)."""

    def __init__(self, url: str):
        self.engine, self.count, self.sql = engine_for(url), 0, []

    def _count(self, _connection, _cursor, statement, *_):
        self.count += 1
        self.sql.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)
