"""Does the flop-count cost model of algorithms.bounds predict measured time?

For exact attention (``n^2 (4d + 2)`` flops) and the polynomial method
(``n r (4(d + 1) + 3)`` flops, ``r = C(d + g, g)``) at a few sizes, time both,
fit ONE seconds-per-flop constant over all measurements of the run (least
squares in log space: the geometric mean of measured/flops), and print
predicted vs measured side by side, the log-log slopes of time against ``n``,
and the crossover ``n`` where the model says the fast algorithm starts to win
next to the measured one.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/cost_model.py [--quick]
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import sympy as sp
from _timing import best_time, slope

from algorithms.attention import attention, attention_fast, low_rank_attention
from algorithms.bounds import exact_flops_expr, fast_flops_expr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (seconds)")
    args = parser.parse_args()

    d, B, eps = 8, 1.0, 1e-3
    if args.quick:
        exact_ns, fast_ns, repeats = [512, 1024, 2048], [1024, 2048, 4096], 1
    else:
        exact_ns, fast_ns, repeats = [1024, 2048, 4096, 8192], [4096, 8192, 16384, 32768], 3
    rng = np.random.default_rng(0)

    def inputs(n_):
        return (rng.uniform(-B, B, (n_, d)) for _ in range(3))

    r = low_rank_attention(*list(inputs(8))[:2], eps=eps, bound=B).rank  # warms the degree cache
    nn, rr = sp.symbols("n r")
    exact_flops = sp.lambdify(nn, exact_flops_expr(nn, d, 2))
    fast_flops = sp.lambdify((nn, rr), fast_flops_expr(nn, d, rr, 2))

    rows = []  # (method, n, flops, seconds)
    for n_ in exact_ns:
        Q, K, V = inputs(n_)
        rows.append(("exact", n_, float(exact_flops(n_)), best_time(lambda: attention(Q, K, V), repeats)))
    for n_ in fast_ns:
        Q, K, V = inputs(n_)
        t = best_time(lambda: attention_fast(Q, K, V, eps=eps, bound=B), repeats)
        rows.append(("fast", n_, float(fast_flops(n_, r)), t))

    log_ratio = [math.log(t / f) for _, _, f, t in rows]
    spf = math.exp(sum(log_ratio) / len(log_ratio))
    print(f"d = {d}, B = {B}, eps = {eps:g}: feature rank r = {r}; one fitted constant "
          f"{spf:.3g} s/flop ({1e-9 / spf:.3g} Gflop/s) over all {len(rows)} runs")
    print(f"{'method':>6} {'n':>7} {'flops':>10} {'measured s':>11} {'predicted s':>11} {'meas/pred':>9}")
    for method, n_, f, t in rows:
        print(f"{method:>6} {n_:>7} {f:>10.3g} {t:>11.4g} {f * spf:>11.4g} {t / (f * spf):>9.2f}")
    for method in ("exact", "fast"):
        ns = [n_ for m, n_, _, _ in rows if m == method]
        ts = [t for m, _, _, t in rows if m == method]
        per = [t / f for m, _, f, t in rows if m == method]
        print(f"{method}: log-log slope of time vs n = {slope(ns, ts):.2f} "
              f"(model: {2 if method == 'exact' else 1}); its own s/flop {np.exp(np.mean(np.log(per))):.3g}")

    # Crossover: model n* = r (4(d+1)+3) / (4d+2); measured: time both at n*/4, n* and 4 n*.
    roots = sp.solve(sp.Eq(exact_flops_expr(nn, d, 2), fast_flops_expr(nn, d, r, 2)), nn)
    n_star = max(float(x) for x in roots)
    print(f"model crossover n* = {n_star:.0f} (fast cheaper above it)")
    for n_ in (max(16, int(n_star / 4)), int(n_star), int(4 * n_star)):
        Q, K, V = inputs(n_)
        te = best_time(lambda: attention(Q, K, V), repeats)
        tf = best_time(lambda: attention_fast(Q, K, V, eps=eps, bound=B), repeats)
        print(f"  n = {n_:>6}: exact {te:.3g} s, fast {tf:.3g} s, measured exact/fast = {te / tf:.2f} "
              f"(model {exact_flops(n_) / fast_flops(n_, r):.2f})")


if __name__ == "__main__":
    main()
