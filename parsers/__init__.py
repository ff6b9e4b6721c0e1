"""Read a disclosure file of any supported format into the normalised Document."""

from __future__ import annotations

from pathlib import Path

from parsers.errors import UnreadableFile
from parsers.model import Document
from parsers.pdf import read_pdf
from parsers.structure import parse_layout

__all__ = ["UnreadableFile", "parse_file"]


def parse_file(path: Path) -> Document:
    if not path.exists():
        raise UnreadableFile("not_found", "文件不存在")
    if path.stat().st_size == 0:
        raise UnreadableFile("empty_file", "文件为空（0 字节）")
    with path.open("rb") as handle:
        head = handle.read(1024)
    if b"%PDF" not in head:
        raise UnreadableFile("unsupported_format", "不是可识别的 PDF 文件")
    return parse_layout(read_pdf(path))
