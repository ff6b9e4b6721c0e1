"""Timing helper shared by the benchmark scripts."""

from __future__ import annotations

import time


def best_of(repeat: int, work) -> float:
    """The fastest of ``repeat`` runs of ``work()``, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)
