"""Rules, findings and the rounding tolerance every reconciliation shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cached_property

from fiscalwatch.labels import CATEGORIES, SEVERITIES
from fiscalwatch.parsers.model import Document, Figure, Table
from fiscalwatch.parsers.narrative import Claim, parse_claims
from fiscalwatch.settings import RuleParams


@dataclass
class Finding:
    rule: str
    category: str
    severity: str
    message: str  # Chinese, for people
    page: int | None = None
    table: str | None = None
    evidence: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    severity: str  # the severity of a clear violation
    title: str  # Chinese one-line description
    check: Callable[[Context], Iterable[Finding]]
    params: tuple[str, ...] = ()  # the fields of RuleParams it reads


RULES: list[Rule] = []


def rule(id_: str, category: str, severity: str, title: str, params: tuple[str, ...] = ()):
    assert category in CATEGORIES and severity in SEVERITIES and set(params) <= set(RuleParams.model_fields)

    def register(check: Callable[[Context], Iterable[Finding]]) -> Callable:
        RULES.append(Rule(id_, category, severity, title, check, params))
        return check

    return register


@dataclass
class Context:
    doc: Document
    params: RuleParams = field(default_factory=RuleParams)
    skipped: list[dict] = field(default_factory=list)
    current: Rule | None = None
    # Differences within rounding, per table, reported as one info finding per rule and table.
    tails: dict[str, list[str]] = field(default_factory=dict)
    # Every arithmetic check run on a table, by the identity it tested: the reliability gate's evidence.
    checks: dict[int, dict[str, Tally]] = field(default_factory=dict)

    def finding(self, message: str, *, severity: str | None = None, page: int | None = None,
                table: Table | str | None = None, **evidence) -> Finding:
        rule_ = self.current
        title = table.title if isinstance(table, Table) else table
        if page is None and isinstance(table, Table):
            page = table.page
        return Finding(
            rule=rule_.id,
            category=rule_.category,
            severity=severity or rule_.severity,
            message=message,
            page=page,
            table=title,
            evidence={k: _plain(v) for k, v in evidence.items() if v is not None},
        )

    @cached_property
    def claims(self) -> list[Claim]:
        return parse_claims(self.doc.sentences)

    def tail(self, table: Table, where: str) -> None:
        self.tails.setdefault(table.title, []).append(where)

    def flush_tails(self) -> list[Finding]:
        findings = []
        for title, places in self.tails.items():
            shown = "；".join(places[:5]) + (f"；另有{len(places) - 5}处" if len(places) > 5 else "")
            findings.append(self.finding(
                f"{title}有{len(places)}处合计与明细相差在四舍五入尾差范围内（{shown}），不作为错误。",
                severity="info", table=title, places=places))
        self.tails = {}
        return findings

    def skip(self, reason: str) -> None:
        """The rule cannot run on this document; say so rather than pass silently."""
        self.skipped.append({"rule": self.current.id, "title": self.current.title, "reason": reason})


@dataclass
class Tally:
    """How often one identity (rule and formula) was checked on one table, and how often it failed."""

    checked: int = 0
    failed: int = 0


def record_check(ctx: Context, table: Table, group: str, failed: bool) -> None:
    tally = ctx.checks.setdefault(id(table), {}).setdefault(f"{ctx.current.id}|{group}", Tally())
    tally.checked += 1
    tally.failed += failed


def _plain(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def table_decimals(table: Table) -> int:
    """Digits the table prints after the point (the most common among non-zero figures)."""
    counts: dict[int, int] = {}
    for row in table.rows:
        for figure in row.values.values():
            if figure.value:
                counts[figure.decimals] = counts.get(figure.decimals, 0) + 1
    return max(counts, key=counts.get) if counts else 2


def tolerance(table: Table, terms: int, figures: Iterable[Figure] = ()) -> Decimal:
    """How far a sum of `terms` printed figures may drift from a printed total, in the table's unit.

    Each printed figure is rounded to half a unit of its last digit: (n+1) × 0.5 × 10^-d.
    """
    digits = max([table_decimals(table)] + [f.decimals for f in figures if f.value])
    return Decimal(terms + 1) * Decimal("0.5") * Decimal(10) ** -digits


def half_unit(value: Decimal) -> Decimal:
    """Half a unit of the last digit a figure was printed with: how far rounding may have moved it."""
    exponent = value.as_tuple().exponent
    return Decimal("0.5") * Decimal(10) ** (exponent if isinstance(exponent, int) else 0)


def compare(expected: Decimal, actual: Decimal, allowed: Decimal) -> str | None:
    """Severity of a difference: None when equal, info within rounding, error beyond."""
    difference = abs(expected - actual)
    if difference == 0:
        return None
    return "info" if difference <= allowed else "error"


def money(value: Decimal, unit: str = "万元") -> str:
    return f"{value:,.2f}{unit}" if unit == "万元" else f"{value:,}{unit}"


def fmt(value: Decimal) -> str:
    return _plain(value)


def check_sum(ctx: Context, table: Table, total: Figure, parts: list[Figure], *, where: str, formula: str,
              page: int, sign: list[int] | None = None, group: str | None = None,
              terms: int | None = None) -> Finding | None:
    """A printed total against the sum of printed parts (optionally signed), with the rounding tolerance.

    `group` names the identity for the reliability gate (default: the formula); checks of one identity
    over many rows of a table are judged together. `terms`: how many printed figures the sum really rests
    on, where parts are themselves sums of printed items (their tails add up)."""
    signs = sign or [1] * len(parts)
    computed = sum((s * p.value for s, p in zip(signs, parts)), Decimal(0))
    allowed = tolerance(table, terms or len(parts), [total, *parts])
    level = compare(total.value, computed, allowed)
    record_check(ctx, table, group or formula, level == "error")
    if level is None:
        return None
    difference = total.value - computed
    if level == "info":
        ctx.tail(table, f"{where}差{fmt(difference)}")
        return None
    return ctx.finding(
        f"{table.title}：{where}印为{total.text}，按{formula}计算应为{fmt(computed)}，相差{fmt(difference)}{table.unit}。",
        page=page, table=table, row=where, printed=total.value, computed=computed, difference=difference,
        tolerance=allowed, unit=table.unit, formula=formula,
    )


def check_cross(ctx: Context, left: Table, left_figure: Figure, right: Table, right_figure: Figure, *,
                what: str, left_where: str, right_where: str, page: int | None = None) -> Finding | None:
    """The same quantity printed in two tables (compared in 万元, within both roundings)."""
    a = left_figure.value * left.factor
    b = right_figure.value * right.factor
    allowed = max(tolerance(left, 1, [left_figure]) * left.factor, tolerance(right, 1, [right_figure]) * right.factor)
    level = compare(a, b, allowed)
    if level is None:
        return None
    if level == "info":
        ctx.tail(left, f"{left_where}与{right.title}{right_where}差{fmt(a - b)}万元")
        return None
    return ctx.finding(
        f"{what}不一致：{left.title}{left_where}为{left_figure.text}{left.unit}，"
        f"{right.title}{right_where}为{right_figure.text}{right.unit}，相差{fmt(a - b)}万元。",
        page=page or left.page, table=left, other_table=right.title, other_page=right.page,
        printed=a, other=b, difference=a - b, tolerance=allowed, unit="万元",
    )
