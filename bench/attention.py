"""Benchmark: exact vs fast matrix attention and training gradient (issue: foundation).

Built-in case: d = 4, entries uniform in [-1, 1], eps = 1e-6, float64.
Prints, measured side by side in one run:

1. time of exact and fast attention for n = 2^10 ... 2^17 (exact up to --max-exact),
   the speed-up and the crossover;
2. the overhead of fast: its time over the time of the two matrix products it
   cannot avoid, U2^T [V 1] and U1 (that), on precomputed U1, U2;
3. the same for the gradient dL/dX (unavoidable products: U2^T [h, h(x)A2, A2, 1]
   and U1 (that));
4. log-log slopes of time against n;
5. peak memory of exact attention at the largest exact n (tracemalloc);
6. side by side at n = 4096 (issue 12): the library's fast path (float64 and
   float32), a lean numpy version of the same method (features degree by
   degree, weights folded into the query side, no checks, no certificate), and,
   when torch is installed, torch's CPU ``scaled_dot_product_attention`` in
   float32 and the library's fast path on torch float32 tensors; and the first
   call without ``bound=`` (it certifies the polynomial) against a warm one;
7. torch SDPA float32 beside exact float64 at every exact n (ratios printed).

Results are saved to bench/results/attention.json (:mod:`_results`).

Usage: python bench/attention.py [--quick] [--max-exact LOG2N]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from _results import save_results
from _timing import best_time, slope

from algorithms.attention import (
    attention,
    attention_fast,
    attention_loss_grad,
    attention_loss_grad_fast,
    low_rank_attention,
)

D, B, EPS = 4, 1.0, 1e-6


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def sdpa_fp32(torch, Q, K, V):
    """torch's CPU scaled_dot_product_attention in float32 with the 1/d logits of this library."""
    q, k, v = (torch.asarray(X, dtype=torch.float32)[None, None] for X in (Q, K, V))
    return lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=1.0 / Q.shape[1])[0, 0]


def lean_fast(Q, K, V, weights, degree):
    """The method with nothing else: monomials degree by degree (contiguous slices), weights folded, two products."""
    from algorithms.polynomial_method.features import _monomial_tree
    steps, offsets, _ = _monomial_tree(Q.shape[1], degree)

    def mono(X):
        out = np.empty((offsets[-1], X.shape[0]), dtype=X.dtype)
        out[0] = 1.0
        XT = np.ascontiguousarray(X.T)
        for src, length, dst, i in steps:
            np.multiply(out[src : src + length], XT[i], out=out[dst : dst + length])
        return out

    W = (mono(K) @ np.hstack([V, np.ones((V.shape[0], 1), dtype=V.dtype)])) * weights[:, None].astype(V.dtype)
    out = mono(Q).T @ W
    return out[:, :-1] / out[:, -1:]


def side_by_side(rng, n=4096) -> dict:
    """Section 6 of the module docstring: one process, one thread, best of 15."""
    import importlib
    Q, K, V = (rng.uniform(-B, B, (n, D)) for _ in range(3))
    exact = attention(Q, K, V)
    certificate = importlib.import_module("algorithms.polynomial_method.exp_approximation")
    certificate._cached.cache_clear()
    start = time.perf_counter()
    attention_fast(Q, K, V, EPS)  # no bound=: the logit interval is certified from the data, P certified now
    first = time.perf_counter() - start
    op = low_rank_attention(Q, K, EPS, B)
    w, g = op.query_weights, op.degree
    f32 = [X.astype(np.float32) for X in (Q, K, V)]
    rows = dict(
        library_fp64=(lambda: attention_fast(Q, K, V, EPS, B), lambda: attention_fast(Q, K, V, EPS, B)),
        library_fp64_no_bound=(lambda: attention_fast(Q, K, V, EPS), lambda: attention_fast(Q, K, V, EPS)),
        lean_numpy_fp64=(lambda: lean_fast(Q, K, V, w, g), lambda: lean_fast(Q, K, V, w, g)),
        library_fp32_eps1e3=(lambda: attention_fast(*f32, 1e-3, B), lambda: attention_fast(*f32, 1e-3, B)),
    )
    torch = _torch()
    if torch is not None:
        t32 = [torch.asarray(X, dtype=torch.float32) for X in (Q, K, V)]
        call = sdpa_fp32(torch, Q, K, V)
        rows["torch_sdpa_fp32"] = (call, lambda: call().numpy())
        rows["library_torch_fp32_eps1e3"] = (lambda: attention_fast(*t32, 1e-3, B),
                                            lambda: attention_fast(*t32, 1e-3, B).numpy())
    out = dict(n=n, first_call_s=first)
    for name, (f, value) in rows.items():
        f()
        out[name] = dict(s=best_time(f, 15), err=float(np.max(np.abs(np.asarray(value(), dtype=float) - exact))))
    base = out["library_fp64"]["s"]
    print(f"\nside by side, n = {n}, d = {D}, B = {B:g}, eps = {EPS:g} (float32 rows at eps = 1e-3, the smallest "
          f"float32 certifies here), one thread, best of 15:")
    for name in rows:
        print(f"  {name:<27} {out[name]['s'] * 1e3:8.2f} ms  ({out[name]['s'] / base:5.2f} of library_fp64)  "
              f"max error vs exact {out[name]['err']:.1e}")
    warm = out["library_fp64_no_bound"]["s"]
    print(f"  first call without bound= (certifies P): {first * 1e3:.0f} ms = {first / warm:.0f}x a warm call")
    return out


def unavoidable_products(Q, K, Y) -> float:
    """Time of U2^T Y and U1 (U2^T Y) with U1, U2 already built."""
    P = low_rank_attention(Q, K, EPS, B)
    U1, U2 = np.ascontiguousarray(P.U1), np.ascontiguousarray(P.U2)
    Y = np.hstack([Y, np.ones((Y.shape[0], 1))])
    return best_time(lambda: U1 @ (U2.T @ Y), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n up to 2^13 only (a smoke run)")
    parser.add_argument("--max-exact", type=int, default=16, help="largest log2 n timed for exact (default 16)")
    parser.add_argument("--memory-n", type=int, default=17, help="log2 n of the exact peak-memory run (default 17)")
    args = parser.parse_args()
    logs = range(10, 14) if args.quick else range(10, 18)
    max_exact = min(args.max_exact, 13) if args.quick else args.max_exact
    rng = np.random.default_rng(0)
    torch = _torch()
    comparison = side_by_side(np.random.default_rng(1))
    low_rank_attention(np.ones((2, D)), np.ones((2, D)), EPS, B)  # certify P once (cached)
    warm = [rng.uniform(-B, B, (2**logs[0], D)) for _ in range(3)]
    for _ in range(3):  # warm caches and the allocator so the first row is not an outlier
        attention_fast(*warm, EPS, B)
        attention(*warm)
        unavoidable_products(warm[0], warm[1], warm[2])

    print(f"d = {D}, entries in [-{B:g}, {B:g}], eps = {EPS:g}, float64")
    header = f"{'n':>7} | {'exact s':>8} {'fast s':>8} {'speed-up':>8} {'overhead':>8} | {'grad exact':>10} {'grad fast':>9} {'speed-up':>8} {'overhead':>8}"
    print(header)
    print("-" * len(header))
    rows = []
    for k in logs:
        n = 2**k
        Q, K, V = (rng.uniform(-B, B, (n, D)) for _ in range(3))
        A1, A2, A3, E = (rng.uniform(-B, B, (n, D)) for _ in range(4))
        X, Y = np.eye(D), rng.uniform(-1, 1, (D, D))
        reps = 7 if n <= 2**13 else 3 if n <= 2**14 else 1
        t_fast = best_time(lambda: attention_fast(Q, K, V, EPS, B), reps)
        t_gfast = best_time(lambda: attention_loss_grad_fast(A1, A2, A3, E, X, Y, EPS, B), reps)
        t_floor = unavoidable_products(Q, K, V)
        h = A3 @ Y
        hk = (h[:, :, None] * A2[:, None, :]).reshape(n, -1)
        t_gfloor = unavoidable_products(A1 @ X, A2, np.hstack([h, hk, A2]))
        t_exact = t_gexact = t_sdpa = float("nan")
        if k <= max_exact:
            t_exact = best_time(lambda: attention(Q, K, V), reps)
            t_gexact = best_time(lambda: attention_loss_grad(A1, A2, A3, E, X, Y), reps)
            if torch is not None:
                t_sdpa = best_time(sdpa_fp32(torch, Q, K, V), reps)
        rows.append((n, t_exact, t_fast, t_gexact, t_gfast, t_fast / t_floor, t_gfast / t_gfloor, t_sdpa))
        print(f"{n:>7} | {t_exact:8.3f} {t_fast:8.3f} {t_exact / t_fast:8.1f} {t_fast / t_floor:8.2f} | "
              f"{t_gexact:10.3f} {t_gfast:9.3f} {t_gexact / t_gfast:8.1f} {t_gfast / t_gfloor:8.2f}", flush=True)

    ns = np.array([r[0] for r in rows])
    ex = np.array([r[1] for r in rows])
    ok = np.isfinite(ex)
    big = ns >= 2**12
    print()
    print(f"log-log slope, fast attention (n = {ns[big][0]}..{ns[big][-1]}):  {slope(ns[big], [r[2] for r, b in zip(rows, big) if b]):.3f}")
    print(f"log-log slope, fast gradient  (n = {ns[big][0]}..{ns[big][-1]}):  {slope(ns[big], [r[4] for r, b in zip(rows, big) if b]):.3f}")
    print(f"log-log slope, exact attention (n = {ns[ok][0]}..{ns[ok][-1]}): {slope(ns[ok], ex[ok]):.3f}")
    print(f"log-log slope, exact gradient  (n = {ns[ok][0]}..{ns[ok][-1]}): {slope(ns[ok], np.array([r[3] for r in rows])[ok]):.3f}")
    faster = [r[0] for r in rows if np.isfinite(r[1]) and r[2] < r[1]]
    print(f"crossover (first n where fast attention beats exact): {faster[0] if faster else 'none measured'}")
    gfaster = [r[0] for r in rows if np.isfinite(r[3]) and r[4] < r[3]]
    print(f"crossover (gradient): {gfaster[0] if gfaster else 'none measured'}")
    print(f"worst overhead vs unavoidable products: attention {max(r[5] for r in rows):.2f}x, gradient {max(r[6] for r in rows):.2f}x")

    m = 2 ** (13 if args.quick else args.memory_n)
    Q, K, V = (rng.uniform(-B, B, (m, D)) for _ in range(3))
    tracemalloc.start()
    start = time.perf_counter()
    attention(Q, K, V)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"exact attention at n = {m}: {elapsed:.1f} s, peak traced memory {peak / 2**20:.0f} MiB "
          f"(an n x n float64 matrix would be {m * m * 8 / 2**30:.0f} GiB)")
    if torch is not None:
        print("\ntorch CPU SDPA float32 (one thread) against the library: time ratios")
        print(f"{'n':>7} | {'sdpa s':>8} {'sdpa/exact':>10} {'fast/sdpa':>9}")
        for r in rows:
            if np.isfinite(r[7]):
                print(f"{r[0]:>7} | {r[7]:8.4f} {r[7] / r[1]:10.2f} {r[2] / r[7]:9.2f}")
    names = ["n", "exact_s", "fast_s", "grad_exact_s", "grad_fast_s", "overhead", "grad_overhead", "sdpa_fp32_s"]
    path = save_results("attention_quick" if args.quick else "attention",
                        "python bench/attention.py" + (" --quick" if args.quick else ""),
                        dict(rows=[dict(zip(names, r)) for r in rows], side_by_side=comparison,
                             exact_peak_memory=dict(n=m, seconds=elapsed, mib=peak / 2**20)),
                        torch=None if torch is None else torch.__version__)
    print(f"written: {path}")


if __name__ == "__main__":
    main()
