"""The error algebra of the polynomial method: every certified bound, defined once.

A fast algorithm replaces the attention matrix ``A = exp(logits)`` by
``A~ = U1 (U2 ⊘ ... ⊘ Uk)^T`` (:mod:`algorithms.polynomial_method.low_rank`).
Its certificate is a chain of four steps, each a function here:

1. **Entry error** ``e'`` (:func:`entry_error`): every entry of ``A~`` has
   relative error at most the polynomial's certified error plus the float64
   rounding of the sums that form it.  A product of such factors
   (poly-attention) has error :func:`product_entry_error`.
2. **Normalised entries**: rows of ``f~ = D~^{-1} A~`` then have relative
   error at most :func:`eta` ``= 2 e' / (1 - e')`` against ``f = D^{-1} A``.
3. **Output** (E1): a renormalised average of values lying in an interval of
   length ``spread`` moves by at most :func:`output_error`
   ``= e' spread / (1 + sqrt(1 - e'^2))``; the spread of products of value
   columns comes from interval products (:func:`value_spread`).
4. **Gradients**: the vector-Jacobian products of matrix and tensor attention
   and of their training losses, bounded entrywise with ``eta`` and evaluated
   with the fast operator (:func:`attention_vjp_bounds`,
   :func:`attention_loss_grad_bounds`, :func:`tensor_attention_vjp_bounds`,
   :func:`tensor_attention_loss_grad_bounds`).

The derivations are our own (the papers state ``O(eps B)`` without
constants); the tests check every bound against exact computations, and
docs/polynomial-method.md states them with their proofs.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Sec. 3 (the ``O(eps B)`` this makes explicit).
.. [2] J. Alman, Z. Song. The fine-grained complexity of gradient computation for
   training large language models. NeurIPS 2024, arXiv:2402.04497, App. D.
.. [3] Y. Liang, Z. Shi, Z. Song, Y. Zhou. Tensor attention training: provably
   efficient learning of higher-order transformers. arXiv:2405.16411, Thm 5.2.
.. [4] N. J. Higham. Accuracy and Stability of Numerical Algorithms, 2nd ed.,
   SIAM 2002, Sec. 3.1 (``gamma_n``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from algorithms.polynomial_method.exp_approximation import ExpApproximation
    from algorithms.polynomial_method.interval import LogitBounds

__all__ = [
    "UNIT_ROUNDOFF",
    "GRID_MARGIN",
    "SUM_BLOCK",
    "gamma",
    "working_rounding",
    "entry_error",
    "rounding_output_error",
    "product_entry_error",
    "eta",
    "value_product_range",
    "value_spread",
    "output_error",
    "attention_vjp_bounds",
    "attention_loss_grad_bounds",
    "tensor_attention_vjp_bounds",
    "tensor_attention_loss_grad_bounds",
]

UNIT_ROUNDOFF = 2.0**-53
# The certificate grid has >= 50 points per oscillation of the error curve, so a peak
# between two grid points exceeds the sampled maximum by < 0.2%; certify with a 1% margin.
GRID_MARGIN = 1.01
#: Terms a float32 sum spans before its partial sum is accumulated in float64 (the fast paths' sub-blocks).
SUM_BLOCK = 256


# ---------------------------------------------------------------------------- entries
def gamma(operations: int, unit_roundoff: float = UNIT_ROUNDOFF) -> float:
    """``gamma_n = n u / (1 - n u)``, ``u = 2^-53``: relative error of ``n`` rounded float64 steps.

    ``unit_roundoff`` replaces ``u`` for another arithmetic (``10^{1-D}`` for
    ``D``-digit mpmath).

    Examples
    --------
    >>> gamma(2) == 2 * 2.0**-53 / (1 - 2 * 2.0**-53)
    True
    """
    nu = operations * unit_roundoff
    return nu / (1 - nu) if nu < 1 else float("inf")


def working_rounding(dtype: str, k: int, degree: int, rank: int, n_keys) -> tuple[int, float, float]:
    """The rounding model of an entry of ``A~`` computed in ``dtype``: ``(operations, u, extra_gamma)``.

    float64 (as always): ``k (g + 1) + r + sum_j n_j`` rounded steps with
    ``u = 2^-53``, nothing else.  float32: the ``k`` monomials, the cast of the
    weights and of the folded ``r x c`` products, the sum over ``r`` features and
    ``k - 1`` float32 sums of at most :data:`SUM_BLOCK` terms each, with
    ``u = 2^-24``; plus the float64 accumulation of the ``ceil(n_j / SUM_BLOCK)``
    partial sums, whose ``gamma`` is returned as ``extra_gamma`` (the two
    perturbations multiply: :func:`entry_error`).

    Examples
    --------
    >>> working_rounding("float64", 2, 7, 330, [4096])
    (4442, 1.1102230246251565e-16, 0.0)
    >>> ops, u, extra = working_rounding("float32", 2, 7, 330, [4096])
    >>> ops, u == 2.0**-24, extra == gamma(16 + 1)
    (605, True, True)
    """
    keys = [int(n_keys)] if isinstance(n_keys, (int, np.integer)) else [int(x) for x in n_keys]
    if dtype == "float64":
        return k * (degree + 1) + rank + sum(keys), UNIT_ROUNDOFF, 0.0
    if dtype != "float32":
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    blocks = [min(SUM_BLOCK, x) for x in keys]
    ops32 = k * (degree + 1) + 2 + rank + sum(b + 1 for b in blocks)
    ops64 = sum(-(-x // SUM_BLOCK) for x in keys) + 1
    return ops32, 2.0**-24, gamma(ops64)


def rounding_output_error(entry_error: float, sampled_error: float, value_max, unit_roundoff: float):
    """What the rounding adds to (E1) when numerator and normaliser round differently: per value column.

    The polynomial's own error multiplies a weight the same way in every
    column, which (E1) uses; the rounding does not (each column of
    ``U1 [(U2^T V) 1]`` is its own sum).  With ``e_r`` the rounding part of the
    entry error (``entry_error - GRID_MARGIN sampled_error``), a column's weights
    are ``a_j (1 + rho_j)`` against the normaliser's ``a_j (1 + rho'_j)``,
    ``|rho|, |rho'| <= e_r``, so the average moves by at most
    ``2 e_r max|v| / (1 - e_r)``; the final division adds ``u max|v|``.  In
    float64 this is a few ulps of ``max|V|``; :func:`~algorithms.polynomial_method.fast_result`
    adds it in both dtypes (without it the bound of a constant value column was 0,
    below the rounding of the computed output: found by the fuzz suite).

    Examples
    --------
    >>> float(rounding_output_error(1e-3, 4e-4, 2.0, 2.0**-24)) > 2 * 2 * (1e-3 - 1.01 * 4e-4)
    True
    """
    e_r = max(0.0, entry_error - GRID_MARGIN * sampled_error)
    return (2 * e_r / (1 - e_r) + unit_roundoff) * np.asarray(value_max, dtype=float)


def entry_error(approximation: ExpApproximation, operations: int, bounds: LogitBounds | None = None,
                centre: float | None = None, unit_roundoff: float = UNIT_ROUNDOFF, *,
                extra_gamma: float = 0.0) -> float:
    """Relative error of every entry of ``A~``, i.e. of ``P(x)`` for ``|x| <= M``, computed in float64.

    ``A~ = U1 (U2 ⊘ ... ⊘ Uk)^T`` evaluates ``P(x) = sum_j a_j x^j`` at every
    logit ``x`` as a float64 sum of ``operations`` rounded products and
    additions (forming the ``k`` monomials, the sum over the ``r`` features,
    the streamed sums over the keys).  Each step errs by at most ``gamma_n``
    relative to ``sum_j |a_j| M^j`` (Higham, eq. 3.4), and ``e^x >= e^{-M}``,
    so with ``M = max(|lo|, |hi|)``::

        e' = 1.01 sampled_error + gamma_n sum_j |a_j| M^j e^M.

    The factor 1.01 (``GRID_MARGIN``) covers peaks of the error curve between
    the points of the certificate's grid, as in ``max_relative_error``.  That
    form assumes every logit's absolute-term sum is at most ``M`` (true on
    ``[-B^k, B^k]`` with entries ``<= B``).  With a data certificate
    ``bounds`` (a certified interval narrower than ``[-B^k, B^k]``) the
    rounding term is ``gamma_n`` times the supremum of
    :func:`algorithms.polynomial_method.interval.log_rounding_magnitude`
    instead, which also covers a centring coordinate ``centre``.

    Parameters
    ----------
    approximation : ExpApproximation
        The certified polynomial (its ``sampled_error`` and coefficients).
    operations : int
        ``n``: ``k (g + 1) + r + (keys summed over)`` for a ``k``-way operator.
    bounds : LogitBounds, optional
        The certified logit interval and absolute sums of the data.
    centre : float, optional
        The centring shift ``c`` (features of ``x - c``).
    unit_roundoff : float
        ``2^-53`` (float64), ``2^-24`` (float32) or ``10^{1-D}`` (``D``-digit mpmath).
    extra_gamma : float
        A second, independent relative perturbation of every term (float32's
        float64 accumulation, :func:`working_rounding`): the rounding ``gamma``
        becomes ``(1 + gamma_n)(1 + extra_gamma) - 1``.

    Returns
    -------
    float

    Examples
    --------
    >>> from algorithms.polynomial_method import approximate_exp
    >>> P = approximate_exp(1.0, 2, 1e-6)
    >>> bool(P.sampled_error < entry_error(P, 400) < 1e-6)
    True
    """
    g0 = gamma(operations, unit_roundoff)
    g = g0 + extra_gamma + g0 * extra_gamma
    if bounds is None:
        M = max(abs(approximation.lo), abs(approximation.hi))
        magnitude = float(np.polynomial.polynomial.polyval(M, np.abs(approximation.coefficients)) * np.exp(M))
        return GRID_MARGIN * approximation.sampled_error + g * magnitude
    from algorithms.polynomial_method.interval import log_rounding_magnitude  # it imports this module

    log_m = log_rounding_magnitude(approximation, bounds, centre)
    rounding = float(np.exp(min(log_m + np.log(g), 700.0))) if g > 0 else 0.0
    return GRID_MARGIN * approximation.sampled_error + rounding


def product_entry_error(errors: Sequence[float]) -> float:
    """Relative error of a product of factors with relative errors ``e_M``: ``max(prod(1+e) - 1, 1 - prod(1-e))``.

    Poly-attention approximates ``e^{h/d} = prod_M e^{x_M}`` factor by factor.

    Examples
    --------
    >>> round(product_entry_error([1e-3, 1e-3]), 9)
    0.002001
    """
    e = np.asarray(errors, dtype=float)
    return float(max(np.prod(1 + e) - 1, 1 - np.prod(1 - e)))


def eta(entry_error: float) -> float:
    """``eta = 2 e' / (1 - e')``: relative error of every entry of the normalised ``f~ = D~^{-1} A~``.

    Each entry and each row sum of ``A~`` is within a factor ``1 +- e'`` of
    the exact one, so ``f~ / f`` lies in ``[(1 - e')/(1 + e'), (1 + e')/(1 - e')]``.

    Examples
    --------
    >>> eta(0.5)
    2.0
    """
    return 2 * entry_error / (1 - entry_error)


# ---------------------------------------------------------------------------- output (E1)
def column_range(V) -> tuple[np.ndarray, np.ndarray]:
    """``(min, max)`` of each column of ``V`` as host float64 vectors (reduced on ``V``'s own device)."""
    if isinstance(V, np.ndarray):
        return V.min(axis=0), V.max(axis=0)
    from algorithms._array import namespace, to_numpy
    xp = namespace(V)
    both = to_numpy(xp.stack([xp.min(V, axis=0), xp.max(V, axis=0)]))
    return np.asarray(both[0], dtype=float), np.asarray(both[1], dtype=float)


def value_product_range(Vs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per column, an interval ``[lo, hi]`` containing every product ``prod_j V^(j)[l_j, c]``.

    Interval multiplication of the column ranges ``[min_l V^(j)[l, c], max_l V^(j)[l, c]]``;
    ``O(n d)``, and attained when the factors range independently.

    Examples
    --------
    >>> lo, hi = value_product_range([np.array([[-1.0], [2.0]]), np.array([[3.0], [1.0]])])
    >>> float(lo[0]), float(hi[0])
    (-3.0, 6.0)
    """
    lo, hi = column_range(Vs[0])
    for V in Vs[1:]:
        a, b = column_range(V)
        with np.errstate(over="ignore", invalid="ignore"):
            corners = np.stack([lo * a, lo * b, hi * a, hi * b])
        # an exact 0 times a range that overflowed (inf standing for a huge finite value) is 0, not NaN
        corners = np.where(np.isnan(corners), 0.0, corners)
        lo, hi = corners.min(axis=0), corners.max(axis=0)
    return lo, hi


def value_spread(*Vs: np.ndarray) -> np.ndarray:
    """``max - min`` of each column of ``V1 ⊘ ... ⊘ Vt`` (every product of one row per factor).

    One factor: the column ranges of ``V``; two: of the tensor values ``V1 ⊘ V2``.

    Examples
    --------
    >>> value_spread(np.array([[1.0, 0.0], [-1.0, 4.0]])).tolist()
    [2.0, 4.0]
    """
    lo, hi = value_product_range(Vs)
    with np.errstate(invalid="ignore"):
        spread = hi - lo
    return np.where(np.isnan(spread), np.inf, spread)  # both ends overflowed to one infinity: spread unknown


def output_error(entry_error: float, spread):
    """(E1): ``e' spread / (1 + sqrt(1 - e'^2))``, for value columns of the given spread(s).

    Any normalised average ``sum_j w_j (1 + delta_j) v_j / sum_j w_j (1 + delta_j)``
    with ``|delta_j| <= e'`` is within this of ``sum_j w_j v_j`` when the
    ``v_j`` lie in an interval of length ``spread``.  The average moves
    furthest when ``v`` takes two values ``m < M`` and ``delta = +e'`` on one,
    ``-e'`` on the other; maximising ``(M - m)[a(1+e)/(1 - e + 2ae) - a]`` over
    the weight ``a`` on ``M`` gives (E1), which is therefore sharp (derived
    and attained in :func:`algorithms.bounds.output_error_expr`).  Shared by
    matrix, tensor and poly-attention: the normalisation cancels everything
    but the spread of the values.

    Raises
    ------
    ValueError
        If ``entry_error`` is not in ``[0, 1)``.

    Examples
    --------
    >>> float(output_error(0.0, 3.0)), round(float(output_error(1e-6, 2.0)), 12)
    (0.0, 1e-06)
    """
    if not 0 <= entry_error < 1:
        raise ValueError(f"entry_error must lie in [0, 1), got {entry_error!r}")
    if entry_error == 0:  # exact weights: 0 even for a spread that overflowed to inf (0 * inf would be NaN)
        return np.zeros_like(np.asarray(spread, dtype=float))
    return entry_error * spread / (1 + np.sqrt(1 - entry_error * entry_error))


# The gradient bounds (VJP and training loss, matrix and tensor) live in algorithms.gradient_bounds and are
# re-exported here, where the error algebra is listed.
from algorithms.gradient_bounds import (  # noqa: E402
    attention_loss_grad_bounds,
    attention_vjp_bounds,
    tensor_attention_loss_grad_bounds,
    tensor_attention_vjp_bounds,
)
