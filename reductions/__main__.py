"""Command line: ``python -m reductions {sat-to-ov, decide, tour}``.

Examples::

    python -m reductions sat-to-ov formula.cnf -o ov.npz        # OV instance (A, B) as .npz
    python -m reductions sat-to-ov formula.cnf -k 3 -o 3ov.npz  # 3-OV instance (X0, X1, X2)
    python -m reductions decide formula.cnf --via attention     # SAT answer in SAT-competition form
    python -m reductions tour                                   # the whole chain, stage by stage
    python -m reductions tour --quick                           # the same with a smaller cost table

``decide`` prints ``s SATISFIABLE`` / ``s UNSATISFIABLE``, a ``v ... 0`` line
with the assignment, and the trace as ``c`` comment lines; it exits 0 on an
answer.  Every user error (a bad option, a file that cannot be read or is not
DIMACS, a refused fast path, an estimated cost above ``--max-seconds`` /
``--max-memory``) is one line on stderr and exit status 2.  A formula path
``-`` reads standard input.  ``sat-to-ov -o out`` writes ``out.npz`` (numpy
appends the suffix) and prints that path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from algorithms import _cli
from algorithms.budget import limits
from reductions.cnf import read_dimacs

__all__ = ["main", "build_parser"]


def _read(path: str):
    return read_dimacs(sys.stdin.read() if path == "-" else Path(path))


def _npz_path(output: str) -> Path:
    """The file ``numpy.savez_compressed`` writes: ``output``, with ``.npz`` appended unless it ends so."""
    return Path(output if output.endswith(".npz") else output + ".npz")


def _sat_to_ov(args: argparse.Namespace) -> int:
    from reductions.sat_to_ov import partition, sat_to_kov

    f = _read(args.formula)
    with limits(max_seconds=args.max_seconds, max_memory=args.max_memory):
        inst, _ = sat_to_kov(f, args.k)
    arrays = {"A": inst.sets[0], "B": inst.sets[1]} if args.k == 2 else {f"X{t}": X for t, X in enumerate(inst.sets)}
    parts = partition(f.num_vars, args.k)
    out = _npz_path(args.output)
    if out.is_dir():
        raise IsADirectoryError(f"output {str(out)!r} is a directory")
    np.savez_compressed(
        out,
        **arrays,
        num_vars=f.num_vars,
        num_clauses=f.num_clauses,
        part_sizes=np.array([len(p) for p in parts]),
    )
    shapes = ", ".join(f"{k}: {v.shape[0]} x {v.shape[1]}" for k, v in arrays.items())
    print(f"c {f.num_vars} variables, {f.num_clauses} clauses -> {args.k}-OV with {shapes}; wrote {out}")
    return 0


def _decide(args: argparse.Namespace) -> int:
    from reductions.pipeline import decide_sat

    f = _read(args.formula)
    sat, x, trace = decide_sat(f, via=args.via, algorithm=args.algorithm, eps=args.eps, max_seconds=args.max_seconds,
                               max_memory=args.max_memory, progress=not args.no_progress)
    for line in str(trace).splitlines():
        print(f"c {line}")
    print("s SATISFIABLE" if sat else "s UNSATISFIABLE")
    if sat:
        print("v " + " ".join(str(v if b else -v) for v, b in x.items()) + " 0")
    return 0


def _tour(args: argparse.Namespace) -> int:
    from reductions.dimacs import read_text
    from reductions.tour import BUILTIN_DIMACS, run_tour

    text = BUILTIN_DIMACS if args.formula is None else read_text(Path(args.formula))[0]
    with limits(max_seconds=args.max_seconds, max_memory=args.max_memory):
        run_tour(text, quick=args.quick)
    return 0


def _limit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-seconds", type=_cli.limit_seconds, default=None,
                   help="refuse work estimated to take longer, in seconds (default 60; inf: no limit)")
    p.add_argument("--max-memory", type=_cli.limit_bytes, default=None,
                   help="refuse work estimated to allocate more, in bytes (default 2 GiB = 2147483648)")


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``python -m reductions``."""
    p = _cli.OneLineParser(prog=prog or _cli.prog_name("reductions"),
                           description="SAT -> OV -> attention, executable.")
    sub = p.add_subparsers(dest="command", required=True, metavar="{sat-to-ov,decide,tour}")
    s = sub.add_parser("sat-to-ov", help="write the (k-)OV instance of a DIMACS formula as .npz",
                       description="Write the (k-)OV instance of a DIMACS formula (Williams' split and list) as .npz.")
    s.add_argument("formula", help="DIMACS CNF file ('-' for stdin)")
    s.add_argument("-o", "--output", required=True, help="output path; '.npz' is appended unless it ends so")
    s.add_argument("-k", type=_cli.positive_int, default=2, help="number of parts, >= 2 (2: OV, 3: 3-OV, ...)")
    _limit_options(s)
    s.set_defaults(run=_sat_to_ov)
    d = sub.add_parser("decide", help="decide a DIMACS formula through attention",
                       description="Decide a DIMACS formula through attention; prints the answer in SAT-competition "
                                   "form (s/v lines) and the trace as c lines.")
    d.add_argument("formula", help="DIMACS CNF file ('-' for stdin)")
    d.add_argument("--via", choices=["attention", "tensor_attention", "gradient"], default="attention",
                   help="the computation that decides it (default attention)")
    d.add_argument("--algorithm", choices=["exact", "fast"], default="exact",
                   help="exact attention, or the polynomial method (refuses large entries; default exact)")
    d.add_argument("--eps", type=_cli.unit_interval, default=1e-6,
                   help="polynomial accuracy of the fast path, in (0, 1) (default 1e-6)")
    _limit_options(d)
    d.add_argument("--no-progress", action="store_true", help="no progress bar on stderr for long runs")
    d.set_defaults(run=_decide)
    t = sub.add_parser("tour", help="print the chain SAT -> OV -> attention -> assignment, stage by stage",
                       description="Print the chain SAT -> OV -> attention -> assignment, stage by stage.")
    t.add_argument("formula", nargs="?", default=None, help="DIMACS file (default: the built-in formula)")
    t.add_argument("--quick", action="store_true", help="a smaller cost table (10..16 variables)")
    _limit_options(t)
    t.set_defaults(run=_tour)
    return p


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run the command line; return the exit status (0, or 2 on a user error, printed as one line)."""
    parser = build_parser(prog)
    return _cli.run(parser, lambda args: args.run(args), argv)


if __name__ == "__main__":
    sys.exit(main())
