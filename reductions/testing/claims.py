"""The project's reductions' declared sizes, as :class:`~reductions.testing.sizes.SizeClaim` objects.

Each function returns the claim its reduction's docstring (and the table of
docs/reductions.md) states, in the source's parameters, with a ``measure``
that reads the sizes off the target built by the adapter of
:mod:`reductions.testing.adapters` (or the reduction itself where it already
has the checker's shape).  Entry bounds ``B`` are claimed as upper bounds
(:func:`~reductions.testing.sizes.at_most`): an all-zero 0/1 instance has
``B = 0``; every other size is claimed exactly.
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy import Max, Min, ceiling, floor, log, sqrt

from reductions.testing.sizes import SizeClaim, at_most

__all__ = [
    "sat_to_ov_sizes",
    "sat_to_kov_sizes",
    "ov_to_attention_sizes",
    "kov_to_tensor_attention_sizes",
    "gap_to_attention_sizes",
    "hamming_to_attention_sizes",
    "gap3_to_tensor_attention_sizes",
    "ov_to_gap_sizes",
    "attention_to_gradient_sizes",
    "tensor_attention_to_gradient_sizes",
]

n, M, m, d, d_v = sympy.symbols("n M m d d_v", integer=True, nonnegative=True)
N_a, N_b, N_c, n1, n2 = sympy.symbols("N_a N_b N_c n1 n2", integer=True, positive=True)
t_lo, t_hi, t_near, t_far = sympy.symbols("t_lo t_hi t_near t_far", integer=True, nonnegative=True)
Q_max, K_max = sympy.symbols("Q_max K_max", nonnegative=True)


def _cnf_parameters(f) -> dict:
    return {"n": f.num_vars, "M": f.num_clauses}


def sat_to_ov_sizes() -> SizeClaim:
    """``N_a = 2^{ceil(n/2)}``, ``N_b = 2^{floor(n/2)}``, ``m = M`` (Williams' split and list).

    Examples
    --------
    >>> sat_to_ov_sizes().claims
    {'N_a': 2**ceiling(n/2), 'N_b': 2**floor(n/2), 'm': M}
    """
    return SizeClaim({"N_a": 2 ** ceiling(n / 2), "N_b": 2 ** floor(n / 2), "m": M}, _cnf_parameters,
                     lambda f, inst: {"N_a": inst.N_a, "N_b": inst.N_b, "m": inst.m})


def sat_to_kov_sizes(k: int) -> SizeClaim:
    """``N_t = 2^{floor((n + k - t)/k)}`` for part ``t = 1..k`` (``ceil`` then ``floor`` of ``n/k``), ``m = M``.

    Examples
    --------
    >>> sat_to_kov_sizes(3).claims["N_1"]
    2**floor(n/3 + 2/3)
    """
    claims = {f"N_{t + 1}": 2 ** floor((n + k - 1 - t) / k) for t in range(k)}
    return SizeClaim({**claims, "m": M}, _cnf_parameters,
                     lambda f, inst: {**{f"N_{t + 1}": N for t, N in enumerate(inst.sizes)}, "m": inst.m})


def _attention_measure(source, target) -> dict:
    return {"n": target.n, "d": target.d, "beta": target.beta, "B": target.B}


def ov_to_attention_sizes() -> SizeClaim:
    """``n = max(N_a, N_b + 1)``, ``d = max(m, 1)``, ``beta = ln(2 N_b) + 1``, ``B <= sqrt(d beta)``."""
    beta = log(2 * N_b) + 1
    return SizeClaim({"n": Max(N_a, N_b + 1), "d": Max(m, 1), "beta": beta, "B": at_most(sqrt(Max(m, 1) * beta))},
                     lambda ov: {"N_a": ov.N_a, "N_b": ov.N_b, "m": ov.m}, _attention_measure)


def _kov3_parameters(kov) -> dict:
    return {"N_a": kov.sizes[0], "N_b": kov.sizes[1], "N_c": kov.sizes[2], "m": kov.m}


def kov_to_tensor_attention_sizes() -> SizeClaim:
    """``n = max(N_a, N_b + 1, N_c + 1)``, ``d = max(m, 1)``, ``beta = ln(2 N_b N_c) + 1``, ``B <= (d beta)^{1/3}``."""
    beta = log(2 * N_b * N_c) + 1
    return SizeClaim({"n": Max(N_a, N_b + 1, N_c + 1), "d": Max(m, 1), "beta": beta,
                      "B": at_most((Max(m, 1) * beta) ** sympy.Rational(1, 3))}, _kov3_parameters, _attention_measure)


def _gap_parameters(g) -> dict:
    out = {"N_a": g.A.shape[0], "N_b": g.B.shape[0], "m": g.m}
    if hasattr(g, "C"):
        out["N_c"] = g.C.shape[0]
    if hasattr(g, "t_near"):
        return {**out, "t_near": g.t_near, "t_far": g.t_far}
    return {**out, "t_lo": g.t_lo, "t_hi": g.t_hi}


def gap_to_attention_sizes(margin: float = 4.0) -> SizeClaim:
    """``n = max(N_a, N_b + 1)``, ``d = m``, ``beta = ln(margin N_b) / Delta``, ``B <= sqrt(m beta)``."""
    beta = log(sympy.nsimplify(margin) * N_b) / (t_hi - t_lo)
    return SizeClaim({"n": Max(N_a, N_b + 1), "d": m, "beta": beta, "B": at_most(sqrt(m * beta))}, _gap_parameters,
                     _attention_measure)


def hamming_to_attention_sizes(margin: float = 4.0) -> SizeClaim:
    """``n = max(N_a, 2 N_b)``, ``d = 2m``, ``beta = ln(margin N_b) / (t_far - t_near)``, ``B = sqrt(2 m beta)``."""
    beta = log(sympy.nsimplify(margin) * N_b) / (t_far - t_near)
    return SizeClaim({"n": Max(N_a, 2 * N_b), "d": 2 * m, "beta": beta, "B": sqrt(2 * m * beta)}, _gap_parameters,
                     _attention_measure)


def gap3_to_tensor_attention_sizes(margin: float = 4.0) -> SizeClaim:
    """``n = max(N_a, N_b + 1, N_c + 1)``, ``d = m``, ``beta = ln(margin N_b N_c) / Delta``, ``B <= (m beta)^{1/3}``."""
    beta = log(sympy.nsimplify(margin) * N_b * N_c) / (t_hi - t_lo)
    return SizeClaim({"n": Max(N_a, N_b + 1, N_c + 1), "d": m, "beta": beta,
                      "B": at_most((m * beta) ** sympy.Rational(1, 3))}, _gap_parameters, _attention_measure)


def _common(name: str, values) -> int:
    values = {int(v) for v in values}
    if len(values) != 1:
        raise ValueError(f"the targets differ in {name}: {sorted(values)[:5]}")
    return values.pop()


def ov_to_gap_sizes(k: int = 2, T: int | None = None, q: int | None = None) -> SizeClaim:
    """The family's sizes as :func:`reductions.ov_to_gap.family_sizes` declares them, at the reduction's ``(T, K, q)``.

    Checked: ``instances = q^{k(T-1)}``, ``dimension = q^{(k-1)K+1}``, ``t_lo = k(T-1)``,
    ``t_hi = q``, ``weight_1`` (ones in every vector of the first party) and
    ``entries`` (0/1 entries of one instance); ``N_a, N_b (, N_c)`` rows kept.
    ``T`` and ``q`` are the reduction's choices (:func:`~reductions.ov_to_gap.default_parameters`,
    or the given values), ``K = ceil(m/T)``.
    """
    from reductions.ov_to_gap import default_parameters, family_sizes

    declared = family_sizes(k)
    keys = ("instances", "dimension", "t_lo", "t_hi", "weight_1", "entries")
    names = ("N_a", "N_b", "N_c")[:k]
    claims = {key: declared[key] for key in keys} | {f"{name}_kept": sympy.Symbol(name) for name in names}

    def parameters(source) -> dict:
        sets = source.sets if hasattr(source, "sets") else (source.A, source.B)
        T_, K_, q_ = default_parameters(sets[0].shape[1], k, T, q)
        return {**{name: X.shape[0] for name, X in zip(names, sets)}, "m": sets[0].shape[1], "T": T_, "K": K_,
                "q": q_}

    def measure(source, pairs) -> dict:
        sets = [[np.asarray(X) for X in ([g.A, g.B] + ([g.C] if k == 3 else []))] for _, g in pairs]
        out = {"instances": len(pairs), "dimension": _common("dimension", (g.m for _, g in pairs)),
               "t_lo": _common("t_lo", (g.t_lo for _, g in pairs)), "t_hi": _common("t_hi", (g.t_hi for _, g in pairs)),
               "weight_1": _common("weight_1", (w for s in sets for w in s[0].sum(axis=1))),
               "entries": _common("entries", (sum(X.size for X in s) for s in sets))}
        return out | {f"{name}_kept": _common(name, (s[p].shape[0] for s in sets)) for p, name in enumerate(names)}

    return SizeClaim(claims, parameters, measure)


def _qkv_parameters(source) -> dict:
    Q, K, V = (np.asarray(X, dtype=float) for X in source[:3])
    return {"n": Q.shape[0], "m": K.shape[0], "d": Q.shape[1], "d_v": V.shape[1],
            "Q_max": float(np.abs(Q).max()), "K_max": float(np.abs(K).max())}


def attention_to_gradient_sizes() -> SizeClaim:
    """Blocks of ``b = d`` rows: ``ceil(n/d)`` calls, head dimension ``D = d + 2(d_v+1) + min(d, n)``,
    ``m + 2(d_v+1)`` keys, entries ``||A1||_inf <= max(sqrt(D/d) ||Q||_inf, 1)`` (``A2``: ``||K||_inf``).
    """
    D = d + 2 * (d_v + 1) + Min(d, n)
    grow = sqrt((2 * d + 2 * d_v + 2) / d)
    return SizeClaim({"calls": ceiling(n / d), "D": D, "keys": m + 2 * (d_v + 1),
                      "A1_max": at_most(Max(grow * Q_max, 1)), "A2_max": at_most(Max(grow * K_max, 1))},
                     _qkv_parameters,
                     lambda source, targets: {"calls": len(targets), "D": max(t.D for t in targets),
                                              "keys": _common("keys", (t.A2.shape[0] for t in targets)),
                                              "A1_max": max(float(np.abs(t.A1).max()) for t in targets),
                                              "A2_max": max(float(np.abs(t.A2).max()) for t in targets)})


def tensor_attention_to_gradient_sizes() -> SizeClaim:
    """Blocks of ``b = d`` rows: ``ceil(n/d)`` calls, ``D = max(d + 2p + 1 + min(d, n), 3p + 1)`` with
    ``p = d_v + 1``, ``n1 + 2p`` and ``n2 + 1`` keys.
    """
    p = d_v + 1
    return SizeClaim({"calls": ceiling(n / d), "D": Max(d + 2 * p + 1 + Min(d, n), 3 * p + 1), "keys1": n1 + 2 * p,
                      "keys2": n2 + 1},
                     lambda s: {"n": s[0].shape[0], "d": s[0].shape[1], "d_v": s[3].shape[1], "n1": s[1].shape[0],
                                "n2": s[2].shape[0]},
                     lambda source, targets: {"calls": len(targets), "D": max(t.D for t in targets),
                                              "keys1": _common("keys1", (t.A2.shape[0] for t in targets)),
                                              "keys2": _common("keys2", (t.A3.shape[0] for t in targets))})
