"""The statistical tables of budget and final-account disclosures, recognised by title.

Numbering differs between provinces, so titles are matched after stripping numbering,
years, entity names and quotes. Patterns are tried in order: specific before generic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FINAL = "final"
OTHER = "other"  # a table whose title is in no catalogue entry (项目明细, 绩效 …)
BUDGET = "budget"


@dataclass(frozen=True)
class TableKind:
    id: str
    name: dict[str, str]  # canonical Chinese title per document kind
    patterns: dict[str, str]  # regex on the normalised title, per document kind


def _kind(id_: str, final_name: str, final_re: str, budget_name: str = "", budget_re: str = "") -> TableKind:
    names = {FINAL: final_name}
    patterns = {FINAL: final_re}
    if budget_name:
        names[BUDGET] = budget_name
        patterns[BUDGET] = budget_re
    return TableKind(id_, names, patterns)


KINDS: list[TableKind] = [
    _kind("evaluation", "项目支出绩效自评表", r"绩效(目标)?自评(情况|结果|汇总)?表|整体(支出)?(绩效)?自评表|绩效自评情况"),
    _kind("perf_target", "", r"(?!)", "绩效目标表", r"绩效(目标)?(申报)?表"),
    # Budget tables beside the core set; before the generic patterns, which their titles would also match.
    _kind("procurement", "", r"(?!)", "政府采购预算表", r"政府采购|政府购买服务"),
    _kind("running_costs", "", r"(?!)", "机关运行经费预算表", r"^[^“]*机关运行经费[^“]*表$"),
    _kind("carryover", "", r"(?!)", "财政拨款结转资金支出表", r"结转资金支出表"),
    _kind("basic_summary", "", r"(?!)", "基本支出总表", r"^(预算|市级)?(部门|单位)?基本支出总表"),
    _kind("fiscal_expense", "", r"(?!)", "财政拨款支出表", r"^(预算|市级)?(部门|单位)?财政拨款支出(预算)?表"),
    _kind("fiscal_basic", "", r"(?!)", "财政拨款基本支出表", r"^(预算|市级)?(部门|单位)?财政拨款基本支出(预算)?表"),
    _kind("gpb_basic_function", "", r"(?!)", "一般公共预算基本支出表（按功能分类）",
          r"一般公共预算(财政拨款)?基本支出.*功能(分类|科目)"),
    _kind("gpb_economic", "", r"(?!)", "一般公共预算支出表（按经济分类）",
          r"一般公共预算(财政拨款)?支出.*经济(分类|科目)"),
    _kind("fiscal_summary", "财政拨款收入支出决算总表", r"财政拨款收入?支出决算总表|财政拨款收支决算总表",
          "财政拨款收支预算总表", r"财政拨款收支(预算)?总(体情况)?表?|财政拨款收支预算总表|财政拨款收入支出预算总表"),
    _kind("three_public", "财政拨款“三公”经费支出决算表", r"“三公”经费.*决算表",
          "“三公”经费预算表", r"“三公”经费.*((预算|支出|情况)(总)?表?|表)"),
    _kind("gpb_basic", "一般公共预算财政拨款基本支出决算明细表", r"一般公共预算财政拨款基本支出决算(明细)?表",
          "一般公共预算基本支出预算表", r"一般公共预算(财政拨款)?基本支出.*表?|基本支出(预算|情况)表"),
    _kind("gpb_project", "一般公共预算财政拨款项目支出决算表", r"一般公共预算财政拨款项目支出决算表",
          "一般公共预算项目支出表", r"一般公共预算(财政拨款)?项目支出"),
    _kind("gpb_expense", "一般公共预算财政拨款支出决算表", r"一般公共预算财政拨款支出决算(明细)?表",
          "一般公共预算支出预算表", r"一般公共预算(财政拨款)?支出.*表?"),
    _kind("gov_fund", "政府性基金预算财政拨款收入支出决算表", r"政府性基金预算财政拨款(收入)?(支出|收支)决算表",
          "政府性基金预算支出表", r"政府性基金.*(预算|支出|收支).*"),
    _kind("soe", "国有资本经营预算财政拨款支出决算表", r"国有资本经营预算财政拨款(收入)?(支出|收支)决算表",
          "国有资本经营预算支出表", r"国有资本经营.*(预算|支出).*"),
    _kind("info_stats", "部门决算公开相关信息统计表", r"相关信息统计表"),
    _kind("econ_summary", "", r"(?!)", "支出经济分类汇总表", r"支出经济分类汇总表?"),
    _kind("project", "", r"(?!)", "项目支出预算表", r"项目支出(及其他支出)?(预算)?总?表|专项业务经费支出表"),
    _kind("summary", "收入支出决算总表", r"收入支出决算总表|收支决算总表",
          "收支预算总表", r"(财务)?收支(预算)?总(体情况)?表|收支预算表|收入支出预算总表"),
    _kind("income", "收入决算表", r"收入决算表",
          "收入预算表", r"收入(预算)?(总体情况)?(总)?表|收入预算总表"),
    _kind("expense", "支出决算表", r"支出决算表",
          "支出预算表", r"支出(预算)?(总体情况)?(总)?表|支出预算总表"),
]
BY_ID = {k.id: k for k in KINDS}

REQUIRED = {
    FINAL: ["summary", "income", "expense", "fiscal_summary", "gpb_expense", "gpb_basic", "gov_fund", "soe",
            "three_public"],
    BUDGET: ["summary", "income", "expense", "fiscal_summary", "gpb_expense", "gpb_basic", "three_public",
             "gov_fund"],
}
# Before about 2019, final accounts had eight tables, without 国有资本经营.
SOE_REQUIRED_FROM = 2019

_NUMBERING = re.compile(
    r"^(附件\d*[:：]?|附表\d*[-—]?\d*[:：、.]?|表(?:\d+|[一二三四五六七八九十]+(?!般))[-—]?\d*[:：、.]?|公开\d+表|"
    r"[（(]?[一二三四五六七八九十]+[)）、.．]|[（(]?\d+[)）、.．]|第[一二三四五六七八九十]+部分)"
)
_QUOTES = str.maketrans({'"': "“", "＂": "“", "「": "“", "」": "”", "‘": "“", "’": "”"})


def normalise_title(text: str) -> str:
    title = re.sub(r"\s+|<[^>]+>|\*", "", text).translate(_QUOTES)
    title = re.sub(r"[.·…]{2,}\d*$|\d+$", "", title)  # table-of-contents leaders and page numbers
    for _ in range(2):
        title = _NUMBERING.sub("", title)
    title = re.sub(r"“三公”|三公", "“三公”", title.replace("“", "").replace("”", ""))
    return title


def classify_title(text: str, doc_kind: str | None = None, strict: bool = True) -> tuple[str, str] | None:
    """(table kind id, document kind) for a title line, or None.

    `strict` requires the title to end like a table title (…表); table-of-contents
    entries of budgets sometimes omit it.
    """
    title = normalise_title(text)
    if not title or len(title) > 60 or re.search(r"说明|解释|详见|参见|见附", title):
        return None
    if strict and not is_table_title(title):
        return None
    doc_kinds = [doc_kind] if doc_kind else [FINAL, BUDGET]
    if not doc_kind:
        doc_kinds = [FINAL, BUDGET] if "决算" in title else [BUDGET, FINAL]
    for kind in doc_kinds:
        for table in KINDS:
            pattern = table.patterns.get(kind)
            if pattern and re.search(pattern, title) and _fits_kind(title, kind):
                return table.id, kind
    return None


def table_kind(text: str, doc_kind: str | None) -> str | None:
    """Kind of a title line in the body: a catalogue id, OTHER for any other table title, or None."""
    hit = classify_title(text, doc_kind)
    if hit:
        return hit[0]
    title = normalise_title(text)
    # Section headings ("第二部分 2022年度部门决算表", "四、预算公开表") name the tables as a whole.
    heading = re.search(r"第[一二三四五六七八九十]+部分", text) or re.fullmatch(
        r"(\d{4}年度?)?(部门|单位)?(综合)?(预算|决算)?(公开)?报?表", title)
    if (4 <= len(title) <= 45 and is_table_title(title) and not heading
            and not re.search(r"[。，；：:]|说明|详见|参见|见附", title)):
        return OTHER
    return None


def is_table_title(title: str) -> bool:
    """Ends like a table title: …表, possibly followed by a qualifier such as （按经济分类）."""
    return re.sub(r"[（(][^（()）]{1,20}[)）]$", "", title).endswith("表")


def _fits_kind(title: str, doc_kind: str) -> bool:
    if doc_kind == FINAL:
        return "决算" in title or "自评" in title
    return "决算" not in title


def display_name(table_id: str, doc_kind: str) -> str:
    kind = BY_ID[table_id]
    return kind.name.get(doc_kind) or kind.name[FINAL]
