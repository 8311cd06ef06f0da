"""The tour: SAT -> OV -> attention -> decoded assignment on a built-in formula, stage by stage.

``python -m reductions tour`` (and ``make tour``) prints each object of the
chain with its sizes, its entry bound ``B`` and the time it took, then the same
question asked through tensor attention and through the gradient, and finally
the fast (polynomial-method) path refusing, because the reduction's entries
``B = Theta(log N)`` are far above the ``o(sqrt(log n))`` it needs, and last a
table of the chain's cost against brute force as the number of variables grows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from reductions.cnf import read_dimacs, solve

__all__ = ["BUILTIN_DIMACS", "run_tour", "scaling_table"]

BUILTIN_DIMACS = """\
c A 3-CNF on 8 variables, 24 clauses (ratio 3.0, below the 4.27 threshold).
c Satisfiable; its models are found by the attention computation below.
p cnf 8 24
1 -2 3 0
-1 4 -5 0
2 5 -6 0
-3 -4 7 0
6 -7 8 0
-1 -6 -8 0
2 -3 -7 0
-2 4 8 0
1 5 7 0
-4 -5 6 0
3 -6 -8 0
-1 2 -4 0
4 6 -7 0
-2 -5 8 0
1 -3 6 0
-6 7 -8 0
3 4 -5 0
-1 -7 8 0
2 -4 5 0
-3 5 -8 0
1 -2 -6 0
-5 7 8 0
2 3 -8 0
-1 -4 -7 0
"""


def _timed(fn: Callable):
    t0 = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - t0) * 1e3


def run_tour(
    dimacs: str = BUILTIN_DIMACS, out: Callable[[str], None] = print, quick: bool = False
) -> bool:
    """Print the chain on ``dimacs`` stage by stage; return whether the formula is satisfiable.

    Ends with :func:`scaling_table` on 16..24 variables (a few seconds), or on
    10..16 with ``quick``.

    Raises
    ------
    RuntimeError
        If any route disagrees with brute force (the tour doubles as a smoke test).
    """
    from algorithms.attention import attention
    from reductions.ov import find_orthogonal_pair
    from reductions.ov_to_attention import ov_to_attention
    from reductions.pipeline import decide_sat
    from reductions.sat_to_ov import sat_to_ov

    np.set_printoptions(linewidth=100)
    f = read_dimacs(dimacs)
    out("== Stage 0: the formula (DIMACS)")
    out(f"   n = {f.num_vars} variables, M = {f.num_clauses} clauses; first clauses: {list(f.clauses[:4])} ...")

    (ov, decode_ov), ms = _timed(lambda: sat_to_ov(f))
    out(f"\n== Stage 1: SAT -> OV (Williams' split and list)          {ms:8.2f} ms")
    out(f"   A: {ov.N_a} x {ov.m} (all assignments of x1..x{(f.num_vars + 1) // 2}), "
        f"B: {ov.N_b} x {ov.m} (the other half); one coordinate per clause")
    out(f"   a_0 = {ov.A[0]}")
    out(f"   (row 0 is x1..x{(f.num_vars + 1) // 2} all False; a 0 marks a clause that partial assignment satisfies)")
    out(f"   orthogonal pairs = satisfying assignments; brute force finds {find_orthogonal_pair(ov.A, ov.B)}")

    (inst, decode_att), ms = _timed(lambda: ov_to_attention(ov.A, ov.B))
    B = float(max(np.abs(inst.Q).max(), np.abs(inst.K).max()))
    out(f"\n== Stage 2: OV -> attention (logit -beta<a,b>, extra key with logit 0)   {ms:8.2f} ms")
    out(f"   Q: {inst.Q.shape}, K: {inst.K.shape}, V: {inst.V.shape}, beta = {inst.beta:.4g}, "
        f"entries B = {B:.4g} (logits in [-{B * B:.4g}, {B * B:.4g}])")

    y, ms = _timed(lambda: attention(inst.Q, inst.K, inst.V))
    out(f"\n== Stage 3: exact attention D^-1 exp(QK^T/d) V          {ms:8.2f} ms")
    out(f"   output column 0 (first 8 rows): {np.round(y[:8, 0], 4)}")

    pair, ms = _timed(lambda: decode_att(y))
    out(f"\n== Stage 4: decode the attention output -> orthogonal pair  {ms:8.2f} ms")
    out(f"   pair = {pair}")
    x = decode_ov(pair)
    out("\n== Stage 5: decode the pair -> assignment, and check it")
    truth = solve(f)
    if x is not None:
        out("   " + " ".join(f"x{v}={int(b)}" for v, b in x.items()) + f"   satisfies: {f.satisfies(x)}")
    else:
        out("   no orthogonal pair: UNSATISFIABLE")
    if (x is None) != (truth is None) or (x is not None and not f.satisfies(x)):
        raise RuntimeError("the attention route disagrees with brute force")
    out(f"   brute force agrees: {'SATISFIABLE' if truth else 'UNSATISFIABLE'}")

    for via in ("tensor_attention", "gradient"):
        sat, _, trace = decide_sat(f, via=via)
        out(f"\n== The same through {via}: {'SATISFIABLE' if sat else 'UNSATISFIABLE'}")
        out("   " + str(trace).replace("\n", "\n   "))
        if sat != (truth is not None):
            raise RuntimeError(f"the {via} route disagrees with brute force")

    out("\n== The fast (polynomial-method) path on the same instance")
    try:
        decide_sat(f, algorithm="fast")
        out("   it ran (unexpected at this entry bound)")
    except ValueError as exc:
        out(f"   refused: {exc}")
    scaling_table((10, 12, 14, 16) if quick else (16, 18, 20, 22, 24), out=out)
    return truth is not None


def scaling_table(sizes: Sequence[int] = (16, 18, 20, 22, 24), out: Callable[[str], None] = print) -> np.ndarray:
    """Time the exact chain and brute force on unsatisfiable 3-CNFs (both must scan everything).

    Returns the rows ``(n, N_a, seconds of decide_sat, seconds of solve)`` and
    prints them with the log2-slopes of time against ``n`` (about 1 each:
    both cost ``2^n`` up to polynomial factors, as SETH predicts for any chain).
    """
    from reductions.cnf import unsatisfiable_kcnf
    from reductions.pipeline import decide_sat

    out("\n== Cost of the chain against brute force (unsatisfiable 3-CNFs, M = round(4.27 n))")
    out(f"   {'n':>3} {'N = 2^ceil(n/2)':>16} {'decide_sat (s)':>15} {'brute force (s)':>16}")
    rows = []
    for n in sizes:
        g = unsatisfiable_kcnf(n, round(4.27 * n), 3, seed=n)
        (sat, _, _), t_chain = _timed(lambda: decide_sat(g))
        truth, t_brute = _timed(lambda: solve(g))
        if sat or truth is not None:
            raise RuntimeError("a planted unsatisfiable formula was reported satisfiable")
        rows.append((n, 2 ** ((n + 1) // 2), t_chain / 1e3, t_brute / 1e3))
        out(f"   {n:>3} {rows[-1][1]:>16} {rows[-1][2]:>15.4f} {rows[-1][3]:>16.4f}")
    rows = np.array(rows)
    half = rows[len(rows) // 2 :]  # the slope of the larger sizes, past fixed overheads
    slopes = [np.polyfit(half[:, 0], np.log2(half[:, c]), 1)[0] for c in (2, 3)]
    out(f"   log2-slope of time in n (upper half): decide_sat {slopes[0]:.2f}, brute force {slopes[1]:.2f}"
        " (2^n each, up to polynomial factors)")
    return rows
