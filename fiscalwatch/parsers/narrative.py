"""The narrative (情况说明) as checkable claims: amounts, shares, changes and completion rates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from fiscalwatch.parsers.model import Sentence

_NUM = r"(\d[\d,]*(?:\.\d+)?)"
_AMOUNT = re.compile(_NUM + r"(万元|亿元|元)(?![/／])")
_PCT = r"(\d+(?:\.\d+)?)%"
_UNIT = {"万元": Decimal(1), "元": Decimal("0.0001"), "亿元": Decimal(10000)}

_COMPLETION = re.compile(
    r"(?:年初|全年)?预算(?:数|金额)?为?" + _NUM + r"(万元|元)[，,、]?(?:实际)?(?:支出)?决算(?:数|金额)?为?"
    + _NUM + r"(万元|元)(?:[，,](?:完成|占)(?:年初|全年)?预算(?:数)?的?" + _PCT + ")?"
)
_CHANGE = re.compile(
    r"(增加|减少|增长|下降|上升|降低)" + _NUM + r"(万元|元)[，,、]?(?:同比)?(增加|减少|增长|下降|上升|降低)" + _PCT
)
_FLAT = re.compile(r"持平|无变化|没有变化|未发生变化|基本一致")
_SHARE = re.compile(_NUM + r"(万元|元)[，,]?(?:占(?P<base>[^，。；%\d]{0,20}?)的?|占比)" + _PCT)
_UP = {"增加", "增长", "上升"}


def to_wan(number: str, unit: str) -> Decimal:
    return Decimal(number.replace(",", "")) * _UNIT[unit]


@dataclass
class Claim:
    kind: str  # amount | share | change | completion
    sentence: Sentence
    quote: str  # the clause the claim was read from
    subject: str  # what the figure refers to, as written
    value: Decimal | None = None  # 万元
    percent: Decimal | None = None
    base: str | None = None  # share: 占<base>的
    base_value: Decimal | None = None  # share: the total it is a share of
    budget: Decimal | None = None
    actual: Decimal | None = None
    direction: str | None = None  # change: 增加/减少 word
    pct_direction: str | None = None  # change: 增长/下降 word
    delta: Decimal | None = None
    unit: str | None = None  # amount: the unit as printed (万元, 元, 亿元)
    number: Decimal | None = None  # amount: the number as printed, before conversion to 万元


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[；;]", text) if c]


def _subject_before(text: str, end: int) -> str:
    """The words immediately before a figure, back to the previous punctuation."""
    head = text[:end]
    head = re.split(r"[，,。；;：:（(]?(?:其中|主要用于以下方面)?[：:，,。；;]", head)[-1]
    head = re.sub(r"^(其中[：:]?|\d+[、.．]|[（(][一二三四五六七八九十\d]+[)）])", "", head)
    head = re.sub(r"^(20\d{2}年度?|本年度?|全年|与上年度?相比)", "", head)
    head = re.sub(r"(支出决算|决算数?|预算数?|合计|总额)?(为|是|达|共计|均为)$", r"\1", head)
    return head.strip("，,、 ")


def parse_claims(sentences: list[Sentence]) -> list[Claim]:
    claims: list[Claim] = []
    previous_subject = ""
    for sentence in sentences:
        text = sentence.text
        for clause in _clauses(text):
            claims.extend(_completions(sentence, clause, previous_subject))
            claims.extend(_changes(sentence, clause))
            claims.extend(_amounts(sentence, clause))
        if re.search(r"（项）|（款）|（类）", text) and not _AMOUNT.search(text):
            previous_subject = text.rstrip("。")
        elif _AMOUNT.search(text):
            previous_subject = ""
    return claims


def _completions(sentence: Sentence, clause: str, previous_subject: str) -> list[Claim]:
    result = []
    for match in _COMPLETION.finditer(clause):
        subject = _subject_before(clause, match.start()) or previous_subject
        result.append(
            Claim(
                kind="completion",
                sentence=sentence,
                quote=clause,
                subject=subject,
                budget=to_wan(match.group(1), match.group(2)),
                actual=to_wan(match.group(3), match.group(4)),
                percent=Decimal(match.group(5)) if match.group(5) else None,
            )
        )
    return result


def _changes(sentence: Sentence, clause: str) -> list[Claim]:
    result = []
    for match in _CHANGE.finditer(clause):
        result.append(
            Claim(
                kind="change",
                sentence=sentence,
                quote=clause,
                subject=_subject_before(clause, match.start()),
                delta=to_wan(match.group(2), match.group(3)),
                direction=match.group(1),
                pct_direction=match.group(4),
                percent=Decimal(match.group(5)),
            )
        )
    return result


def _amounts(sentence: Sentence, clause: str) -> list[Claim]:
    """Every 'subject + amount' and 'amount, 占 X%' in a clause; change deltas excluded."""
    result = []
    deltas = {m.start(2) for m in _CHANGE.finditer(clause)}
    for match in _AMOUNT.finditer(clause):
        if match.start() in deltas or _is_change_figure(clause, match.start()):
            continue
        subject = _subject_before(clause, match.start())
        claim = Claim(
            kind="amount",
            sentence=sentence,
            quote=clause,
            subject=subject,
            value=to_wan(match.group(1), match.group(2)),
            unit=match.group(2),
            number=Decimal(match.group(1).replace(",", "")),
        )
        share = _SHARE.match(clause, match.start())
        if share:
            claim.kind = "share"
            claim.percent = Decimal(share.group(4))
            claim.base = (share.group("base") or "").strip()
        result.append(claim)
    return result


def _is_change_figure(clause: str, start: int) -> bool:
    return bool(re.search(r"(增加|减少|增长|下降|上升|降低)$", clause[:start]))


def is_up(word: str | None) -> bool:
    return word in _UP


# ------------------------------------------------------------------ one item, quoted more than once

# Items that name their own whole (a fund's total, the document's totals, 三公, 机关运行经费): the same words
# mean the same thing wherever they stand. Parts (基本支出, 人员经费, a project) depend on the fund or unit
# around them, so they are never compared.
_WHOLE_ITEM = re.compile(r"^([^，,、]*?(?:局|委|办|院|中心|署|厅|会|本级[)）]))?"  # a unit's name, kept
                         r"(一般公共预算|政府性基金|国有资本经营|财政拨款|收入总计|支出总计|收支总计|收入合计|支出合计"
                         r"|“?三公”?经费|机关运行经费|政府采购)")
_TOTALS = re.compile(r"收入总计|支出总计|收支总计|收入合计|支出合计")
# A figure inside a list of parts, or relative to something else (last year, a share, a change, a rest).
_LISTING = re.compile(r"其中|包括|用于|具体为|分别|主要有|含|即|如")
_ENUMERATED = re.compile(r"^\s*(\d+[、.．]|[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|[①-⑳])")
_RELATIVE = re.compile(r"比|较|相比|增加|减少|增长|下降|上升|降低|增减|变动|占|节约|超|结余|结转|剩余|差额|累计|平均|人均|每"
                       r"|上年|上一年|去年|同期")
YEAR = re.compile(r"(20\d{2})\s*年度?")
_THIS_YEAR = re.compile(r"本年度?|今年|当年|全年(?!预算)")
# 预算 inside a fund's or a system's name is no measure.
NAMED_BUDGET = re.compile(r"一般公共预算|政府性基金预算|国有资本经营预算|部门预算|单位预算|预算单位|预算绩效|预算管理|预算内")
_MEASURES = (("年初预算数", re.compile(r"年初预算(?:数|金额)?")), ("调整预算数", re.compile(r"(?:全年|调整后?)预算(?:数|金额)?")),
             ("预算数", re.compile(r"预算(?:数|金额)?")), ("决算数", re.compile(r"决算(?:数|金额)?")),
             ("执行数", re.compile(r"执行(?:数|金额)?")))
_MAIN_MEASURE = {"final": "决算数", "budget": "预算数"}
_OURS = re.compile(r"^(本部门|本单位|我局|我委|我办|我院|我单位|我部门|本局|本委)")
_COPULA = re.compile(r"(为|是|达到?|共计|约|均为)+$")


@dataclass
class Quote:
    """An amount the narrative gives for a whole item: what, which year, which measure."""

    item: str
    year: int | None
    measure: str  # 年初预算数 | 调整预算数 | 预算数 | 决算数 | 执行数
    value: Decimal  # 万元
    number: str  # as printed
    unit: str
    sentence: Sentence
    clause: str


def item_quotes(sentences: list[Sentence], kind: str | None, year: int | None) -> list[Quote]:
    """Every amount given for a whole item on its own, with its year and measure as written (the
    document's year and its own measure, 决算数 or 预算数, when the words say none)."""
    quotes = []
    for sentence in sentences:
        for clause in re.split(r"[。；;]", sentence.text):
            listed, start, previous = False, 0, None
            for match in _AMOUNT.finditer(clause):
                before, start = clause[start:match.start()], match.end()
                listed = listed or bool(_LISTING.search(before)) or clause[match.end():match.end() + 1] == "、"
                words = re.split(r"[，,：:、]", before)[-1]
                if listed or _ENUMERATED.match(words) or _RELATIVE.search(words) or before.endswith(("：", ":")):
                    continue
                quote = _quote(words, kind, year) or _continued(words, previous)
                if quote:
                    item, when, measure = quote
                    previous = Quote(item, when, measure, to_wan(match.group(1), match.group(2)), match.group(1),
                                     match.group(2), sentence, clause)
                    quotes.append(previous)
    return quotes


def _continued(words: str, previous: Quote | None) -> tuple[str, int | None, str] | None:
    """The item of the clause's previous quote under another measure: '…支出年初预算为A万元，(支出)决算为B万元'."""
    if previous is None:
        return None
    for name, pattern in _MEASURES:
        found = pattern.search(words)
        if found:
            rest = _COPULA.sub("", words[:found.start()] + words[found.end():]).strip()
            same = name != previous.measure and previous.item.endswith(rest)
            return (previous.item, previous.year, name) if same else None
    return None


def _quote(words: str, kind: str | None, year: int | None) -> tuple[str, int | None, str] | None:
    """(item, year, measure) of the words before an amount, or None when they name no whole item."""
    stated = YEAR.search(words)
    if stated:  # the words before the year stay: a unit's name tells its figures from another unit's
        year, words = int(stated.group(1)), words[:stated.start()] + words[stated.end():]
    words = _THIS_YEAR.sub("", words)
    owned = bool(stated or _OURS.match(words))
    words = _OURS.sub("", words)
    masked = NAMED_BUDGET.sub(lambda m: "#" * len(m.group(0)), words)
    measure = _MAIN_MEASURE.get(kind or "")
    for name, pattern in _MEASURES:
        found = pattern.search(masked)
        if found:
            measure, words = name, words[:found.start()] + words[found.end():]
            break
    item = _COPULA.sub("", words.strip(" 　，,"))
    whole = _WHOLE_ITEM.search(item)
    if not measure or not whole or _TOTALS.match(whole.group(2)) and not (owned or whole.group(1)):
        return None  # a bare 支出总计 may continue the sentence before (财政拨款收入… 。支出预算总计…)
    return item, year, measure
