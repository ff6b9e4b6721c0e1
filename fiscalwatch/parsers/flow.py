"""Pages for formats that have none (Word, HTML): the structure stage relies on pages.

It looks for the 目录 on the first pages and treats a whole page holding it as the table
of contents, so the 目录 must get a page of its own; the rest is cut where the author
broke pages, and otherwise every LINES_PER_PAGE lines (grid rows count as lines).
"""

from __future__ import annotations

import re

from fiscalwatch.parsers.columns import squash
from fiscalwatch.parsers.layout import Block, Grid, Page, TextLine

LINES_PER_PAGE = 45
_TOC = re.compile(r"^目录$")
_TOC_LEADER = re.compile(r"[.·…\-—]*\d*$")


def paginate(chunks: list[list[Block]]) -> list[Page]:
    """`chunks` are runs of blocks between the author's page breaks."""
    pages: list[Page] = []
    current: list[Block] = []
    size = 0
    toc: set[str] | None = None  # entries while inside the 目录
    toc_done = False

    def flush() -> None:
        nonlocal current, size
        if current:
            pages.append(Page(len(pages) + 1, current))
        current, size = [], 0

    for chunk in chunks:
        flush()
        for block in chunk:
            text = squash(block.text) if isinstance(block, TextLine) else ""
            if not toc_done and toc is None and is_toc_heading(text):
                flush()
                toc = set()
            elif toc is not None:
                entry = _TOC_LEADER.sub("", text)
                if isinstance(block, Grid) or len(text) > 40 or text.endswith("。") or entry in toc:
                    flush()
                    toc, toc_done = None, True
                else:
                    toc.add(entry)
            weight = len(block.rows) if isinstance(block, Grid) else 1
            if toc is None and current and size + weight > LINES_PER_PAGE:
                flush()
            current.append(block)
            size += weight
    flush()
    return pages


def is_toc_heading(text: str) -> bool:
    return bool(_TOC.match(squash(text)))
