"""Command line: ``python -m reductions {sat-to-ov, decide, tour}``.

Examples::

    python -m reductions sat-to-ov formula.cnf -o ov.npz        # OV instance (A, B) as .npz
    python -m reductions sat-to-ov formula.cnf -k 3 -o 3ov.npz  # 3-OV instance (X0, X1, X2)
    python -m reductions decide formula.cnf --via attention     # SAT answer in SAT-competition form
    python -m reductions tour                                   # the whole chain, stage by stage
    python -m reductions tour --quick                           # the same with a smaller cost table

``decide`` prints ``s SATISFIABLE`` / ``s UNSATISFIABLE``, a ``v ... 0`` line
with the assignment, and the trace as ``c`` comment lines; it exits 0 on an
answer and 2 on bad input or a refused fast path (message on stderr).
A formula path ``-`` reads standard input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from reductions.cnf import read_dimacs

__all__ = ["main"]


def _read(path: str):
    return read_dimacs(sys.stdin.read() if path == "-" else Path(path))


def _sat_to_ov(args: argparse.Namespace) -> int:
    from reductions.sat_to_ov import partition, sat_to_kov

    f = _read(args.formula)
    inst, _ = sat_to_kov(f, args.k)
    arrays = {"A": inst.sets[0], "B": inst.sets[1]} if args.k == 2 else {f"X{t}": X for t, X in enumerate(inst.sets)}
    parts = partition(f.num_vars, args.k)
    np.savez_compressed(
        args.output,
        **arrays,
        num_vars=f.num_vars,
        num_clauses=f.num_clauses,
        part_sizes=np.array([len(p) for p in parts]),
    )
    shapes = ", ".join(f"{k}: {v.shape[0]} x {v.shape[1]}" for k, v in arrays.items())
    print(f"c {f.num_vars} variables, {f.num_clauses} clauses -> {args.k}-OV with {shapes}; wrote {args.output}")
    return 0


def _decide(args: argparse.Namespace) -> int:
    from reductions.pipeline import decide_sat

    f = _read(args.formula)
    sat, x, trace = decide_sat(f, via=args.via, algorithm=args.algorithm, eps=args.eps)
    for line in str(trace).splitlines():
        print(f"c {line}")
    print("s SATISFIABLE" if sat else "s UNSATISFIABLE")
    if sat:
        print("v " + " ".join(str(v if b else -v) for v, b in x.items()) + " 0")
    return 0


def _tour(args: argparse.Namespace) -> int:
    from reductions.tour import BUILTIN_DIMACS, run_tour

    run_tour(BUILTIN_DIMACS if args.formula is None else Path(args.formula).read_text(), quick=args.quick)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m reductions``."""
    p = argparse.ArgumentParser(prog="python -m reductions", description="SAT -> OV -> attention, executable.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sat-to-ov", help="write the (k-)OV instance of a DIMACS formula as .npz")
    s.add_argument("formula", help="DIMACS CNF file ('-' for stdin)")
    s.add_argument("-o", "--output", required=True, help="output .npz path")
    s.add_argument("-k", type=int, default=2, help="number of parts (2: OV, 3: 3-OV, ...)")
    s.set_defaults(run=_sat_to_ov)
    d = sub.add_parser("decide", help="decide a DIMACS formula through attention")
    d.add_argument("formula", help="DIMACS CNF file ('-' for stdin)")
    d.add_argument("--via", choices=["attention", "tensor_attention", "gradient"], default="attention")
    d.add_argument("--algorithm", choices=["exact", "fast"], default="exact")
    d.add_argument("--eps", type=float, default=1e-6, help="polynomial accuracy of the fast path")
    d.set_defaults(run=_decide)
    t = sub.add_parser("tour", help="print the chain SAT -> OV -> attention -> assignment, stage by stage")
    t.add_argument("formula", nargs="?", default=None, help="DIMACS file (default: the built-in formula)")
    t.add_argument("--quick", action="store_true", help="a smaller cost table (10..16 variables)")
    t.set_defaults(run=_tour)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as exc:  # DimacsError, FastPathRefused, a missing file
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
