"""Unpack .zip/.rar bundles safely: members go to numbered temp files, never to their own paths.

Limits guard against archive bombs (declared and actual sizes, compression ratio, member
count); a member path that climbs out (../, absolute) marks the archive as hostile and
it is refused whole. Encrypted members are reported, not opened. Archives inside an
archive are unpacked one level deep, sharing the outer archive's limits.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import rarfile

from fiscalwatch.parsers import formats
from fiscalwatch.parsers.errors import UnreadableFile
from fiscalwatch.parsers.formats import CONTAINER, Format

# Archives are read member by member (parsers.parse_documents), so they have no reader of their own. A zip that
# is an Office or OpenDocument file is recognised as that first (their order is CONTAINER).
FORMATS = (
    Format("zip", lambda probe: probe.zip_names is not None and "[Content_Types].xml" not in probe.zip_names,
           ("zip",), ("application/zip", "application/x-zip-compressed"), order=CONTAINER + 1),
    Format("rar", lambda probe: probe.starts(b"Rar!\x1a\x07"), ("rar",),
           ("application/vnd.rar", "application/x-rar-compressed"), order=CONTAINER + 1),
)
ARCHIVES = tuple(f.kind for f in FORMATS)
MAX_MEMBERS = 200
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_DEPTH = 1
_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass
class Member:
    name: str  # path inside the archive; "outer.zip/inner.pdf" for nested ones
    path: Path | None  # extracted file, None when it could not be extracted
    error: UnreadableFile | None = None
    kind: str | None = None  # sniffed format


@dataclass
class _Budget:
    members: int = 0
    total: int = 0


@dataclass
class _Entry:
    name: str
    size: int
    packed: int
    encrypted: bool
    is_dir: bool
    handle: object  # ZipInfo / RarInfo


@contextmanager
def extracted(path: Path, kind: str) -> Iterator[list[Member]]:
    """Members of the archive as files, valid inside the with-block."""
    with tempfile.TemporaryDirectory(prefix="fiscalwatch-archive-") as work:
        yield list(_extract(path, kind, Path(work), "", 0, _Budget()))


def _extract(path: Path, kind: str, work: Path, prefix: str, depth: int, budget: _Budget) -> Iterator[Member]:
    with _open(path, kind) as (archive, entries):
        entries = [e for e in entries if not e.is_dir and not any(j in e.name for j in _JUNK)]
        _check_limits(entries, budget)
        for entry in entries:
            name = prefix + entry.name
            if entry.encrypted:
                yield Member(name, None, UnreadableFile("encrypted", "压缩包内的文件已加密，需要密码才能解压"))
                continue
            target = work / f"member-{budget.members:04d}{PurePosixPath(entry.name).suffix[:10]}"
            budget.members += 1
            try:
                _copy(archive, entry, target, budget)
            except UnreadableFile as exc:
                yield Member(name, None, exc)
                continue
            try:
                inner = formats.sniff(target)
            except UnreadableFile as exc:
                yield Member(name, target, exc)
                continue
            if inner in ARCHIVES:
                if depth >= MAX_DEPTH:
                    yield Member(name, None, UnreadableFile("nested_too_deep", "压缩包嵌套层数过多，未解压"))
                    continue
                try:
                    nested = list(_extract(target, inner, work, name + "/", depth + 1, budget))
                except UnreadableFile as exc:
                    nested = [Member(name, None, exc)]
                yield from nested
                continue
            yield Member(name, target, kind=inner)


@contextmanager
def _open(path: Path, kind: str):
    try:
        if kind == "zip":
            with zipfile.ZipFile(path) as archive:
                yield archive, [_zip_entry(info) for info in archive.infolist()]
        else:
            with rarfile.RarFile(str(path)) as archive:
                if archive.needs_password():
                    raise UnreadableFile("encrypted", "压缩包已加密，需要密码才能解压")
                yield archive, [_Entry(info.filename, info.file_size, info.compress_size, info.needs_password(),
                                       info.is_dir(), info) for info in archive.infolist()]
    except rarfile.PasswordRequired as exc:
        raise UnreadableFile("encrypted", "压缩包已加密，需要密码才能解压") from exc
    except (zipfile.BadZipFile, rarfile.Error, OSError) as exc:
        raise UnreadableFile("corrupt_archive", f"压缩文件损坏或不完整（{exc}）") from exc


def _zip_entry(info: zipfile.ZipInfo) -> _Entry:
    name = info.filename
    if not info.flag_bits & 0x800:
        # Without the UTF-8 flag, names were written in the creator's code page: GBK on Chinese Windows.
        raw = name.encode("cp437")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            name = raw.decode("gb18030", errors="replace")
    return _Entry(name, info.file_size, info.compress_size, bool(info.flag_bits & 0x1), info.is_dir(), info)


def _check_limits(entries: list[_Entry], budget: _Budget) -> None:
    if budget.members + len(entries) > MAX_MEMBERS:
        raise UnreadableFile("archive_too_many_members", f"压缩包内文件过多（超过{MAX_MEMBERS}个），已拒绝解压")
    for entry in entries:
        parts = PurePosixPath(entry.name.replace("\\", "/")).parts
        if entry.name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise UnreadableFile("archive_path_traversal", f"压缩包内含越界路径“{entry.name}”，疑似恶意文件，已拒绝解压")
        if entry.size > RATIO_FLOOR and entry.size > MAX_RATIO * max(entry.packed, 1):
            raise UnreadableFile("archive_bomb", f"压缩包内“{entry.name}”压缩比异常（疑似压缩炸弹），已拒绝解压")
    if budget.total + sum(e.size for e in entries) > MAX_TOTAL_BYTES:
        raise UnreadableFile("archive_too_large", f"压缩包解压后超过{MAX_TOTAL_BYTES // 2**20}MB，已拒绝解压")


def _copy(archive, entry: _Entry, target: Path, budget: _Budget) -> None:
    """Stream a member out, counting real bytes: declared sizes can lie."""
    try:
        with archive.open(entry.handle) as source, target.open("wb") as sink:
            while chunk := source.read(1 << 20):
                budget.total += len(chunk)
                if budget.total > MAX_TOTAL_BYTES:
                    raise UnreadableFile("archive_too_large",
                                         f"压缩包解压后超过{MAX_TOTAL_BYTES // 2**20}MB，已停止解压")
                sink.write(chunk)
    except (zipfile.BadZipFile, rarfile.Error, OSError, EOFError, NotImplementedError) as exc:
        raise UnreadableFile("corrupt_archive", f"压缩包内“{entry.name}”损坏，无法解压（{exc}）") from exc
