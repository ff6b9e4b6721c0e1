"""Command line: `fiscalwatch check|watch|status|worker|beat|serve|registry|migrate`.

Each command imports what it needs when it runs, so `--help` costs no more than a light import
(click, rather than typer, whose per-option pydantic validators cost more than that on their own).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from fiscalwatch.settings import Settings

LOG_LEVELS = click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False)

config_option = click.option("--config", type=click.Path(path_type=Path), metavar="PATH",
                             help="YAML configuration (default config/fiscalwatch.yaml).")
loglevel_option = click.option("--loglevel", type=LOG_LEVELS, default="INFO", show_default=True, metavar="LEVEL",
                               help="DEBUG (adds Celery's own log), INFO, WARNING or ERROR.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def app() -> None:
    """fiscalwatch: 预决算公开监测 (monitor budget and final-account disclosures)."""


def _settings(config: Path | None) -> Settings:
    from fiscalwatch.settings import load_settings

    try:
        return load_settings(config)
    except FileNotFoundError as exc:
        raise _exit(f"配置文件不存在：{exc}", 2) from exc


def _bootstrap(config: Path | None, loglevel: str = "INFO") -> Settings:
    from fiscalwatch.workers.app import bootstrap, setup_console

    setup_console(loglevel)
    try:
        return bootstrap(config)
    except FileNotFoundError as exc:
        raise _exit(f"配置文件不存在：{exc}", 2) from exc


def _exit(message: str, code: int) -> click.exceptions.Exit:
    click.echo(message, err=True)
    return click.exceptions.Exit(code)


@app.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="FILE...")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per file (or publication).")
@click.option("-r", "--recursive", is_flag=True, help="Check files in subdirectories too.")
@click.option("--publication", is_flag=True,
              help="Judge the files as one publication (情况说明 and 报表 published as separate attachments).")
@click.option("--threshold", type=float, metavar="PERCENT",
              help="Low completion threshold (default: rules.low_completion_threshold of the configuration, 30).")
@config_option
def check(files: tuple[Path, ...], as_json: bool, recursive: bool, publication: bool, threshold: float | None,
          config: Path | None) -> None:
    """Parse and validate disclosure files, or every supported file in a directory; exit 1 if any file
    could not be read."""
    paths = _expand(files, recursive)
    from fiscalwatch.settings import RuleParams
    from fiscalwatch.validators import checker
    from fiscalwatch.validators.check_report import render, render_publication, summary

    settings = _settings(config)
    params = settings.rules if threshold is None else RuleParams.model_validate(
        {**settings.rules.model_dump(), "low_completion_threshold": threshold})
    parse_limits = checker.parse_limits(settings)  # the pipeline's: a file fails `check` as it would fail there
    if publication:
        results = [checker.check_publication(paths, params, parse_limits)]
    else:
        results = [checker.check_file(path, params, parse_limits) for path in paths]
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=1))
    else:
        shown = render_publication if publication else render
        click.echo("\n\n".join(shown(r) for r in results) + "\n\n" + summary(results))
    raise click.exceptions.Exit(0 if all(r.status != "failed" for r in results) else 1)


def _expand(paths: tuple[Path, ...], recursive: bool) -> list[Path]:
    """Files as given; directories become the files in them (and below them with -r) of a format read."""
    from fiscalwatch.parsers.formats import extensions

    read, files = extensions(), []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(p for p in (path.rglob("*") if recursive else path.iterdir())
                       if p.is_file() and p.suffix.lower().lstrip(".") in read)
        if not found:
            click.echo(f"目录中没有可核查的文件：{path}" + ("" if recursive else "（-r 可包括子目录）"), err=True)
        files += found
    if not files:
        raise click.exceptions.Exit(2)
    return files


@app.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per rule.")
@config_option
def rules(as_json: bool, config: Path | None) -> None:
    """List every rule: id, category, severity, title and the parameters it reads, with their values from
    --config."""
    from fiscalwatch.labels import CATEGORY, SEVERITY
    from fiscalwatch.settings import RuleParams
    from fiscalwatch.validators import every_rule

    params = _settings(config).rules
    listed = [{"id": r.id, "category": r.category, "severity": r.severity, "title": r.title,
               "params": {name: str(getattr(params, name)) for name in r.params}} for r in every_rule()]
    if as_json:
        click.echo(json.dumps(listed, ensure_ascii=False, indent=1))
        return
    lines = [f"规则共{len(listed)}条："]
    for r in listed:
        lines.append(f"  {r['id']}〔{CATEGORY[r['category']]}，{SEVERITY[r['severity']]}〕{r['title']}")
        lines += [f"      参数 rules.{name} = {value}（{RuleParams.model_fields[name].description}）"
                  for name, value in r["params"].items()]
    click.echo("\n".join(lines))


@app.command()
@config_option
@click.option("--once", is_flag=True, help="Run one full cycle (crawl, process, alert), print a summary and exit; "
                                           "exit 1 if a source could not be crawled, a delivery failed or the "
                                           "cycle timed out.")
@loglevel_option
def watch(config: Path | None, once: bool, loglevel: str) -> None:
    """Run the monitor: worker and scheduler in one process (embedded default)."""
    from fiscalwatch.workers.console import once_summary
    from fiscalwatch.workers.runner import BrokerUnavailable, run_once, run_worker

    settings = _bootstrap(config, loglevel)
    if not once:
        run_worker(settings, beat=True, loglevel=loglevel)
        return
    try:
        report = run_once(settings, config, loglevel)
    except BrokerUnavailable as exc:
        raise _exit(f"无法连接消息队列（broker_url）：{exc}", 2) from exc
    click.echo(once_summary(report))
    raise click.exceptions.Exit(0 if report.ok else 1)


@app.command()
@config_option
def status(config: Path | None) -> None:
    """Sources with their last crawl and health, queue depths, documents by status, undelivered alerts."""
    from fiscalwatch.web.metrics import snapshot, status_text
    from fiscalwatch.workers.runner import prepare

    settings = _bootstrap(config, "WARNING")
    prepare(settings)
    click.echo(status_text(snapshot(settings)))


@app.command()
@config_option
@loglevel_option
@click.option("--queues", default="crawl,parse,alert", show_default=True, metavar="QUEUES",
              help="Comma-separated queues, e.g. parse for a parsing-only worker.")
def worker(config: Path | None, loglevel: str, queues: str) -> None:
    """Run a worker for the crawl, parse and alert queues (distributed role)."""
    from fiscalwatch.workers.app import QUEUES
    from fiscalwatch.workers.runner import run_worker

    chosen = tuple(name.strip() for name in queues.split(",") if name.strip())
    if not chosen or set(chosen) - set(QUEUES):
        raise click.BadParameter(f"queues must be among {', '.join(QUEUES)}", param_hint="--queues")
    run_worker(_bootstrap(config, loglevel), beat=False, loglevel=loglevel, queues=chosen)


@app.command()
@config_option
@loglevel_option
def beat(config: Path | None, loglevel: str) -> None:
    """Run the scheduler alone (distributed role; exactly one per deployment)."""
    from fiscalwatch.workers.runner import run_beat

    run_beat(_bootstrap(config, loglevel), loglevel=loglevel)


@app.command("migrate")
@config_option
def migrate_command(config: Path | None) -> None:
    """Create or upgrade the database schema."""
    from fiscalwatch.workers.runner import prepare

    prepare(_bootstrap(config))
    click.echo("数据库结构已是最新。")


# --- Dashboard and publication compliance (web/, compliance/) ---

@app.command()
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDRESS",
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", type=int, default=8000, show_default=True, metavar="PORT", help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="Server processes answering requests (default: web_workers of the configuration, else one per CPU).")
@loglevel_option
def serve(config: Path | None, host: str, port: int, workers: int | None, loglevel: str) -> None:
    """Serve the dashboard, its JSON API, /metrics and /healthz on the store the workers fill."""
    import os

    import uvicorn

    from fiscalwatch.compliance import refresh_compliance
    from fiscalwatch.workers.runner import prepare

    settings = _bootstrap(config, loglevel)
    prepare(settings)
    click.echo(refresh_compliance(settings).describe())
    # Each process builds the app itself (dashboard below), from the configuration bootstrap left in the environment.
    uvicorn.run("fiscalwatch.cli:dashboard", factory=True, host=host, port=port, log_level=loglevel.lower(),
                workers=workers or settings.web_workers or os.cpu_count() or 1)


def dashboard():
    """The dashboard app of one `serve` process, on the settings its parent was started with."""
    from fiscalwatch.web.app import create_app
    from fiscalwatch.workers.app import bootstrap

    return create_app(bootstrap())


@app.group("registry")
def registry_app() -> None:
    """The registry of entities that must publish."""


kind_option = click.option("--kind", metavar="KIND", help="budget/预算 or final/决算 (default: as parsed).")


@registry_app.command("import")
@click.argument("file", type=click.Path(path_type=Path), metavar="FILE")
@config_option
def registry_import(file: Path, config: Path | None) -> None:
    """Import entities and expected publications from FILE (CSV, XLSX or YAML; example:
    config/registry.example.csv). Entities are created or updated by name, never deleted."""
    from fiscalwatch.compliance import RegistryError, import_registry
    from fiscalwatch.store.db import session_scope

    settings = _prepared(config)
    try:
        with session_scope(settings.database_url) as session:
            result = import_registry(session, file)
    except (RegistryError, OSError) as exc:
        raise _exit(f"导入失败，未做任何修改：{exc}", 1) from exc
    click.echo(f"新增单位{result.created}个，更新{result.updated}个，批复日期/年度{result.expectations}条。")
    _refresh(settings)


@registry_app.command("assign")
@click.argument("document", type=int, metavar="DOCUMENT")
@click.argument("entity", metavar="ENTITY")
@click.argument("year", type=int, metavar="YEAR")
@kind_option
@config_option
def registry_assign(document: int, entity: str, year: int, kind: str | None, config: Path | None) -> None:
    """Assign DOCUMENT (an id from the dashboard's 待匹配 page) to ENTITY (id, name or alias) for fiscal YEAR
    by hand; automatic matching leaves it alone afterwards."""
    from fiscalwatch.compliance import assign_document, find_entity
    from fiscalwatch.labels import KIND
    from fiscalwatch.store.db import session_scope

    settings = _prepared(config)
    kinds = {**{k: k for k in KIND}, **{label: k for k, label in KIND.items()}}
    if kind is not None and kind not in kinds:
        raise _exit(f"类别应为 budget/预算 或 final/决算：{kind}", 2)
    try:
        with session_scope(settings.database_url) as session:
            target = find_entity(session, entity)
            assign_document(session, document, target.id, year, kinds.get(kind))
    except (LookupError, ValueError) as exc:
        raise _exit(str(exc), 1) from exc
    click.echo(f"文件{document}已分配给{target.name}{year}年度。")
    _refresh(settings)


@registry_app.command("refresh")
@config_option
def registry_refresh(config: Path | None) -> None:
    """Recompute every standing now and queue overdue/late alerts (the scheduler does this periodically)."""
    _refresh(_prepared(config))


def _prepared(config: Path | None) -> Settings:
    from fiscalwatch.workers.runner import prepare

    settings = _bootstrap(config, "WARNING")
    prepare(settings)
    return settings


def _refresh(settings: Settings) -> None:
    from fiscalwatch.compliance import refresh_compliance

    click.echo(refresh_compliance(settings).describe())


if __name__ == "__main__":
    app()
