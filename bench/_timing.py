"""Timing helpers shared by the bench scripts: best-of-``repeats`` wall time and log-log slope.

Each bench script runs as ``python bench/<name>.py``, so this directory is on
``sys.path`` and the scripts import ``from _timing import best_time, slope``.

Examples
--------
>>> round(slope([10, 100, 1000], [1e-3, 1e-1, 1e1]), 6)
2.0
>>> best_time(lambda: None, repeats=3) >= 0
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["best_time", "slope"]


def best_time(f: Callable[[], object], repeats: int = 3, clock: Callable[[], float] = time.perf_counter) -> float:
    """The smallest of ``repeats`` timings of ``f()``, in seconds of ``clock``.

    The minimum, not the mean: on a shared machine interruptions only ever add
    time.  ``clock`` is ``time.perf_counter`` (wall) by default;
    ``time.process_time`` measures CPU time of this process.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    times = []
    for _ in range(repeats):
        start = clock()
        f()
        times.append(clock() - start)
    return min(times)


def slope(ns: Sequence[float], ts: Sequence[float]) -> float:
    """Least-squares slope of ``log t`` against ``log n``: the measured exponent of ``t ~ n^slope``."""
    return float(np.polyfit(np.log(np.asarray(ns, dtype=float)), np.log(np.asarray(ts, dtype=float)), 1)[0])
