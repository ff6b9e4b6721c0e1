"""The normalised document every format is parsed into, and every rule reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fiscalwatch.parsers.numbers import UNIT_TO_WAN, decimals


@dataclass
class Column:
    role: str  # code | code_part | name | line | amount
    label: str  # header text, levels joined with "/"
    key: str | None = None  # canonical meaning of an amount column
    side: int = 0  # side-by-side blocks (收入 | 支出, 人员经费 | 公用经费) are numbered left to right


@dataclass
class Figure:
    """A printed amount: the value in the table's unit plus where it came from."""

    value: Decimal
    text: str

    @property
    def decimals(self) -> int:
        return decimals(self.value)


@dataclass
class Row:
    name: str
    code: str | None
    page: int
    side: int = 0
    label: str = ""  # name as printed
    values: dict[str, Figure] = field(default_factory=dict)
    # Every amount cell by its column's full header label (values holds only columns with a known meaning).
    cells: dict[str, Figure] = field(default_factory=dict)
    # Every code and name cell as printed (two classifications side by side print two code/name pairs).
    printed: tuple[str, ...] = ()

    def get(self, key: str) -> Decimal | None:
        figure = self.values.get(key)
        return figure.value if figure else None

    @property
    def where(self) -> str:
        return f"{self.code} {self.name}" if self.code else self.name


@dataclass
class Table:
    kind: str  # catalog id
    title: str  # as printed
    page: int
    unit: str = "万元"
    unit_stated: bool = False
    columns: list[Column] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    meta: list[str] = field(default_factory=list)  # lines between title and table: 公开01表, 单位：…, 年度
    from_ocr: bool = False
    # What the reader itself doubts about this table (glued or malformed numbers, columns that do not line
    # up, ...), in Chinese; the validators' reliability gate turns a table with problems into one warning.
    problems: list[str] = field(default_factory=list)
    source: str | None = None  # the file the table came from, when several files form one publication

    @property
    def factor(self) -> Decimal:
        """Multiplier from this table's unit to 万元."""
        return UNIT_TO_WAN[self.unit]

    def amount_keys(self, side: int | None = None) -> list[str]:
        keys = [c.key for c in self.columns if c.role == "amount" and c.key and (side is None or c.side == side)]
        return list(dict.fromkeys(keys))

    def by_code(self, code: str) -> Row | None:
        return next((r for r in self.rows if r.code == code), None)

    def by_name(self, *names: str, side: int | None = None) -> Row | None:
        for name in names:
            for row in self.rows:
                if row.name == name and (side is None or row.side == side):
                    return row
        return None

    def total_row(self, side: int | None = None) -> Row | None:
        return self.by_name("合计", "总计", side=side)

    @property
    def is_empty(self) -> bool:
        return all(f.value == 0 for r in self.rows for f in r.values.values())


@dataclass
class TocEntry:
    text: str
    kind: str | None  # catalog id when the entry is a table
    page: int


@dataclass
class Evaluation:
    """A performance self-evaluation (项目支出绩效自评表) summary."""

    project: str
    page: int
    year_start_budget: Decimal | None
    full_year_budget: Decimal | None
    executed: Decimal | None
    stated_rate: Decimal | None  # percent as printed
    score: Decimal | None
    quote: str


@dataclass
class Sentence:
    """A sentence of the narrative with where it is and which section it belongs to."""

    text: str
    page: int
    section: str  # heading of the narrative section, normalised


@dataclass
class Document:
    kind: str | None = None  # final | budget
    level: str | None = None  # 部门 | 单位
    scope: str | None = None  # 汇总 | 本级
    entity: str | None = None
    year: int | None = None
    format: str = "pdf"
    page_count: int = 0
    toc: list[TocEntry] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    unreadable_pages: dict[int, str] = field(default_factory=dict)
    ocr_pages: dict[int, float] = field(default_factory=dict)  # page → mean OCR confidence
    page_texts: list[str] = field(default_factory=list)
    cover: str = ""

    def table(self, kind: str) -> Table | None:
        return next((t for t in self.tables if t.kind == kind), None)
