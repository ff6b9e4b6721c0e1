"""Performance self-evaluation tables: the funding line of each 项目支出绩效自评表 (and 部门整体自评表), and
the rows of a 项目支出绩效自评汇总表 (one project per row).

Every figure is read under its own header label (年初预算数, 全年预算数/调整预算数, 全年执行数, 分值, 执行率,
得分 and the 得分率 columns beside them), so a 分值 or a score is never taken for an amount. In a borderless
summary a long project name wraps: lines printed before a row's figures are its name, and lines under a
name printed beside the figures continue that name when they are no wider than its column."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from fiscalwatch.parsers.model import Evaluation
from fiscalwatch.parsers.numbers import is_amount_text, parse_amount, parse_percent
from fiscalwatch.parsers.tables import Part, squash

_FUNDS = re.compile(r"年度资金总额|资金总额|年度资金|预算总额")
_NAME = re.compile(r"(项目|部门|单位)[)）]?名称")
_SEQUENCE = re.compile(r"^\d{1,3}$")
# Header labels of figure columns, left to right; `other` columns (得分率 …) are read past, never used.
_LABEL = re.compile(
    r"(?P<year_start>年初预算数?)|(?P<full_year>全年预算数?|调整后?预算数?|预算数)"
    r"|(?P<executed>(?:全年)?执行数|实际(?:支出|执行)数?)|(?P<points>分值)|(?P<rate>(?:预算)?执行率)"
    r"|(?P<other>[\u4e00-\u9fff]{0,8}?得分率)|(?P<score>(?:自评)?得分)")
_AMOUNTS = {"year_start", "full_year", "executed"}
_PERCENT_ONLY = re.compile(r"^%+$")
_BRACKETED = re.compile(r"[（(][^（()）]*[)）]")


def _rows(part: Part) -> list[list[str]]:
    if part.grid is not None:
        return [[c or "" for c in row] for row in part.grid.rows]
    return [line.text.split() for line in part.lines]


def _is_figure(text: str) -> bool:
    return is_amount_text(text) or parse_percent(text) is not None


def _width(text: str) -> int:
    """Printed width in half-width characters (a Chinese character is two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def labels(text: str) -> list[str]:
    """The figure columns a header names, left to right (year_start, full_year, executed, points, rate,
    score, other); notes in brackets (执行率(B/A), 得分(20分*执行率)) are no columns."""
    return [m.lastgroup for m in _LABEL.finditer(_BRACKETED.sub("", squash(text)))]


def _rate(text: str) -> Decimal | None:
    """A rate cell: 95.16% — or a bare number whose % sign was printed on the next line (100), but not a
    bare fraction (0.95), which could be either."""
    percent = parse_percent(text)
    if percent is not None:
        return percent
    value = parse_amount(text) if is_amount_text(text) else None
    return value if value is not None and (value == 0 or value > 1) else None


def _values(keys: list[str], figures: list[str]) -> dict[str, Decimal | None]:
    """Each figure under its column's label (the first column of a meaning counts)."""
    values: dict[str, Decimal | None] = {}
    for key, text in zip(keys, figures):
        if key not in values:
            values[key] = None if not text else _rate(text) if key == "rate" else parse_amount(text)
    return values


def _evaluation(project: str, page: int, values: dict, quote: str) -> Evaluation:
    return Evaluation(project=project, page=page, year_start_budget=values.get("year_start"),
                      full_year_budget=values.get("full_year"), executed=values.get("executed"),
                      stated_rate=values.get("rate"), score=values.get("score"), quote=quote)


@dataclass
class _Header:
    """The figure columns of the latest header; `cells`: its grid row, for reading a row cell by cell."""

    keys: list[str]
    cells: list[str] | None = None

    def read(self, cells: list[str], figures: list[str]) -> dict | None:
        """A row's figures under this header: in order when there are as many as labels, else cell by cell
        when the row lines up with a one-row grid header, else around its one percentage (blank cells left
        out of a text line: those before the rate are the first ones); None when none of these holds."""
        if len(figures) == len(self.keys):
            return _values(self.keys, figures)
        if self.cells is None or len(self.cells) != len(cells):
            return self._around_rate(figures)
        at = [(i, key) for i, cell in enumerate(self.cells) for key in labels(cell)[:1]]
        if any(_is_figure(squash(c)) for i, c in enumerate(cells) if i not in dict(at)):
            return None  # a figure under no label: the row does not line up
        return _values([key for _, key in at], [squash(cells[i]) for i, _ in at])

    def _around_rate(self, figures: list[str]) -> dict | None:
        rates = [i for i, text in enumerate(figures) if parse_percent(text) is not None]
        if len(rates) != 1 or self.keys.count("rate") != 1:
            return None
        at, rate = rates[0], self.keys.index("rate")
        before, after = self.keys[:rate], self.keys[rate + 1:]
        if at > len(before) or len(figures) - at - 1 > len(after):
            return None
        padded = [""] * (len(before) - at) + figures[:at + 1] + figures[at + 1:]
        return _values(self.keys, padded)


@dataclass
class _Row:
    """A summary row being read: its name pieces (before, beside and under its figures) and figures."""

    page: int
    values: dict
    before: list[str]
    beside: list[str]
    under: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    @property
    def width(self) -> int:
        """How wide the name column is, as far as the pieces beside the figures show."""
        return max((_width(p) for p in self.beside), default=0)

    def evaluation(self) -> Evaluation:
        quote = " ".join(self.before + self.beside + self.figures + self.under)
        return _evaluation("".join(self.before + self.beside + self.under), self.page, self.values, quote)


class _Summary:
    """A 项目支出绩效自评汇总表 being read, line by line."""

    def __init__(self, header_lines: list[str], cells: list[str] | None):
        self.header_lines = header_lines  # until the first row with figures tells where the header ends
        self.cells = cells
        self.header: _Header | None = None
        self.pending: list[str] = []  # name lines printed before the next row's figures
        self.rows: list[_Row] = []

    def finish_header(self) -> bool:
        """Split the lines collected since 项目名称 into the header and the first row's name; whether the
        header names amount columns (else this is no summary)."""
        joined, ends = "", []
        for line in self.header_lines:
            joined += squash(line)
            ends.append(len(joined))
        last = max((m.end() for m in _LABEL.finditer(joined)), default=0)
        count = next((i + 1 for i, end in enumerate(ends) if end >= last), len(ends))
        self.header = _Header(labels(joined), self.cells if count == 1 else None)
        self.pending = self.header_lines[count:]
        self.header_lines = []
        return bool(_AMOUNTS & set(self.header.keys))

    def text_line(self, texts: list[str]) -> None:
        """A line without figures: a wrapped % sign, the rest of the last name, or the next row's name."""
        line = "".join(texts)
        if _PERCENT_ONLY.match(line):
            return
        last = self.rows[-1] if self.rows else None
        if last and last.beside and not self.pending and _width(line) <= last.width + 2:
            last.under.append(line)
        else:
            self.pending.append(line)

    def figure_line(self, cells: list[str], texts: list[str], page: int) -> None:
        run = len(texts)
        while run and _is_figure(texts[run - 1]):
            run -= 1
        count = len(self.header.keys)
        if len(texts) - run < count:
            self.pending = []  # a total or a row missing figures: nothing to read by the header
            return
        head, figures = texts[:len(texts) - count], texts[len(texts) - count:]
        if head and _SEQUENCE.match(head[0]):
            head = head[1:]
        values = self.header.read(cells, figures)
        if values is None:
            self.pending = []
            return
        self.rows.append(_Row(page, values, self.pending, head, figures=figures))
        self.pending = []


def _summary_header(text: str) -> bool:
    """项目名称 followed by the labels of amount columns (全年预算数 …): the header of a summary table."""
    name = _NAME.search(text)
    rest = re.sub(r"^[（(][^）)]*[)）]", "", text[name.end():]) if name else ""
    return bool(rest and _LABEL.match(rest) and _AMOUNTS & set(labels(rest)))


def parse_evaluations(parts: list[Part]) -> list[Evaluation]:
    """One entry per project: name, budgets, execution, the stated rate and score."""
    reader = _Reader()
    for part in parts:
        for cells in _rows(part):
            texts = [squash(c) for c in cells if squash(c)]
            if texts:
                reader.row(cells, texts, part.page, grid=part.grid is not None)
    reader.close_summary()
    return [e for e in reader.evaluations if e is not None]


class _Reader:
    """The self-evaluation tables of one source, row by row."""

    def __init__(self):
        self.evaluations: list[Evaluation | None] = []
        self.project = ""
        self.header: _Header | None = None  # the latest 年初预算数 | 全年预算数 | 全年执行数 | 分值 | 执行率 | 得分 row
        self.summary: _Summary | None = None
        self.funds: tuple | None = None  # a first figure row whose label may wrap into 年度资金总额 (部门预算 | 总额)
        self.name_lines: list[list[str]] = []  # label | name lines, both cells wrapped (转移支 | 公务员医 / 付（项 | …)
        self.name_open = False  # a wrapped name just read may go on alone on the next lines ('补助资金')

    def row(self, cells: list[str], texts: list[str], page: int, grid: bool) -> None:
        joined = "".join(texts)
        figures = _is_figure(texts[-1])  # a line ending in words has none to read (2019 年医疗救助…)
        summary = self.summary
        continuing, self.name_open = self.name_open, False
        if continuing and not figures and len(texts) == 1:
            self.project += texts[0]
            self.name_open = True
        elif not figures and _summary_header(joined):
            self.close_summary()
            self.summary, self.project = _Summary([joined], cells if grid else None), ""
        elif summary and summary.header_lines and not figures:
            summary.header_lines.append(joined)
        elif summary and summary.header_lines and not summary.finish_header():
            self.summary = None
            self.row(cells, texts, page, grid)
        elif _NAME.search(texts[0]) and not figures:
            self._start_project(texts[1] if len(texts) > 1 else _NAME.split(texts[0])[-1])
        elif not figures and not self.project and self._wrapped_name(texts):
            pass
        elif not figures and "执行数" in joined:
            self.header = _Header(labels(joined), cells if grid else None)
            self.funds = None
        elif self.project and (figures or self.funds):
            self._funding_row(cells, texts, page, figures)
        elif summary:
            summary.figure_line(cells, texts, page) if figures else summary.text_line(texts)

    def _start_project(self, name: str) -> None:
        self.close_summary()
        self.project, self.name_lines = name, []
        self.header = None  # each table prints its own

    def _wrapped_name(self, texts: list[str]) -> bool:
        """A 项目名称 label wrapped in its narrow cell over lines that also carry the wrapped name: the name
        is the lines' second cells joined, once their first cells spell the label. Lines of more than two
        cells (主管部门 | … | 实施单位 | …) are none of them."""
        if len(texts) > 2:
            self.name_lines = []
            return False
        self.name_lines = [*self.name_lines[-3:], texts]
        if not _NAME.search("".join(line[0] for line in self.name_lines)):
            return False
        self._start_project("".join(line[1] for line in self.name_lines if len(line) > 1))
        self.name_open = True
        return True

    def _funding_row(self, cells: list[str], texts: list[str], page: int, figures: bool) -> None:
        """年度资金总额 and its figures, the label maybe wrapped over the lines below (部门预算 | 总额（万 | 元）)."""
        if figures:
            self.funds = (cells, texts, page, texts[0]) if self.header and self.funds is None else None
            if not _FUNDS.search(texts[0]):
                return
        elif self.funds:
            wrapped = "".join(texts)
            cells, texts, page, label = self.funds
            self.funds = (cells, texts, page, label + wrapped)
            if not _FUNDS.search(label + wrapped):
                return
        self.evaluations.append(_funding(self.project, page, cells, texts, self.header))
        self.project, self.funds = "", None

    def close_summary(self) -> None:
        if self.summary:
            self.evaluations += [row.evaluation() for row in self.summary.rows]
        self.summary = None


def _funding(project: str, page: int, cells: list[str], texts: list[str], header: _Header | None) -> Evaluation | None:
    """The 年度资金总额 line under its header; None when its figures do not line up with the header."""
    figures = [t for t in texts[1:] if _is_figure(t)]
    if header is None or not header.keys:
        return _unlabelled(project, page, texts)
    values = header.read(cells, figures)
    return _evaluation(project, page, values, " ".join(texts)) if values is not None else None


def _unlabelled(project: str, page: int, texts: list[str]) -> Evaluation:
    """No header was read: 年初预算数, 全年预算数, 全年执行数, 执行率, 得分 — or, in shorter templates, 预算数,
    执行数, 执行率, 得分 — told apart by the rate, the one percentage."""
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
    if len(amounts) == 2:
        amounts.insert(0, None)
    padded = amounts + [None] * (3 - len(amounts))
    return _evaluation(project, page, {"year_start": padded[0], "full_year": padded[1], "executed": padded[2],
                                       "rate": rate, "score": score}, " ".join(texts))
