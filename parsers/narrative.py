"""The narrative (情况说明) as checkable claims: amounts, shares, changes and completion rates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from parsers.model import Sentence

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
