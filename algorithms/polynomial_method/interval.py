"""The logit interval, certified in ``O(n d)``: step 1 of the polynomial method without forming a logit.

A mechanism of degree ``k`` has logits ``x = scale * sum_l X_1[i_1, l] ... X_k[i_k, l]``
(``k = 2``: ``<q, k>/d``).  Three enclosures, each ``O(sum_j n_j m)``, are
intersected (docs/polynomial-method.md, "Logit interval"):

* **interval products**: coordinate ``l`` contributes a product of ``k``
  numbers, each in its column's range ``[min_i X_j[i, l], max_i X_j[i, l]]``,
  so it lies between the smallest and the largest of the ``2^k`` corner
  products; summing over ``l`` encloses every logit.  For non-negative
  inputs (the reductions' 0/1 instances) this gives ``lo >= 0``;
* **Hoelder**: ``|x| <= scale max ||X_a[i]||_2 max ||X_b[j]||_2 prod_{c != a, b} max |X_c|``
  for any two factors ``a, b`` (Cauchy-Schwarz for ``k = 2``); the best pair is used;
* **the entry bound**: ``|x| <= columns * scale * B^k`` when ``B`` is promised.

Besides ``[lo, hi]`` the certificate carries two numbers the float64
rounding bound needs (:func:`algorithms.error_bounds.entry_error`): the
negative mass ``neg`` (``scale sum_l`` of the negative parts of the corner
minima) and ``absmax``, a bound on ``scale sum_l |X_1[i_1, l] ... X_k[i_k, l]|``
(the sum of the absolute terms a feature product adds up).  For every tuple,
``|x| <= absolute sum <= min(x + 2 neg, absmax)``.

Nothing overflows: each factor is divided by a power of two ``2^{e_j} >=
max |X_j|`` (exact), the enclosures are computed on numbers in ``[-1, 1]``,
and the common factor ``scale * 2^{sum e_j}`` is applied last by ``ldexp``;
a result beyond float64's range becomes ``inf``.  Every sum is widened
outward by its rounding bound ``gamma_{m+k+2} sum |terms|`` (Higham, Sec. 3.1),
so the certificate holds for the exact logits of the float64 inputs.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Sec. 3 (the worst-case interval ``[-B^2, B^2]``).
.. [2] N. J. Higham. Accuracy and Stability of Numerical Algorithms, 2nd ed.,
   SIAM 2002, Sec. 3.1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from algorithms.error_bounds import gamma

__all__ = ["LogitBounds", "logit_bounds", "log_rounding_magnitude"]


@dataclass(frozen=True)
class LogitBounds:
    """A certified enclosure of every logit of a degree-``k`` mechanism.

    Attributes
    ----------
    lo, hi : float
        Every logit lies in ``[lo, hi]`` (``lo <= hi``; possibly infinite when
        the logits leave float64's range).
    neg : float
        ``>= 0``; the absolute-term sum of every logit is at most ``x + 2 neg``.
    absmax : float
        ``>= 0``; the absolute-term sum of every logit is at most ``absmax``.
    bound_half_width : float
        ``m scale B^k`` when an entry bound ``B`` was given (``inf`` otherwise):
        ``[lo, hi]`` lies inside ``[-bound_half_width, bound_half_width]``.

    Examples
    --------
    >>> b = LogitBounds(0.0, 2.0, 0.0, 2.0)
    >>> b.centre, b.half_width
    (1.0, 1.0)
    """

    lo: float
    hi: float
    neg: float
    absmax: float
    bound_half_width: float = math.inf

    @property
    def centre(self) -> float:
        return 0.5 * self.lo + 0.5 * self.hi

    @property
    def half_width(self) -> float:
        return 0.5 * self.hi - 0.5 * self.lo

    def abs_sum(self, x: np.ndarray) -> np.ndarray:
        """The bound ``min(x + 2 neg, absmax)`` on the absolute-term sum of a logit ``x`` (at least ``|x|``)."""
        x = np.asarray(x, dtype=float)
        return np.maximum(np.minimum(x + 2 * self.neg, self.absmax), np.abs(x))


def _scaled(X: np.ndarray) -> tuple[np.ndarray, int]:
    """``(X / 2^e, e)`` with ``2^e >= max |X|`` (exact); ``e = 0`` for an all-zero ``X``."""
    top = float(np.max(np.abs(X)))
    if top == 0.0:
        return X, 0
    e = math.frexp(top)[1]  # top < 2^e
    return np.ldexp(X, -e), e


def _summary(X) -> tuple:
    """What the certificate reads of one factor, all on the host: ``O(n m)`` reductions, ``O(m)`` numbers back.

    ``(colmin, colmax, max row 2-norm, smallest non-zero |entry|, max |entry|, e)``
    of ``X / 2^e`` (``2^e > max |X|``; the division is exact), in float64.  A
    non-numpy array (torch, CuPy, ...) is reduced on its own device in float64
    and only these vectors are copied back.
    """
    from algorithms import _array

    xp = _array.namespace(X)
    if _array.is_numpy(xp):
        Xs, e = _scaled(np.asarray(X, dtype=float))
        top = float(np.max(np.abs(Xs)))
        if top == 0.0:
            return np.zeros(Xs.shape[1]), np.zeros(Xs.shape[1]), 0.0, math.inf, 0.0, 0
        return (Xs.min(axis=0), Xs.max(axis=0), float(np.sqrt(np.max(np.einsum("ij,ij->i", Xs, Xs)))),
                float(np.min(np.abs(Xs[Xs != 0]))), top, e)
    X = xp.astype(X, xp.float64)  # float32 -> float64 is exact
    top = float(xp.max(xp.abs(X)))
    m = int(X.shape[1])
    if top == 0.0:
        return np.zeros(m), np.zeros(m), 0.0, math.inf, 0.0, 0
    e = math.frexp(top)[1]
    Xs = X * math.ldexp(1.0, -e) if e > -1000 else X * 2.0**500 * math.ldexp(1.0, -e - 500)
    absX = xp.abs(Xs)
    nonzero = xp.where(absX > 0, absX, xp.full_like(absX, math.inf))
    values = [xp.min(Xs, axis=0), xp.max(Xs, axis=0)]
    scalars = xp.stack([xp.sqrt(xp.max(xp.sum(Xs * Xs, axis=1))), xp.min(nonzero), xp.max(absX)])
    host = _array.to_numpy(xp.concat(values + [scalars]))
    return host[:m], host[m : 2 * m], float(host[2 * m]), float(host[2 * m + 1]), float(host[2 * m + 2]), e


def logit_bounds(Q, keys: Sequence, scale: float | None = None, bound: float | None = None) -> LogitBounds:
    """Certify ``[lo, hi]`` for every logit ``scale <q, k_2 ∘ ... ∘ k_k>`` in ``O((n + sum_j n_j) m)``.

    Parameters
    ----------
    Q : (n, m) array
        Queries (finite).
    keys : sequence of (n_j, m) arrays
        ``K_2, ..., K_k`` (one array for matrix attention, two for tensor).
    scale : float, optional
        Logit scale, default ``1/m``.
    bound : float, optional
        A promised ``B >= max |entries|``: also intersect with
        ``[-m scale B^k, m scale B^k]``.

    Returns
    -------
    LogitBounds

    Examples
    --------
    >>> Q = np.array([[1.0, 0.0], [0.0, 1.0]]); K = np.array([[1.0, 1.0], [0.0, 1.0]])
    >>> b = logit_bounds(Q, [K])   # logits <q, k>/2 lie in {0, 0.5}: Cauchy-Schwarz gives sqrt(2)/2
    >>> b.lo, round(b.hi, 6), b.neg    # non-negative inputs: lo = 0 exactly
    (0.0, 0.707107, 0.0)
    >>> logit_bounds(np.zeros((2, 3)), [np.ones((4, 3))]).hi   # zero width: a constant logit
    0.0
    >>> b = logit_bounds(np.ones((1, 1)), [np.ones((1, 1))], bound=1e200)  # no B**2 is formed
    >>> round(b.lo, 12), round(b.hi, 12)
    (1.0, 1.0)
    """
    summaries = [_summary(X) for X in (Q, *keys)]
    m = summaries[0][0].shape[0]
    scale = 1.0 / m if scale is None else float(scale)
    k = len(summaries)
    if any(top == 0.0 for *_, top, _ in summaries):
        return LogitBounds(0.0, 0.0, 0.0, 0.0)  # a zero factor: every logit is exactly 0
    exponent = sum(e for *_, e in summaries)
    lo_l, hi_l = summaries[0][0], summaries[0][1]
    for a, b, *_ in summaries[1:]:
        corners = np.stack([lo_l * a, lo_l * b, hi_l * a, hi_l * b])
        lo_l, hi_l = corners.min(axis=0), corners.max(axis=0)
    col_abs = [np.maximum(np.abs(a), np.abs(b)) for a, b, *_ in summaries]
    abs_terms = np.prod(col_abs, axis=0)  # per coordinate, max |product|
    g = gamma(m + k + 2)
    # Subnormal results lose absolute accuracy 2^-1074 each; they can only occur with tiny entries.
    tiny = min(summary[3] for summary in summaries)
    sub = (m * (k + 1)) * np.finfo(float).smallest_subnormal if tiny < 2.0**-900 else 0.0
    lo_hat = float(np.sum(lo_l)) - g * float(np.sum(np.abs(lo_l))) - sub
    hi_hat = float(np.sum(hi_l)) + g * float(np.sum(np.abs(hi_l))) + sub
    neg_part = np.maximum(0.0, -lo_l)
    neg_hat = float(np.sum(neg_part)) * (1 + g) + sub
    widen = g * float(np.sum(abs_terms)) + sub
    # Hoelder: two factors in the 2-norm (largest row), the others in the max-norm.
    norms2 = [summary[2] for summary in summaries]
    norms_inf = [float(np.max(c)) for c in col_abs]
    holder = min(
        norms2[a] * norms2[b] * math.prod(norms_inf[c] for c in range(k) if c not in (a, b))
        for a, b in combinations(range(k), 2)
    ) * (1 + gamma(m + k + 4))
    absmax_hat = min(float(np.sum(abs_terms)) + widen, holder)
    lo_hat, hi_hat = max(lo_hat, -holder), min(hi_hat, holder)

    tiny_normal = np.finfo(float).tiny

    with np.errstate(over="ignore", under="ignore"):
        def out(v: float, outward: float) -> float:
            """``v scale 2^exponent``, rounded away from 0 by one subnormal step where ldexp loses bits."""
            if v == 0.0:
                return 0.0
            r = float(np.ldexp(v * scale, exponent))
            if abs(r) < tiny_normal:
                r += outward * np.finfo(float).smallest_subnormal
            return r

        lo, hi, neg, absmax = out(lo_hat, -1.0), out(hi_hat, 1.0), out(neg_hat, 1.0), out(absmax_hat, 1.0)
    h_bound = math.inf
    if bound is not None:
        log_h = math.log(m * scale) + k * math.log(float(bound))
        if log_h < 709.0:
            h_bound = m * scale * float(bound) ** k
            lo, hi = max(lo, -h_bound), min(hi, h_bound)
            absmax = min(absmax, h_bound * (1 + gamma(m + k + 2)))
    return LogitBounds(lo, max(lo, hi), neg, absmax, h_bound)


def log_rounding_magnitude(approximation, bounds: LogitBounds, centre: float | None = None,
                           cells: int = 512) -> float:
    """``log sup_v sum_j |a_j| A(v)^j e^{-v}``: the size of the absolute terms of a feature product.

    The feature expansion of ``P(v)`` (``v = x``, or ``v = x - c`` with a centring
    coordinate) adds up terms whose absolute values sum to ``sum_j |a_j| A^j``,
    ``A`` the absolute-term sum of the logit (``scale sum_l |q_l k_l|``, plus
    ``|c|`` when centred; docs/polynomial-method.md, "Float64 entry error").
    With the certificate of :func:`algorithms.polynomial_method.interval.logit_bounds`,
    ``A <= min(x + 2 neg, absmax)``.  The supremum over the logits is bounded
    cell by cell on ``cells`` equal cells of the range of ``v`` (on each cell the
    sum at its right end times ``e^{-v}`` at its left end: both monotone), in log
    space, so it never overflows.

    Examples
    --------
    >>> from algorithms.polynomial_method import approximate_exp
    >>> P = approximate_exp(1.0, 2, 1e-6)
    >>> round(float(np.exp(log_rounding_magnitude(P, LogitBounds(-1.0, 1.0, 0.0, 1.0)))), 2)  # about e^2 = 7.39
    7.36
    """
    c = 0.0 if centre is None else float(centre)
    v_lo, v_hi = max(approximation.lo, bounds.lo - c), min(approximation.hi, bounds.hi - c)
    if v_hi < v_lo:  # a point interval just outside P's (within the certificate's widening)
        v_lo = v_hi = min(max(bounds.lo - c, approximation.lo), approximation.hi)
    if hasattr(approximation, "log_abs_coefficients"):
        log_a = approximation.log_abs_coefficients()
    else:
        with np.errstate(divide="ignore"):
            log_a = np.log(np.abs(np.asarray(approximation.coefficients, dtype=float)))
    edges = np.linspace(v_lo, v_hi, cells + 1) if v_hi > v_lo else np.array([v_lo, v_lo])
    A = bounds.abs_sum(edges[1:] + c) + abs(c)
    j = np.arange(len(log_a))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_A = np.log(A)
        terms = log_a[None, :] + np.where(j[None, :] == 0, 0.0, j[None, :] * log_A[:, None])
    top = np.max(terms, axis=1)
    log_sum = top + np.log(np.sum(np.exp(terms - top[:, None]), axis=1))
    return float(np.max(log_sum - edges[:-1]))
