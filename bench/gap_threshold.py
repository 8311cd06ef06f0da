"""The threshold on the reductions' own instances: exact decodes, fast refuses or runs.

For gap max-IP instances mapped to attention by :func:`reductions.gap_to_attention.gap_to_attention`
(Alman & Song 2023 Thm 1.4; see docs/matrix-attention.md), prints for an instance at the threshold scale
B = Theta(sqrt(log n)) and one far below it: n, d, B^2, the eps the decoder needs, whether
exact attention decides correctly, what `attention_fast` does at that eps (at these sizes it refuses
because no float64 power-basis polynomial reaches that eps on [-B^k, B^k]: a float64 limit, not the
lower bound), and the degree and rank the polynomial method needs in exact arithmetic (lower bounds
from the Chebyshev truncation error: the cost, a separate phenomenon).  Also the
tensor analogue at B = Theta((log n)^(1/3)).

Usage: python bench/gap_threshold.py
"""

from __future__ import annotations

import numpy as np

from algorithms.attention import (
    attention,
    attention_error_bound,
    attention_fast,
    low_rank_attention,
)
from algorithms.tensor_attention import tensor_attention, tensor_attention_fast
from reductions.gap_to_attention import (
    gap3_to_tensor_attention,
    gap_to_attention,
    planted_gap3_instance,
    planted_gap_instance,
    polynomial_method_rank,
    separated_gap_instance,
)


def _fast_outcome(run) -> str:
    try:
        run()
    except ValueError:
        return "refuses: float64 limit (ValueError naming B)"
    return "runs"


def main() -> None:
    print("| instance | answer | n | d | B^k | decoder eps | exact decides | fast path | degree >= | rank >= |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for yes in (True, False):
        src, _ = planted_gap_instance(24, 32, 6, 3, 6, yes=yes, seed=0)
        inst, _ = gap_to_attention(src)
        exact_ok = inst.decide(attention(inst.Q, inst.K, inst.V)) is yes
        fast = _fast_outcome(lambda: attention_fast(inst.Q, inst.K, inst.V, eps=inst.eps))
        g, r = polynomial_method_rank(inst.B**2, inst.d, inst.eps)
        print(f"| matrix, at threshold (N=24, m=32, gap 3) | {'yes' if yes else 'no'} | {inst.n} | {inst.d} | "
              f"{inst.B**2:.1f} | {inst.eps:.2g} | {exact_ok} | {fast} | {g} | {r:.2g} |")
    for yes in (True, False):
        inst, _ = gap_to_attention(separated_gap_instance(6, 6, 3, yes=yes, seed=0), margin=2.0)
        P = low_rank_attention(inst.Q, inst.K, eps=inst.eps)
        out = P.apply(inst.V)
        err = float(np.max(np.abs(out - attention(inst.Q, inst.K, inst.V))))
        fast = (f"runs, decides {inst.decide(out) is yes}; error {err:.1g} <= bound "
                f"{attention_error_bound(P.entry_error, inst.V):.1g} <= tolerance {inst.tolerance:.2g}")
        print(f"| matrix, below (N=6, m=6, gap 3) | {'yes' if yes else 'no'} | {inst.n} | {inst.d} | "
              f"{inst.B**2:.2f} | {inst.eps:.2g} | True | {fast} | {P.degree} (used) | {P.rank} (used) |")
    for yes in (True, False):
        src, _ = planted_gap3_instance(6, 24, 6, 1, 5, yes=yes, seed=1)
        inst, _ = gap3_to_tensor_attention(src)
        exact_ok = inst.decide(tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)) is yes
        fast = _fast_outcome(lambda: tensor_attention_fast(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2, eps=inst.eps))
        g, r = polynomial_method_rank(inst.B**3, inst.d, inst.eps)
        print(f"| tensor, at threshold (N=6, m=24, gap 4) | {'yes' if yes else 'no'} | {inst.n} | {inst.d} | "
              f"{inst.B**3:.1f} | {inst.eps:.2g} | {exact_ok} | {fast} | {g} | {r:.2g} |")


if __name__ == "__main__":
    main()
