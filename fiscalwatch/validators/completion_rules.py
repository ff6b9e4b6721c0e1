"""Low completion / execution rates, from the narrative and the self-evaluation tables."""

from __future__ import annotations

from decimal import Decimal

from fiscalwatch.validators.core import Context, fmt, rule
from fiscalwatch.validators.narrative_rules import percent_check, section_kind

HUNDRED = Decimal(100)


def _rate(actual: Decimal, budget: Decimal) -> Decimal:
    return (actual / budget * HUNDRED).quantize(Decimal("0.01"))


@rule("C-NARRATIVE", "low_completion", "warning", "情况说明中的预算完成率低于阈值",
      params=("low_completion_threshold",))
def narrative_completion(ctx: Context):
    if ctx.doc.kind != "final":
        ctx.skip("预算文件没有完成率")
        return
    threshold = ctx.params.low_completion_threshold
    for claim in ctx.claims:
        if claim.kind != "completion" or not claim.budget:
            continue
        rate = _rate(claim.actual, claim.budget)
        if rate < threshold:
            item = claim.subject or section_kind(claim.sentence.section) or "该项"
            yield ctx.finding(
                f"“{item}”预算{fmt(claim.budget)}万元，决算{fmt(claim.actual)}万元，完成率{rate}%，低于{fmt(threshold)}%。",
                page=claim.sentence.page, item=item, budget=claim.budget, actual=claim.actual, rate=rate,
                stated_rate=claim.percent, threshold=threshold, quote=claim.quote)


@rule("C-EVALUATION", "low_completion", "warning", "绩效自评表中的预算执行率低于阈值",
      params=("low_completion_threshold",))
def evaluation_execution(ctx: Context):
    threshold = ctx.params.low_completion_threshold
    for evaluation in ctx.doc.evaluations:
        if evaluation.full_year_budget and evaluation.executed is not None:
            rate = _rate(evaluation.executed, evaluation.full_year_budget)
        elif evaluation.stated_rate is not None:
            rate = evaluation.stated_rate
        else:
            continue
        if rate < threshold:
            yield ctx.finding(
                f"绩效自评“{evaluation.project}”全年预算{fmt(evaluation.full_year_budget)}万元，"
                f"执行{fmt(evaluation.executed)}万元，执行率{fmt(rate)}%，低于{fmt(threshold)}%。",
                page=evaluation.page, item=evaluation.project, budget=evaluation.full_year_budget,
                actual=evaluation.executed, rate=rate, stated_rate=evaluation.stated_rate, threshold=threshold,
                quote=evaluation.quote)


# An execution rate far above what any project spends (a 分值 of 100 read as 全年执行数 of a 9万元 project)
# says the row was misread, not that the stated rate is wrong.
IMPLAUSIBLE_RATE = Decimal(200)


@rule("C-EVALUATION-RATE", "reconciliation", "error", "绩效自评表执行率=全年执行数÷全年预算数")
def evaluation_rate_arithmetic(ctx: Context):
    for evaluation in ctx.doc.evaluations:
        budget, executed, stated = evaluation.full_year_budget, evaluation.executed, evaluation.stated_rate
        if not budget or executed is None or stated is None:
            continue
        mismatch = percent_check(stated, executed, budget)  # the rounding the printed digits allow
        if not mismatch:
            continue
        severity, rate = mismatch
        if rate > IMPLAUSIBLE_RATE and stated <= 100:
            ctx.skip(f"绩效自评“{evaluation.project}”按所读数字执行率为{rate}%，疑为列读取有误，不作结论")
            continue
        yield ctx.finding(
            f"绩效自评“{evaluation.project}”执行率印为{fmt(stated)}%，按全年执行数{fmt(executed)}÷"
            f"全年预算数{fmt(budget)}计算应为{rate}%。", severity=severity,
            page=evaluation.page, item=evaluation.project, stated=stated, computed=rate, quote=evaluation.quote)
