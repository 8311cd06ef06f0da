"""Does the flop-count cost model of algorithms.bounds predict measured time?

For exact attention (``n^2 (4d + 2)`` flops) and the polynomial method
(``n r (4(d + 1) + 3)`` flops, ``r = C(d + g, g)``) at a few sizes, time both,
fit ONE seconds-per-flop constant over all measurements of the run (least
squares in log space: the geometric mean of measured/flops), and print
predicted vs measured side by side, the log-log slopes of time against ``n``,
and the crossover ``n`` where the model says the fast algorithm starts to win
next to the measured one.

Then computes (no timing; identical with ``--quick``) the cost model that
notebook 04 draws: the degree certificates on ``DEGREE_GRID``
(:func:`algorithms.degree_certificates.degree_certificates`, the degree
ingredient), the threshold maps at ``d = 16``, ``eps = 1e-3`` on the
explorer's grid (:func:`algorithms.threshold.threshold_map`, flop counts at
each ``(n, B)``), and the threshold table (:func:`algorithms.bounds.threshold_table`,
their limits).  Certifying those polynomials and taking those limits costs
about 40 s, which a notebook should not spend.

Everything is saved to ``bench/results/cost_model.json`` (:mod:`_results`):
``data.measured`` (rows, fitted seconds per flop, slopes, crossover) and
``data.computed`` (``degree_certificates``, ``threshold_maps`` as
:func:`algorithms.explorer.map_to_dict`, ``threshold_table``).  Notebook 01
draws its timing figure from ``data.measured``, notebook 04 its tables and
maps from ``data.computed``.

Run:  OMP_NUM_THREADS=1 .venv/bin/python bench/cost_model.py [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import math

import numpy as np
import sympy as sp
from _results import save_results
from _timing import best_time, slope

from algorithms.attention import attention, attention_fast, low_rank_attention
from algorithms.bounds import exact_flops_expr, fast_flops_expr, threshold_table
from algorithms.degree_certificates import DEGREE_GRID, degree_certificates
from algorithms.explorer import B_GRIDS, N_GRID, map_to_dict
from algorithms.threshold import threshold_map


def computed() -> dict:
    """Degree certificates, threshold maps and the threshold table: the computed cost model of notebook 04."""
    certs = [dataclasses.asdict(c) for c in degree_certificates(*DEGREE_GRID)]
    maps = {name: map_to_dict(threshold_map(N_GRID, B_GRIDS[k], d=16, eps=1e-3, k=k))
            for name, k in (("matrix", 2), ("tensor", 3))}
    table = [dict(mechanism=r.mechanism, k=r.k, small_B=sp.latex(r.small_B), fast_exponent_small_B=str(r.fast_exponent_small_B),
                  hard_B=sp.latex(r.hard_B), hard_B_power=sp.latex(r.hard_B_power),
                  fast_exponent_at_hard_B=[float(e) for e in r.fast_exponent_at_hard_B], constant=r.constant,
                  exact_exponent=str(r.exact_exponent), seth_exponent=str(r.seth_exponent))
             for r in threshold_table(["matrix", "tensor", "degree-4"])]
    print(f"computed: {len(certs)} degree certificates, threshold maps {sorted(maps)}, {len(table)} threshold rows")
    return dict(degree_certificates=certs, threshold_maps=maps, threshold_table=table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (the timing part in seconds)")
    args = parser.parse_args()

    d, B, eps = 8, 1.0, 1e-3
    if args.quick:
        exact_ns, fast_ns, repeats = [1024, 2048, 4096], [2048, 4096, 8192], 3
    else:
        exact_ns, fast_ns, repeats = [1024, 2048, 4096, 8192], [4096, 8192, 16384, 32768], 3
    rng = np.random.default_rng(0)

    def inputs(n_):
        """Uniform entries in [-B, B], with one row of +B and one of -B: every column fills [-B, B], so every
        run certifies the same logit interval [-B^2, B^2] and the same degree and rank."""
        for _ in range(3):
            X = rng.uniform(-B, B, (n_, d))
            X[0], X[1] = B, -B
            yield X

    nn, rr = sp.symbols("n r")
    exact_flops = sp.lambdify(nn, exact_flops_expr(nn, d, 2))
    fast_flops = sp.lambdify((nn, rr), fast_flops_expr(nn, d, rr, 2))

    rows = []  # (method, n, flops, seconds)
    for n_ in exact_ns:
        Q, K, V = inputs(n_)
        rows.append(("exact", n_, float(exact_flops(n_)), best_time(lambda: attention(Q, K, V), repeats)))
    for n_ in fast_ns:
        Q, K, V = inputs(n_)
        P = low_rank_attention(Q, K, eps=eps, bound=B)  # the degree and rank this run certifies (cached after)
        r, g = P.rank, P.degree
        t = best_time(lambda: attention_fast(Q, K, V, eps=eps, bound=B), repeats)
        rows.append(("fast", n_, float(fast_flops(n_, r)), t))

    log_ratio = [math.log(t / f) for _, _, f, t in rows]
    spf = math.exp(sum(log_ratio) / len(log_ratio))
    print(f"d = {d}, B = {B}, eps = {eps:g}: feature rank r = {r}; one fitted constant "
          f"{spf:.3g} s/flop ({1e-9 / spf:.3g} Gflop/s) over all {len(rows)} runs")
    print(f"{'method':>6} {'n':>7} {'flops':>10} {'measured s':>11} {'predicted s':>11} {'meas/pred':>9}")
    for method, n_, f, t in rows:
        print(f"{method:>6} {n_:>7} {f:>10.3g} {t:>11.4g} {f * spf:>11.4g} {t / (f * spf):>9.2f}")
    slopes = {}
    for method in ("exact", "fast"):
        ns = [n_ for m, n_, _, _ in rows if m == method]
        ts = [t for m, _, _, t in rows if m == method]
        per = [t / f for m, _, f, t in rows if m == method]
        slopes[method] = slope(ns, ts)
        print(f"{method}: log-log slope of time vs n = {slope(ns, ts):.2f} "
              f"(model: {2 if method == 'exact' else 1}); its own s/flop {np.exp(np.mean(np.log(per))):.3g}")

    # Crossover: model n* = r (4(d+1)+3) / (4d+2); measured: time both at n*/4, n* and 4 n*.
    roots = sp.solve(sp.Eq(exact_flops_expr(nn, d, 2), fast_flops_expr(nn, d, r, 2)), nn)
    n_star = max(float(x) for x in roots)
    print(f"model crossover n* = {n_star:.0f} (fast cheaper above it)")
    checks = []
    for n_ in (max(16, int(n_star / 4)), int(n_star), int(4 * n_star)):
        Q, K, V = inputs(n_)
        te = best_time(lambda: attention(Q, K, V), repeats)
        tf = best_time(lambda: attention_fast(Q, K, V, eps=eps, bound=B), repeats)
        print(f"  n = {n_:>6}: exact {te:.3g} s, fast {tf:.3g} s, measured exact/fast = {te / tf:.2f} "
              f"(model {exact_flops(n_) / fast_flops(n_, r):.2f})")
        checks.append(dict(n=n_, exact=te, fast=tf, model_ratio=float(exact_flops(n_) / fast_flops(n_, r))))
    measured = dict(d=d, B=B, eps=eps, rank=r, degree=g,
                    seconds_per_flop=spf, slopes=slopes, n_star=n_star, crossover_checks=checks,
                    rows=[dict(method=m, n=n_, flops=f, seconds=t) for m, n_, f, t in rows])
    command = "OMP_NUM_THREADS=1 python bench/cost_model.py" + (" --quick" if args.quick else "")
    path = save_results("cost_model", command, dict(measured=measured, computed=computed()), quick=args.quick)
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
