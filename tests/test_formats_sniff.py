"""Formats are recognised by content; unreadable files fail with a stable code and a Chinese message."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import format_samples as samples
import olefile
import pytest

from fiscalwatch.parsers import UnreadableFile, formats, parse_file
from fiscalwatch.parsers.convert import SOFFICE, converted
from fiscalwatch.validators.checker import check_file


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """The sample in each format, built once; office conversions go through LibreOffice."""
    out = tmp_path_factory.mktemp("sniff")
    files = {
        "docx": samples.write_docx(out / "s.docx"),
        "xlsx": samples.write_xlsx(out / "s.xlsx"),
        "html": samples.write_html(out / "s.html"),
    }
    for source, target in (("docx", "doc"), ("docx", "pdf"), ("xlsx", "xls"), ("docx", "rtf"), ("xlsx", "ods")):
        with converted(files[source], source, target) as result:
            files[target] = Path(shutil.copy(result, out / f"s.{target}"))
    return files


@pytest.mark.parametrize("fmt", ["pdf", "docx", "xlsx", "html", "doc", "xls", "rtf", "ods"])
def test_wrong_extension_is_read_by_content(made, tmp_path, fmt):
    disguised = tmp_path / "附件1.dat"
    shutil.copy(made[fmt], disguised)
    assert formats.sniff(disguised) == fmt
    doc = parse_file(disguised)
    assert [t.kind for t in doc.tables] == ["expense"]


def test_html_served_as_xls_and_spreadsheet_named_doc(made, tmp_path):
    as_xls = shutil.copy(made["html"], tmp_path / "决算.xls")
    as_doc = shutil.copy(made["xlsx"], tmp_path / "决算.doc")
    assert check_file(Path(as_xls)).document.format == "html"
    assert check_file(Path(as_doc)).document.format == "xlsx"


@pytest.mark.parametrize("content,code", [
    (b"", "empty_file"),
    (b"\x00" * 64, "empty_file"),
    (b"just some text, not a disclosure", "unsupported_format"),
    (b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40, "unsupported_archive"),
    (b"%PDF-1.7\n1 0 obj << >> endobj\n", "corrupt_pdf"),
    (b"PK\x03\x04" + b"\x00" * 30, "corrupt_archive"),
])
def test_unreadable_files_have_codes_and_chinese_messages(tmp_path, content, code):
    path = tmp_path / "x.pdf"
    path.write_bytes(content)
    result = check_file(path)
    assert not result.ok and result.error_code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.error)


def test_truncated_office_file(made, tmp_path):
    path = tmp_path / "cut.xlsx"
    path.write_bytes(made["xlsx"].read_bytes()[:2000])
    with pytest.raises(UnreadableFile) as caught:
        parse_file(path)
    assert caught.value.code in ("corrupt_archive", "corrupt_office")


def test_encrypted_pdf(made, tmp_path):
    # LibreOffice's PDF export can set an open password.
    options = ('pdf:writer_pdf_Export:{"EncryptFile":{"type":"boolean","value":"true"},'
               '"DocumentOpenPassword":{"type":"string","value":"secret"}}')
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--convert-to", options, "--outdir", str(tmp_path), str(made["docx"])],
                   check=True, capture_output=True, timeout=120)
    result = check_file(tmp_path / "s.pdf")
    assert result.error_code == "encrypted" and "密码" in result.error


def test_encrypted_ooxml(made, tmp_path):
    pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    locked = tmp_path / "locked.xlsx"
    with made["xlsx"].open("rb") as plain, locked.open("wb") as sink:
        OOXMLFile(plain).encrypt("secret", sink)
    assert locked.read_bytes().startswith(formats.OLE_MAGIC)
    result = check_file(locked)
    assert result.error_code == "encrypted" and "密码" in result.error


def test_encrypted_word_97(made, tmp_path):
    locked = tmp_path / "locked.doc"
    shutil.copy(made["doc"], locked)
    with olefile.OleFileIO(str(locked), write_mode=True) as ole:
        fib = bytearray(ole.openstream("WordDocument").read())
        fib[11] |= 0x01  # fEncrypted
        ole.write_stream("WordDocument", bytes(fib))
    assert check_file(locked).error_code == "encrypted"


def test_unknown_ooxml_package(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("ppt/presentation.xml", "<p/>")
    path = tmp_path / "slides.pptx"
    path.write_bytes(buffer.getvalue())
    assert check_file(path).error_code == "unsupported_format"
