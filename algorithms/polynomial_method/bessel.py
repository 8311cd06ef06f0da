"""Degrees of the Chebyshev truncation of ``e^x`` from its Bessel coefficients, in any precision.

On ``[c - h, c + h]``, ``e^{c + h s} = e^c [I_0(h) + 2 sum_{j>=1} I_j(h) T_j(s)]``, and
the degree-``g`` truncation misses by exactly ``e^c E_g(h)``, ``E_g(h) = 2 sum_{j>g} I_j(h)``,
attained at ``x = c + h`` (docs/polynomial-method.md, "Chebyshev expansion of exp").  Hence

* ``E_g(h) e^{-h} <= eps`` is *necessary* for relative error ``eps`` (the error at
  the right end): :func:`chebyshev_degrees` returns the smallest such ``g``,
  a lower bound on any certified degree (the same as
  :func:`~algorithms.polynomial_method.exp_approximation.truncation_degree`);
* ``E_g(h) e^{h} <= eps`` is *sufficient* (``e^x >= e^{c-h}``): the smallest such
  ``g`` is the **Bessel-certified degree**, a proof in exact arithmetic, used
  by ``precision="mpmath"`` and where float64 cannot certify.

Both come from one pass over ``I_0(h), ..., I_J(h)`` (mpmath, 30 digits); the
tail beyond ``J >= h`` is at most ``I_J`` (``I_{j+1}/I_j <= 1/2`` there), added
for the sufficient degree and omitted for the necessary one, so each stays on
its safe side.  For ``h > 200`` only a cheap lower bound is computed
(:func:`degree_lower_bound`): ``E_g e^{-h} >= 1 - (2g + 1) I_0(h) e^{-h}``
because ``I_j <= I_0``, and ``I_0(h) e^{-h} <= 1.01 / sqrt(2 pi h)`` there, so
``g >= ((1 - eps) sqrt(2 pi h) / 1.01 - 1) / 2``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import mpmath

__all__ = ["chebyshev_degrees", "degree_lower_bound", "EXACT_BESSEL_MAX_HALF_WIDTH"]

EXACT_BESSEL_MAX_HALF_WIDTH = 200.0
_MAX_TERMS = 4000


@lru_cache(maxsize=1024)
def chebyshev_degrees(half_width: float, eps: float) -> tuple[int, int]:
    """``(g_necessary, g_certified)`` for relative error ``eps`` on an interval of half-width ``h``.

    Parameters
    ----------
    half_width : float
        ``h``, ``0 < h <= 200``.
    eps : float
        ``0 < eps < 1``.

    Returns
    -------
    (int, int)
        Smallest ``g`` with ``E_g(h) e^{-h} <= eps`` and smallest with ``E_g(h) e^{h} <= eps``.

    Raises
    ------
    ValueError
        ``h`` not in ``(0, 200]`` or ``eps`` not in ``(0, 1)``.

    Examples
    --------
    >>> chebyshev_degrees(1.0, 1e-6), chebyshev_degrees(4.56, 3.3e-4)
    ((7, 7), (8, 14))
    """
    h, eps = float(half_width), float(eps)
    if not (0 < h <= EXACT_BESSEL_MAX_HALF_WIDTH):
        raise ValueError(f"half_width must lie in (0, {EXACT_BESSEL_MAX_HALF_WIDTH:g}], got {half_width!r}")
    if not 0 < eps < 1:
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
    with mpmath.workdps(30):
        hm = mpmath.mpf(h)
        scale = mpmath.exp(-hm)
        terms = []
        target = mpmath.mpf(eps) * scale / 1000  # I_j e^h below eps / 1000: far enough
        j = 0
        while True:
            t = mpmath.besseli(j, hm)
            terms.append(t)
            if (j >= h + 2 and t < target) or j >= _MAX_TERMS:
                break
            j += 1
        tails = [mpmath.mpf(0)] * len(terms)  # tails[g] = sum_{g < j <= J} I_j
        for g in range(len(terms) - 2, -1, -1):
            tails[g] = tails[g + 1] + terms[g + 1]
        rest = terms[-1]  # bound on sum_{j > J} I_j
        ratio_lo, ratio_hi = mpmath.exp(-hm), mpmath.exp(hm)
        necessary = next(g for g in range(len(terms)) if 2 * tails[g] * ratio_lo <= eps)
        certified = next((g for g in range(len(terms)) if 2 * (tails[g] + rest) * ratio_hi <= eps), None)
    if certified is None:  # pragma: no cover - J is chosen so that this cannot happen below _MAX_TERMS
        raise ValueError(f"no Chebyshev degree below {_MAX_TERMS} certifies eps={eps:g} at h={h:g}")
    return necessary, certified


def degree_lower_bound(half_width: float, eps: float) -> float:
    """A lower bound on every certified degree for relative error ``eps`` at half-width ``h`` (any ``h >= 0``).

    Exact (:func:`chebyshev_degrees`) for ``h <= 200``; the ``I_0`` bound of the
    module docstring above; ``inf`` for ``h = inf``; 0 for ``h = 0``.

    Examples
    --------
    >>> degree_lower_bound(1.0, 1e-6), degree_lower_bound(1e6, 1e-6)
    (7, 1241)
    """
    h = float(half_width)
    if h <= 0:
        return 0
    if math.isinf(h):
        return math.inf
    if h <= EXACT_BESSEL_MAX_HALF_WIDTH:
        return chebyshev_degrees(h, eps)[0]
    # sqrt(2 pi) sqrt(h), not sqrt(2 pi h): the product overflows for h near float64's largest value
    return max(0, math.ceil(((1 - eps) * math.sqrt(2 * math.pi) * math.sqrt(h) / 1.01 - 1) / 2))
