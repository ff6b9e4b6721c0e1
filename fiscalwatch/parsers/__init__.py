"""Read a disclosure file of any supported format into the normalised Document.

The format is sniffed from the content (sites mislabel extensions). Archives hold
several documents: `parse_documents` returns each member's result, `parse_file` the
primary one (the member that best looks like a budget or final account).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fiscalwatch.parsers import archive, formats
from fiscalwatch.parsers.errors import UnreadableFile
from fiscalwatch.parsers.model import Document
from fiscalwatch.parsers.ocr import OcrBudget, read_images
from fiscalwatch.parsers.structure import parse_layout

__all__ = ["OcrBudget", "Parsed", "UnreadableFile", "no_documents", "parse_documents", "parse_file", "primary"]

@dataclass
class Parsed:
    name: str | None  # member path inside an archive; None for a plain file
    document: Document | None
    error: UnreadableFile | None = None


def parse_file(path: Path, *, ocr: OcrBudget | None = None) -> Document:
    """The document in the file; for an archive, its primary member."""
    best = primary(parse_documents(path, ocr=ocr))
    if best is None:
        raise no_documents()
    return best.document


def parse_documents(path: Path, *, ocr: OcrBudget | None = None) -> list[Parsed]:
    """One result for a plain file, one per member for an archive (members failing on their own).
    ``ocr``: the pages, seconds and CPU threads OCR may take, shared by an archive's members (default:
    OcrBudget()).

    Raises UnreadableFile when the file itself, or the archive as a whole, cannot be read.
    """
    if not path.exists():
        raise UnreadableFile("not_found", "文件不存在")
    kind = formats.sniff(path)
    budget = ocr or OcrBudget()
    if kind not in archive.ARCHIVES:
        return [Parsed(None, _parse(path, kind, budget))]
    results = []
    with archive.extracted(path, kind) as members:
        if members and all(m.kind == "image" for m in members):
            # Scanned pages as images (an image-only web page bundled by the crawler, a zip of page scans).
            ordered = sorted(members, key=lambda m: _natural(m.name))
            return [Parsed(None, parse_layout(read_images([m.path for m in ordered], budget)))]
        for member in members:
            if member.error:
                results.append(Parsed(member.name, None, member.error))
                continue
            try:
                results.append(Parsed(member.name, _parse(member.path, member.kind, budget)))
            except UnreadableFile as exc:
                results.append(Parsed(member.name, None, exc))
    if not results:
        raise UnreadableFile("empty_archive", "压缩包内没有文件")
    return results


def primary(parsed: list[Parsed]) -> Parsed | None:
    """The readable result that most looks like a disclosure: a known kind, then the most tables."""
    readable = [p for p in parsed if p.document is not None]
    return max(readable, key=lambda p: (p.document.kind is not None, len(p.document.tables),
                                        len(p.document.sentences)), default=None)


def _natural(name: str) -> list:
    """Sort key putting 2.jpg before 10.jpg."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def no_documents() -> UnreadableFile:
    return UnreadableFile("archive_no_documents", "压缩包内没有可读取的预决算文件")


def _parse(path: Path, kind: str, budget: OcrBudget) -> Document:
    return parse_layout(formats.by_kind(kind).read(path, budget))
