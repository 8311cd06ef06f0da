"""Certified bounds on the fast gradients: matrix and tensor attention VJPs and training-loss gradients.

Step 4 of the error algebra of :mod:`algorithms.error_bounds` (which re-exports
these functions): every bound starts from the entry error ``e'`` of the
operator and ``eta = 2 e' / (1 - e')``; the derivations are in
docs/polynomial-method.md ("VJP bounds") and docs/gradient.md.  In the working
dtype float32 the rounding part of ``e'`` differs between the columns of a
product (no common normalisation), so bounds stated with spreads add it on the
absolute values, and every bound adds the rounding of its last few
working-precision combinations (docs/polynomial-method.md, "Float32 certification").

References
----------
.. [1] J. Alman, Z. Song. The fine-grained complexity of gradient computation for
   training large language models. NeurIPS 2024, arXiv:2402.04497, App. D.
.. [2] Y. Liang, Z. Shi, Z. Song, Y. Zhou. Tensor attention training: provably
   efficient learning of higher-order transformers. arXiv:2405.16411, Thm 5.2.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from algorithms import _scaling
from algorithms.error_bounds import (
    GRID_MARGIN,
    UNIT_ROUNDOFF,
    eta,
    gamma,
    output_error,
    rounding_output_error,
    value_product_range,
)

if TYPE_CHECKING:
    from algorithms.polynomial_method.low_rank import LowRankOperator

__all__ = [
    "attention_vjp_bounds",
    "attention_loss_grad_bounds",
    "tensor_attention_vjp_bounds",
    "tensor_attention_loss_grad_bounds",
]


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
    # w, Q and dO enter the marginals scaled by powers of two (linear in each), so that w |Q| of inputs near
    # float64's range does not overflow inside; the factors are applied last (algorithms._scaling)
    a, c, q = _scaling.exponent(V), _scaling.exponent(dO), _scaling.exponent(Q)
    w = xp.abs(_scaling.scale(dO, -c)) @ xp.max(xp.abs(_scaling.scale(V, -a)), axis=0)  # w 2^-(a+c)
    kmax = xp.max(xp.abs(K), axis=0)
    Qs, dOs = xp.abs(_scaling.scale(Q, -q)), xp.abs(_scaling.scale(dO, -c))
    right = op.marginals(_array.concat(xp, [xp.reshape(w, (-1, 1)) * Qs, dOs]))[0]
    with np.errstate(over="ignore", invalid="ignore"):
        bQ = _scaling.scale((e * (3 + e) + final) * (xp.reshape(w, (-1, 1)) * xp.reshape(kmax, (1, -1))) / d, a, c)
        bK = _scaling.scale((e * (3 + e) * (1 + e) + final) * right[:, :d] / d, a, c, q)
        bV = _scaling.scale(e * (1 + e) * right[:, d:], c)
    return tuple(_no_nan(xp, b) for b in (bQ, bK, bV))


def _no_nan(xp, bound):
    """``bound`` with NaN (a factor above float64's range times an exact 0) replaced by infinity, a safe bound."""
    return xp.where(xp.isnan(bound), xp.asarray(math.inf, dtype=bound.dtype), bound)


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
    with np.errstate(over="ignore", invalid="ignore"):
        bQ = (eta_ * (3 + eta_) + final) * xp.reshape(c @ h_max, (-1, 1)) * xp.reshape(kmax, (1, -1)) / d
        bQ = bQ + 2 * (1 + eta_) * float(e_c @ _array.to_numpy(h_max)) * xp.reshape(kmax, (1, -1)) / d
        bound = xp.abs(A1).T @ bQ
    return _no_nan(xp, bound)


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
