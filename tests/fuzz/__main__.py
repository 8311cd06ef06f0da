"""``python -m tests.fuzz``: run the fuzz suite, print a table by target and outcome, write a JSON summary.

Exit status 0 when no case found a defect, 1 otherwise (each defect printed as
one line with its reproducer), 2 on bad flags.  ``--replay TARGET:SEED:INDEX``
runs one case in this process and prints its outcome and, for an exception,
the traceback.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one BLAS thread per child
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

__all__ = ["main"]


def _replay(spec: str, timeout: float) -> int:
    from tests.fuzz.runner import Settings
    from tests.fuzz.targets import draw_cases, targets
    from tests.fuzz.worker import DEFECTS, run_case

    name, seed, index = spec.rsplit(":", 2)
    if name not in targets():
        raise SystemExit(f"python -m tests.fuzz: error: unknown target {name!r}; known: {', '.join(sorted(targets()))}")
    case = draw_cases(name, int(seed), int(index), int(index) + 1)[0][1]
    print(f"case {spec}: " + repr(case)[:2000])
    s = Settings()
    outcome, detail = run_case(name, case, timeout, s.max_seconds, s.max_memory)
    print(f"outcome: {outcome} {detail}")
    if outcome in ("crash", "unclear-error", "refused"):
        try:
            targets()[name].run(case)
        except Exception:  # noqa: BLE001 - shown to the reader
            traceback.print_exc()
    return 1 if outcome in DEFECTS else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, run (or replay), print the table and the defects; return the exit status."""
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=10_000, help="number of cases in all (default 10000)")
    p.add_argument("--seconds", type=float, default=1500.0, help="wall-clock cap in seconds (default 1500)")
    p.add_argument("--seed", type=int, default=0, help="seed of the cases (default 0)")
    p.add_argument("--workers", type=int, default=2, help="child processes (default 2)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per case before it counts as a hang")
    p.add_argument("--targets", default="", help="comma-separated target names (default: all)")
    p.add_argument("--json", default="build/fuzz/summary.json", help="where to write the JSON summary")
    p.add_argument("--replay", metavar="TARGET:SEED:INDEX", help="run one case here and show what happened")
    p.add_argument("--list", action="store_true", help="list the targets and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    from tests.fuzz.runner import Settings, format_table, run
    from tests.fuzz.targets import targets

    if args.list:
        print("\n".join(sorted(targets())))
        return 0
    if args.replay:
        return _replay(args.replay, args.timeout)
    settings = Settings(cases=args.cases, seconds=args.seconds, seed=args.seed, workers=args.workers,
                        timeout=args.timeout, only=tuple(t for t in args.targets.split(",") if t))
    import tqdm

    tqdm.tqdm.monitor_interval = 0  # no monitor thread in a process that forks
    with tqdm.tqdm(total=settings.cases, unit="case", disable=args.no_progress, file=sys.stderr) as bar:
        summary = run(settings, bar)
    print(format_table(summary))
    cut = " (stopped by the wall-clock cap)" if summary["stopped_by_time"] else ""
    print(f"{summary['cases']} cases of {summary['planned']} in {summary['wall_seconds']} s{cut}, seed {args.seed}")
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"summary: {path}")
    for d in summary["defects"]:
        print(f"DEFECT {d['outcome']} {d['target']}#{d['index']}: {d['detail']}  -- {d['replay']}")
    return 1 if summary["defects"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
