"""Command line: `fiscalwatch check|watch|worker|beat|serve|…`."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import typer

from fiscalwatch.checker import check_file
from fiscalwatch.report import render

app = typer.Typer(add_completion=False, no_args_is_help=True, help="fiscalwatch: 预决算公开监测")


@app.callback()
def main() -> None:
    """Monitor budget and final-account disclosures."""


@app.command()
def check(
    files: list[Path] = typer.Argument(..., help="PDF or other disclosure files"),
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
