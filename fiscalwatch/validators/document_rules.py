"""Document-level signals: drafts published by mistake, placeholders, inconsistent year, level or entity."""

from __future__ import annotations

import re
from collections import defaultdict

from fiscalwatch.validators.core import Context, rule

_WATERMARK = re.compile(r"仅供内部审核|征求意见稿|内部资料|送审稿|未定稿|草\s*稿")
_PLACEHOLDER = re.compile(r"(?<![A-Za-z])(?:[XＸ×]{2,}|某某)(?![A-Za-z])")
_YEAR = re.compile(r"(20\d{2})\s*年")
_NARRATIVE_YEAR = re.compile(
    r"^(20\d{2})\s*年度?(?:部门|单位)?(收|支|财政拨款|一般公共预算|政府性基金|国有资本|“三公”|三公|机关运行|政府采购)")
_ENTITY = re.compile(r"(?:(?:部门名称|单位名称|编制单位|编制部门|预算单位|^单位)\s*[:：]\s*)+([^\s:：\d]{4,40})")


def _pages_with(ctx: Context, pattern: re.Pattern) -> dict[str, list[int]]:
    hits: dict[str, list[int]] = defaultdict(list)
    for number, text in enumerate(ctx.doc.page_texts, start=1):
        for match in pattern.finditer(text):
            word = re.sub(r"\s+", "", match.group(0))
            if number not in hits[word]:
                hits[word].append(number)
    return hits


@rule("D-WATERMARK", "document", "warning", "公开文件带有内部审核、征求意见稿等水印")
def watermarks(ctx: Context):
    for word, pages in _pages_with(ctx, _WATERMARK).items():
        yield ctx.finding(f"文件含“{word}”字样（第{_pages(pages)}页），疑似把内部稿件当作正式文件公开。",
                          page=pages[0], word=word, pages=pages)


@rule("D-PLACEHOLDER", "document", "warning", "文件留有“XX”“某某”等占位符")
def placeholders(ctx: Context):
    quotes: list[tuple[int, str]] = []
    for number, text in enumerate(ctx.doc.page_texts, start=1):
        line = next((l.strip() for l in text.splitlines() if _PLACEHOLDER.search(l)), None)
        if line:
            quotes.append((number, line[:60]))
    if quotes:
        pages = [p for p, _ in quotes]
        examples = "；".join(f"第{p}页“{q}”" for p, q in quotes[:3])
        yield ctx.finding(f"文件留有“XX”“某某”等占位符（第{_pages(pages)}页），例如：{examples}。",
                          page=pages[0], pages=pages, quotes=[q for _, q in quotes])


@rule("D-YEAR", "document", "warning", "表头、标题和正文的年度与文件年度一致")
def year_consistency(ctx: Context):
    doc = ctx.doc
    if not doc.year:
        ctx.skip("未能识别文件所属年度")
        return
    for table in doc.tables:
        for line in table.meta:
            for match in _YEAR.finditer(line):
                if int(match.group(1)) != doc.year:
                    yield ctx.finding(f"{table.title}表头年度为{match.group(1)}年，与文件年度{doc.year}年不一致。",
                                      table=table, quote=line, year=int(match.group(1)), document_year=doc.year)
    for sentence in doc.sentences:
        match = _NARRATIVE_YEAR.match(sentence.text)
        if match and int(match.group(1)) != doc.year:
            yield ctx.finding(f"情况说明写“{sentence.text[:30]}…”，年度{match.group(1)}与文件年度{doc.year}不一致。",
                              page=sentence.page, quote=sentence.text, year=int(match.group(1)),
                              document_year=doc.year)


@rule("D-LEVEL", "document", "warning", "部门/单位口径前后一致")
def level_wording(ctx: Context):
    doc = ctx.doc
    if doc.level not in ("部门", "单位") or doc.kind not in ("final", "budget"):
        return
    word = "决算" if doc.kind == "final" else "预算"
    other = "部门" if doc.level == "单位" else "单位"
    pattern = re.compile(f"{other}{word}(表|公开|情况说明)")
    headings = [(e.text, e.page) for e in doc.toc] + [(t.title, t.page) for t in doc.tables]
    for text, page in headings:
        if pattern.search(re.sub(r"\s+", "", text)):
            yield ctx.finding(f"本文件是{doc.level}{word}，但“{text.strip()}”使用了“{other}{word}”的表述。",
                              page=page, quote=text.strip(), level=doc.level)


@rule("D-ENTITY", "document", "warning", "表头中的单位名称与封面一致")
def entity_consistency(ctx: Context):
    doc = ctx.doc
    if not doc.entity:
        ctx.skip("未能识别文件主体名称")
        return
    reported = set()
    for table in doc.tables:
        for line in table.meta:
            match = _ENTITY.search(re.sub(r"\s+", " ", line.strip()))
            if not match:
                continue
            name = match.group(1)
            if name in doc.entity or doc.entity in name or name in reported:
                continue
            reported.add(name)
            yield ctx.finding(f"{table.title}表头单位为“{name}”，与封面“{doc.entity}”不一致。", table=table,
                              quote=line, entity=doc.entity, table_entity=name)


def _pages(pages: list[int]) -> str:
    shown = "、".join(str(p) for p in pages[:8])
    return shown + ("等" if len(pages) > 8 else "")
