"""The narrative against its own arithmetic: 其中 lists within their total, one item quoted one way."""

from __future__ import annotations

import re
from decimal import Decimal

from fiscalwatch.parsers.narrative import Quote, item_quotes, to_wan
from fiscalwatch.validators.core import Context, fmt, half_unit, rule

_AMOUNT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(万元|亿元|元)(?![/／])")
_CHANGE_WORD = re.compile(r"(增加|减少|增长|下降|上升|降低|增减|变动)$")
_BRACKETED = re.compile(r"[（(][^）)]*[）)]")


def _amounts(text: str) -> list[tuple[int, Decimal]]:
    """(position, 万元) of each amount that is not a change against last year."""
    return [(m.start(), to_wan(m.group(1), m.group(2))) for m in _AMOUNT.finditer(text)
            if not _CHANGE_WORD.search(text[:m.start()].rstrip())]


@rule("N-PARTS", "reconciliation", "error", "“其中”所列各项之和不超过总额")
def parts_within_total(ctx: Context):
    for sentence in ctx.doc.sentences:
        # Nested lists in brackets ("（其中：购置费…）") are parts of a part; leave them out.
        text = _BRACKETED.sub(lambda m: "　" * len(m.group(0)), sentence.text)
        for clause in re.split(r"[。；;]", text):
            at = clause.find("其中")
            if at < 0:
                continue
            following = clause.find("其中", at + 2)  # a second 其中 starts a list of its own
            before, after = _amounts(clause[:at]), _amounts(clause[at:following if following > 0 else None])
            if not before or len(after) < 2 or re.search(r"比上年|上年|同比", clause[at:]):
                continue
            total, parts = before[-1][1], [value for _, value in after]
            allowed = Decimal("0.005") * (len(parts) + 1) * 2
            if sum(parts) > total + allowed:
                yield ctx.finding(
                    f"情况说明“{clause.strip()[:60]}”中，其中所列{len(parts)}项之和{fmt(sum(parts))}万元"
                    f"超过总额{fmt(total)}万元。",
                    page=sentence.page, stated=total, computed=sum(parts), quote=clause.strip(),
                    section=sentence.section)


def _rounding(quote: Quote) -> Decimal:
    """Half the last printed digit of a quoted amount, in 万元."""
    return half_unit(Decimal(quote.number.replace(",", ""))) * to_wan("1", quote.unit)


@rule("N-REPEATED", "reconciliation", "warning", "情况说明中同一项目、同一年度、同一口径的金额前后一致")
def one_item_quoted_one_way(ctx: Context):
    """A whole item (a fund's total, the totals, 三公, 机关运行经费) of one year and one measure (年初预算数,
    预算数, 决算数 …) given two amounts in two sentences, beyond the rounding of both. Parts, changes, shares
    and last year's figures are never compared (see parsers.narrative.item_quotes). A warning: a unit's
    section of a roll-up document may quote its own figures under the same words."""
    first: dict[tuple, Quote] = {}
    for quote in item_quotes(ctx.doc.sentences, ctx.doc.kind, ctx.doc.year):
        earlier = first.setdefault((quote.item, quote.year, quote.measure), quote)
        difference = quote.value - earlier.value
        if earlier.sentence is quote.sentence or abs(difference) <= _rounding(earlier) + _rounding(quote):
            continue
        year = f"{quote.year}年" if quote.year else ""
        yield ctx.finding(
            f"情况说明第{earlier.sentence.page}页称{year}“{quote.item}”{quote.measure}为{fmt(earlier.value)}万元，"
            f"第{quote.sentence.page}页又称{fmt(quote.value)}万元，相差{fmt(difference)}万元。",
            page=quote.sentence.page, item=quote.item, year=quote.year, measure=quote.measure, stated=earlier.value,
            other=quote.value, difference=difference, other_page=earlier.sentence.page, quote=quote.clause.strip(),
            other_quote=earlier.clause.strip(), section=quote.sentence.section)
