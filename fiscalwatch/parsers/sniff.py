"""Recognise a file's format from its content: sites mislabel extensions and serve HTML as .xls."""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path

import olefile

from fiscalwatch.parsers.errors import UnreadableFile

PDF = "pdf"
DOCX = "docx"
XLSX = "xlsx"
XLS = "xls"
DOC = "doc"  # WPS .wps files are Word 97 files inside, as .et files are BIFF workbooks
ODT = "odt"
ODS = "ods"
RTF = "rtf"
XML_SPREADSHEET = "xml_spreadsheet"  # Excel 2003 XML, a common "xls" export of finance systems
HTML = "html"
ZIP = "zip"
RAR = "rar"
IMAGE = "image"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML = re.compile(rb"<(!doctype\s+html|html|head|body|table|meta|div|p|title)[\s>]", re.I)
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM")
_OPENDOCUMENT = {b"application/vnd.oasis.opendocument.text": ODT,
                 b"application/vnd.oasis.opendocument.spreadsheet": ODS}


def sniff(path: Path) -> str:
    """One of the format constants above, or UnreadableFile for empty, encrypted and unknown files."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    if not head.strip(b"\x00 \t\r\n"):
        raise UnreadableFile("empty_file", "文件为空")
    # Containers first: a stored (uncompressed) zip or rar shows its first member's bytes, a PDF's included.
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(path)
    if head.startswith(b"Rar!\x1a\x07"):
        return RAR
    if b"%PDF-" in head[:1024]:
        return PDF
    if head.startswith(OLE_MAGIC):
        return _sniff_ole(path)
    if head.startswith(_IMAGES):
        return IMAGE
    if head.startswith(b"{\\rtf"):
        return RTF
    if head.startswith((b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")):
        raise UnreadableFile("unsupported_archive", "暂不支持该压缩格式（仅支持 zip 和 rar）")
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    if text.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return XML_SPREADSHEET
    if _HTML.search(head.replace(b"\x00", b"")):
        return HTML
    raise UnreadableFile("unsupported_format", "无法识别的文件格式（支持 PDF、Word、WPS、Excel、网页、zip/rar 压缩包和图片）")


def _sniff_zip(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                kind = _OPENDOCUMENT.get(archive.read("mimetype").strip())
                if kind:
                    return kind
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile("corrupt_archive", f"压缩文件损坏或不完整（{exc}）") from exc
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
        raise UnreadableFile("unsupported_format", "不支持的 Office 文件类型（仅支持 Word 和 Excel）")
    return ZIP


def _sniff_ole(path: Path) -> str:
    try:
        with olefile.OleFileIO(str(path)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir()}
            if "EncryptedPackage" in streams:
                raise UnreadableFile("encrypted", "Office 文件已加密，需要密码才能打开")
            if "WordDocument" in streams:
                if _word_encrypted(ole.openstream("WordDocument").read(12)):
                    raise UnreadableFile("encrypted", "Word 文件已加密，需要密码才能打开")
                return DOC
            if streams & {"Workbook", "Book"}:
                return XLS
    except UnreadableFile:
        raise
    except Exception as exc:  # olefile fails with whatever its parsing of a damaged file runs into
        raise UnreadableFile("corrupt_office", f"Office 文件损坏或不完整（{type(exc).__name__}）") from exc
    raise UnreadableFile("unsupported_format", "不支持的 Office 文件类型（仅支持 Word、WPS 和 Excel）")


def _word_encrypted(fib: bytes) -> bool:
    """fEncrypted is bit 8 of the flags word at offset 10 of the Word file information block."""
    return len(fib) >= 12 and bool(struct.unpack_from("<H", fib, 10)[0] & 0x0100)
