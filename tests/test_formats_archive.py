"""Archives: every member checked, the primary one at the top level, hostile archives refused."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import format_samples as samples
import pytest

from fiscalwatch.parsers import archive, parse_documents
from fiscalwatch.validators.check_report import render
from fiscalwatch.validators.checker import check_file


@pytest.fixture(scope="module")
def members(tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("members")
    return {
        "docx": samples.write_docx(out / "s.docx").read_bytes(),
        "xlsx": samples.write_xlsx(out / "s.xlsx").read_bytes(),
        "html": samples.write_html(out / "s.html").read_bytes(),
    }


def make_zip(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in entries:
            bundle.writestr(name, data)
    return path


def test_every_member_is_checked_and_the_primary_leads(members, tmp_path):
    bundle = make_zip(tmp_path / "公开.zip", [
        ("测试局/说明.txt", b"readme"),
        ("测试局/决算表.xlsx", members["xlsx"]),
        ("测试局/决算.docx", members["docx"]),
        ("__MACOSX/测试局/._决算.docx", b"\x00\x05\x16\x07"),
    ])
    result = check_file(bundle).to_dict()
    names = [m["member"] for m in result["members"]]
    assert names == ["测试局/说明.txt", "测试局/决算表.xlsx", "测试局/决算.docx"]
    assert [m["status"] for m in result["members"]] == ["failed", "ok", "ok"]
    assert result["members"][0]["error"]["code"] == "unsupported_format"
    assert result["status"] == "ok" and result["member"] in names[1:]
    assert {f["rule"] for f in result["findings"]} >= {"R-ROW", "R-HIER"}
    assert all(m["members"] == [] for m in result["members"])


def test_text_report_lists_every_member(members, tmp_path):
    bundle = make_zip(tmp_path / "公开.zip", [("说明.txt", b"readme"), ("决算.docx", members["docx"])])
    report = render(check_file(bundle))
    assert "压缩包，共2个文件，主要文件：决算.docx" in report
    assert "» 说明.txt\n  无法读取" in report and "» 决算.docx\n  " in report


def test_nested_once_and_not_deeper(members, tmp_path):
    inner = make_zip(tmp_path / "inner.zip", [("a.html", members["html"])])
    deeper = make_zip(tmp_path / "deeper.zip", [("inner.zip", inner.read_bytes())])
    outer = make_zip(tmp_path / "outer.zip", [("inner.zip", inner.read_bytes()), ("deeper.zip", deeper.read_bytes())])
    parsed = parse_documents(outer)
    assert [(p.name, p.error.code if p.error else None) for p in parsed] == [
        ("inner.zip/a.html", None), ("deeper.zip/inner.zip", "nested_too_deep")]


def test_gbk_member_names_without_utf8_flag(members, tmp_path):
    name = "决算.html"
    placeholder = "x" * len(name.encode("gbk"))
    path = make_zip(tmp_path / "gbk.zip", [(placeholder, members["html"])])
    raw = path.read_bytes().replace(placeholder.encode(), name.encode("gbk"))
    path.write_bytes(raw)
    assert [p.name for p in parse_documents(path)] == [name]


def test_zip_bomb_is_refused(tmp_path):
    bomb = make_zip(tmp_path / "bomb.zip", [("a.pdf", b"\x00" * (5 * 2**20))])
    result = check_file(bomb)
    assert result.error_code == "archive_bomb" and "压缩炸弹" in result.error


def test_total_size_limit(members, tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 20_000)
    big = make_zip(tmp_path / "big.zip", [(f"{i}.docx", members["docx"]) for i in range(3)])
    assert check_file(big).error_code == "archive_too_large"


def test_member_count_limit(tmp_path):
    many = make_zip(tmp_path / "many.zip", [(f"{i}.txt", b"x") for i in range(archive.MAX_MEMBERS + 1)])
    assert check_file(many).error_code == "archive_too_many_members"


@pytest.mark.parametrize("name", ["../../etc/决算.html", "/etc/决算.html", "a/../../决算.html", "C:/决算.html"])
def test_path_traversal_is_refused(members, tmp_path, name):
    hostile = make_zip(tmp_path / "evil.zip", [("ok.html", members["html"]), (name, members["html"])])
    result = check_file(hostile)
    assert result.error_code == "archive_path_traversal" and "越界" in result.error
    assert not list(tmp_path.parent.glob("**/决算.html"))


def test_encrypted_member_is_reported_not_opened(members, tmp_path):
    path = make_zip(tmp_path / "locked.zip", [("open.html", members["html"]), ("secret.docx", members["docx"])])
    _mark_encrypted(path, "secret.docx")
    parsed = parse_documents(path)
    assert [(p.name, p.error.code if p.error else None) for p in parsed] == [
        ("open.html", None), ("secret.docx", "encrypted")]
    assert "密码" in parsed[1].error.message


def _mark_encrypted(path: Path, name: str) -> None:
    """Set the 'encrypted' flag of one member in its local and central headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as bundle:
        local = bundle.getinfo(name).header_offset
    data[local + 6] |= 0x01
    central = data.find(b"PK\x01\x02")
    while central != -1:
        size = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46:central + 46 + size] == name.encode():
            data[central + 8] |= 0x01
        central = data.find(b"PK\x01\x02", central + 46)
    path.write_bytes(bytes(data))


def test_no_readable_member(tmp_path):
    path = make_zip(tmp_path / "junk.zip", [("a.txt", b"hello"), ("b.csv", b"1,2")])
    result = check_file(path).to_dict()
    assert result["error"]["code"] == "archive_no_documents"
    assert [m["error"]["code"] for m in result["members"]] == ["unsupported_format", "unsupported_format"]


def test_empty_zip(tmp_path):
    path = make_zip(tmp_path / "empty.zip", [])
    assert check_file(path).error_code == "empty_archive"


def stored_rar(entries: list[tuple[str, bytes]]) -> bytes:
    """A RAR 4 archive with uncompressed members (no free tool writes RAR)."""

    def block(head_type: int, flags: int, body: bytes) -> bytes:
        header = struct.pack("<BHH", head_type, flags, 7 + len(body)) + body
        return struct.pack("<H", zlib.crc32(header) & 0xFFFF) + header

    out = b"Rar!\x1a\x07\x00" + block(0x73, 0, b"\x00" * 6)
    dos_time = (43 << 25) | (1 << 21) | (1 << 16)
    for name, data in entries:
        raw = name.encode()
        body = struct.pack("<IIBIIBBHI", len(data), len(data), 0, zlib.crc32(data), dos_time, 20, 0x30,
                           len(raw), 0x20) + raw
        out += block(0x74, 0x8000, body) + data
    return out + block(0x7B, 0x4000, b"")


def test_rar(members, tmp_path):
    path = tmp_path / "bundle.rar"
    path.write_bytes(stored_rar([("docs/a.html", members["html"])]))
    result = check_file(path)
    assert result.ok and result.member == "docs/a.html"
    assert [t.kind for t in result.document.tables] == ["expense"]


def test_truncated_rar(members, tmp_path):
    path = tmp_path / "cut.rar"
    path.write_bytes(stored_rar([("a.html", members["html"])])[:200])
    result = check_file(path).to_dict()
    assert result["error"]["code"] == "archive_no_documents"
    assert result["members"][0]["error"]["code"] == "corrupt_archive"
