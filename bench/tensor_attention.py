"""Benchmark: exact vs fast tensor attention and its training gradient (issue 3).

Built-in case: d = 4, entries uniform in [-1, 1], eps = 1e-6, float64.  For the
loss gradient the factors A_i X_i (the Q, K1, K2 of the loss) have entries in
[-1, 1]: A_i uniform in [-1, 1], X_i uniform in [-1/d, 1/d].  Prints, measured
side by side in one run:

1. exact tensor attention and exact dL/dX for n = 2^6 ... 2^9 (their cost is n^3);
2. fast tensor attention, fast VJP (all five gradients) and fast dL/dX for
   n = 2^6 ... 2^16, with the speed-up over exact where both were timed;
3. the overhead of the fast paths: their time over the matrix products they
   cannot avoid on precomputed features (forward: U2^T [V1 1], U3^T [V2 1] and
   U1 times their entrywise product; gradient: the same with the columns
   [V1, 1, L2, V1 (x)_row L2] and U1 times the r x (d + 1 + d^2 + d^3) matrix);
4. log-log slopes: fast over n = 2^10 ... 2^16, exact over n = 2^6 ... 2^9;
5. time and peak traced memory (tracemalloc) of exact tensor attention at n = 1024.

Saves everything to ``bench/results/tensor_attention.json`` (:mod:`_results`):
``data.rows`` one dict per n (seconds; ``null`` where not timed), ``data.slopes``,
``data.memory``; notebook 02 draws its timing figure from it.

Times are the best of several runs of process CPU time by default (``--clock wall``
for perf_counter): with OMP_NUM_THREADS=1 that is the wall time of an idle machine,
and it is not inflated when other jobs share the cores.

Usage: OMP_NUM_THREADS=1 python bench/tensor_attention.py [--quick] [--clock cpu|wall]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from _results import save_results
from _timing import best_time, slope

from algorithms.polynomial_method import polynomial_method_cost
from algorithms.tensor_attention import (
    low_rank_tensor_attention,
    row_kron,
    tensor_attention,
    tensor_attention_fast,
    tensor_attention_loss_grad,
    tensor_attention_loss_grad_fast,
    tensor_attention_vjp_fast,
)

D, B, EPS = 4, 1.0, 1e-6


CLOCK = time.process_time  # set from --clock in main()


def unavoidable(Q, K1, K2, Y1, Y2, query_cols: int) -> float:
    """Time of U2^T Y1, U3^T Y2 and U1 times an r x query_cols matrix, features precomputed."""
    P = low_rank_tensor_attention(Q, K1, K2, EPS, B)
    U1, U2, U3 = (np.ascontiguousarray(U) for U in (P.U1, P.U2, P.U3))
    M = np.ones((P.rank, query_cols))

    def products():
        U2.T @ Y1, U3.T @ Y2
        U1 @ M

    return best_time(products, 7, clock=CLOCK)


def loss_problem(rng, n):
    A = [rng.uniform(-B, B, (n, D)) for _ in range(6)]
    Xf = tuple(rng.uniform(-B / D, B / D, (D, D)) for _ in range(3))
    Yf = (rng.uniform(-1, 1, (D, D)), rng.uniform(-1, 1, (D, D)))
    return A, Xf, Yf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 2^7 ... 2^13, exact up to 2^9, memory at 2^9")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu",
                        help="cpu: process CPU time (default; robust when other jobs share the cores, "
                             "run with OMP_NUM_THREADS=1), wall: perf_counter")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    logs = range(7, 14) if args.quick else range(6, 17)
    max_exact = 9
    memory_n = 2**9 if args.quick else 2**10
    rng = np.random.default_rng(0)
    degree, rank = polynomial_method_cost(B, 3, D, EPS)  # the plan for the worst case [-B^3, B^3]
    print(f"clock: {args.clock}; d = {D}, entries in [-{B:g}, {B:g}], eps = {EPS:g}, float64: "
          f"degree g <= {degree}, rank r <= {rank} (worst case; each run certifies its data's interval)")
    header = (f"{'n':>6} | {'exact s':>8} {'fast s':>8} {'speed-up':>8} {'overhead':>8} | {'vjp fast':>8} | "
              f"{'grad exact':>10} {'grad fast':>9} {'speed-up':>8} {'overhead':>8}")
    print(header)
    print("-" * len(header))
    rows = []
    for k in logs:
        n = 2**k
        Q, K1, K2, V1, V2, dO = (rng.uniform(-B, B, (n, D)) for _ in range(6))
        A, Xf, Yf = loss_problem(rng, n)
        reps = 7  # best of 7: the machine may be shared
        t_fast = best_time(lambda: tensor_attention_fast(Q, K1, K2, V1, V2, EPS, B), reps, clock=CLOCK)
        t_vjp = best_time(lambda: tensor_attention_vjp_fast(Q, K1, K2, V1, V2, dO, EPS, B), reps, clock=CLOCK)
        t_gfast = best_time(lambda: tensor_attention_loss_grad_fast(*A, Xf, Yf, EPS, B), reps, clock=CLOCK)
        one = np.ones((n, 1))
        t_floor = unavoidable(Q, K1, K2, np.hstack([V1, one]), np.hstack([V2, one]), D + 1)
        Qg, K1g, K2g = A[0] @ Xf[0], A[1] @ Xf[1], A[2] @ Xf[2]
        V1g, V2g = A[3] @ Yf[0], A[4] @ Yf[1]
        L2, L3 = np.repeat(A[1], D, axis=1), np.tile(A[2], (1, D))
        Y1 = np.hstack([V1g, one, L2, row_kron(V1g, L2)])
        Y2 = np.hstack([V2g, one, L3, row_kron(V2g, L3)])
        t_gfloor = unavoidable(Qg, K1g, K2g, Y1, Y2, D + 1 + D * D + D**3)
        t_exact = t_gexact = float("nan")
        if k <= max_exact:
            exact_reps = 3 if n <= 256 else 1  # the first call also pays one-time costs (imports, caches)
            t_exact = best_time(lambda: tensor_attention(Q, K1, K2, V1, V2), exact_reps, clock=CLOCK)
            t_gexact = best_time(lambda: tensor_attention_loss_grad(*A, Xf, Yf), exact_reps, clock=CLOCK)
        rows.append((n, t_exact, t_fast, t_vjp, t_gexact, t_gfast, t_fast / t_floor, t_gfast / t_gfloor))
        print(f"{n:>6} | {t_exact:8.3f} {t_fast:8.4f} {t_exact / t_fast:8.0f} {t_fast / t_floor:8.2f} | {t_vjp:8.4f} | "
              f"{t_gexact:10.3f} {t_gfast:9.4f} {t_gexact / t_gfast:8.0f} {t_gfast / t_gfloor:8.2f}", flush=True)

    ns = np.array([r[0] for r in rows], dtype=float)
    col = {name: np.array([r[i] for r in rows]) for i, name in enumerate(
        ["n", "exact", "fast", "vjp", "gexact", "gfast", "over", "gover"])}
    big = ns >= 2**10
    ex = np.isfinite(col["exact"])
    print()
    if big.sum() >= 2:
        span = f"n = {int(ns[big][0])}..{int(ns[big][-1])}"
        print(f"log-log slope, fast attention ({span}): {slope(ns[big], col['fast'][big]):.3f}")
        print(f"log-log slope, fast VJP       ({span}): {slope(ns[big], col['vjp'][big]):.3f}")
        print(f"log-log slope, fast dL/dX     ({span}): {slope(ns[big], col['gfast'][big]):.3f}")
    span = f"n = {int(ns[ex][0])}..{int(ns[ex][-1])}"
    print(f"log-log slope, exact attention ({span}): {slope(ns[ex], col['exact'][ex]):.3f}")
    print(f"log-log slope, exact dL/dX     ({span}): {slope(ns[ex], col['gexact'][ex]):.3f}")
    last = int(np.flatnonzero(ex)[-1])
    print(f"speed-up at n = {int(ns[last])}: attention {col['exact'][last] / col['fast'][last]:.0f}x, "
          f"dL/dX {col['gexact'][last] / col['gfast'][last]:.0f}x")
    if 256 in ns:
        i256 = int(np.flatnonzero(ns == 256)[0])
        print(f"fast attention at n = {int(ns[-1])}: {col['fast'][-1]:.3f} s vs exact at n = 256: {col['exact'][i256]:.3f} s")
    print(f"worst overhead vs unavoidable products (n >= 1024): attention {col['over'][big].max():.2f}x, "
          f"dL/dX {col['gover'][big].max():.2f}x" if big.any() else "")
    slopes = dict(exact=slope(ns[ex], col["exact"][ex]), grad_exact=slope(ns[ex], col["gexact"][ex]),
                  exact_span=[int(ns[ex][0]), int(ns[ex][-1])])
    if big.sum() >= 2:
        slopes.update(fast=slope(ns[big], col["fast"][big]), vjp=slope(ns[big], col["vjp"][big]),
                      grad_fast=slope(ns[big], col["gfast"][big]), fast_span=[int(ns[big][0]), int(ns[big][-1])])

    Q, K1, K2, V1, V2 = (rng.uniform(-B, B, (memory_n, D)) for _ in range(5))
    tracemalloc.start()
    start = CLOCK()
    tensor_attention(Q, K1, K2, V1, V2)
    elapsed = CLOCK() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"exact tensor attention at n = {memory_n}: {elapsed:.1f} s, peak traced memory {peak / 2**20:.0f} MiB "
          f"(the n x n^2 matrix A would be {memory_n**3 * 8 / 2**30:.0f} GiB)")

    def num(x):
        return None if not np.isfinite(x) else float(x)

    names = ["n", "exact", "fast", "vjp", "grad_exact", "grad_fast", "overhead", "grad_overhead"]
    path = save_results(
        "tensor_attention",
        "OMP_NUM_THREADS=1 python bench/tensor_attention.py" + (" --quick" if args.quick else "")
        + (" --clock wall" if args.clock == "wall" else ""),
        dict(d=D, B=B, eps=EPS, degree=degree, rank=rank, clock=args.clock,
             rows=[{k: (int(v) if k == "n" else num(v)) for k, v in zip(names, r)} for r in rows],
             slopes=slopes, memory=dict(n=memory_n, seconds=elapsed, peak_mib=peak / 2**20)),
        quick=args.quick,
    )
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
