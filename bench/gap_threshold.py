"""The threshold on the reductions' own instances: what the fast path does, and why, in both arithmetics.

For each instance: n, d, the worst-case B^k, the logit interval the fast path certifies in O(n d) (the
instance's actual logits lie there), the eps the decoder needs, whether exact attention decides, and what
the fast path does at that eps in float64 and in mpmath -- runs (degree, rank, error <= bound, seconds,
decided correctly) or refuses with its reason: "cost" (degree and rank cost more flops than exact
attention: the complexity phenomenon) or "float64" (float64 cannot evaluate the polynomial: a limit of
the arithmetic).  Instances: planted gap max-IP at the threshold (Alman & Song 2023 Thm 1.4's shape,
N = 24, m = 32, gap 3), its t_lo = 0 version on disjoint supports at toy size (B^2 = 2 ln(2N): the same
Theta(log n) scale, not below it), the tensor one at (log n)^(1/3), SAT -> OV -> attention for two
four-variable formulas (B = Theta(log N), beyond the threshold), and, for contrast, the honest family
*below* the threshold (random entries in [-B, B], B = sqrt(ln n)/ln ln n, d = ceil(log2 n), eps = 1/n),
where no reduction applies: nothing to decide, only the error against exact.

Usage: python bench/gap_threshold.py      (about half a minute)
"""

from __future__ import annotations

import time

import numpy as np

from algorithms.attention import attention
from algorithms.polynomial_method import FastPathUnavailable, logit_bounds
from algorithms.tensor_attention import tensor_attention
from reductions.cnf import CNF
from reductions.gap_to_attention import (
    disjoint_gap_instance,
    gap3_to_tensor_attention,
    gap_to_attention,
    planted_gap3_instance,
    planted_gap_instance,
)
from reductions.ov_to_attention import ov_to_attention
from reductions.sat_to_ov import sat_to_ov


def _fast(run, exact, decide, truth, eps, precision) -> str:
    t0 = time.perf_counter()
    try:
        res = run(method="fast", eps=eps, precision=precision)
    except FastPathUnavailable as exc:
        extra = (f": {exc.fast_flops:.2g} vs {exc.exact_flops:.2g} flops, g >= {exc.degree}"
                 if exc.reason == "cost" else f": needs {exc.digits:.0f} digits" if exc.reason == "float64" else "")
        return f"refuses ({exc.reason}{extra})"
    err = float(np.max(np.abs(res.output - exact)))
    ok = "" if decide is None else (" decides," if decide(res.output) is truth else " WRONG,")
    return (f"runs,{ok} g={res.degree}, r={res.rank}, err {err:.1g} <= {res.max_error_bound:.1g}, "
            f"{time.perf_counter() - t0:.2f} s")


def _row(name, answer, inst, keys, exact_fn, fast_fn, decide, truth, k):
    exact = exact_fn()
    b = logit_bounds(inst.Q, keys)
    ok = decide(exact) is truth if decide is not None else "-"
    cells = [_fast(fast_fn, exact, decide, truth, inst.eps, p) for p in ("float64", "mpmath")]
    print(f"| {name} | {answer} | {inst.Q.shape[0]} | {inst.Q.shape[1]} | {inst.B**k:.3g} | "
          f"[{b.lo:.3g}, {b.hi:.3g}] | {inst.eps:.2g} | {ok} | {cells[0]} | {cells[1]} |", flush=True)


def main() -> None:
    print("| instance | answer | queries | d | B^k | certified logits | decoder eps | exact decides | fast, float64 "
          "| fast, mpmath |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for yes in (True, False):
        src, _ = planted_gap_instance(24, 32, 6, 3, 6, yes=yes, seed=0)
        inst, _ = gap_to_attention(src)
        _row("matrix gap, at threshold (N=24, m=32, gap 3)", "yes" if yes else "no", inst, [inst.K],
             lambda: attention(inst.Q, inst.K, inst.V), lambda **kw: attention(inst.Q, inst.K, inst.V, **kw),
             inst.decide, yes, 2)
    for yes in (True, False):
        inst, _ = gap_to_attention(disjoint_gap_instance(6, 6, 3, yes=yes, seed=0), margin=2.0)
        _row("matrix gap, t_lo = 0, toy (N=6, m=6, gap 3)", "yes" if yes else "no", inst, [inst.K],
             lambda: attention(inst.Q, inst.K, inst.V), lambda **kw: attention(inst.Q, inst.K, inst.V, **kw),
             inst.decide, yes, 2)
    for yes in (True, False):
        src, _ = planted_gap3_instance(6, 24, 6, 1, 5, yes=yes, seed=1)
        inst, _ = gap3_to_tensor_attention(src)
        args = (inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)
        _row("tensor gap, at threshold (N=6, m=24, gap 4)", "yes" if yes else "no", inst, [inst.K1, inst.K2],
             lambda: tensor_attention(*args), lambda **kw: tensor_attention(*args, **kw), inst.decide, yes, 3)
    for sat, cnf in ((True, CNF(4, ((1, 2, 3), (-1, -4), (-2, 4), (-3,)))), (False, CNF(4, ((1, 2, 3), (-1,), (-2,), (-3,))))):
        ov, _ = sat_to_ov(cnf)
        inst, decode = ov_to_attention(ov.A, ov.B)
        inst = _WithEps(inst, 1e-6)
        _row("SAT -> OV -> attention, 4 variables, 4 clauses", "sat" if sat else "unsat", inst, [inst.K],
             lambda: attention(inst.Q, inst.K, inst.V), lambda **kw: attention(inst.Q, inst.K, inst.V, **kw),
             lambda out: decode(out) is not None, sat, 2)
    rng = np.random.default_rng(0)
    for log2_n in (6, 10):
        n, ln_n = 2**log2_n, log2_n * np.log(2)
        B = np.sqrt(ln_n) / np.log(ln_n)
        Q, K, V = (rng.uniform(-B, B, (n, log2_n)) for _ in range(3))
        inst = _Plain(Q, K, V, B, 1.0 / n)
        _row(f"below (honest family, n=2^{log2_n}, d=log2 n, eps=1/n)", "-", inst, [K],
             lambda: attention(Q, K, V), lambda **kw: attention(Q, K, V, **kw), None, None, 2)


class _WithEps:
    """An OV attention instance with the eps its decoder is run at (the pipeline's default)."""

    def __init__(self, inst, eps):
        self.Q, self.K, self.V, self.eps = inst.Q, inst.K, inst.V, eps
        self.B = float(max(np.abs(inst.Q).max(), np.abs(inst.K).max()))


class _Plain:
    def __init__(self, Q, K, V, B, eps):
        self.Q, self.K, self.V, self.B, self.eps = Q, K, V, B, eps


if __name__ == "__main__":
    main()
