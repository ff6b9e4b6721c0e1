"""Performance self-evaluation tables (项目支出绩效自评表): the funding line of each project."""

from __future__ import annotations

import re

from parsers.model import Evaluation
from parsers.numbers import is_amount_text, parse_amount, parse_percent
from parsers.tables import Part, squash

_FUNDS = re.compile(r"年度资金总额|资金总额|年度资金")


def _rows(part: Part) -> list[list[str]]:
    if part.grid is not None:
        return [[c or "" for c in row] for row in part.grid.rows]
    return [line.text.split() for line in part.lines]


def parse_evaluations(parts: list[Part]) -> list[Evaluation]:
    """One entry per project: name, budgets, execution, the stated rate and score."""
    evaluations: list[Evaluation] = []
    project = ""
    for part in parts:
        for cells in _rows(part):
            texts = [squash(c) for c in cells if squash(c)]
            if not texts:
                continue
            if "项目名称" in texts[0] or texts[0].startswith("项目名称"):
                rest = [t for t in texts[1:] if t]
                project = rest[0] if rest else texts[0].replace("项目名称", "")
                continue
            if _FUNDS.search(texts[0]) and project:
                evaluations.append(_funding(project, part.page, texts))
                project = ""
    return evaluations


def _funding(project: str, page: int, texts: list[str]) -> Evaluation:
    amounts = []
    rate = score = None
    for text in texts[1:]:
        percent = parse_percent(text)
        if percent is not None:
            if rate is None:
                rate = percent
            continue
        if rate is None and is_amount_text(text):
            amounts.append(parse_amount(text))
        elif rate is not None and score is None and is_amount_text(text):
            score = parse_amount(text)
    padded = amounts + [None] * (3 - len(amounts))
    return Evaluation(
        project=project,
        page=page,
        year_start_budget=padded[0],
        full_year_budget=padded[1],
        executed=padded[2],
        stated_rate=rate,
        score=score,
        quote=" ".join(texts),
    )
