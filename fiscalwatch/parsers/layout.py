"""Format-independent page layout: what every reader (PDF, OCR, office, HTML) produces.

A page is a sequence of blocks in reading order: text lines and grids (tables
whose cells are already separated). The structure stage works only on this.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TextLine:
    text: str
    # Pieces separated by wide horizontal gaps; for borderless tables these are the cells.
    cells: list[str] = field(default_factory=list)
    # Left and right x of each cell, where the reader knows them (PDF text layers); empty otherwise.
    spans: list[tuple[float, float]] = field(default_factory=list)
    top: float = 0.0
    bottom: float = 0.0

    def __post_init__(self) -> None:
        if not self.cells:
            self.cells = [self.text]


@dataclass
class Grid:
    # None marks a slot covered by a merged cell; `owners` maps it to the slot holding the text.
    rows: list[list[str | None]]
    owners: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    ruled: bool = True

    def spanned_text(self, row: int, col: int) -> str:
        """Text of the cell covering a slot, following merges (for headers)."""
        r, c = self.owners.get((row, col), (row, col))
        return self.rows[r][c] or ""


Block = TextLine | Grid


@dataclass
class Page:
    number: int
    blocks: list[Block] = field(default_factory=list)
    # Why the page has no usable text (scan without OCR, broken font), if so.
    unreadable: str | None = None
    ocr_confidence: float | None = None

    @property
    def text(self) -> str:
        parts = []
        for block in self.blocks:
            if isinstance(block, TextLine):
                parts.append(block.text)
            else:
                parts.extend(" ".join(c for c in row if c) for row in block.rows)
        return "\n".join(parts)


@dataclass
class Layout:
    pages: list[Page]
    format: str
