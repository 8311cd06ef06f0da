"""The committed benchmark results, for notebooks: load ``bench/results/<name>.json``, say where it was measured.

The notebooks draw every timing figure from these files (written by the
``bench/`` scripts through ``bench/_results.py``) instead of timing anything
themselves, and compute the numbers their text quotes from them.

Examples
--------
>>> record = load("threshold_families")
>>> sorted(record)[:3]
['asymptotes', 'command', 'computed']
>>> loglog_slope([1, 2, 4], [3, 12, 48])
2.0
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["RESULTS_DIR", "load", "caption", "loglog_slope", "log2_axis"]

#: ``bench/results`` of this checkout.
RESULTS_DIR = Path(__file__).resolve().parent.parent / "bench" / "results"


def load(name: str) -> dict:
    """``bench/results/<name>.json`` as a dict; ``FileNotFoundError`` naming the command that writes it."""
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `OMP_NUM_THREADS=1 python bench/{name}.py` to produce it")
    return json.loads(path.read_text(encoding="utf-8"))


def caption(record: dict) -> str:
    """One line: when, where and by which command the record was measured (and whether it was a quick run)."""
    m = record.get("machine", {})
    quick = record.get("quick") or "--quick" in str(record.get("command", ""))
    quick = " -- a QUICK run (small sizes), for development only" if quick else ""
    return (f"measured {record.get('date', '?')} on {m.get('processor', '?')}, {m.get('cpus', '?')} CPUs, "
            f"OMP_NUM_THREADS={m.get('threads', '?')}, numpy {m.get('numpy', '?')}, by `{record.get('command', '?')}`"
            + quick)


def loglog_slope(ns: Sequence[float], ts: Sequence[float]) -> float:
    """Least-squares slope of ``log t`` against ``log n`` (the measured exponent of ``t ~ n^slope``)."""
    ns, ts = np.asarray(ns, dtype=float), np.asarray(ts, dtype=float)
    if ns.size < 2 or ns.shape != ts.shape or np.any(ns <= 0) or np.any(ts <= 0):
        raise ValueError(f"need at least two positive (n, t) pairs of equal length, got {ns.size} and {ts.size}")
    return float(round(np.polyfit(np.log(ns), np.log(ts), 1)[0], 12))


def log2_axis(ax, axis: str = "x") -> None:
    """A base-2 log axis with one labelled tick per power of two (``2^k``) and no minor labels (no overlap)."""
    from matplotlib.ticker import LogLocator, NullFormatter, NullLocator

    getattr(ax, f"set_{axis}scale")("log", base=2)
    target = ax.xaxis if axis == "x" else ax.yaxis
    lo, hi = (ax.get_xlim() if axis == "x" else ax.get_ylim())
    span = max(1, int(np.ceil(np.log2(hi) - np.log2(max(lo, 1e-300)))))
    target.set_major_locator(LogLocator(base=2, subs=(1.0,), numticks=12 if span <= 12 else span // 2 + 2))
    target.set_major_formatter(lambda v, _: f"$2^{{{int(round(np.log2(v)))}}}$" if v > 0 else "")
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())
