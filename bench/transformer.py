"""Multi-layer transformer gradients: exact vs fast time, and fast-gradient error vs depth.

Reproduces the two measurements of issue 7 (Liang, Sha, Shi, Song, Zhou,
arXiv 2408.13233):

1. Time of one full gradient (forward + backward, every weight) of a 4-layer,
   2-head, d_h = 4, causal, pre-layer-norm transformer with per-head queries
   and keys bounded by B = 1 (certified at initialisation), exact vs fast
   (eps = 1e-6), for n = 2^10 ... 2^16, both measured side by side in one run.
   Exact points are skipped once their predicted time (quadratic extrapolation
   of the last measured one) passes --exact-limit seconds.  Prints ratios, the
   log-log slopes and the crossover.
2. Fast-gradient error per layer and against depth m = 1 ... 8 (n = 256), next
   to the paper's bound with every poly(n) set to 1
   (:func:`algorithms.transformer.paper_depth_bound`).

Run ``OMP_NUM_THREADS=1 python bench/transformer.py`` (``--quick`` for a smoke
run in about half a minute; ``--plot FILE.png`` to save the timing plot).  Saves
``bench/results/transformer.json`` (:mod:`_results`): ``data.timing.rows``
(seconds; exact ``null`` where skipped), slopes and crossover, and
``data.depth.rows``; notebook 05 draws its timing figure from it.
"""

from __future__ import annotations

import argparse

import numpy as np
from _results import save_results
from _timing import best_time, slope

from algorithms.features import feature_rank
from algorithms.transformer import (
    TransformerConfig,
    attention_approximation,
    gradient_errors,
    init_params,
    loss_and_grad,
    paper_depth_bound,
)


def config(layers: int) -> TransformerConfig:
    return TransformerConfig(
        d=8, heads=2, d_head=4, d_ff=16, layers=layers, d_out=8, causal=True, layer_norm=True, bound=1.0
    )


def gradient_time(params, X, mode: str, eps: float, repeats: int) -> float:
    block = 64 if mode == "fast" else 128
    return best_time(lambda: loss_and_grad(params, X, X, mode=mode, eps=eps, block=block), repeats)


def timing(ns, eps: float, exact_limit: float, plot: str | None) -> dict:
    cfg = config(4)
    params = init_params(cfg, np.random.default_rng(0))
    approx = attention_approximation(cfg.bound, eps)
    r = feature_rank(cfg.d_head, approx.degree)
    print(
        f"## Gradient time: m={cfg.layers} layers, h={cfg.heads} heads, d_h={cfg.d_head}, causal, "
        f"B={cfg.bound}, eps={eps:g} (degree g={approx.degree}, rank r={r})"
    )
    print(f"{'n':>7} {'exact s':>9} {'fast s':>9} {'exact/fast':>11}")
    rows, last_exact = [], None
    for n in ns:
        X = np.random.default_rng(n).uniform(-1, 1, (n, cfg.d))
        repeats = 3 if n <= 4096 else 1
        fast = gradient_time(params, X, "fast", eps, repeats)
        exact = None
        if last_exact is None or last_exact[1] * (n / last_exact[0]) ** 2 <= exact_limit:
            exact = gradient_time(params, X, "exact", eps, repeats)
            last_exact = (n, exact)
        rows.append((n, exact, fast))
        ratio = f"{exact / fast:11.2f}" if exact else f"{'-':>11}"
        print(f"{n:7d} {exact if exact else float('nan'):9.3f} {fast:9.3f} {ratio}", flush=True)
    ns_all = [n for n, _, _ in rows]
    fast_t = [f for _, _, f in rows]
    measured = [(n, e, f) for n, e, f in rows if e is not None]
    print(f"log-log slope, fast  (n={ns_all[0]}..{ns_all[-1]}): {slope(ns_all, fast_t):.3f}")
    if len(ns_all) >= 3:
        upper = ns_all[len(ns_all) // 2 :]
        print(f"log-log slope, fast  (n={upper[0]}..{upper[-1]}): {slope(upper, fast_t[len(ns_all) // 2:]):.3f}")
    if len(measured) >= 2:
        print(
            f"log-log slope, exact (n={measured[0][0]}..{measured[-1][0]}): "
            f"{slope([m[0] for m in measured], [m[1] for m in measured]):.3f}"
        )
    faster = [n for n, e, f in measured if f < e]
    print(f"crossover: fast is faster from n = {faster[0] if faster else 'none measured'}"
          f" (smallest measured n where fast < exact)")
    result = dict(
        layers=cfg.layers, heads=cfg.heads, d_head=cfg.d_head, d=cfg.d, B=cfg.bound, eps=eps, degree=approx.degree,
        rank=r, rows=[dict(n=n, exact=e, fast=f) for n, e, f in rows],
        slope_fast=slope(ns_all, fast_t), slope_exact=slope([m[0] for m in measured], [m[1] for m in measured])
        if len(measured) >= 2 else None, crossover=faster[0] if faster else None,
    )
    n_big, e_big, f_big = measured[-1]
    print(f"speed-up at the largest exact point n={n_big}: {e_big / f_big:.1f}x")
    if ns_all[-1] > n_big:
        predicted = e_big * (ns_all[-1] / n_big) ** 2
        print(
            f"speed-up at n={ns_all[-1]} against exact extrapolated as n^2 from n={n_big}: "
            f"{predicted / fast_t[-1]:.0f}x (exact ~{predicted:.0f} s, not run)"
        )
    if plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.loglog([m[0] for m in measured], [m[1] for m in measured], "o-", label="exact", base=2)
        ax.loglog(ns_all, fast_t, "s-", label=f"fast (eps={eps:g}, r={r})", base=2)
        ax.set_xlabel("n")
        ax.set_ylabel("seconds per gradient")
        ax.set_title("4-layer causal transformer, full gradient")
        ax.legend()
        fig.tight_layout()
        fig.savefig(plot, dpi=120)
        print(f"plot written to {plot}")
    return result


def depth(depths, n: int, eps: float, seeds: int) -> dict:
    print(f"\n## Fast-gradient error vs depth: n={n}, eps={eps:g}, h=2, d_h=4, causal, pre-LN, B=1, {seeds} seeds")
    print("max |g~ - g| over each layer's weights (max over seeds); relative = / max |g| of that layer")
    print(f"{'m':>3} {'max abs err':>12} {'max rel err':>12} {'paper bound':>12}  per-layer abs err (layer 1 .. m)")
    worst, table = [], []
    for m in depths:
        absolute, relative = np.zeros(m), np.zeros(m)
        for seed in range(seeds):
            params = init_params(config(m), np.random.default_rng(100 + seed))
            X = np.random.default_rng(200 + seed).uniform(-1, 1, (n, 8))
            out = gradient_errors(params, X, X, eps=eps)
            absolute = np.maximum(absolute, out["absolute"])
            relative = np.maximum(relative, out["relative"])
        bound = paper_depth_bound(eps, n, 8, 4, 2, m)
        worst.append(absolute.max())
        table.append(dict(m=m, absolute=absolute.max(), relative=relative.max(), bound=bound,
                          per_layer=absolute.tolist()))
        per_layer = " ".join(f"{a:.1e}" for a in absolute)
        print(f"{m:3d} {absolute.max():12.2e} {relative.max():12.2e} {bound:12.2e}  {per_layer}", flush=True)
    if len(depths) >= 2:
        factor = float(np.exp(np.polyfit(depths, np.log(worst), 1)[0]))
        kappa = (n * 8 + 1) * 2 * n**2 * 8 * 4
        print(f"measured growth of the max error per added layer (geometric fit): x{factor:.2f}; "
              f"the paper's per-layer factor with poly(n)=1: x{kappa:.2e}")
    return dict(n=n, eps=eps, seeds=seeds, rows=table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 2^10 ... 2^14 and depth 1..3 at n = 64 (half a minute)")
    parser.add_argument("--eps", type=float, default=1e-6)
    parser.add_argument("--exact-limit", type=float, default=60.0, help="skip exact points predicted above this (s)")
    parser.add_argument("--plot", default=None, help="save the timing plot to this PNG file")
    args = parser.parse_args()
    if args.quick:
        times = timing([2**k for k in range(10, 15)], args.eps, args.exact_limit, args.plot)
        errors = depth([1, 2, 3], 64, args.eps, 1)
    else:
        times = timing([2**k for k in range(10, 17)], args.eps, args.exact_limit, args.plot)
        errors = depth(list(range(1, 9)), 256, args.eps, 3)
    command = "OMP_NUM_THREADS=1 python bench/transformer.py" + (" --quick" if args.quick else "")
    print(f"results written to {save_results('transformer', command, dict(timing=times, depth=errors), quick=args.quick)}")


if __name__ == "__main__":
    main()
