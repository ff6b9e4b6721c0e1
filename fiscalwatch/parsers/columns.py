"""What a table column means, from its header labels (outermost first)."""

from __future__ import annotations

import re

# Leaf label → key. Matched against the label with spaces removed; first hit wins.
_LEAF_KEYS: list[tuple[str, str]] = [
    (r"^(本年)?(收入|支出)?合计$|^总计$|^合计数?$", "total"),
    (r"使用非财政拨款结余", "use_balance"),
    (r"年初.*结转和?结余|上年结转|上年结余|^(财政拨款)?结转结余$", "opening"),
    (r"年末.*结转和?结余|结转下年", "closing"),
    (r"^结余分配$", "distribution"),
    (r"^一般公共预算(财政)?拨?款?(收入|支出)?$|^一般公共预算资金$", "gpb"),
    (r"^政府性基金(预算)?(财政)?拨?款?(收入|支出)?$|^政府性基金预算资金$", "gov_fund"),
    (r"^国有资本经营(预算)?(财政)?拨?款?(收入|支出)?$|^国有资本经营预算资金$", "soe"),
    (r"财政专户管理资金", "special_account"),
    (r"^单位资金$", "unit_funds"),
    (r"^财政拨款(收入|（补助）|\(补助\))?$", "fiscal"),
    (r"^上级补助收入$", "upper"),
    (r"^事业收入", "business"),
    (r"^(事业单位)?经营收入$", "operating"),
    (r"^附属单位上缴收入$", "affiliated"),
    (r"^其他收入$", "other"),
    (r"^本年收入$", "income"),
    (r"^本年支出$", "expense"),
    (r"^基本支出$", "basic"),
    (r"^项目支出$", "project"),
    (r"^上缴上级支出$", "remit"),
    (r"^(事业单位)?经营支出$", "operating_exp"),
    (r"^对附属单位补助支出$", "affiliated_sub"),
    (r"^人员(经费|支出)", "personnel"),
    (r"^(日常)?公用(经费|支出)", "public"),
    (r"^(本年|全年)?(决算|预算)数?$|^金额$|^本年预算数?$|^决算金额$|^预算金额$|^统计数$", "amount"),
]
# A 小计 column takes the meaning of the group it sums.
_GROUP_KEYS = {"本年支出": "expense", "本年收入": "income", "财政拨款": "fiscal", "财政拨款收入": "fiscal"}

_THREE_PUBLIC_ITEMS: list[tuple[str, str]] = [
    (r"因公出国", "abroad"),
    (r"公务用车购置费|^购置费$|车辆购置", "car_purchase"),
    (r"公务用车运行(维护)?费|^运行(维护)?费$", "car_operation"),
    (r"公务用车", "car"),
    (r"公务接待", "reception"),
    (r"机关运行经费", "running_costs"),
    (r"^合计$|三公.*合计|^总计$", "total"),
]


_SPACE_OR_TAG = re.compile(r"\s+|<[^>]+>")


def squash(text: str) -> str:
    return _SPACE_OR_TAG.sub("", text or "")


def column_key(path: list[str]) -> str | None:
    labels = [squash(p) for p in path if squash(p)]
    if not labels:
        return None
    leaf = labels[-1]
    if leaf in ("小计", "合计", "总计"):
        group = group_key(labels)
        if group or len(labels) == 1 or leaf != "小计":
            return group or "total"
        # 小计 of a group without a known meaning (部门预算/公共预算拨款/小计) is not the table total.
        return "total" if column_key(labels[-2:-1]) in ("total", "amount") else None
    if group_key(labels) in ("opening", "closing"):
        return None  # the sources of a carry-over (上年结转/一般公共预算) are not the year's own columns
    for pattern, key in _LEAF_KEYS:
        if re.search(pattern, leaf):
            return key
    return None


def group_key(path: list[str]) -> str | None:
    """Key of the column group (本年支出, 项目支出, 上年结转结余, 一般公共预算, …) a sub-column belongs to."""
    labels = [squash(p) for p in path[:-1] if squash(p)]
    for label in reversed(labels):
        if label in _GROUP_KEYS:
            return _GROUP_KEYS[label]
        key = column_key([label])
        if key not in (None, "total", "amount"):
            return key
    return None


def three_public_key(path: list[str], latest_year: str | None = None) -> str | None:
    """三公 columns are '<half>.<item>': half is budget/actual (or previous/change beside them), item the line.

    `latest_year` is the latest year heading any column: a column under an earlier year is the previous one.
    """
    labels = [squash(p) for p in path if squash(p)]
    half = None
    for label in labels:
        year = re.match(r"^(20\d{2})年", label)
        if re.search(r"增减|变化|增长|比较", label):
            half = "change"
            break
        if re.search(r"^上年|上一年", label) or (year and latest_year and year.group(1) < latest_year):
            half = "previous"
            break
        if re.search(r"预算", label) and not re.search(r"决算", label):
            half = "budget"
        elif re.search(r"决算|执行|实际", label):
            half = "actual"
    item = None
    for label in reversed(labels):
        if label == "小计":
            parent = labels[labels.index(label) - 1] if labels.index(label) else ""
            item = "total" if "三公" in parent and "公务用车" not in parent else "car"
            break
        hit = next((key for pattern, key in _THREE_PUBLIC_ITEMS if re.search(pattern, label)), None)
        if hit:
            item = hit
            break
    if item is None and any(re.search(r"三公", label) for label in labels):
        item = "total"
    if not item:
        return None
    return f"{half or 'amount'}.{item}"


def is_line_label(label: str) -> bool:
    return bool(re.search(r"行次|^序号$", squash(label)))


def is_code_label(label: str) -> bool:
    text = squash(label)
    return bool(re.search(r"编码|代码|编号", text)) or text in ("类", "款", "项")


def is_code_part_label(label: str) -> bool:
    return squash(label) in ("类", "款", "项")


def is_name_label(label: str) -> bool:
    text = squash(label)
    return bool(re.search(r"名称|^项目$|^科目$|^收入$|^支出$", text))
