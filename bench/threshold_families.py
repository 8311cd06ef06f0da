"""The central figure's data: the polynomial method on three honest families, computed and measured.

For d = ceil(c log2 n) (c in {1/2, 1}), eps = 1/n (c' = 1), n = 2^4 ... 2^40 and the families of
algorithms.threshold_families ("deep_below": B = 1; "below": B = (ln n)^{1/k}/ln ln n; "at": logits in
[0, (k-1) ln n]), matrix (k = 2) and tensor (k = 3) attention: the certified degree g (float64 where it
certifies, else the Bessel certificate), the rank r = C(d + g, g), the exponent log(fast flops)/log n next
to exact's, and sympy's limits (C = 1.5).  Then, at the small n where both run, the fast path (its own
certified plan) and exact attention side by side on random inputs of each family: degree, rank, error
against the certified bound, wall times.  Writes bench/results/threshold_families.json (machine, date,
command), which notebook 04 draws without recomputing.

Usage: python bench/threshold_families.py [--quick]   (about 3 minutes; --quick: a coarse grid, no JSON)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np

from algorithms.threshold_families import (
    FAMILIES,
    RESULTS,
    asymptotes,
    family_curves,
    family_point,
    measure_point,
)

CS, C_PRIME = (0.5, 1.0), 1.0
FAMILY_TEXT = {"deep_below": "B = 1: logits in [-1, 1]",
               "below": "B = (ln n)^(1/k) / ln ln n: logits in [-B^k, B^k]",
               "at": "logits in [0, c'' ln n], c'' = k - 1: the planted gap instances with t_lo = 0"}
MEASURE_FLOPS = 3e8  # run the fast path only where the computed plan stays below this many flops
MEASURE_LOG2_N = {2: range(4, 13), 3: range(4, 9)}


def _measured() -> list[dict]:
    out = []
    for k, log2_ns in MEASURE_LOG2_N.items():
        for family in FAMILIES:
            for c in CS:
                for j in log2_ns:
                    p = family_point(family, k, j, c, C_PRIME)
                    if p["fast_flops"] > MEASURE_FLOPS:
                        break
                    m = measure_point(family, k, j, c, C_PRIME, seed=j)
                    assert m["error"] <= m["error_bound"], m
                    out.append(m)
                    print(f"measured k={k} {family:10s} c={c:g} n=2^{j:2d}: g={m['degree']:2d} r={m['rank']:>7d} "
                          f"err {m['error']:.1e} <= {m['error_bound']:.1e}  fast {m['fast_seconds']:.3f} s, "
                          f"exact {m['exact_seconds']:.3f} s", flush=True)
    return out


def _dump(data: dict) -> str:
    """JSON with one point per line and floats to 7 significant digits (a readable, diffable file)."""
    def tidy(v):
        if isinstance(v, float):
            return float(f"{v:.7g}")
        if isinstance(v, dict):
            return {k: tidy(x) for k, x in v.items()}
        if isinstance(v, list):
            return [tidy(x) for x in v]
        return v

    data = tidy(data)
    head = {k: v for k, v in data.items() if k not in ("computed", "measured")}
    lines = [json.dumps(head, indent=1)[:-2] + ","]
    for key in ("computed", "measured"):
        rows = ",\n  ".join(json.dumps(p) for p in data[key])
        lines.append(f' "{key}": [\n  {rows}\n ]' + ("," if key == "computed" else ""))
    return "\n".join(lines) + "\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse grid, print only, no JSON")
    args = parser.parse_args()
    t0 = time.perf_counter()
    log2_ns = [4, 10, 20, 40] if args.quick else list(range(4, 41))
    computed = family_curves(ks=(2, 3), cs=CS, c_prime=C_PRIME, log2_ns=log2_ns)
    for p in computed:
        if p["log2_n"] in (10, 20, 40):
            print(f"computed k={p['k']} {p['family']:10s} c={p['c']:g} n=2^{p['log2_n']:2d}: d={p['d']:2d} "
                  f"g={p['degree']:2d} ({p['source']}, >= {p['degree_lower']}) r={p['rank']:.3g} r/n={p['r_over_n']:.3g} "
                  f"exponent {p['fast_exponent']:.3f} (exact {p['exact_exponent']:.3f})", flush=True)
    if args.quick:
        return
    limits = {f"k={k},c={c:g}": asymptotes(k, c, C_PRIME) for k in (2, 3) for c in CS}
    print("sympy limits:", limits, flush=True)
    measured = _measured()
    data = dict(
        machine=dict(platform=platform.platform(), processor=platform.processor() or platform.machine(),
                     cpus=os.cpu_count(), python=sys.version.split()[0], numpy=np.__version__),
        date=datetime.date.today().isoformat(),
        command="python bench/threshold_families.py",
        seconds=round(time.perf_counter() - t0, 1),
        constants=dict(c=list(CS), c_prime=C_PRIME, c_double_prime={"2": 1, "3": 2}, aggarwal_alman_C=1.5,
                       d="ceil(c log2 n)", eps="n^-c'", measure_flops=MEASURE_FLOPS,
                       families=FAMILY_TEXT),
        notes=("computed: degree g certified by exp_approximation in float64 where it can ('float64'), else the "
               "smallest g with E_g(h) e^h <= eps ('bessel'); degree_lower: smallest g with E_g(h) e^-h <= eps; "
               "rank C(d + g, g); flops n r (2k(d+1) + k + 1) vs n^k (4d + 2). measured: the library's fast path "
               "(its own certified interval and plan) against exact attention on random inputs of the family; "
               "wall times from one run on a shared machine, indicative only. fast_flops in measured uses the "
               "rank that run used."),
        computed=computed,
        measured=measured,
        asymptotes=limits,
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(_dump(data), encoding="utf-8")
    print(f"wrote {RESULTS} in {data['seconds']} s")



if __name__ == "__main__":
    main()
