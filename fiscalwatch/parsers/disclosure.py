"""Whether a parsed file is a budget or final-account disclosure at all.

Crawlers bring home site homepages, 信息公开指南, notices, application forms and evaluation reports
next to the disclosures. Those must end as `not_a_disclosure` with no findings, instead of being
checked as a disclosure whose every table is missing.
"""

from __future__ import annotations

import re

from fiscalwatch.parsers.catalog import OTHER
from fiscalwatch.parsers.model import Document

# A cover line that names a budget or final account, e.g. "2026年度部门预算信息公开", "部门决算".
_TITLE_WORD = re.compile(r"预算|决算")
# Cover lines of other kinds of document that merely mention budgets.
_OTHER_KIND = re.compile(r"绩效评价|评价报告|评价结果|通知|办法|指南|申请|规定|意见|公告|条例")
_TITLE_MAX = 40
# A sentence stating an amount of the entity's own income or expenditure.
_AMOUNT = re.compile(r"\d[\d,]*(?:\.\d+)?\s*(?:万元|亿元|元)")
_MONEY_TOPIC = re.compile(r"收入|支出")
_BUDGET_TOPIC = re.compile(r"预算|决算")
_SENTENCE_MAX = 400  # homepages run whole news tickers together into one "sentence"
MIN_MONEY_SENTENCES = 2


def not_a_disclosure(doc: Document) -> str | None:
    """Why the document is not a disclosure (Chinese, for people), or None when it is one (or may be: a scan
    whose pages past the OCR budget are not read yet)."""
    # Tables outside the catalogue (a notice's 资金安排表) are not enough.
    if "ocr_limit" in doc.unreadable_pages.values() or any(t.kind != OTHER for t in doc.tables):
        return None
    if not _has_disclosure_title(doc):
        return "文件不是预决算公开文件：封面或标题未出现预算、决算，且文件中没有预决算表格"
    if _money_sentences(doc) < MIN_MONEY_SENTENCES:
        return "文件不是预决算公开文件：没有预决算表格，也没有说明收支金额的情况说明（可能是栏目页、详情页或其他文件，公开内容在附件中）"
    return None


def _has_disclosure_title(doc: Document) -> bool:
    lines = [re.sub(r"\s+", "", line) for line in doc.cover.splitlines()]
    return any(len(line) <= _TITLE_MAX and _TITLE_WORD.search(line) and not _OTHER_KIND.search(line)
               for line in lines)


def _money_sentences(doc: Document) -> int:
    return sum(1 for s in doc.sentences if len(s.text) <= _SENTENCE_MAX and _AMOUNT.search(s.text)
               and _MONEY_TOPIC.search(s.text) and _BUDGET_TOPIC.search(s.text))
