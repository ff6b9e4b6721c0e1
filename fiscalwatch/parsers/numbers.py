"""Printed amounts and percentages as Decimals."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

ZERO = Decimal(0)
_BLANKS = {"", "-", "—", "——", "－", "--", "/", "—-", "-—", "0", "0.0", "0.00"}
# Some publishers group only the last thousands (120258,600): the groups after the first still have
# three digits, which two glued figures ("925,901925,901") do not.
_AMOUNT = re.compile(r"^[-−]?(\d+(,\d{3})+|\d+)(\.\d+)?$")
_IRREGULAR = re.compile(r"^[-−]?\d{4,},")
_PERCENT = re.compile(r"^([-−]?\d+(?:\.\d+)?)\s*%$")

# Multipliers from a printed unit to 万元, the unit every normalised value uses.
UNIT_TO_WAN = {"万元": Decimal(1), "元": Decimal("0.0001"), "千元": Decimal("0.1"), "亿元": Decimal(10000)}


_SPACE = re.compile(r"\s+")
# The numbering an item's name begins with: 一、 （一） (1) 1、 ①.
ENUMERATION = re.compile(r"^([一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[、.．](?!\d)|[①-⑳])")
# Full-width separators inside a figure of running text ("5，510.32万元", "13．60"): OCR reads them so, and
# some publishers type them. A comma counts only before a thousands group, so "5，6月" stays two numbers.
_WIDE_GROUP = re.compile(r"(?<=\d)，(?=\d{3}(?!\d))")
_WIDE_POINT = re.compile(r"(?<=\d)．(?=\d)")
# OCR reads a lone 0 between Chinese characters as 〇 ("预算为〇万元"); 〇 in "二〇二三年" is no figure.
_CJK_ZERO = re.compile(r"〇(?=\s*(?:万元|亿元|元|%|[\d.]))|(?<=[\d.])〇")


def ascii_figures(text: str) -> str:
    return _CJK_ZERO.sub("0", _WIDE_POINT.sub(".", _WIDE_GROUP.sub(",", text)))


def clean(text: str | None) -> str:
    return _SPACE.sub("", text or "").replace("，", ",").replace("．", ".")


def parse_amount(text: str | None) -> Decimal | None:
    """An amount cell: None when the text is not a number; blanks and dashes are zero."""
    value = clean(text)
    if value in _BLANKS:
        return ZERO
    if not _AMOUNT.match(value):
        return None
    try:
        return Decimal(value.replace(",", "").replace("−", "-"))
    except InvalidOperation:
        return None


def parse_percent(text: str | None) -> Decimal | None:
    match = _PERCENT.match(clean(text))
    return Decimal(match.group(1).replace("−", "-")) if match else None


def decimals(value: Decimal) -> int:
    """Digits printed after the decimal point."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def irregular_grouping(text: str | None) -> bool:
    """Thousands separators missing before the last group ("120258,600")."""
    return bool(_IRREGULAR.match(clean(text)))


def is_amount_text(text: str | None) -> bool:
    value = clean(text)
    return bool(value) and value not in ("/",) and parse_amount(value) is not None
