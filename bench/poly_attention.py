"""Benchmark: exact poly-attention exponents and fast vs exact (issue 6).

Built-in case: entries uniform in [-1, 1] (B = 1), values Gaussian, float64.
Prints, measured side by side in one run:

1. time of ``poly_attention_exact`` against n for self-attention, tree
   attention (paths h_2, h_4, a star), Strassen attention and 3-tensor
   attention (d = 4, d_v = 4), the log-log slope of each over all sizes and
   over the largest three (small sizes fit in cache and bend the fit; theory:
   2 for the first four, 3 for the last two with numpy's cubic matrix
   products), and the
   time of tree attention h_2 over self-attention at equal n (the paper's
   summary reports about 1.3x for its own implementation);
2. ``poly_attention_fast`` against exact for tree attention h_2 and Strassen
   attention (d = 2, eps = 1e-6): times, ratio, measured error next to the
   certified bound, and slopes.

Saves ``bench/results/poly_attention.json`` (:mod:`_results`): ``data.exact``
per mechanism (sizes, seconds, slopes, theory) and ``data.fast`` (rows with
seconds, error and bound; slopes); notebook 06 draws its timing figure from it.

Usage: OMP_NUM_THREADS=1 python bench/poly_attention.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import numpy as np
from _results import save_results
from _timing import best_time, slope

from algorithms.poly_attention import (
    path_attention,
    poly_attention_exact,
    poly_attention_fast,
    self_attention,
    strassen_attention,
    tensor_attention,
    tree_attention,
)


def inputs(h, n, d, dv, rng):
    return [rng.uniform(-1, 1, size=(n, d)) for _ in range(h.t)], [rng.normal(size=(n, dv)) for _ in range(h.t - 1)]


def exact_exponents(quick: bool, rng) -> dict:
    quadratic = [512, 1024, 2048] if quick else [1024, 2048, 4096, 8192]
    cubic = [64, 96, 128] if quick else [96, 128, 192, 256, 384]
    star = tree_attention(nx.star_graph(range(1, 5)))
    cases = [
        ("self x1x2", self_attention(), quadratic, 2),
        ("tree h_2 (path)", path_attention(2), quadratic, 2),
        ("tree h_4 (path)", path_attention(4), quadratic, 2),
        ("tree star x1-{x2,x3,x4}", star, quadratic, 2),
        ("Strassen triangle", strassen_attention(), cubic, 3),
        ("3-tensor x1x2x3", tensor_attention(3), cubic, 3),
    ]
    print("1. exact poly_attention_exact, d = 4, d_v = 4: seconds (best of 3)")
    times, result = {}, {}
    for name, h, ns, theory in cases:
        ts = []
        for n in ns:
            Xs, Vs = inputs(h, n, 4, 4, rng)
            ts.append(best_time(lambda: poly_attention_exact(h, Xs, Vs)))
        times[name] = dict(zip(ns, ts))
        result[name] = dict(ns=ns, seconds=ts, slope=slope(ns, ts), slope_top3=slope(ns[-3:], ts[-3:]),
                            theory=theory, cost_exponent=h.cost_exponent)
        cells = "  ".join(f"n={n}: {t:.4f}" for n, t in zip(ns, ts))
        print(
            f"  {name:26s} cost_exponent={h.cost_exponent}  {cells}  slope={slope(ns, ts):.2f},"
            f" largest three {slope(ns[-3:], ts[-3:]):.2f} (theory {theory})"
        )
    ratio = [times["tree h_2 (path)"][n] / times["self x1x2"][n] for n in quadratic]
    print("  tree h_2 / self at equal n: " + "  ".join(f"n={n}: {r:.2f}x" for n, r in zip(quadratic, ratio)))
    return result


def fast_vs_exact(quick: bool, rng) -> dict:
    eps, d, dv = 1e-6, 2, 2
    print(f"\n2. fast vs exact, d = {d}, d_v = {dv}, B = 1, eps = {eps:g}")
    plans = [
        ("tree h_2", path_attention(2), [1024, 2048, 4096] if quick else [1024, 2048, 4096, 8192, 16384], 4096),
        ("Strassen", strassen_attention(), [128, 256, 512] if quick else [128, 256, 512, 1024, 2048, 4096], 256),
    ]
    result = {}
    for name, h, ns, max_exact in plans:
        poly_attention_fast(h, *inputs(h, 8, d, dv, rng), eps=eps, bound=1.0)  # certify P once (cached)
        print(f"  {name}")
        print(f"    {'n':>6} {'exact s':>9} {'fast s':>9} {'exact/fast':>10} {'max err':>9} {'bound':>9}")
        fts, ets, ens, rows = [], [], [], []
        for n in ns:
            Xs, Vs = inputs(h, n, d, dv, rng)
            start = time.perf_counter()
            res = poly_attention_fast(h, Xs, Vs, eps=eps, bound=1.0)
            ft = time.perf_counter() - start
            ft = min(ft, best_time(lambda: poly_attention_fast(h, Xs, Vs, eps=eps, bound=1.0), 2))
            fts.append(ft)
            if n <= max_exact:
                exact = poly_attention_exact(h, Xs, Vs).output
                et = best_time(lambda: poly_attention_exact(h, Xs, Vs), 2)
                ets.append(et)
                ens.append(n)
                err = float(np.abs(res.output - exact).max())
                rows.append(dict(n=n, exact=et, fast=ft, error=err, bound=float(res.error_bound.max())))
                print(f"    {n:6d} {et:9.4f} {ft:9.4f} {et / ft:10.2f} {err:9.2e} {res.error_bound.max():9.2e}")
            else:
                rows.append(dict(n=n, exact=None, fast=ft, error=None, bound=float(res.error_bound.max())))
                print(f"    {n:6d} {'-':>9} {ft:9.4f} {'-':>10} {'-':>9} {res.error_bound.max():9.2e}")
        print(f"    slopes: fast {slope(ns, fts):.2f}, exact {slope(ens, ets):.2f}; rank r = {res.ranks}, degree g = {res.degrees}")
        result[name] = dict(d=d, eps=eps, rows=rows, slope_fast=slope(ns, fts), slope_exact=slope(ens, ets),
                            rank=max(res.ranks.values()), degree=max(res.degrees.values()))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    exact = exact_exponents(args.quick, rng)
    fast = fast_vs_exact(args.quick, rng)
    command = "OMP_NUM_THREADS=1 python bench/poly_attention.py" + (" --quick" if args.quick else "")
    print(f"results written to {save_results('poly_attention', command, dict(exact=exact, fast=fast), quick=args.quick)}")


if __name__ == "__main__":
    main()
