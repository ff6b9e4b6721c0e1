"""The narrative against the tables, and against its own arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from fiscalwatch.parsers.model import Figure, Row, Table
from fiscalwatch.parsers.narrative import Claim, is_up, to_wan
from fiscalwatch.validators.core import Context, fmt, half_unit, rule

HUNDRED = Decimal(100)


def _ratio_bounds(part: Decimal, whole: Decimal) -> tuple[Decimal, Decimal] | None:
    """Range of part/whole×100 given that both were printed rounded."""
    dp, dw = half_unit(part), half_unit(whole)
    if whole - dw <= 0:
        return None
    low = max(part - dp, Decimal(0)) / (whole + dw) * HUNDRED
    high = (part + dp) / (whole - dw) * HUNDRED
    return low, high


def percent_check(stated: Decimal, part: Decimal, whole: Decimal) -> tuple[str, Decimal] | None:
    """(severity, recomputed %) when a stated percentage is outside what rounding allows.

    Off by just one unit of the last printed digit is an info note: shares are often
    nudged so that they add up to 100%.
    """
    bounds = _ratio_bounds(part, whole)
    if bounds is None:
        return None
    slack = half_unit(stated)
    low, high = bounds
    if low - slack <= stated <= high + slack:
        return None
    computed = (part / whole * HUNDRED).quantize(Decimal("0.01"))
    near = low - 3 * slack <= stated <= high + 3 * slack
    return ("info" if near else "error"), computed


# ----------------------------------------------------------- subject → table

@dataclass
class Target:
    table: Table
    row: Row
    key: str
    label: str

    @property
    def figure(self) -> Figure | None:
        return self.row.values.get(self.key)


_SECTIONS = [
    (r"三公", "three_public"),
    (r"机关运行经费", "running"),
    (r"政府采购", "procurement"),
    (r"基本支出", "gpb_basic"),
    (r"政府性基金", "gov_fund"),
    (r"国有资本经营", "soe"),
    (r"一般公共预算", "gpb_expense"),
    (r"财政拨款收(入)?支(出)?", "fiscal_summary"),
    (r"收(入)?支(出)?.*总体|收支预算总", "summary"),
    (r"收入", "income"),
    (r"支出", "expense"),
]

_INCOME_KEYS = [("财政拨款收入", "fiscal"), ("上级补助收入", "upper"), ("事业收入", "business"),
                ("附属单位上缴收入", "affiliated"), ("经营收入", "operating"), ("其他收入", "other"),
                ("收入合计", "total"), ("本年收入", "total")]
_EXPENSE_KEYS = [("基本支出", "basic"), ("项目支出", "project"), ("上缴上级支出", "remit"),
                 ("对附属单位补助支出", "affiliated_sub"), ("经营支出", "operating_exp"), ("支出合计", "total"),
                 ("本年支出", "total")]
_THREE_PUBLIC = [("因公出国", "abroad"), ("公务用车购置及运行", "car"), ("公务用车购置", "car_purchase"),
                 ("公务用车运行", "car_operation"), ("公务接待", "reception"), ("三公", "total")]


def section_kind(section: str) -> str | None:
    return next((kind for pattern, kind in _SECTIONS if re.search(pattern, section)), None)


def resolve(ctx: Context, claim: Claim, half: str = "actual") -> Target | None:
    """Which table figure a narrative figure describes, or None when unknown."""
    doc = ctx.doc
    section = section_kind(claim.sentence.section)
    subject = claim.subject
    if not section or not subject or re.search(r"上年|去年|同期|比.*20\d\d", subject):
        return None
    if section == "three_public":
        table = doc.table("three_public")
        key = next((k for word, k in _THREE_PUBLIC if word in subject), None)
        if table and table.rows and key:
            full = f"{half}.{key}" if f"{half}.{key}" in table.rows[0].values else f"amount.{key}"
            if full in table.rows[0].values and _three_public_column(table, full):
                return Target(table, table.rows[0], full, f"三公经费{key}")
        return None
    if section in ("running", "procurement"):
        return None
    if section == "gpb_basic":
        return _basic_target(doc, subject)
    table = doc.table(section)
    if not table:
        return None
    if section in ("summary", "fiscal_summary"):
        if "总计" in subject:
            row = next((r for r in table.rows if r.side == 0 and r.name.endswith("总计")), None)
            if row:
                return Target(table, row, next(iter(row.values), "amount"), "总计")
        return None
    total = table.total_row()
    if section == "income":
        key = next((k for word, k in _INCOME_KEYS if subject.endswith(word) or subject == word), None)
        return Target(table, total, key, key) if total and key in (total.values if total else {}) else None
    if section == "expense":
        key = next((k for word, k in _EXPENSE_KEYS if subject.endswith(word) or subject == word), None)
        return Target(table, total, key, key) if total and key in (total.values if total else {}) else None
    return _function_target(table, subject, section, claim.sentence)


# Tables that print 三公 beside other costs (行政经费, 会议费, 培训费): their 合计 is not the 三公 total.
_WIDER_THAN_THREE_PUBLIC = re.compile(r"行政经费|会议费|培训费|机关运行经费")


def _three_public_column(table: Table, key: str) -> bool:
    if not key.endswith(".total") or not _WIDER_THAN_THREE_PUBLIC.search(table.title):
        return True
    column = next((c for c in table.columns if c.key == key), None)
    return bool(column and "三公" in column.label)


def _basic_target(doc, subject: str) -> Target | None:
    basic = doc.table("gpb_basic")
    if not basic:
        return None
    for word, names in (("人员经费", ("人员经费合计", "人员经费")), ("公用经费", ("公用经费合计", "公用经费"))):
        if subject.endswith(word):
            row = basic.by_name(*names)
            key = "amount" if row and "amount" in row.values else "total"
            return Target(basic, row, key, word) if row and key in row.values else None
    if subject.endswith("基本支出"):
        gpb = doc.table("gpb_expense")
        total = gpb.total_row() if gpb else None
        return Target(gpb, total, "basic", "基本支出") if total and "basic" in total.values else None
    return None


# A sentence about 基本支出 or 项目支出 quotes that part of each 功能 line, not the line's total.
_PART_OF_EXPENSE = [(re.compile(r"项目支出"), "project"), (re.compile(r"基本支出"), "basic")]


def _function_target(table: Table, subject: str, section: str, sentence) -> Target | None:
    total = table.total_row()
    key = "expense" if section == "gov_fund" and total and "expense" in total.values else "total"
    context = f"{sentence.section}{sentence.text}"
    part = next((k for pattern, k in _PART_OF_EXPENSE if pattern.search(context) and not pattern.search(subject)),
                None)
    if part:
        key = part  # a table without that column has no figure for it: no target
    if re.search(r"（项）|\(项\)", subject):
        row = item_row(table, subject)
        return Target(table, row, key, row.name) if row and key in row.values else None
    match = re.search(r"([^（(，、：:]+?)(?:支出)?[（(]类[)）]", subject)
    if match:
        name = match.group(1)
        row = next((r for r in table.rows if r.code and len(r.code) == 3 and r.name.startswith(name)), None)
        return Target(table, row, key, row.name) if row and key in row.values else None
    row = next((r for r in table.rows if r.code and len(r.code) == 3 and r.name and subject.endswith(r.name)), None)
    if row:  # "卫生健康支出年初预算…" names the 类 without the （类） mark
        return Target(table, row, key, row.name) if key in row.values else None
    if re.search(r"(一般公共预算|政府性基金|国有资本经营)(预算)?(财政拨款)?支出$", subject) and total:
        return Target(table, total, key, "合计") if key in total.values else None
    return None


def item_row(table: Table, subject: str) -> Row | None:
    """'A（类）B（款）C（项）' → the 7-digit row named C under the 5-digit row named B."""
    parts = re.findall(r"([^（）()]+?)[（(](类|款|项)[)）]", re.sub(r"^\d+[、.．]", "", subject))
    names = {level: name.strip("，、。 ") for name, level in parts}
    item, section = names.get("项"), names.get("款")
    if not item:
        return None
    candidates = [r for r in table.rows if r.code and len(r.code) == 7 and r.name == item]
    if section and len(candidates) > 1:
        parents = {r.code for r in table.rows if r.code and len(r.code) == 5 and r.name == section}
        candidates = [r for r in candidates if r.code[:5] in parents] or candidates
    return candidates[0] if len(candidates) == 1 else None


def _describe(claim: Claim) -> dict:
    return {"quote": claim.quote, "section": claim.sentence.section}


@dataclass
class Quoted:
    """A narrative amount and the table figure it describes, both in 万元."""

    claim: Claim
    target: Target
    printed: Decimal
    allowed: Decimal

    @property
    def agrees(self) -> bool:
        return abs(self.printed - self.claim.value) <= self.allowed

    @property
    def unit_slip(self) -> bool:
        """The number is the table's figure but the unit is not the table's (元 written for 万元)."""
        table = self.target.table
        return (self.claim.unit != table.unit and self.claim.number is not None
                and abs(self.claim.number - self.target.figure.value) <= self.allowed / table.factor)


def _quoted(ctx: Context):
    """Narrative amounts with the table figure each describes (each quote and figure once)."""
    seen = set()
    for claim in ctx.claims:
        if claim.kind not in ("amount", "share") or re.search(r"年初预算|全年预算|预算数|预算$|上年", claim.subject):
            continue
        target = resolve(ctx, claim)
        if not target or not target.figure:
            continue
        key = (claim.quote, target.row.name, target.key)
        if key in seen:
            continue
        seen.add(key)
        printed = target.figure.value * target.table.factor
        allowed = max(half_unit(claim.value), half_unit(target.figure.value) * target.table.factor) * 2
        yield Quoted(claim, target, printed, allowed)


@rule("N-AMOUNT", "reconciliation", "error", "情况说明中的金额与表格一致")
def narrative_amounts(ctx: Context):
    if not ctx.doc.sentences:
        ctx.skip("未找到情况说明文字")
        return
    for quoted in _quoted(ctx):
        claim, target = quoted.claim, quoted.target
        if quoted.agrees or quoted.unit_slip or _another_column(target, claim.value, quoted.allowed):
            continue
        yield ctx.finding(
            f"情况说明称“{claim.subject}”为{fmt(claim.value)}万元，但{target.table.title}"
            f"{target.row.where}为{target.figure.text}{target.table.unit}。",
            page=claim.sentence.page, table=target.table.title, stated=claim.value, table_value=quoted.printed,
            difference=claim.value - quoted.printed, table_page=target.row.page, **_describe(claim))


@rule("N-UNIT", "reconciliation", "error", "情况说明中金额的单位与表格一致（不把万元写成元）")
def narrative_units(ctx: Context):
    for quoted in _quoted(ctx):
        claim, target = quoted.claim, quoted.target
        if quoted.unit_slip and not quoted.agrees:
            yield ctx.finding(
                f"情况说明写“{claim.subject}”为{fmt(claim.number)}{claim.unit}，而{target.table.title}"
                f"{target.row.where}为{target.figure.text}{target.table.unit}：数字相同，单位写错。",
                page=claim.sentence.page, table=target.table.title, stated=claim.number,
                stated_unit=claim.unit, table_value=target.figure.value, unit=target.table.unit,
                table_page=target.row.page, **_describe(claim))


def _another_column(target: Target, value: Decimal, allowed: Decimal) -> bool:
    """The stated figure is another column of the same line (基本支出 or 项目支出 of a 功能 line, quoted
    in a paragraph about that part): the sentence is about that column, not a mismatch."""
    return any(abs(f.value * target.table.factor - value) <= allowed for f in target.row.values.values())


@rule("N-PERCENT", "reconciliation", "error", "情况说明中的占比、完成率与金额重新计算一致")
def narrative_percentages(ctx: Context):
    items = ctx.claims
    for index, claim in enumerate(items):
        if claim.kind == "completion" and claim.percent is not None and claim.budget:
            mismatch = percent_check(claim.percent, claim.actual, claim.budget)
            if mismatch:
                severity, expected = mismatch
                yield ctx.finding(severity=severity, message=
                    f"情况说明称“{claim.subject or '该项'}”完成预算的{fmt(claim.percent)}%，按决算{fmt(claim.actual)}万元÷"
                    f"预算{fmt(claim.budget)}万元计算应为{expected}%。",
                    page=claim.sentence.page, stated=claim.percent, computed=expected, budget=claim.budget,
                    actual=claim.actual, **_describe(claim))
        elif claim.kind == "share" and claim.percent is not None:
            base = _share_base(items, index, claim)
            if base is None or base == 0:
                continue
            mismatch = percent_check(claim.percent, claim.value, base)
            if mismatch:
                severity, expected = mismatch
                yield ctx.finding(severity=severity, message=
                    f"情况说明称“{claim.subject}”{fmt(claim.value)}万元占{fmt(claim.percent)}%，"
                    f"按{claim.base or '总额'}{fmt(base)}万元计算应为{expected}%。",
                    page=claim.sentence.page, stated=claim.percent, computed=expected, base=base,
                    **_describe(claim))


def _share_base(items: list[Claim], index: int, claim: Claim) -> Decimal | None:
    """占X% without a named base is a share of the first amount of the sentence (its total)."""
    if claim.base:
        named = [c for c in items[:index] if c.kind in ("amount", "share") and c.sentence is claim.sentence
                 and claim.base.rstrip("的") in c.subject]
        if named:
            return named[-1].value
        named = [c for c in items[:index] if c.kind in ("amount", "share") and claim.base.rstrip("的") in c.subject]
        return named[-1].value if named else None
    same = [c for c in items[:index] if c.sentence is claim.sentence and c.kind == "amount"]
    return same[0].value if same else None


@rule("N-CHANGE", "reconciliation", "error", "增减金额、增减幅度与增加/减少用词一致")
def narrative_changes(ctx: Context):
    items = ctx.claims
    for index, claim in enumerate(items):
        if claim.kind != "change":
            continue
        if is_up(claim.direction) != is_up(claim.pct_direction):
            yield ctx.finding(
                f"情况说明同一句中既称“{claim.direction}”又称“{claim.pct_direction}”，增减方向自相矛盾。",
                page=claim.sentence.page, **_describe(claim))
            continue
        found = last_year(items, index, claim)
        if found is None:
            continue
        current, previous = found[0].value, found[1]
        if previous <= 0:
            continue
        mismatch = percent_check(claim.percent, claim.delta, previous)
        if mismatch:
            severity, expected = mismatch
            yield ctx.finding(severity=severity, message=
                f"情况说明称“{claim.subject}”{claim.direction}{fmt(claim.delta)}万元、{claim.pct_direction}"
                f"{fmt(claim.percent)}%，按本年{fmt(current)}万元推算上年为{fmt(previous)}万元，幅度应为{expected}%。",
                page=claim.sentence.page, stated=claim.percent, computed=expected, current=current,
                previous=previous, **_describe(claim))


# Words that say "against last year" and name nothing: a change worded so is about the amount before it.
_VERSUS_LAST_YEAR = re.compile(r"[）)]|比上年度?|较上年度?|与上年度?相比|同比|各|均|执行数|预算数|决算数")


def last_year(items: list[Claim], index: int, claim: Claim) -> tuple[Claim, Decimal] | None:
    """For a change ("比上年减少A万元"): the amount stating this year's figure, and last year's figure
    it implies (this year's minus the increase, plus the decrease)."""
    current = _current_claim(items, index, claim)
    if current is None or claim.delta is None:
        return None
    return current, current.value - claim.delta if is_up(claim.direction) else current.value + claim.delta


def _current_claim(items: list[Claim], index: int, claim: Claim) -> Claim | None:
    """The amount stating this year's figure a change refers to: the nearest earlier amount on the same
    subject, or, for a change naming no subject ("…万元，比上年减少…"), the amount just before it in the
    same clause."""
    if not _VERSUS_LAST_YEAR.sub("", claim.subject).strip("，,、 "):
        return _amount_before(items, claim)
    subject = re.sub(r"^(与上年度?相比|各|均)|各$", "", claim.subject).strip("，,")
    for other in reversed(items[max(0, index - 6):index]):
        if other.kind in ("amount", "share") and other.sentence.section == claim.sentence.section and (
            subject in other.subject or other.subject.endswith(subject)
        ):
            return other
    return None


def _amount_before(items: list[Claim], claim: Claim) -> Claim | None:
    text = claim.sentence.text
    position = text.find(claim.quote)
    before = [(text.find(c.quote), c) for c in items if c.sentence is claim.sentence and c.kind == "amount"
              and c.quote == claim.quote and "比上年" not in c.subject]
    before = [(p, c) for p, c in before if 0 <= p <= position]
    if not before or len(before) > 1:
        return None  # which of several amounts of the clause is meant cannot be told
    return before[0][1]


@rule("N-FLAT", "reconciliation", "error", "称“持平”时预算数与决算数相等")
def flat_statements(ctx: Context):
    for claim in ctx.claims:
        if claim.kind == "completion" and re.search(r"持平|无差异|一致", claim.sentence.text) and (
            claim.budget != claim.actual
        ) and not re.search(r"存在差异|差异的?主要原因", claim.sentence.text):
            yield ctx.finding(
                f"情况说明称决算数与预算数持平，但预算为{fmt(claim.budget)}万元、决算为{fmt(claim.actual)}万元。",
                page=claim.sentence.page, budget=claim.budget, actual=claim.actual, **_describe(claim))


_EVALUATED = {
    "full_year_budget": re.compile(r"(?<!年初)(?:全年|调整后?)?预算数?为?\s*(\d[\d,]*(?:\.\d+)?)\s*(万元|元)"),
    "year_start_budget": re.compile(r"年初预算数?为?\s*(\d[\d,]*(?:\.\d+)?)\s*(万元|元)"),
    "executed": re.compile(r"(?:执行数|实际支出数?)为?\s*(\d[\d,]*(?:\.\d+)?)\s*(万元|元)"),
}
_EVALUATION_LABELS = {"full_year_budget": "全年预算数", "year_start_budget": "年初预算数", "executed": "全年执行数"}
_NUMBERING = re.compile(r"^\s*(\d+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、)")


@rule("N-EVALUATION", "reconciliation", "error", "情况说明中项目的预算数、执行数与绩效自评表一致")
def narrative_against_evaluations(ctx: Context):
    for evaluation in ctx.doc.evaluations:
        name = evaluation.project
        if len(name) < 4:
            continue
        for sentence in ctx.doc.sentences:
            text = _NUMBERING.sub("", sentence.text)
            # Only a sentence about the project itself: it opens with the project's name.
            if not re.match(re.escape(name) + r"\s*(项目)?\s*[:：，,]", text):
                continue
            clause = text.split("。")[0]
            for field, pattern in _EVALUATED.items():
                printed, match = getattr(evaluation, field), pattern.search(clause)
                if printed is None or not match:
                    continue
                stated = to_wan(match.group(1), match.group(2))
                allowed = max(half_unit(stated), half_unit(printed)) * 2
                if abs(stated - printed) > allowed:
                    yield ctx.finding(
                        f"情况说明称“{name}”{_EVALUATION_LABELS[field]}为{fmt(stated)}万元，"
                        f"而第{evaluation.page}页绩效自评表为{fmt(printed)}万元。",
                        page=sentence.page, item=name, stated=stated, table_value=printed,
                        table_page=evaluation.page, quote=clause, section=sentence.section)


@rule("N-ZERO-BASE", "reconciliation", "warning", "上年为零时不应写增减百分比")
def zero_base_changes(ctx: Context):
    items = ctx.claims
    for index, claim in enumerate(items):
        if claim.kind != "change" or claim.delta is None or claim.percent is None:
            continue
        found = last_year(items, index, claim)
        if found is None:
            continue
        current, previous = found[0].value, found[1]
        if previous == 0:
            yield ctx.finding(
                f"情况说明称“{claim.subject}”{claim.direction}{fmt(claim.delta)}万元、{claim.pct_direction}"
                f"{fmt(claim.percent)}%，但按本年{fmt(current)}万元推算上年为0，以零为基数的增减百分比没有意义。",
                page=claim.sentence.page, stated=claim.percent, current=current, previous=previous,
                **_describe(claim))


@rule("N-ZERO-BUDGET", "reconciliation", "warning", "以零预算计算完成率")
def zero_budget_rates(ctx: Context):
    for claim in ctx.claims:
        # 0 spent of a zero budget is harmless; only money spent without a budget makes the rate absurd.
        if claim.kind == "completion" and claim.budget == 0 and claim.actual and claim.percent is not None:
            yield ctx.finding(
                f"“{claim.subject or '该项'}”年初预算为0，却写“完成预算的{fmt(claim.percent)}%”；"
                f"以零预算计算的完成率没有意义（决算{fmt(claim.actual)}万元）。",
                page=claim.sentence.page, budget=claim.budget, actual=claim.actual, stated=claim.percent,
                **_describe(claim))


_ITEM_MARK = re.compile(r"[（(]\s*项\s*[)）]")
_EMPTY_MARK = re.compile(r"[（(]\s*[)）]")


@rule("N-BUDGET-ITEMS", "reconciliation", "error", "年初预算总数等于所列各项年初预算之和")
def year_start_budget_items(ctx: Context):
    items = [c for c in ctx.claims if c.kind == "completion" and section_kind(c.sentence.section) == "gpb_expense"]
    # An item whose level mark is unreadable (OCR's "（）（）预算为13.60万元") could be a 项 or the total: no sum.
    if unreadable := next((c for c in items if _EMPTY_MARK.search(c.subject)), None):
        ctx.skip(f"情况说明中“{unreadable.quote[:30]}”的科目层级无法识别，未核对各项年初预算之和")
        return
    totals = [c for c in items if not _ITEM_MARK.search(c.subject)]
    parts = [c for c in items if _ITEM_MARK.search(c.subject)]
    if not totals or len(parts) < 2:
        return
    total = totals[0]
    computed = sum((c.budget for c in parts), Decimal(0))
    allowed = Decimal("0.005") * (len(parts) + 1)
    if abs(computed - total.budget) > allowed:
        yield ctx.finding(
            f"情况说明中一般公共预算财政拨款支出年初预算为{fmt(total.budget)}万元，"
            f"但逐项列出的年初预算合计为{fmt(computed)}万元，相差{fmt(total.budget - computed)}万元。",
            page=total.sentence.page, stated=total.budget, computed=computed, items=len(parts), **_describe(total))


@rule("N-COMPLETION-ACTUAL", "reconciliation", "error", "完成情况中的决算数与表格一致")
def completion_actuals(ctx: Context):
    for claim in ctx.claims:
        if claim.kind != "completion":
            continue
        target = resolve(ctx, claim)
        if not target or not target.figure:
            continue
        printed = target.figure.value * target.table.factor
        if abs(printed - claim.actual) > half_unit(claim.actual) * 2 + half_unit(target.figure.value) * target.table.factor:
            yield ctx.finding(
                f"情况说明称“{claim.subject}”支出决算为{fmt(claim.actual)}万元，但{target.table.title}"
                f"{target.row.where}为{target.figure.text}{target.table.unit}。",
                page=claim.sentence.page, table=target.table.title, stated=claim.actual, table_value=printed,
                **_describe(claim))


_PROCUREMENT = [("授予小微企业合同金额", "授予中小企业合同金额"), ("授予中小企业合同金额", "政府采购支出总额")]


@rule("N-PART-WHOLE", "reconciliation", "error", "部分不大于整体（小微≤中小企业≤政府采购总额）")
def part_not_above_whole(ctx: Context):
    amounts = {}
    for claim in ctx.claims:
        if claim.kind in ("amount", "share"):
            for name in ("授予小微企业合同金额", "授予中小企业合同金额", "政府采购支出总额"):
                if claim.subject.endswith(name) and name not in amounts:
                    amounts[name] = claim
    for part, whole in _PROCUREMENT:
        if part in amounts and whole in amounts and amounts[part].value > amounts[whole].value:
            yield ctx.finding(
                f"{part}{fmt(amounts[part].value)}万元大于{whole}{fmt(amounts[whole].value)}万元。",
                page=amounts[part].sentence.page, part=amounts[part].value, whole=amounts[whole].value,
                **_describe(amounts[part]))


@rule("N-RUNNING", "reconciliation", "warning", "机关运行经费与基本支出明细表公用经费一致（行政、参公单位）")
def running_costs(ctx: Context):
    basic = ctx.doc.table("gpb_basic")
    public = basic.by_name("公用经费合计", "公用经费") if basic else None
    if ctx.doc.kind != "final" or not public or "amount" not in public.values:
        return
    for claim in ctx.claims:
        if claim.kind in ("amount", "share") and re.search(r"机关运行经费(支出|决算)?(总额)?$", claim.subject):
            printed = public.values["amount"].value * basic.factor
            if abs(printed - claim.value) > Decimal("0.01"):
                yield ctx.finding(
                    f"机关运行经费{fmt(claim.value)}万元与基本支出明细表公用经费合计{public.values['amount'].text}"
                    f"{basic.unit}不一致（行政单位和参公事业单位二者应相等）。",
                    page=claim.sentence.page, stated=claim.value, table_value=printed, **_describe(claim))
            return
