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
    from algorithms.polynomial_method.low_rank import LowRankOperator

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
    float64 this is a few ulps of ``max|V|`` and is not added (docs); the float32
    fast paths add it.

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
        corners = np.stack([lo * a, lo * b, hi * a, hi * b])
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
    return hi - lo


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
    return entry_error * spread / (1 + np.sqrt(1 - entry_error * entry_error))


# ---------------------------------------------------------------------------- matrix VJP
def _score_bound_dQ(eta_: float, w: np.ndarray, key_max: np.ndarray, d: int) -> np.ndarray:
    """``|dQ~ - dQ| <= eta (3 + eta) w_i max_j |K_jm| / d`` (from ``|dS~ - dS| <= eta (3 + eta) w_i P_ij``)."""
    return eta_ * (3 + eta_) * np.outer(w, key_max) / d


def attention_vjp_bounds(op: LowRankOperator, Q, K, V, dO) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entrywise bounds on ``|fast - exact|`` for the matrix attention VJP ``(dQ, dK, dV)``.

    With ``eta`` for ``e' = op.entry_error``, ``q_ij = <dO_i, V_j>`` and
    ``w_i = max_j |q_ij|`` (bounded by ``sum_l |dO_il| max_j |V_jl|``)::

        |dS~_ij - dS_ij| <= P_ij eta (3 + eta) w_i,
        |dQ~_im - dQ_im| <= eta (3 + eta) w_i max_j |K_jm| / d,
        |dK~_jm - dK_jm| <= eta (3 + eta) (1 + eta) [P~^T (w o |Q_:m|)]_j / d,
        |dV~_jl - dV_jl| <= eta (1 + eta) [P~^T |dO_:l|]_j.

    The first line: with ``delta_i = sum_k P_ik q_ik`` (and ``delta~``
    likewise), ``dS~ - dS = (P~ - P) o q - P~ o (delta~ - delta) - (P~ - P) o delta``,
    and ``|delta|, |delta~| <= w``, ``|delta~ - delta| <= eta w``, so the three
    terms give ``P eta w + P (1 + eta) eta w + P eta w``.  The last two lines
    use ``P <= (1 + eta) P~`` to evaluate the bound with the fast operator.

    Parameters
    ----------
    op : LowRankOperator
        The ``k = 2`` operator of ``Q``, ``K``.
    Q, K, V, dO : validated arrays.

    Returns
    -------
    (bQ, bK, bV), arrays with the shapes of ``Q``, ``K``, ``V``.
    """
    from algorithms import _array

    xp = _array.namespace(Q, K, V, dO)
    e = eta(op.entry_error)
    d, dv = int(Q.shape[1]), int(V.shape[1])
    # the last combinations (and delta) run in the working dtype: a few roundings of terms bounded below
    final = 2 * (1 + e) * gamma(dv + 4, _unit_roundoff(op))
    w = xp.abs(dO) @ xp.max(xp.abs(V), axis=0)
    kmax = xp.max(xp.abs(K), axis=0)
    bQ = (e * (3 + e) + final) * (xp.reshape(w, (-1, 1)) * xp.reshape(kmax, (1, -1))) / d
    right = op.marginals(_array.concat(xp, [xp.reshape(w, (-1, 1)) * xp.abs(Q), xp.abs(dO)]))[0]
    bK = (e * (3 + e) * (1 + e) + final) * right[:, :d] / d
    bV = e * (1 + e) * right[:, d:]
    return bQ, bK, bV


def _unit_roundoff(op) -> float:
    """The unit roundoff of the operator's working dtype (float64 unless it says float32)."""
    return 2.0**-24 if getattr(op, "dtype", "float64") == "float32" else UNIT_ROUNDOFF


def attention_loss_grad_bounds(op: LowRankOperator, A1, A2, h, E) -> np.ndarray:
    """Entrywise bound on ``|dL/dX~ - dL/dX|`` for the training loss of Alman & Song 2024.

    Two sources: the VJP bound of :func:`attention_vjp_bounds` at ``dO = c~``
    (with ``|c| <= |c~| + e_c``), and the error ``e_c`` of ``c~ = f~ h - E``
    itself, bounded by (E1) per column; a perturbation ``Delta c`` of
    ``q = c h^T`` moves ``dQ_i`` by at most
    ``2 (1 + eta) max_j |<Delta c_i, h_j>| max|A2| / d``.  The bound on
    ``dL/dX = A1^T dQ`` is ``|A1|^T`` times the bound on ``dQ``.

    Parameters
    ----------
    op : LowRankOperator
        The operator of ``Q = A1 X`` and ``K = A2``.
    A1, A2, h, E : validated arrays, ``h = A3 Y``.

    Returns
    -------
    (d, d) array.
    """
    from algorithms import _array

    xp = _array.namespace(A1, A2, h, E)
    e = op.entry_error
    eta_ = eta(e)
    lo, hi = value_product_range([h])
    e_c = output_error(e, hi - lo)  # per column of c, by (E1)
    if getattr(op, "dtype", "float64") == "float32":
        e_c = e_c + rounding_output_error(e, op.approximation.sampled_error, np.maximum(-lo, hi), 2.0**-24)
    e_c_xp = _array.from_numpy(xp, e_c, h)
    c = xp.abs(op.apply(h) - E) + xp.reshape(e_c_xp, (1, -1))
    d = int(A1.shape[1])
    h_max = xp.max(xp.abs(h), axis=0)
    kmax = xp.max(xp.abs(A2), axis=0)
    final = 2 * (1 + eta_) * gamma(int(h.shape[1]) + 4, _unit_roundoff(op))
    bQ = (eta_ * (3 + eta_) + final) * xp.reshape(c @ h_max, (-1, 1)) * xp.reshape(kmax, (1, -1)) / d
    bQ = bQ + 2 * (1 + eta_) * float(e_c @ _array.to_numpy(h_max)) * xp.reshape(kmax, (1, -1)) / d
    return xp.abs(A1).T @ bQ


# ---------------------------------------------------------------------------- tensor VJP
def _centred_score_bound(eta_: float, R: np.ndarray) -> np.ndarray:
    """``|F~ - F|[i, (j1, j2)] <= 1.5 eta R_i f[i, (j1, j2)]`` for ``R_i`` the spread of ``q_i``."""
    return 1.5 * eta_ * R


def tensor_attention_vjp_bounds(op: LowRankOperator, Q, K1, K2, V1, V2, dO) -> tuple[np.ndarray, ...]:
    """Entrywise bounds on ``|fast - exact|`` for the five tensor attention gradients.

    With ``eta`` for ``e' = op.entry_error``, let
    ``R_i = sum_l |dO_il| range_l(V1 ⊘ V2)`` bound the spread of
    ``q_i = dO_i (V1 ⊘ V2)^T`` over the row.  Writing
    ``F~ - F = (f~ - f)(q - delta~) + f (delta - delta~)`` with
    ``|q - delta~| <= R_i`` (``delta~`` is an average of ``q_i``) and
    ``|delta - delta~| = |sum (f~ - f)(q - c)| <= eta R_i / 2`` (``c`` the
    mid-range; ``sum f~ = sum f = 1``)::

        |F~ - F|[i,(j1,j2)] <= 1.5 eta R_i f[i,(j1,j2)],
        |dQ~_im - dQ_im|  <= 1.5 eta R_i max|K1_:m| max|K2_:m| / d,
        |dK1~_jm - dK1_jm| <= 1.5 eta (1 + eta) max|K2_:m| [sum_i R_i |Q_im| f~_i(j, .)] / d,
        |dV1~_jl - dV1_jl| <= eta (1 + eta) max|V2_:l| [sum_i |dO_il| f~_i(j, .)],

    and symmetrically for ``dK2``, ``dV2``, with ``f~_i(j1, .)`` the mass of
    row ``i`` on key ``j1`` (``f <= (1 + eta) f~``), evaluated with
    :meth:`LowRankOperator.marginals`.  Float64 rounding of the products is
    in ``e'`` only through its ``gamma`` term (:func:`entry_error`).

    Returns
    -------
    (bQ, bK1, bK2, bV1, bV2), arrays with the shapes of the inputs.
    """
    from algorithms import _array

    xp = _array.namespace(Q, K1, K2, V1, V2, dO)
    e = eta(op.entry_error)
    d, p = int(Q.shape[1]), int(V1.shape[1])
    lo, hi = value_product_range([V1, V2])
    # Rounding differs between columns (no common normalisation): charged on max|v|, not the spread.
    e_r = max(0.0, op.entry_error - GRID_MARGIN * op.approximation.sampled_error)
    per_unit = 3 * eta(e_r) + 2 * (1 + e) * gamma(p + 4, _unit_roundoff(op))
    spread, vmax = (_array.from_numpy(xp, v, Q) for v in (hi - lo, np.maximum(-lo, hi)))
    S = _centred_score_bound(e, xp.abs(dO) @ spread) + per_unit * (xp.abs(dO) @ vmax)
    aK1, aK2 = xp.max(xp.abs(K1), axis=0), xp.max(xp.abs(K2), axis=0)
    aV1, aV2 = xp.max(xp.abs(V1), axis=0), xp.max(xp.abs(V2), axis=0)
    bQ = xp.reshape(S, (-1, 1)) * xp.reshape(aK1 * aK2, (1, -1)) / d
    m1, m2 = op.marginals(_array.concat(xp, [xp.reshape(S, (-1, 1)) * xp.abs(Q), xp.abs(dO)]))
    cK = (1 + e) / d
    bK1, bK2 = cK * m1[:, :d] * aK2, cK * m2[:, :d] * aK1
    bV1, bV2 = e * (1 + e) * m1[:, d : d + p] * aV2, e * (1 + e) * m2[:, d : d + p] * aV1
    return bQ, bK1, bK2, bV1, bV2


def tensor_attention_loss_grad_bounds(op: LowRankOperator, A1, A2, A3, c, spread, value_max=None):
    """Entrywise bound on ``|dL/dX~ - dL/dX|`` for the tensor attention loss of Liang et al.

    Two sources.  (a) ``c~ = f~ h - E`` misses ``c`` by at most
    ``e_l = e' spread_l / (1 + sqrt(1 - e'^2))`` per column, by (E1).  (b) With
    ``f~`` in place of ``f`` at the same ``c~``, the VJP bound of
    :func:`tensor_attention_vjp_bounds`: ``|F~ - F| <= 1.5 eta R_i f`` with
    ``R_i = sum_l |c~_il| spread_l``.  ``F`` is linear in ``c`` and
    ``|<dc_i, h_jk - O_i>| <= sum_l e_l spread_l =: R_c``, so
    ``|F~(c~) - F(c)| <= (1.5 eta R_i + R_c) f`` and, since rows of ``f``
    sum to 1 and ``|(A2 ⊗ A3)_{:,(b,c)}| <= max|A2_b| max|A3_c|``::

        |dL/dX~ - dL/dX| <= scale |A1|^T [(1.5 eta R + R_c) (max|A2| ⊗ max|A3|)].

    Parameters
    ----------
    op : LowRankOperator
        The ``k = 3`` operator of ``Q, K1, K2`` (its ``scale`` is ``1/d``).
    A1, A2, A3 : validated arrays.
    c : (n, d_v) array ``c~ = f~ h - E``.
    spread : (d_v,) array, a bound on the spread of each column of ``h``.
    value_max : (d_v,) array, optional
        A bound on ``max |h|`` per column (default ``spread``): the rounding of
        the working dtype, which differs between columns, is charged on it.

    Returns
    -------
    (d, d^2) array.
    """
    from algorithms import _array

    xp = _array.namespace(A1, A2, A3, c)
    e = op.entry_error
    spread = np.asarray(spread, dtype=float)
    vmax = spread if value_max is None else np.asarray(value_max, dtype=float)
    e_c = output_error(e, spread)
    e_r = max(0.0, e - GRID_MARGIN * op.approximation.sampled_error)
    if getattr(op, "dtype", "float64") == "float32":
        e_c = e_c + rounding_output_error(e, op.approximation.sampled_error, vmax, 2.0**-24)
    per_unit = 3 * eta(e_r) + 2 * (1 + eta(e)) * gamma(len(spread) + 4, _unit_roundoff(op))
    R = xp.abs(c) @ _array.from_numpy(xp, spread, c)
    Rabs = xp.abs(c) @ _array.from_numpy(xp, vmax, c)
    R_c = float(e_c @ spread)
    a23 = np.kron(*(_array.to_numpy(xp.max(xp.abs(A), axis=0)) for A in (A2, A3)))
    S = _centred_score_bound(eta(e), R) + per_unit * Rabs + R_c
    return op.scale * (xp.abs(A1).T @ (xp.reshape(S, (-1, 1)) * xp.reshape(_array.from_numpy(xp, a23, c), (1, -1))))
