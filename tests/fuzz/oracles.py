"""Reference answers for the fuzz targets, written from the definitions and sharing no code with the library.

Attention (matrix, tensor, poly) is computed in mpmath at 256 bits from the
float64 values of the inputs, so logits of ``1e300`` or ``1e-300`` neither
overflow nor underflow: every key is a tuple of rows, its logit the exact sum of
products, its value the entrywise product of value rows.  A float64 routine
cannot do better than the rounding of its logits, so each reference comes
with a tolerance: ``Delta`` bounds the absolute rounding of every logit
(``(terms + 8) u sum |products|`` with ``u = 2^-53``), a weight is then off by
a factor ``e^{±2 Delta}``, and the tolerance of an output entry is that
relative error times the sum of the absolute values the entry is built from,
plus the rounding of the final sums, plus float64's underflow: an intermediate
below ``2^-1074`` is off by that much, times the factors that multiply it later
(a weight times one factor of a value product, ``<dO, O>`` times ``Q``).  Where ``2 Delta > 1/2`` the logits
themselves are not determined by float64 and only the convex-hull property of
the output is checked (:func:`attention_reference` returns ``tol=None``).

SAT, OV and gap problems are decided by brute force over all assignments,
pairs or triples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import mpmath
import numpy as np

__all__ = ["U", "Reference", "attention_reference", "attention_vjp_reference", "column_kron_keys",
           "satisfiable", "satisfies", "has_orthogonal_pair", "max_inner_product", "as_float_matrix", "mp_rows", "softmax_reference"]

U = 2.0**-53
_PREC = 256
TINY = 2.0**-1074


def as_float_matrix(X) -> np.ndarray | None:
    """``X`` as a finite non-empty float64 2-d array, or ``None`` if it is not one (the input a library must refuse)."""
    try:
        A = np.asarray(X)
    except (TypeError, ValueError):
        return None
    if A.dtype.kind not in "biuf" or A.ndim != 2 or A.size == 0:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        A = A.astype(np.float64)
    return A if np.all(np.isfinite(A)) else None


class Reference:
    """A reference output ``value`` (float64 array), its entrywise tolerance ``tol`` (``None``: only the hull),
    and per column the range ``[lo, hi]`` every output must lie in (a convex combination of value rows)."""

    def __init__(self, value: np.ndarray, tol: np.ndarray | None, lo: np.ndarray, hi: np.ndarray,
                 floor: float = 0.0) -> None:
        self.value, self.tol, self.lo, self.hi, self.floor = value, tol, lo, hi, floor

    def mismatch(self, out, bound=0.0) -> str | None:
        """``None`` if ``out`` matches, else a one-line description of the worst entry.

        ``bound``: an approximation's own certified error (per column or entry), added to the
        tolerance and to the slack of the range check."""
        out = np.asarray(out, dtype=np.float64)
        if out.shape != self.value.shape:
            return f"shape {out.shape}, expected {self.value.shape}"
        bound = np.broadcast_to(np.asarray(bound, dtype=np.float64), out.shape)
        slack = 4 * U * np.maximum(np.abs(self.lo), np.abs(self.hi)) + 4 * TINY + self.floor + bound
        outside = (out < self.lo - slack) | (out > self.hi + slack)
        if outside.any():
            i = tuple(np.argwhere(outside)[0])
            return f"entry {i} = {out[i]!r} outside the values' range [{self.lo[i[-1]]!r}, {self.hi[i[-1]]!r}]"
        if self.tol is None:
            return None
        err = np.abs(out - self.value)
        bad = err > self.tol + bound
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            return (f"entry {i} = {out[i]!r}, reference {self.value[i]!r}, error {err[i]:.3g} > tolerance "
                    f"{(self.tol + bound)[i]:.3g}")
        return None


def mp_rows(X: np.ndarray) -> list[list[mpmath.mpf]]:
    """The rows of ``X`` as lists of exact mpmath numbers."""
    return [[mpmath.mpf(float(x)) for x in row] for row in X]


def column_kron_keys(*Ks: np.ndarray) -> list[list[mpmath.mpf]]:
    """Rows ``K1[j1] ∘ K2[j2] ∘ ...`` (first index slowest), exactly in mpmath (the keys of tensor attention)."""
    with mpmath.workprec(_PREC):
        rows = [mp_rows(K) for K in Ks]
        return [[math.prod(parts, start=mpmath.mpf(1)) for parts in zip(*combo)] for combo in itertools.product(*rows)]


def _softmax(logits: list, mags: list, terms: int):
    """Weights ``P[i][j]`` of rows of mp logits, and ``Delta`` from the rows of ``sum |products|``."""
    P, delta = [], 0.0
    for row, mag in zip(logits, mags):
        delta = max(delta, float(max(mag)) * (terms + 8) * U)
        top = max(row)
        w = [mpmath.exp(s - top) for s in row]
        total = mpmath.fsum(w)
        P.append([x / total for x in w])
    return P, delta


def _weights(Q, keys, scale: float, terms: int):
    """Softmax weights of ``Q keys^T scale`` (mp rows), and ``Delta``: the largest absolute rounding of a logit."""
    logits = [[mpmath.fsum(a * b for a, b in zip(q, k)) * scale for k in keys] for q in Q]
    mags = [[mpmath.fsum(abs(a * b) for a, b in zip(q, k)) * scale for k in keys] for q in Q]
    return _softmax(logits, mags, terms)


def softmax_reference(logits: list, mags: list, values: list, terms: int, amplify: float = 1.0) -> Reference:
    """``sum_j softmax(logits_i)_j values_j`` for mp ``logits[i][j]``, ``mags[i][j]`` (the sum of absolute
    products behind each logit) and mp ``values[j]`` rows; ``terms``: rounded operations per float64 logit.

    ``amplify``: where a value row is a product of factors (tensor and poly-attention), a factor's
    product with a weight may underflow (off by ``2^-1074``) before the others multiply it: the
    absolute floor of the tolerance is ``2^-1074`` times ``amplify``, the largest product of the other factors.
    """
    with mpmath.workprec(_PREC):
        P, delta = _softmax(logits, mags, terms)
        dv, m = len(values[0]), len(values)
        out = np.array([[float(mpmath.fsum(p[j] * values[j][c] for j in range(m))) for c in range(dv)] for p in P])
        lo = np.broadcast_to(np.array([float(min(v[c] for v in values)) for c in range(dv)]), out.shape)
        hi = np.broadcast_to(np.array([float(max(v[c] for v in values)) for c in range(dv)]), out.shape)
        floor = 8 * m * TINY * amplify
        if 2 * delta > 0.5:
            return Reference(out, None, lo, hi, floor)
        rel = 2 * math.expm1(2 * delta) + (m + 8) * 4 * U
        mag = np.array([[float(mpmath.fsum(p[j] * abs(values[j][c]) for j in range(m))) for c in range(dv)]
                        for p in P])
        tol = np.minimum(rel * mag, hi - lo) + (m + 8) * 4 * U * mag + floor
        return Reference(out, tol, lo, hi, floor)


def attention_reference(Q: np.ndarray, keys, values, scale: float, terms: int) -> Reference:
    """``softmax(Q keys^T scale) values`` for float64 ``Q`` and mp (or float64) ``keys``/``values`` rows.

    ``terms``: the number of rounded operations in one float64 logit (``d`` for a
    dot product, ``(k - 1) d`` for products of ``k`` rows).
    """
    with mpmath.workprec(_PREC):
        Qm = mp_rows(Q)
        keys = keys if isinstance(keys[0][0], mpmath.mpf) else mp_rows(keys)
        vals = values if isinstance(values[0][0], mpmath.mpf) else mp_rows(values)
        logits = [[mpmath.fsum(a * b for a, b in zip(q, k)) * scale for k in keys] for q in Qm]
        mags = [[mpmath.fsum(abs(a * b) for a, b in zip(q, k)) * scale for k in keys] for q in Qm]
        return softmax_reference(logits, mags, vals, terms)


def attention_vjp_reference(Q: np.ndarray, K: np.ndarray, V: np.ndarray, dO: np.ndarray):
    """Exact ``(dQ, dK, dV)`` of ``<Att(Q, K, V), dO>`` and their tolerances, or ``None`` where float64 logits
    are not determined (``2 Delta > 1/2``).

    ``dS = P ∘ (dO V^T - delta 1^T)``, ``delta_i = <dO_i, O_i>``; ``dQ = dS K / d``,
    ``dK = dS^T Q / d``, ``dV = P^T dO``.  The tolerance of each entry is a relative
    error times the same sums with every term replaced by its absolute value, plus
    float64's underflow (``2^-1074`` per intermediate, times the last factor).
    """
    d = Q.shape[1]
    with mpmath.workprec(_PREC):
        Qm, Km, Vm, dOm = mp_rows(Q), mp_rows(K), mp_rows(V), mp_rows(dO)
        P, delta = _weights(Qm, Km, 1.0 / d, d)
        if 2 * delta > 0.5:
            return None
        n, m, dv = len(Qm), len(Km), len(Vm[0])
        out = [[mpmath.fsum(P[i][j] * Vm[j][c] for j in range(m)) for c in range(dv)] for i in range(n)]
        dlt = [mpmath.fsum(dOm[i][c] * out[i][c] for c in range(dv)) for i in range(n)]
        G = [[mpmath.fsum(dOm[i][c] * Vm[j][c] for c in range(dv)) for j in range(m)] for i in range(n)]
        Gabs = [[mpmath.fsum(abs(dOm[i][c] * Vm[j][c]) for c in range(dv)) + abs(dlt[i]) for j in range(m)]
                for i in range(n)]
        dS = [[P[i][j] * (G[i][j] - dlt[i]) for j in range(m)] for i in range(n)]
        dSa = [[P[i][j] * Gabs[i][j] for j in range(m)] for i in range(n)]

        def prod(A, B, rows, inner, cols, tA=False):
            at = (lambda i, k: A[k][i]) if tA else (lambda i, k: A[i][k])
            return np.array([[float(mpmath.fsum(at(i, k) * B[k][c] for k in range(inner))) for c in range(cols)]
                             for i in range(rows)])

        absK, absQ, absdO = ([[abs(x) for x in r] for r in M] for M in (Km, Qm, dOm))
        dQ, dQa = prod(dS, Km, n, m, d) / d, prod(dSa, absK, n, m, d) / d
        dK, dKa = prod(dS, Qm, m, n, d, tA=True) / d, prod(dSa, absQ, m, n, d, tA=True) / d
        dV, dVa = prod(P, dOm, m, n, dv, tA=True), prod(P, absdO, m, n, dv, tA=True)
    rel = 6 * math.expm1(2 * delta) + (m + d + dv + 8) * 8 * U
    # float64 underflow: an intermediate (a weight, dO V^T, dS) below 2^-1074 is off by that much in absolute terms,
    # and the last product multiplies it by K, Q or dO: the floor of each gradient.
    c = 16 * (n + 1) * (m + 1) * (dv + 1) * TINY
    top = {k: float(np.max(np.abs(X))) for k, X in (("Q", Q), ("K", K), ("V", V), ("dO", dO))}
    with np.errstate(over="ignore"):  # a subnormal intermediate (O = P V, dS K) times the later factors
        floors = [c * (1 + top["dO"]) * (1 + top["V"]) * (1 + top[k]) for k in ("K", "Q")] + [c * (1 + top["dO"])]
    return [(g, rel * a + f) for (g, a), f in zip(((dQ, dQa), (dK, dKa), (dV, dVa)), floors)]


# ---------------------------------------------------------------------------- brute force
def satisfies(num_vars: int, clauses: Sequence[Sequence[int]], assignment) -> bool:
    """Whether ``assignment`` (``assignment[v]`` the value of variable ``v``, ``1..num_vars``) satisfies every clause."""
    return all(any(bool(assignment[abs(lit)]) == (lit > 0) for lit in c) for c in clauses)


def satisfiable(num_vars: int, clauses: Sequence[Sequence[int]]) -> bool:
    """Brute force over all ``2^num_vars`` assignments (tiny formulas only)."""
    for bits in itertools.product((False, True), repeat=num_vars):
        if satisfies(num_vars, clauses, (None, *bits)):
            return True
    return False


def has_orthogonal_pair(*sets: np.ndarray) -> bool:
    """Whether some tuple of rows, one per set, has no coordinate where all are 1."""
    for rows in itertools.product(*(np.asarray(S, dtype=np.int64) for S in sets)):
        if not np.any(np.all(np.array(rows) == 1, axis=0)):
            return True
    return False


def max_inner_product(*sets: np.ndarray) -> int:
    """``max sum_l a_l b_l (c_l)`` over tuples of rows (the gap problems' optimum)."""
    return max(int(np.sum(np.prod(np.array(rows), axis=0)))
               for rows in itertools.product(*(np.asarray(S, dtype=np.int64) for S in sets)))
