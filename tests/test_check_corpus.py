"""`check` on the real Shanghai Putuo disclosures (../shared/corpus/real, read in place): every document
identified with all its tables, totals agreeing with pdfplumber's own extraction, the known real
anomalies found, and no error on the clean documents."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest

from fiscalwatch.parsers.catalog import REQUIRED
from fiscalwatch.parsers.numbers import parse_amount
from fiscalwatch.validators.checker import CheckResult, check_file


@pytest.fixture(scope="module")
def corpus(real_corpus) -> dict[str, CheckResult]:
    return {path.name: check_file(path) for path in real_corpus}


@pytest.fixture(scope="module")
def manifest(real_corpus) -> dict[str, dict]:
    entries = json.loads((real_corpus[0].parent / "MANIFEST.json").read_text(encoding="utf-8"))
    return {entry["file"]: entry for entry in entries}


def errors(result: CheckResult) -> list:
    return [f for f in result.findings if f.severity == "error"]


def test_every_document_is_identified_with_all_its_tables(corpus, manifest):
    assert set(corpus) == set(manifest)
    for name, result in corpus.items():
        entry, doc = manifest[name], result.document
        assert result.ok, (name, result.error)
        assert doc.kind == entry["kind"], name
        assert doc.year == int(re.search(r"20\d\d", entry["what"]).group(0)), name
        assert doc.entity and doc.entity in entry["what"], (name, doc.entity)
        expected_level = {"dept": "部门", "unit": "单位", "template": "部门"}[entry["level"]]
        assert doc.level == expected_level, name
        kinds = [t.kind for t in doc.tables]
        assert len(kinds) == 9 and set(REQUIRED[doc.kind]) <= set(kinds), (name, kinds)
        assert all(t.page and t.columns for t in doc.tables), name
        # 三公, 政府性基金 and 国有资本 tables may be printed empty; the others always have rows.
        assert all(t.rows for t in doc.tables if t.kind not in ("three_public", "gov_fund", "soe")), name
        assert not [f for f in result.findings if f.rule == "M-UNPARSED"], name
        assert doc.page_count == entry["pages"]


def _plumber_total(path: Path, page: int, title_word: str) -> list[Decimal]:
    """The figures of the 合计 row of the table on that page, as pdfplumber's line strategy reads it."""
    with pdfplumber.open(path) as pdf:
        for table in pdf.pages[page - 1].extract_tables({"text_x_tolerance": 1.5}):
            for row in table:
                cells = [re.sub(r"\s+", "", c or "") for c in row]
                labels = [c for c in cells if c and parse_amount(c) is None]
                if labels and labels[-1] in ("合计", "总计"):  # after any 类 | 款 | 项 labels
                    return [parse_amount(c) for c in cells if c and parse_amount(c) is not None]
    raise AssertionError(f"no 合计 row on page {page} of {path.name} ({title_word})")


@pytest.mark.parametrize("name, kind", [
    ("putuo_caizhengju_2024_dept_final.pdf", "income"),
    ("putuo_caizhengju_2024_dept_final.pdf", "expense"),
    ("putuo_shegongbu_2024_dept_final.pdf", "gpb_expense"),
    ("putuo_zfban_2025_dept_budget.pdf", "expense"),
    ("putuo_wanli_jiedao_2024_dept_budget.pdf", "gpb_expense"),
])
def test_table_totals_match_pdfplumber(corpus, real_corpus, name, kind):
    """An independent oracle: pdfplumber's table extraction of the same page."""
    path = next(p for p in real_corpus if p.name == name)
    table = corpus[name].document.table(kind)
    total = table.total_row()
    ours = [f.value for f in total.values.values() if f.value]
    theirs = [v for v in _plumber_total(path, total.page, table.title) if v]
    assert ours and sorted(ours) == sorted(theirs), (table.title, ours, theirs)


def test_caizhengju_final_has_its_two_real_errors(corpus):
    result = corpus["putuo_caizhengju_2024_dept_final.pdf"]
    found = {f.rule: f for f in errors(result)}
    assert set(found) == {"N-AMOUNT", "N-PERCENT"}
    # "财政拨款收入支出总计 0.3 万元" where the table's 总计 is 2,961.68.
    amount = found["N-AMOUNT"]
    assert (amount.evidence["stated"], amount.evidence["table_value"]) == ("0.3", "2961.68")
    assert "0.3" in amount.evidence["quote"] and amount.page == 21
    # 一般公共服务支出 2,106.66 of 2,940.05 is 71.65%, printed 71.73%.
    share = found["N-PERCENT"]
    assert (share.evidence["stated"], share.evidence["computed"]) == ("71.73", "71.65")
    low = [f for f in result.findings if f.rule == "C-NARRATIVE"]
    assert [(f.evidence["budget"], f.evidence["actual"]) for f in low] == [("0.95", "0")]  # 三公: nothing spent


def test_shegongbu_final_low_completion(corpus):
    result = corpus["putuo_shegongbu_2024_dept_final.pdf"]
    low = [f for f in result.findings if f.category == "low_completion"]
    assert len(low) == 1 and low[0].evidence["rate"] == "21.40" and "事业单位医疗（项）" in low[0].evidence["item"]
    assert (low[0].evidence["budget"], low[0].evidence["actual"]) == ("2.29", "0.49")
    assert not errors(result)


def test_template_placeholders(corpus):
    result = corpus["template_fujian2_dept_final_template.pdf"]
    placeholder = [f for f in result.findings if f.rule == "D-PLACEHOLDER"]
    assert len(placeholder) == 1 and "上海市XX局" in placeholder[0].message
    assert not errors(result)


@pytest.mark.parametrize("name", [
    "putuo_shangwuwei_2025_dept_budget.pdf",
    "putuo_wanli_jiedao_2024_dept_budget.pdf",
    "putuo_zfban_2025_dept_budget.pdf",
    "putuo_zfban_2025_unit_budget.pdf",
])
def test_clean_budgets_are_quiet(corpus, name):
    """Precision: a clean document gets no error and no warning, and budgets get no completion check."""
    result = corpus[name]
    assert [f.message for f in result.findings if f.severity != "info"] == []
    assert any(s["rule"] == "C-NARRATIVE" for s in result.skipped)
