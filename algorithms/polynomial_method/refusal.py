"""Why the fast path cannot run: two distinct reasons, two exception classes, and the flop counts.

The polynomial method stops for one of two unrelated reasons (docs/threshold.md,
"Two reasons the fast path can refuse"):

* :class:`CostExceedsExact` -- **the complexity phenomenon**.  The certified
  degree ``g`` (or a lower bound on it) and the rank ``r = C(d' + g, g)`` make
  the fast flop count exceed exact attention's.  This is what the threshold is
  about: with ``d = Theta(log n)`` and logit range ``Theta(log n)`` the rank is
  ``n^{Theta(1)}``.  It does not depend on the arithmetic used.
* :class:`Float64Limit` -- **a practical limit**.  Float64 cannot evaluate the
  needed polynomial through its feature expansion to the requested accuracy:
  the rounding of the power basis grows like ``2^-53 e^{2h}`` (``h`` the
  half-width) and with the data's absolute sums.  It carries the number of
  significant digits that would suffice; ``precision="mpmath"`` runs the same
  algorithm with them.
* :class:`PrecisionTooSlow` -- the ``precision="mpmath"`` run would take longer
  than the caller allows (a budget, not a complexity statement).

All three subclass :class:`FastPathUnavailable`, itself a ``ValueError``; none is
a lower bound.  The lower bound (Alman & Song 2023, Thm 1.4) is an asymptotic
statement about every algorithm under SETH, and no refusal at a finite size
demonstrates it.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214 (Thm 1.3: the method; Thm 1.4: the lower bound, cited).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "FastPathUnavailable",
    "CostExceedsExact",
    "ArithmeticLimit",
    "Float64Limit",
    "Float32Limit",
    "PrecisionTooSlow",
    "fast_flops",
    "exact_flops",
    "MAX_FAST_FLOPS",
]

#: Below this many flops the fast path runs even where exact attention is cheaper (so that small
#: cases can be checked against exact); above it, a fast path costlier than exact is refused.
MAX_FAST_FLOPS = 2.0**32


class FastPathUnavailable(ValueError):
    """The polynomial method will not run here; the subclass says why (never the lower bound)."""

    reason = "unavailable"


class CostExceedsExact(FastPathUnavailable):
    """The complexity reason: degree ``g`` and rank ``r`` make the fast path cost more flops than exact.

    Attributes
    ----------
    degree : int or float
        ``g`` (a lower bound on the certified degree when ``degree_is_lower_bound``).
    rank : int or float
        ``r = C(d' + g, g)``.
    fast_flops, exact_flops : float
        Flop counts of :func:`fast_flops` and :func:`exact_flops`.
    """

    reason = "cost"

    def __init__(self, message: str, *, degree, rank, fast_flops: float, exact_flops: float,
                 degree_is_lower_bound: bool = False) -> None:
        super().__init__(message)
        self.degree, self.rank = degree, rank
        self.fast_flops, self.exact_flops = fast_flops, exact_flops
        self.degree_is_lower_bound = degree_is_lower_bound


class ArithmeticLimit(FastPathUnavailable):
    """The practical reason: the working dtype cannot evaluate the needed polynomial to the requested accuracy.

    Attributes
    ----------
    digits : float
        Significant decimal digits that would suffice (float64 carries about
        15.95, float32 7.22); for logit half-widths above 40 a lower bound
        (the mpmath plan is not built just to report it).
    rounding : float
        The rounding bound on the relative error of an entry (``> eps``).
    dtype : str
        The arithmetic that cannot: ``"float64"`` or ``"float32"``.
    """

    reason = "arithmetic"
    dtype = "float64"

    def __init__(self, message: str, *, digits: float, rounding: float) -> None:
        super().__init__(message)
        self.digits, self.rounding = digits, rounding


class Float64Limit(ArithmeticLimit):
    """Float64 cannot evaluate the needed polynomial to the requested accuracy (``precision="mpmath"`` can)."""

    reason = "float64"
    dtype = "float64"


class Float32Limit(ArithmeticLimit):
    """Float32 inputs: float32 cannot evaluate the polynomial to ``eps`` (float64 inputs, or a larger ``eps``, can).

    Raised by the fast paths for float32 arrays when the float32 rounding bound
    (``u = 2^-24``, :func:`algorithms.error_bounds.working_rounding`) exceeds
    ``eps``; the message names the smallest ``eps`` float32 certifies there.
    """

    reason = "float32"
    dtype = "float32"


class PrecisionTooSlow(FastPathUnavailable):
    """A ``precision="mpmath"`` run would exceed its time budget (``seconds`` estimated > ``limit``)."""

    reason = "budget"

    def __init__(self, message: str, *, seconds: float, limit: float) -> None:
        super().__init__(message)
        self.seconds, self.limit = seconds, limit


def fast_flops(n_query: int, n_keys: Sequence[int], rank: float, d_v: int) -> float:
    """Flops of the low-rank operator: features ``2 n r + sum_j n_j r``, products ``2 r (d_v + 1)`` per row.

    With ``n_query = n_j = n``, ``k - 1`` key sets and ``d_v = d`` this is
    :func:`algorithms.bounds.fast_flops_expr`, ``n r (2k(d + 1) + k + 1)``.

    Examples
    --------
    >>> fast_flops(10, [10], 330, 4) == 330 * 10 * (4 * 5 + 3)
    True
    """
    rows = n_query + sum(n_keys)
    return float(rank) * (2 * n_query + sum(n_keys) + 2 * (d_v + 1) * rows)


def exact_flops(n_query: int, n_keys: Sequence[int], d: int, d_v: int) -> float:
    """Flops of exact attention: ``2 d + 2 + 2 d_v`` per (query, key tuple); ``n^k (4 d + 2)`` when all equal.

    Examples
    --------
    >>> exact_flops(10, [10, 10], 4, 4) == 10**3 * 18
    True
    """
    return float(n_query) * math.prod(n_keys) * (2 * d + 2 + 2 * d_v)
