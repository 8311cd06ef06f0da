"""Power-of-two scaling of value matrices, for softmax-weighted sums of values near float64's range.

Attention outputs are weighted sums ``sum_j f_ij v_j`` (products ``v1 ∘ v2``
for tensor attention).  With values near ``1.8e308`` the running sums, or the
products of two values, overflow although the answer is finite (the mean of
``1.7e308`` and ``1.7e308``; the mean of ``1e200 * 1e200`` and ``-1e200 * 1e200``),
and ``inf - inf`` turns into NaN.  The exact and fast algorithms therefore
compute as usual and, only if the result is not finite, compute again with
every value matrix divided by a power of two ``2^e >= max|V|`` (exact
scaling) and multiply the result back by the product of the factors, so that
only an answer above float64's range becomes an infinity.

Examples
--------
>>> import numpy as np
>>> exponent(np.array([[3.0, -0.5]])), exponent(np.zeros((2, 2)))
(2, 0)
>>> scale(np.array([1.5e308]), -1024, 1024)
array([1.5e+308])
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["exponent", "scale", "all_finite"]


def exponent(X) -> int:
    """``e`` with ``max|X| < 2^e`` (``frexp``'s exponent of the largest entry); 0 for an all-zero ``X``."""
    from algorithms._array import namespace, to_numpy

    xp = namespace(X)
    top = float(to_numpy(xp.max(xp.abs(X)))) if int(np.prod(tuple(X.shape))) else 0.0
    return math.frexp(top)[1] if top and math.isfinite(top) else 0


def scale(X, *exponents: int):
    """``X * 2^(e1 + e2 + ...)``: the exponents summed first (``2^-996 2^+995`` must not underflow on the way),
    then applied in steps of at most ``2^±1000`` (each a float64)."""
    e = sum(exponents)
    with np.errstate(over="ignore", under="ignore"):
        while e:
            step = max(-1000, min(1000, e))
            X = X * 2.0**step
            e -= step
    return X


def all_finite(*arrays) -> bool:
    """Whether every entry of every array is finite (in the arrays' own namespace)."""
    from algorithms._array import namespace

    for A in arrays:
        xp = namespace(A)
        if not bool(xp.all(xp.isfinite(A))):
            return False
    return True
