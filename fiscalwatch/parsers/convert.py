"""Legacy office formats (.doc, .wps, .et, .rtf, OpenDocument) → .docx/.xlsx with LibreOffice headless.

Each call gets a fresh private profile (concurrent soffice processes sharing one profile
hand their work to each other or deadlock), runs in its own process group so a timeout
kills soffice.bin and its helpers too, and takes one of a few machine-wide slots so
parallel workers cannot start unbounded numbers of office processes.

LibreOffice fetches a document's linked images while converting (a crawled .doc/.odt could make it
request internal addresses), so it runs with no network at all: in a new network namespace holding
only a loopback interface that is down (``unshare -n`` as root, ``unshare -rn`` in an unprivileged user
namespace otherwise). Where neither is available (a container without namespace rights) conversion is
refused, unless ``FISCALWATCH_CONVERT_WITH_NETWORK=1`` says the host itself has no network to reach.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from fiscalwatch.parsers.errors import UnreadableFile
from fiscalwatch.parsers.formats import CONTAINER, Format
from fiscalwatch.parsers.layout import Layout
from fiscalwatch.parsers.spreadsheet import read_xlsx
from fiscalwatch.parsers.word import read_docx


def _via(kind: str, source_ext: str, target: str):
    """A reader converting to docx or xlsx first, then reading that (the extension LibreOffice expects)."""
    def read(path: Path, budget) -> Layout:
        with converted(path, source_ext, target) as output:
            return (read_docx if target == "docx" else read_xlsx)(output, kind)

    return read


def _opendocument(mimetype: str):
    return lambda probe: probe.zip_mimetype == mimetype.encode()


def _excel_xml(probe) -> bool:
    """Excel 2003 XML, a common "xls" export of finance systems (published under .xls names)."""
    text = probe.head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    return text.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in probe.head


_ODT, _ODS = "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet"
FORMATS = (
    # WPS .wps files are Word 97 files inside.
    Format("doc", lambda probe: "WordDocument" in (probe.ole_streams or ()), ("doc", "wps"),
           ("application/msword", "application/vnd.ms-works"), read=_via("doc", "doc", "docx")),
    Format("rtf", lambda probe: probe.starts(b"{\\rtf"), ("rtf",), ("application/rtf", "text/rtf"),
           read=_via("rtf", "rtf", "docx")),
    Format("odt", _opendocument(_ODT), ("odt",), (_ODT,), read=_via("odt", "odt", "docx"), order=CONTAINER),
    Format("ods", _opendocument(_ODS), ("ods",), (_ODS,), read=_via("ods", "ods", "xlsx"), order=CONTAINER),
    Format("xml_spreadsheet", _excel_xml, read=_via("xml_spreadsheet", "xml", "xlsx")),
)

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
MAX_CONVERSIONS = 2  # concurrent soffice processes on this machine
CONVERT_SECONDS = 90.0
SLOT_WAIT_SECONDS = 300.0
LOCK_DIR = Path(tempfile.gettempdir()) / "fiscalwatch-convert-slots"


@contextmanager
def converted(path: Path, source_ext: str, target: str, timeout: float = CONVERT_SECONDS) -> Iterator[Path]:
    """The file converted to `target` (docx or xlsx), valid inside the with-block."""
    if not SOFFICE:
        raise UnreadableFile("converter_missing", "未安装 LibreOffice，无法读取该格式（.doc/.wps/.et 等）")
    with tempfile.TemporaryDirectory(prefix="fiscalwatch-convert-") as work_dir:
        work = Path(work_dir)
        # A fixed ASCII name: soffice trips over odd characters, and the extension selects its import filter.
        source = work / f"input.{source_ext}"
        shutil.copyfile(path, source)
        command = [
            SOFFICE, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to", target, "--outdir", str(work / "out"), str(source),
        ]
        with _slot():
            _run([*_no_network(), *command], timeout)
        output = work / "out" / f"input.{target}"
        if not output.exists() or output.stat().st_size == 0:
            raise UnreadableFile("conversion_failed", "文档转换失败：LibreOffice 无法打开该文件（可能已损坏或加密）")
        yield output


@lru_cache(maxsize=1)
def _no_network() -> tuple[str, ...]:
    """The command prefix that takes the network away, the first of these that works here."""
    unshare = shutil.which("unshare")
    for prefix in ((unshare, "-n"), (unshare, "-r", "-n")) if unshare else ():
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    if os.environ.get("FISCALWATCH_CONVERT_WITH_NETWORK") == "1":
        return ()
    raise UnreadableFile("converter_unsafe", "无法在隔离网络的环境中运行 LibreOffice（需要 unshare），为防止转换时访问网络，未转换该文件")


def _run(command: list[str], timeout: float) -> None:
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise UnreadableFile("conversion_timeout",
                             f"文档转换超时（超过{timeout:.0f}秒），文件可能过大或已损坏") from None
    finally:
        # Also reaps helpers soffice leaves behind after a normal exit.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


@contextmanager
def _slot() -> Iterator[None]:
    """One of MAX_CONVERSIONS lock files, held with flock so it is freed even if the holder dies."""
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + SLOT_WAIT_SECONDS
    while True:
        for index in range(MAX_CONVERSIONS):
            handle = (LOCK_DIR / f"slot-{index}.lock").open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield
            finally:
                handle.close()
            return
        if time.monotonic() > deadline:
            raise UnreadableFile("converter_busy", "文档转换繁忙，等待超时，请稍后重试")
        time.sleep(0.2)
