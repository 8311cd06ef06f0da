"""``python -m algorithms`` (the ``bounded-entries`` script): exact vs fast attention and its gradient.

Prints, for ``n = 4096``, ``d = 4``, entries uniform in ``[-1, 1]`` (override
with flags): the time of exact and fast attention, the maximum error against
the bound (E1) (:func:`algorithms.error_bounds.output_error`), and the same for
the training gradient ``dL/dX`` of Alman & Song 2024.

Every user error (a bad flag value, a fast path that refuses the entry bound,
sizes whose estimated cost is above ``--max-seconds`` / ``--max-memory``) is
one line on stderr and exit status 2 (:mod:`algorithms._cli`).  The sizes are
checked by :mod:`algorithms.budget` before anything is allocated.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from algorithms import _cli
from algorithms.attention import (
    attention,
    attention_error_bound,
    attention_loss_grad,
    attention_loss_grad_error_bound,
    attention_loss_grad_fast,
    low_rank_attention,
)
from algorithms.budget import check_budget, exact_attention_cost, limits
from algorithms.polynomial_method import polynomial_method_cost


def _timed(f, *args, **kwargs):
    start = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - start


def _check_cost(n: int, d: int, B: float, eps: float) -> float:
    """Estimate the whole run before allocating; return the seconds spent certifying the polynomial."""
    start = time.perf_counter()
    try:
        g, r = polynomial_method_cost(B, 2, d, eps)  # certified (then cached): the degree the fast path uses
    except ValueError as exc:
        raise ValueError(
            f"the fast path refuses entries bounded by B={B:g} at eps={eps:g} (a limit of float64 "
            f"arithmetic at this B, not a complexity lower bound): {exc}"
        ) from None
    seconds, memory = exact_attention_cost(n, n, d, d)
    cols = d * (d + 1) + d + 1  # the fast gradient applies the n x r factors to this many columns
    fast_seconds = 4e-9 * n * float(r) * cols
    fast_memory = 8.0 * float(r) * (2 * cols + 2 * 2048)
    inputs = 8.0 * n * d * 7
    check_budget(f"the demonstration at n = {n}, d = {d} (degree g = {g}, rank r = {r})",
                 4 * seconds + fast_seconds, memory + fast_memory + inputs)
    return time.perf_counter() - start


def run(n: int = 4096, d: int = 4, B: float = 1.0, eps: float = 1e-6, seed: int = 0) -> dict:
    """Run the comparison and return its figures (also printed by :func:`main`).

    Raises
    ------
    ValueError
        Bad sizes, the fast path refusing ``B`` (no float64 polynomial reaches
        ``eps`` on ``[-B^2, B^2]``), or the estimated cost above the limits in
        force (:class:`algorithms.budget.BudgetExceeded`).
    """
    t_certify = _check_cost(n, d, B, eps)
    rng = np.random.default_rng(seed)
    Q, K, V = (rng.uniform(-B, B, (n, d)) for _ in range(3))
    exact, t_exact = _timed(attention, Q, K, V)
    P, t_setup = _timed(low_rank_attention, Q, K, eps, B)
    fast, t_fast = _timed(P.apply, V)
    err, bound = float(np.max(np.abs(fast - exact))), attention_error_bound(P.entry_error, V)

    A1, A2, A3, E = (rng.uniform(-B, B, (n, d)) for _ in range(4))
    X, Y = np.eye(d), rng.uniform(-1, 1, (d, d))
    g_exact, t_g_exact = _timed(attention_loss_grad, A1, A2, A3, E, X, Y)
    g_fast, t_g_fast = _timed(attention_loss_grad_fast, A1, A2, A3, E, X, Y, eps=eps, bound=B)
    g_bound = attention_loss_grad_error_bound(A1, A2, A3, E, X, Y, eps=eps, bound=B)
    return dict(
        n=n, d=d, B=B, eps=eps, degree=P.degree, rank=P.rank,
        t_exact=t_exact, t_fast=t_fast, t_certify=t_certify + t_setup, err=err, bound=bound,
        t_grad_exact=t_g_exact, t_grad_fast=t_g_fast,
        grad_err=float(np.max(np.abs(g_fast - g_exact))), grad_scale=float(np.max(np.abs(g_exact))),
        grad_within_bound=bool(np.all(np.abs(g_fast - g_exact) <= g_bound)), grad_bound=float(np.max(g_bound)),
    )


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; ``prog`` defaults to the name it was run by."""
    parser = _cli.OneLineParser(
        prog=prog or _cli.prog_name("algorithms"),
        description="Exact vs fast (polynomial-method) attention and its training gradient on random inputs.",
    )
    parser.add_argument("--n", type=_cli.positive_int, default=4096, help="sequence length (default 4096)")
    parser.add_argument("--d", type=_cli.positive_int, default=4, help="head dimension (default 4)")
    parser.add_argument("--B", type=_cli.positive_float, default=1.0,
                        help="entry bound: inputs uniform in [-B, B] (default 1); the fast path refuses large B")
    parser.add_argument("--eps", type=_cli.unit_interval, default=1e-6,
                        help="relative error of the polynomial, in (0, 1) (default 1e-6)")
    parser.add_argument("--seed", type=_cli.nonnegative_int, default=0,
                        help="seed of the random inputs, a non-negative integer (default 0)")
    parser.add_argument("--max-seconds", type=_cli.limit_seconds, default=None,
                        help="refuse runs estimated to take longer (default 60; inf: no limit)")
    parser.add_argument("--max-memory", type=_cli.limit_bytes, default=None,
                        help="refuse runs estimated to allocate more bytes (default 2 GiB = 2147483648)")
    return parser


def _main(args: argparse.Namespace) -> int:
    with limits(max_seconds=args.max_seconds, max_memory=args.max_memory):
        r = run(args.n, args.d, args.B, args.eps, args.seed)
    print(f"Matrix attention, n = {r['n']}, d = {r['d']}, entries in [-{r['B']:g}, {r['B']:g}], eps = {r['eps']:g}")
    print(f"  polynomial degree g = {r['degree']}, feature rank r = C(d+g, g) = {r['rank']}")
    print(f"  exact  attention: {r['t_exact']:8.3f} s")
    print(f"  fast   attention: {r['t_fast']:8.3f} s   ({r['t_exact'] / r['t_fast']:.1f}x faster; plus "
          f"{r['t_certify']:.3f} s once per (B, eps) to build and certify P with mpmath)")
    print(f"  max |fast - exact| = {r['err']:.2e}   (bound (E1): {r['bound']:.2e}, "
          f"{'within' if r['err'] <= r['bound'] else 'OUTSIDE'} the bound)")
    print("Training gradient dL/dX (Alman & Song 2024):")
    print(f"  exact: {r['t_grad_exact']:8.3f} s   fast: {r['t_grad_fast']:8.3f} s   "
          f"({r['t_grad_exact'] / r['t_grad_fast']:.1f}x faster)")
    print(f"  max |fast - exact| = {r['grad_err']:.2e} (gradient entries up to {r['grad_scale']:.2e}; "
          f"derived bound {r['grad_bound']:.2e}, {'within' if r['grad_within_bound'] else 'OUTSIDE'})")
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run the command line; return the exit status (0, or 2 on a user error, printed as one line)."""
    return _cli.run(build_parser(prog), _main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
