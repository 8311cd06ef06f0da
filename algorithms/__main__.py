"""``python -m algorithms``: exact vs fast attention and its gradient on a built-in case.

Prints, for ``n = 4096``, ``d = 4``, entries uniform in ``[-1, 1]`` (override
with flags): the time of exact and fast attention, the maximum error against
the bound (E1) (:func:`algorithms.error_bounds.output_error`), and the same for
the training gradient ``dL/dX`` of Alman & Song 2024.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from algorithms.attention import (
    attention,
    attention_error_bound,
    attention_loss_grad,
    attention_loss_grad_error_bound,
    attention_loss_grad_fast,
    low_rank_attention,
)


def _timed(f, *args, **kwargs):
    start = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - start


def run(n: int = 4096, d: int = 4, B: float = 1.0, eps: float = 1e-6, seed: int = 0) -> dict:
    """Run the comparison and return its figures (also printed by :func:`main`)."""
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
        t_exact=t_exact, t_fast=t_fast, t_certify=t_setup, err=err, bound=bound,
        t_grad_exact=t_g_exact, t_grad_fast=t_g_fast,
        grad_err=float(np.max(np.abs(g_fast - g_exact))), grad_scale=float(np.max(np.abs(g_exact))),
        grad_within_bound=bool(np.all(np.abs(g_fast - g_exact) <= g_bound)), grad_bound=float(np.max(g_bound)),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m algorithms", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="sequence length (default 4096)")
    parser.add_argument("--d", type=int, default=4, help="head dimension (default 4)")
    parser.add_argument("--B", type=float, default=1.0, help="entry bound: inputs uniform in [-B, B] (default 1)")
    parser.add_argument("--eps", type=float, default=1e-6, help="relative error of the polynomial (default 1e-6)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    main()
