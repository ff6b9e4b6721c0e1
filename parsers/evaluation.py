"""Performance self-evaluation tables: the funding line of each 项目支出绩效自评表, and the rows of a
项目支出绩效自评汇总表 (one project per row)."""

from __future__ import annotations

import re

from parsers.model import Evaluation
from parsers.numbers import is_amount_text, parse_amount, parse_percent
from parsers.tables import Part, squash

_FUNDS = re.compile(r"年度资金总额|资金总额|年度资金|预算总额")
_NAME = re.compile(r"(项目|部门|单位)[)）]?名称")
_SEQUENCE = re.compile(r"^\d{1,3}$")


def _rows(part: Part) -> list[list[str]]:
    if part.grid is not None:
        return [[c or "" for c in row] for row in part.grid.rows]
    return [line.text.split() for line in part.lines]


def parse_evaluations(parts: list[Part]) -> list[Evaluation]:
    """One entry per project: name, budgets, execution, the stated rate and score."""
    evaluations: list[Evaluation] = []
    project = ""
    summary: list[str] | None = None  # name pieces, once a 汇总表 header was seen
    header: list[str] = []  # the latest 年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分 row
    for part in parts:
        for cells in _rows(part):
            texts = [squash(c) for c in cells if squash(c)]
            if not texts:
                continue
            if any("执行数" in t for t in texts) and not any(is_amount_text(t) for t in texts):
                header = [squash(c) for c in cells]
            if _NAME.search(texts[0]):
                rest = [t for t in texts[1:] if t]
                if rest and "预算数" in rest[0]:
                    summary = []  # the column header of a summary table: 项目名称 | 全年预算数 | …
                    continue
                project = rest[0] if rest else _NAME.split(texts[0])[-1]
                continue
            if _FUNDS.search(texts[0]) and project:
                by_header = _by_header(header, cells) if part.grid is not None else None
                evaluations.append(by_header(project, part.page, texts) if by_header else _funding(
                    project, part.page, texts, scored=_points_before_rate(header)))
                project = ""
            elif summary is not None:
                summary = _summary_row(texts, summary, part.page, evaluations)
    return evaluations


def _summary_row(texts: list[str], pieces: list[str], page: int, out: list[Evaluation]) -> list[str]:
    """序号 | 项目名称 | 全年预算数 | 全年执行数 | 预算执行率 | … | 自评得分; long names wrap onto lines of their own."""
    rate_at = next((i for i, t in enumerate(texts) if parse_percent(t) is not None), None)
    if rate_at is None or rate_at < 2 or not all(is_amount_text(t) for t in texts[rate_at - 2:rate_at]):
        if "得分" in "".join(texts):
            return []  # the last header line
        return pieces + ([] if len(texts) == 1 and _SEQUENCE.match(texts[0]) else texts)
    head = texts[:rate_at - 2]
    if head and _SEQUENCE.match(head[0]):
        head = head[1:]
    last = texts[-1]
    out.append(Evaluation(
        project="".join(pieces + head),
        page=page,
        year_start_budget=None,
        full_year_budget=parse_amount(texts[rate_at - 2]),
        executed=parse_amount(texts[rate_at - 1]),
        stated_rate=parse_percent(texts[rate_at]),
        score=parse_amount(last) if len(texts) > rate_at + 1 and is_amount_text(last) else None,
        quote=" ".join(pieces + texts),
    ))
    return []


_COLUMNS = {  # meaning → header label, first match wins
    "year_start": re.compile(r"年初预算"),
    "full_year": re.compile(r"全年预算|调整(后)?预算"),
    "executed": re.compile(r"执行数|实际(支出|执行)"),
    "rate": re.compile(r"执行率"),
    "score": re.compile(r"得分"),
}


def _points_before_rate(header: list[str]) -> bool:
    joined = "".join(header)
    return "分值" in joined and "执行率" in joined and joined.index("分值") < joined.index("执行率")


def _by_header(header: list[str], cells: list[str]):
    """Read the funding row cell by cell under its own header (分值 is never an amount), when they align."""
    if len(header) != len(cells):
        return None
    at = {key: next((i for i, h in enumerate(header) if pattern.search(h)), None) for key, pattern in _COLUMNS.items()}
    if at["executed"] is None or at["full_year"] is None:
        return None

    def value(key: str, parse=parse_amount):
        index = at[key]
        return parse(cells[index]) if index is not None and squash(cells[index]) else None

    def make(project: str, page: int, texts: list[str]) -> Evaluation:
        return Evaluation(project=project, page=page, year_start_budget=value("year_start"),
                          full_year_budget=value("full_year"), executed=value("executed"),
                          stated_rate=value("rate", parse_percent), score=value("score"), quote=" ".join(texts))
    return make


def _funding(project: str, page: int, texts: list[str], scored: bool = False) -> Evaluation:
    """年初预算数, 全年预算数, 全年执行数, 执行率, 得分 — or, in shorter templates, 预算数, 执行数, 执行率, 得分.

    `scored`: the header prints 分值 before 执行率, so the last figure before the rate is the points."""
    amounts = []
    rate = score = None
    rate_seen = False  # a rate cell, even one printed as a bare "%"
    for text in texts[1:]:
        percent = parse_percent(text)
        if percent is not None or text == "%":
            if not rate_seen:
                rate, rate_seen = percent, True
            continue
        if not rate_seen and is_amount_text(text):
            amounts.append(parse_amount(text))
        elif rate_seen and score is None and is_amount_text(text):
            score = parse_amount(text)
    if scored and rate_seen and amounts:
        amounts.pop()
    if len(amounts) == 2:
        amounts.insert(0, None)
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
