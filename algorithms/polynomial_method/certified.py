"""The certified ``P ~ exp`` for a mechanism: entry bound ``B`` and degree ``k`` give ``[-B^k, B^k]``.

Step 1 of the polynomial method (Alman & Song 2023, Sec. 3) for every
mechanism of this package.  A *mechanism of degree k* multiplies ``k`` bounded
vectors per logit: matrix attention ``<q, k>/d`` (``k = 2``), tensor
attention ``<q, k1 ∘ k2>/d`` (``k = 3``), a degree-``k`` monomial of
poly-attention.  With every entry at most ``B`` in absolute value, a logit
``scale * sum_{l < m} prod_j X_j[i_j, l]`` of ``m`` columns lies in
``[-h, h]`` with

    h = m * scale * B^k        (= B^k for attention: m = d columns, scale 1/d),

and :func:`approximate_exp` returns the lowest-degree polynomial certified to
relative error ``eps`` there (:func:`~algorithms.polynomial_method.exp_approximation.exp_approximation`).
Its degree ``g`` sets the rank ``r = C(d + g, g)`` of the feature maps
(:func:`~algorithms.polynomial_method.features.feature_rank`) and hence the
cost ``O(n r d)`` (:func:`polynomial_method_cost`).

The fast algorithm exists for ``B = o((log n)^{1/k})``, ``d = O(log n)``;
from ``B = Theta((log n)^{1/k})`` on SETH rules out subquadratic
(matrix; Alman & Song 2023, Thm 1.4), subcubic (tensor; Alman & Song 2024)
algorithms.  Far above the threshold no float64 power-basis polynomial exists
at all, and :func:`approximate_exp` says so, naming ``B``.

This module is the only caller of
:func:`~algorithms.polynomial_method.exp_approximation.exp_approximation`.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Sec. 3, Thms 1.3-1.4.
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (``k = 3``).
.. [3] P. Chakrabarti, T. Pitassi, J. Alman. Poly-attention. arXiv:2602.02422,
   Thm 3.6 (degree-``k`` monomials).
"""

from __future__ import annotations

import math

import numpy as np

from algorithms._checks import check_eps
from algorithms.error_bounds import UNIT_ROUNDOFF
from algorithms.polynomial_method.exp_approximation import (
    ExpApproximation,
    exp_approximation,
    truncation_degree,
)
from algorithms.polynomial_method.features import feature_rank

__all__ = ["logit_half_width", "approximate_exp", "polynomial_method_cost"]

_LOGITS = {2: "bilinear", 3: "trilinear"}
_SCREEN_MARGIN = 1e3


def _check_mechanism(bound: float, k: int) -> None:
    if not (isinstance(bound, (int, float, np.floating)) and np.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be a positive finite number, got {bound!r}")
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k (the mechanism degree) must be a positive integer, got {k!r}")


def logit_half_width(bound: float, k: int, *, columns: int = 1, scale: float = 1.0) -> float:
    """``h = columns * scale * B^k``: every logit of a degree-``k`` mechanism lies in ``[-h, h]``.

    Parameters
    ----------
    bound : float
        ``B``, the max-norm of every factor.
    k : int
        Mechanism degree: factors per logit (2 matrix, 3 tensor, ``|M|`` for
        a monomial of poly-attention).
    columns, scale : int, float
        A logit is ``scale`` times a sum over ``columns`` products; attention
        has ``columns = d`` and ``scale = 1/d``, which is the default ``1``.

    Raises
    ------
    ValueError
        If ``bound`` is not a positive finite number or ``k < 1``.

    Examples
    --------
    >>> logit_half_width(1.5, 2), logit_half_width(2.0, 3, columns=16, scale=0.25)
    (2.25, 32.0)
    """
    _check_mechanism(bound, k)
    return columns * scale * bound**k


def approximate_exp(
    bound: float, k: int, eps: float, *, columns: int = 1, scale: float = 1.0
) -> ExpApproximation:
    """The certified polynomial ``P`` with ``|P(x) - e^x| <= eps e^x`` on ``[-h, h]``, ``h = B^k``.

    Parameters
    ----------
    bound : float
        ``B``, the promised max-norm of the factors of each logit.
    k : int
        Mechanism degree (2 matrix, 3 tensor, ``|M|`` for a poly-attention monomial).
    eps : float
        Relative error, in ``(0, 1)``.
    columns, scale :
        As in :func:`logit_half_width` (default: attention's ``1/d`` logits).

    Returns
    -------
    ExpApproximation
        Lowest degree certified on ``[-h, h]`` (cached per interval and ``eps``).

    Raises
    ------
    ValueError
        If ``eps`` is not in ``(0, 1)``, ``bound`` is not positive and finite,
        ``k < 1``, or no float64 power-basis polynomial reaches ``eps`` on
        ``[-h, h]`` (the message names ``B``: the bounded-entry regime is left).

    Examples
    --------
    >>> P = approximate_exp(1.0, 2, 1e-6)
    >>> P.degree, (P.lo, P.hi), bool(P.max_relative_error <= 1e-6)
    (7, (-1.0, 1.0), True)
    >>> approximate_exp(3.0, 3, 1e-6)
    Traceback (most recent call last):
    ...
    ValueError: entries bounded by B=3 put the trilinear logits in [-27, 27], too wide for the polynomial ...

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Sec. 3 and Thm 1.3.
    """
    eps = check_eps(eps)
    h = logit_half_width(bound, k, columns=columns, scale=scale)
    try:
        return exp_approximation(-h, h, eps)
    except ValueError as exc:
        name = _LOGITS.get(k, f"degree-{k}")
        raise ValueError(
            f"entries bounded by B={bound:.4g} put the {name} logits in [-{h:.4g}, {h:.4g}], too wide for "
            f"the polynomial method at eps={eps:g} (it needs B = o((log n)^(1/{k})); from "
            f"B = Theta((log n)^(1/{k})) on SETH rules out fast algorithms): {exc}"
        ) from None


def polynomial_method_cost(bound: float, k: int, d: int, eps: float, *, certified: bool = True) -> tuple[int, int]:
    """Degree ``g`` and feature rank ``r = C(d + g, g)`` the polynomial method needs for entries ``<= B``.

    The fast algorithms cost ``O(n r d)`` (matrix, tensor) with this ``r``.

    Parameters
    ----------
    bound : float
        ``B``; logits lie in ``[-B^k, B^k]``.
    k : int
        Mechanism degree (2 matrix, 3 tensor).
    d : int
        Head dimension, ``>= 1``.
    eps : float
        Relative error of every entry, in ``(0, 1)``.
    certified : bool
        ``True``: the degree :func:`approximate_exp` certifies.  ``False``: the
        Chebyshev lower bound of
        :func:`~algorithms.polynomial_method.exp_approximation.truncation_degree`
        (no certificate, any precision; never above the certified degree).

    Returns
    -------
    (g, r) : tuple of int

    Raises
    ------
    ValueError
        Bad arguments; or, when ``certified``, if no float64 polynomial reaches
        ``eps``.  A quick screen answers first when ``u e^{2h} > 1000 eps``
        (``u = 2^-53``, ``h = B^k``): evaluating any power-basis ``P ~ e^x`` in
        float64 then costs a relative error of about ``u e^{2h}`` at ``x = -h``
        (the rounding term the certificate measures), a thousand times ``eps``,
        so the expensive certificate would fail anyway.

    Examples
    --------
    >>> polynomial_method_cost(1.0, 2, 4, 1e-6)
    (7, 330)
    >>> polynomial_method_cost(1.0, 3, 4, 1e-6, certified=False)
    (7, 330)
    """
    eps = check_eps(eps)
    h = logit_half_width(bound, k)
    if not (isinstance(d, (int, np.integer)) and d >= 1):
        raise ValueError(f"d must be a positive integer, got {d!r}")
    if not certified:
        g = truncation_degree(h, eps)
        return g, feature_rank(d, g)
    if 2 * h > math.log(_SCREEN_MARGIN * eps / UNIT_ROUNDOFF):
        raise ValueError(
            f"entries bounded by B={bound:.4g} put logits in [-{h:.4g}, {h:.4g}]: float64 evaluation of any "
            f"power-basis polynomial for exp costs a relative error of about 2^-53 e^(2h) = "
            f"{UNIT_ROUNDOFF * math.exp(min(2 * h, 700.0)):.3g} > eps={eps:g}"
        )
    g = approximate_exp(bound, k, eps).degree
    return g, feature_rank(d, g)
