"""Where bench scripts save what they measured: one JSON file per script in ``bench/results/``.

Each file records the machine, the date, the command that reproduces it and
the numbers, so that the README and the notebooks draw their tables and
figures from committed results instead of timing anything themselves.

Examples
--------
>>> meta = machine()
>>> sorted(meta) == ["cpus", "numpy", "platform", "processor", "python", "threads"]
True
>>> tidy({"t": 0.123456789123, "xs": [1.0, 2.0000000001]})
{'t': 0.1234568, 'xs': [1.0, 2.0]}
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RESULTS_DIR", "machine", "tidy", "save_results", "load_results"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """The machine a measurement was taken on: platform, processor, cores, BLAS threads, versions."""
    return dict(
        platform=platform.platform(),
        processor=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        threads=os.environ.get("OMP_NUM_THREADS", "unset"),
        python=sys.version.split()[0],
        numpy=np.__version__,
    )


def tidy(value: Any, digits: int = 7) -> Any:
    """Floats rounded to ``digits`` significant digits (readable, diffable JSON); numpy scalars made plain."""
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.{digits}g}")
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: tidy(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tidy(v, digits) for v in value]
    return value


def save_results(name: str, command: str, data: dict[str, Any], **extra: Any) -> Path:
    """Write ``bench/results/<name>.json`` with machine, date, command and ``data``; return the path."""
    record = dict(machine=machine(), date=datetime.date.today().isoformat(), command=command, **extra, data=data)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(tidy(record), indent=1) + "\n", encoding="utf-8")
    return path


def load_results(name: str) -> dict[str, Any]:
    """Read ``bench/results/<name>.json`` (raises ``FileNotFoundError`` naming the command to run)."""
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python bench/{name}.py` to produce it")
    return json.loads(path.read_text(encoding="utf-8"))
