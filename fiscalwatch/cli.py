"""Command line: `fiscalwatch check|watch|worker|beat|migrate|…`."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from fiscalwatch.checker import check_file
from fiscalwatch.report import render
from fiscalwatch.settings import DEFAULT_CONFIG, Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="fiscalwatch: 预决算公开监测")

ConfigOption = Annotated[Path | None, typer.Option("--config", help=f"YAML configuration (default {DEFAULT_CONFIG})")]
LogLevel = Annotated[str, typer.Option("--loglevel", help="DEBUG, INFO, WARNING or ERROR")]


@app.callback()
def main() -> None:
    """Monitor budget and final-account disclosures."""


def _bootstrap(config: Path | None, loglevel: str = "INFO") -> Settings:
    from workers.app import bootstrap

    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return bootstrap(config)
    except FileNotFoundError as exc:
        typer.echo(f"配置文件不存在：{exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def check(
    files: list[Path] = typer.Argument(..., help="disclosure files (PDF, spreadsheets, Word, HTML, archives)"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON array, one object per file"),
    threshold: float = typer.Option(30.0, help="low completion threshold, percent"),
) -> None:
    """Parse and validate disclosure files; exit 1 if any file could not be read."""
    results = [check_file(path, Decimal(str(threshold))) for path in files]
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=1))
    else:
        typer.echo("\n\n".join(render(r) for r in results))
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


@app.command()
def watch(
    config: ConfigOption = None,
    once: bool = typer.Option(False, "--once", help="run one full cycle (crawl, process, alert) and exit"),
    loglevel: LogLevel = "INFO",
) -> None:
    """Run the monitor: worker and scheduler in one process (embedded default)."""
    from workers.runner import BrokerUnavailable, run_once, run_worker

    settings = _bootstrap(config, loglevel)
    if not once:
        run_worker(settings, beat=True, loglevel=loglevel)
        return
    try:
        finished = run_once(settings, config)
    except BrokerUnavailable as exc:
        typer.echo(f"无法连接消息队列（broker_url）：{exc}", err=True)
        raise typer.Exit(2) from exc
    if not finished:
        typer.echo(f"本轮监测在{settings.once_timeout:g}秒内未完成，未完成的任务已记录，下次运行时继续。", err=True)
    raise typer.Exit(0 if finished else 1)


@app.command()
def worker(
    config: ConfigOption = None,
    loglevel: LogLevel = "INFO",
    queues: str = typer.Option("crawl,parse,alert", help="comma-separated queues, e.g. parse for a parsing-only worker"),
) -> None:
    """Run a worker for the crawl, parse and alert queues (distributed role)."""
    from workers.app import QUEUES
    from workers.runner import run_worker

    chosen = tuple(name.strip() for name in queues.split(",") if name.strip())
    if not chosen or set(chosen) - set(QUEUES):
        raise typer.BadParameter(f"queues must be among {', '.join(QUEUES)}", param_hint="--queues")
    run_worker(_bootstrap(config, loglevel), beat=False, loglevel=loglevel, queues=chosen)


@app.command()
def beat(config: ConfigOption = None, loglevel: LogLevel = "INFO") -> None:
    """Run the scheduler alone (distributed role; exactly one per deployment)."""
    from workers.runner import run_beat

    run_beat(_bootstrap(config, loglevel), loglevel=loglevel)


@app.command("migrate")
def migrate_command(config: ConfigOption = None) -> None:
    """Create or upgrade the database schema."""
    from workers.runner import prepare

    prepare(_bootstrap(config))
    typer.echo("数据库结构已是最新。")



# --- Dashboard and publication compliance (web/, compliance/) ---

@app.command()
def serve(
    config: ConfigOption = None,
    host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0 for every interface)"),
    port: int = typer.Option(8000, help="port to listen on"),
    loglevel: LogLevel = "INFO",
) -> None:
    """Serve the dashboard and its JSON API on the store the workers fill."""
    import uvicorn

    from compliance import refresh_compliance
    from web.app import create_app
    from workers.runner import prepare

    settings = _bootstrap(config, loglevel)
    prepare(settings)
    typer.echo(refresh_compliance(settings).describe())
    uvicorn.run(create_app(settings), host=host, port=port, log_level=loglevel.lower())


registry_app = typer.Typer(no_args_is_help=True, help="The registry of entities that must publish.")
app.add_typer(registry_app, name="registry")
KindOption = Annotated[str | None, typer.Option("--kind", help="budget/预算 or final/决算 (default: as parsed)")]


@registry_app.command("import")
def registry_import(file: Path = typer.Argument(..., help="CSV, XLSX or YAML"), config: ConfigOption = None) -> None:
    """Import entities and expected publications (created or updated by name, never deleted)."""
    from compliance import RegistryError, import_registry
    from store.db import session_scope

    settings = _prepared(config)
    try:
        with session_scope(settings.database_url) as session:
            result = import_registry(session, file)
    except (RegistryError, OSError) as exc:
        typer.echo(f"导入失败，未做任何修改：{exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"新增单位{result.created}个，更新{result.updated}个，批复日期/年度{result.expectations}条。")
    _refresh(settings)


@registry_app.command("assign")
def registry_assign(
    document: int = typer.Argument(..., help="document id (see the dashboard's 待匹配 page)"),
    entity: str = typer.Argument(..., help="entity id, name or alias"),
    year: int = typer.Argument(..., help="fiscal year"),
    kind: KindOption = None,
    config: ConfigOption = None,
) -> None:
    """Assign a document to an entity and fiscal year by hand; automatic matching leaves it alone afterwards."""
    from compliance import KINDS, assign_document, find_entity
    from store.db import session_scope

    settings = _prepared(config)
    kinds = {**{k: k for k in KINDS}, **{label: k for k, label in KINDS.items()}}
    if kind is not None and kind not in kinds:
        typer.echo(f"类别应为 budget/预算 或 final/决算：{kind}", err=True)
        raise typer.Exit(2)
    try:
        with session_scope(settings.database_url) as session:
            target = find_entity(session, entity)
            assign_document(session, document, target.id, year, kinds.get(kind))
    except (LookupError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"文件{document}已分配给{target.name}{year}年度。")
    _refresh(settings)


@registry_app.command("refresh")
def registry_refresh(config: ConfigOption = None) -> None:
    """Recompute every standing now and queue overdue/late alerts (the scheduler does this periodically)."""
    _refresh(_prepared(config))


def _prepared(config: Path | None) -> Settings:
    from workers.runner import prepare

    settings = _bootstrap(config, "WARNING")
    prepare(settings)
    return settings


def _refresh(settings: Settings) -> None:
    from compliance import refresh_compliance

    typer.echo(refresh_compliance(settings).describe())

if __name__ == "__main__":
    app()
