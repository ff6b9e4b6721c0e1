"""The format registry. Each reader module declares the formats it reads (``FORMATS``: how the content is
recognised, the MIME types and file extensions it is published under, and how it is read); sniffing, dispatch,
the files `check` picks from a directory and the links a crawl follows as attachments all derive from it.

Formats are recognised from the content, never from the name: sites mislabel extensions and serve HTML as .xls.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import olefile

from fiscalwatch.parsers.errors import UnreadableFile

if TYPE_CHECKING:
    from fiscalwatch.parsers.layout import Layout
    from fiscalwatch.parsers.ocr import OcrBudget

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
HEAD_BYTES = 8192

# Sniffing order. Containers first: a stored (uncompressed) zip or rar shows its first member's bytes, a PDF's
# included; web pages last, their signature being the loosest.
CONTAINER, DOCUMENT, LOOSE = 10, 50, 90


@dataclass(frozen=True)
class Format:
    kind: str  # what sniff() returns
    recognise: Callable[[Probe], bool]
    extensions: tuple[str, ...] = ()  # the names it is published under; none: recognised by content only
    mime_types: tuple[str, ...] = ()
    read: Callable[[Path, OcrBudget], Layout] | None = None  # None: an archive, whose members are read instead
    order: int = DOCUMENT
    linked: bool = True  # a link to such a file is an attachment (web pages are crawled as pages instead)


@dataclass
class Probe:
    """A file's first bytes, and the structure of the containers they announce, read once for all signatures."""

    path: Path
    head: bytes

    def starts(self, *prefixes: bytes) -> bool:
        return self.head.startswith(prefixes)

    @cached_property
    def zip_names(self) -> frozenset[str] | None:
        """The member names of a zip (OOXML and OpenDocument files are zips); None for anything else."""
        if not self.starts(*ZIP_MAGIC):
            return None
        try:
            with zipfile.ZipFile(self.path) as archive:
                return frozenset(archive.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise UnreadableFile("corrupt_archive", f"压缩文件损坏或不完整（{exc}）") from exc

    @cached_property
    def zip_mimetype(self) -> bytes | None:
        """An OpenDocument file's declared type (its ``mimetype`` member)."""
        if not self.zip_names or "mimetype" not in self.zip_names:
            return None
        with zipfile.ZipFile(self.path) as archive:
            return archive.read("mimetype").strip()

    @cached_property
    def ole_streams(self) -> frozenset[str] | None:
        """The streams of an OLE compound file (Word 97, Excel 97, WPS); None for anything else. Encrypted
        Office files are refused here, whichever format they would have been."""
        if not self.starts(OLE_MAGIC):
            return None
        try:
            with olefile.OleFileIO(str(self.path)) as ole:
                streams = frozenset("/".join(entry) for entry in ole.listdir())
                if "EncryptedPackage" in streams:
                    raise UnreadableFile("encrypted", "Office 文件已加密，需要密码才能打开")
                if "WordDocument" in streams and _word_encrypted(ole.openstream("WordDocument").read(12)):
                    raise UnreadableFile("encrypted", "Word 文件已加密，需要密码才能打开")
                return streams
        except UnreadableFile:
            raise
        except Exception as exc:  # olefile fails with whatever its parsing of a damaged file runs into
            raise UnreadableFile("corrupt_office", f"Office 文件损坏或不完整（{type(exc).__name__}）") from exc


def _word_encrypted(fib: bytes) -> bool:
    """fEncrypted is bit 8 of the flags word at offset 10 of the Word file information block."""
    return len(fib) >= 12 and bool(struct.unpack_from("<H", fib, 10)[0] & 0x0100)


@cache
def registry() -> tuple[Format, ...]:
    """Every format some module of this package declares, in sniffing order."""
    import fiscalwatch.parsers as package

    declared = []
    for module in pkgutil.iter_modules(package.__path__):
        declared += getattr(importlib.import_module(f"{package.__name__}.{module.name}"), "FORMATS", ())
    return tuple(sorted(declared, key=lambda f: f.order))


def lazy_import(name: str) -> ModuleType:
    """A library imported when first used: every reader is loaded to be asked what it reads, and a `check` of a
    PDF should not pay for openpyxl and BeautifulSoup."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def by_kind(kind: str) -> Format:
    return next(f for f in registry() if f.kind == kind)


def extensions(*, linked_only: bool = False) -> frozenset[str]:
    """The file extensions of every format (``linked_only``: those a crawl follows as attachments)."""
    return frozenset(ext for f in registry() if f.linked or not linked_only for ext in f.extensions)


def mime_types(*, linked_only: bool = False) -> frozenset[str]:
    return frozenset(mime for f in registry() if f.linked or not linked_only for mime in f.mime_types)


def sniff(path: Path) -> str:
    """The kind of a file's format, or UnreadableFile for empty, encrypted, damaged and unknown files."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.strip(b"\x00 \t\r\n"):
        raise UnreadableFile("empty_file", "文件为空")
    probe = Probe(path, head)
    for format_ in registry():
        if format_.recognise(probe):
            return format_.kind
    if probe.zip_names is not None:
        raise UnreadableFile("unsupported_format", "不支持的 Office 文件类型（仅支持 Word 和 Excel）")
    if probe.ole_streams is not None:
        raise UnreadableFile("unsupported_format", "不支持的 Office 文件类型（仅支持 Word、WPS 和 Excel）")
    if probe.starts(b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b"):
        raise UnreadableFile("unsupported_archive", "暂不支持该压缩格式（仅支持 zip 和 rar）")
    raise UnreadableFile("unsupported_format", "无法识别的文件格式（支持 PDF、Word、WPS、Excel、网页、zip/rar 压缩包和图片）")
