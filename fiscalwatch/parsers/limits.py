"""Hard limits for one parse: it runs in a forked child with a memory ceiling (RLIMIT_AS) and a wall-clock
limit, so a hostile file (a span bomb, a page-tree bomb, a cell of a billion characters) ends as one clear
status instead of exhausting the machine or hanging `check`. The limits are the pipeline's own settings
(``parse_memory_mb``, ``parse_time_limit``), so `check` and the workers judge a file alike.

Whatever escapes the readers becomes an ``UnreadableFile`` with a stable code: ``too_large`` (memory),
``timeout``, ``too_deep`` (nesting beyond Python's recursion limit), ``corrupt`` (a reader tripping over
a damaged structure, or the child killed by a signal). Linux only (fork, prlimit)."""

from __future__ import annotations

import copyreg
import ctypes
import os
import pickle
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from fiscalwatch.parsers.errors import UnreadableFile

T = TypeVar("T")
PR_SET_PDEATHSIG = 1
M_ARENA_MAX = -8  # mallopt's parameter, from glibc's malloc.h
MALLOC_ARENAS = 2
MEMORY_SLACK = 512 * 1024 * 1024  # address space beyond the budget: thread stacks, malloc arenas, mapped libraries

# UnreadableFile's arguments differ from Exception's: tell pickle how to rebuild it across the pipe.
copyreg.pickle(UnreadableFile, lambda error: (UnreadableFile, (error.code, error.message)))


@dataclass(frozen=True)
class Limits:
    """What one parse may take: memory (MB, beyond what the process had when it forked), wall-clock seconds,
    the scanned pages it OCRs and the CPU threads its OCR engine runs on."""

    memory_mb: int
    seconds: float
    ocr_threads: int
    ocr_pages: int


@dataclass
class Usage:
    """What the last limited call cost: the child's peak resident memory and its wall-clock time."""

    peak_rss_mb: float = 0.0
    seconds: float = 0.0


last_usage = Usage()


def run_limited(work: Callable[[], T], *, memory_mb: int, seconds: float) -> T:
    """``work()`` computed in a child limited to ``memory_mb`` of memory and ``seconds``; its result, or the
    UnreadableFile it raised (or that its failure means). Exceptions raised in this process while waiting
    (a task's soft time limit) stop the child and propagate."""
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(work, write_end, memory_mb)
    os.close(write_end)
    try:
        payload = _read_all(read_end, started + seconds)
    except BaseException:
        _kill(pid)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read_end)
    if payload is None:
        _kill(pid)
        _, _, usage = os.wait4(pid, 0)
        _account(usage, started)
        raise UnreadableFile("timeout", f"解析超过时限（{seconds:.0f}秒），已停止；文件可能过大或结构异常")
    _, status, usage = os.wait4(pid, 0)
    _account(usage, started)
    if not payload:
        code = os.waitstatus_to_exitcode(status)
        raise UnreadableFile("corrupt", f"解析进程异常退出（{'信号 ' + str(-code) if code < 0 else '状态 ' + str(code)}），"
                                        "文件可能已损坏或过大")
    ok, value = pickle.loads(payload)
    if ok:
        return value
    raise value


def _child(work: Callable, write_end: int, memory_mb: int) -> None:
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        die_with_parent()  # a worker killed at its hard time limit leaves no parse running on
        # glibc reserves a 64 MB heap for each thread that allocates (onnxruntime's pool among them): address
        # space the limit below counts and the parse never touches, 400 MB of an OCR parse's peak.
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, MALLOC_ARENAS)
        ceiling = _address_space() + memory_mb * 1024 * 1024 + MEMORY_SLACK
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        try:
            outcome = (True, work())
        except UnreadableFile as exc:
            outcome = (False, exc)
        except MemoryError:
            outcome = (False, UnreadableFile("too_large", f"解析所需内存超过上限（{memory_mb} MB），文件过大或结构异常"))
        except RecursionError:
            outcome = (False, UnreadableFile("too_deep", "文件嵌套层级过深（如网页标签层层嵌套），无法解析"))
        except Exception as exc:  # a reader tripping over a damaged structure
            outcome = (False, UnreadableFile("corrupt", f"文件结构损坏，无法解析（{type(exc).__name__}）"))
        try:
            data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps((False, UnreadableFile("too_large", "解析结果过大，超过内存上限")))
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
    finally:
        os._exit(0)


def die_with_parent(sig: int = signal.SIGKILL, parent: int | None = None) -> None:
    """Linux: this process gets ``sig`` when its parent dies. ``parent``: the pid it was forked from; if that
    process died already (before this call could ask), exit at once."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def _read_all(fd: int, deadline: float) -> bytes | None:
    """Everything the child writes until it closes the pipe; None when the deadline passes first."""
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
        if ready:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _address_space() -> int:
    """This process's virtual size now, which the child starts from."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _account(usage, started: float) -> None:
    last_usage.peak_rss_mb = usage.ru_maxrss / 1024
    last_usage.seconds = time.monotonic() - started
