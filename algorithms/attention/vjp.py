"""Vector-Jacobian product of matrix attention, exact and fast (see docs/gradient.md).

For ``O = Att(Q, K, V)``, ``P = D^{-1} A`` and an upstream ``dO``, with
``q = dO V^T`` and ``delta_i = <dO_i, O_i>``::

    dS = P o (q - delta 1^T),   dQ = dS K / d,   dK = dS^T Q / d,   dV = P^T dO.

Exact: a forward pass (:func:`algorithms.softmax.online_softmax`) for ``O``
and the log-normalisers, then one replay of the same blocks
(:func:`algorithms.softmax.softmax_blocks`).

Fast: never forms ``P``.  With ``P~ = D~^{-1} U1 U2^T`` and the row-wise
Kronecker product ``(V (x) K)_j = V_j (x) K_j`` (:mod:`algorithms.kron`),

    (P o (dO V^T)) K = rowsum_l dO_il [P~ (V (x) K)]_{i,(l,m)},

so ``dQ`` costs one application of ``P~`` to ``d_v + d_v d + d`` columns, i.e.
``O(n r d^2)`` (Alman & Song 2024, App. D: ``f o q`` has rank ``r d``);
``dK`` and ``dV`` use ``P~^T`` the same way.  The entrywise bounds are
:func:`algorithms.error_bounds.attention_vjp_bounds`.

References
----------
.. [1] J. Alman, Z. Song. The fine-grained complexity of gradient computation
   for training large language models. NeurIPS 2024, arXiv:2402.04497,
   Lemma C.7, App. D.
"""

from __future__ import annotations

import numpy as np

from algorithms import _array
from algorithms._checks import as_fast_matrices, as_matrix
from algorithms._scaling import all_finite, exponent, scale
from algorithms.attention.forward import (
    _block_rows,
    _check_qkv,
    _exact,
    _softmax_pass,
    low_rank_attention,
)
from algorithms.error_bounds import attention_vjp_bounds
from algorithms.polynomial_method import LowRankOperator
from algorithms.softmax import softmax_blocks

__all__ = ["attention_vjp", "attention_vjp_fast", "attention_vjp_error_bound"]


def _check_vjp(Q, K, V, dO):
    Q, K, V = _check_qkv(Q, K, V)
    dO = as_matrix("dO", dO, rows=Q.shape[0], cols=V.shape[1])
    return Q, K, V, dO


def _check_vjp_fast(Q, K, V, dO):
    """The fast VJP's operands in the caller's namespace and dtype."""
    return as_fast_matrices(("Q", Q), ("K", K, None, ("cols", 0)), ("V", V, ("rows", 1), None),
                            ("dO", dO, ("rows", 0), ("cols", 2)))[1]


# ---------------------------------------------------------------------------- exact
def _vjp_exact(Q, K, V, dO, out, lse, block: int):
    """``(dQ, dK, dV)`` from the forward pass's output ``O`` and ``lse``: one replay of the softmax blocks."""
    d = Q.shape[1]
    delta = np.einsum("ij,ij->i", dO, out)
    dQ, dK, dV = np.empty_like(Q), np.zeros_like(K), np.zeros_like(V)
    for rows, _, P in softmax_blocks(lse=lse, **_softmax_pass(Q, K, block)):
        dV += P.T @ dO[rows]
        dS = P * (dO[rows] @ V.T - delta[rows, None])
        dQ[rows] = dS @ K / d
        dK += dS.T @ Q[rows] / d
    return dQ, dK, dV


def attention_vjp(Q, K, V, dO, *, block_size: int | None = None):
    """Exact gradients of ``<Att(Q, K, V), dO>`` with respect to ``Q``, ``K``, ``V``.

    ``dS = P o (dO V^T - delta 1^T)`` with ``delta_i = <dO_i, O_i>``;
    ``dQ = dS K / d``, ``dK = dS^T Q / d``, ``dV = P^T dO`` (module docstring).

    Parameters
    ----------
    Q, K, V : as in :func:`~algorithms.attention.attention`.
    dO : (n, d_v) upstream gradient.
    block_size : query rows per block (default: about 4M logits per block).

    Returns
    -------
    (dQ, dK, dV) with the shapes of ``Q``, ``K``, ``V``.

    Raises
    ------
    ValueError
        Malformed or mismatched inputs.

    Examples
    --------
    >>> from algorithms.attention import attention
    >>> rng = np.random.default_rng(0)
    >>> Q, K, V, dO = (rng.uniform(-1, 1, (5, 2)) for _ in range(4))
    >>> dQ = attention_vjp(Q, K, V, dO)[0]
    >>> h = 1e-6; Qp = Q.copy(); Qp[1, 0] += h; Qm = Q.copy(); Qm[1, 0] -= h
    >>> fd = np.sum((attention(Qp, K, V) - attention(Qm, K, V)) * dO) / (2 * h)
    >>> bool(abs(fd - dQ[1, 0]) < 1e-8)
    True

    Notes
    -----
    A forward and a replay pass over query blocks: ``O(n m (d + d_v))`` time
    and ``O(block * m)`` memory.
    """
    Q, K, V, dO = _check_vjp(Q, K, V, dO)
    b = _block_rows(K.shape[0], Q.shape[0], block_size)
    out, lse = _exact(Q, K, V, b)
    (dQ, dK, dV), (a, c) = vjp_exact_scaled(Q, K, V, dO, out, lse, b)
    return scale(dQ, a, c), scale(dK, a, c), scale(dV, c)


def vjp_exact_scaled(Q, K, V, dO, out, lse, block: int):
    """``((dQ', dK', dV'), (a, c))`` with ``dQ = dQ' 2^a 2^c``, ``dK = dK' 2^a 2^c``, ``dV = dV' 2^c``.

    ``(a, c) = (0, 0)`` unless the plain VJP overflows (values or ``dO`` near
    float64's range make ``dO V^T - delta`` an ``inf - inf``): then ``V`` and
    ``dO`` are divided by powers of two ``2^a >= max|V|``, ``2^c >= max|dO|``
    (dQ and dK are bilinear in them, dV linear in ``dO``; :mod:`algorithms._scaling`),
    and the caller applies the factors last.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        grads = _vjp_exact(Q, K, V, dO, out, lse, block)
    if all_finite(*grads):
        return grads, (0, 0)
    a, c = exponent(V), exponent(dO)
    return _vjp_exact(Q, K, scale(V, -a), scale(dO, -c), scale(out, -a), lse, block), (a, c)


# ---------------------------------------------------------------------------- fast
def _left_products(P: LowRankOperator, V, K):
    """One application of ``P~`` to ``[V, V (x) K, K]``: ``O``, ``P~ (V (x) K)``, ``P~ K``."""
    xp = P.xp
    n, dv, d = P.n, int(V.shape[1]), int(K.shape[1])
    left = P.matmul(_array.concat(xp, [V, _array.row_kron(xp, V, K), K]))
    return left[:, :dv], xp.reshape(left[:, dv : dv + dv * d], (n, dv, d)), left[:, dv + dv * d :]


def _dq(dO, out, VK, PK):
    """``dQ = [(P o (dO V^T)) K - delta o (P K)] / d`` from the left products (``out`` is ``O``)."""
    xp = _array.namespace(dO)
    n, dv = int(dO.shape[0]), int(dO.shape[1])
    delta = xp.reshape(_array.rowdot(xp, dO, out), (n, 1))
    return (xp.sum(xp.reshape(dO, (n, dv, 1)) * VK, axis=1) - delta * PK) / int(PK.shape[1])


def _dk_dv(P: LowRankOperator, Q, V, dO, out):
    """``dK = [V-contracted P~^T (dO (x) Q) - P~^T (delta o Q)] / d`` and ``dV = P~^T dO``."""
    xp = P.xp
    dv, d = int(V.shape[1]), int(Q.shape[1])
    delta = xp.reshape(_array.rowdot(xp, dO, out), (-1, 1))
    right = P.rmatmul(_array.concat(xp, [dO, _array.row_kron(xp, dO, Q), delta * Q]))
    dOQ = xp.reshape(right[:, dv : dv + dv * d], (-1, dv, d))
    m = int(V.shape[0])
    return (xp.sum(xp.reshape(V, (m, dv, 1)) * dOQ, axis=1) - right[:, dv + dv * d :]) / d, right[:, :dv]


def attention_vjp_fast(Q, K, V, dO, eps: float = 1e-6, bound: float | None = None):
    """Low-rank gradients of ``<Att(Q, K, V), dO>`` (Alman & Song 2024, App. D, applied to a VJP).

    Uses ``P~ = D~^{-1} U1 U2^T`` in place of ``P`` in the formulas of
    :func:`attention_vjp`, without forming any ``n x m`` matrix.

    Parameters
    ----------
    Q, K, V, dO : as in :func:`attention_vjp`.
    eps, bound : as in :func:`~algorithms.attention.attention_fast`.

    Returns
    -------
    (dQ, dK, dV), within :func:`attention_vjp_error_bound` of the exact ones.

    Raises
    ------
    ValueError
        As :func:`attention_vjp` and :func:`~algorithms.attention.low_rank_attention`.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> args = [rng.uniform(-1, 1, (12, 3)) for _ in range(4)]
    >>> fast, exact = attention_vjp_fast(*args), attention_vjp(*args)
    >>> bool(max(np.max(np.abs(a - b)) for a, b in zip(fast, exact)) < 1e-5)
    True

    Notes
    -----
    ``O((n + m) r d d_v)`` time: ``P~`` is applied to ``d_v (d + 1) + d``
    columns and ``P~^T`` to as many.
    """
    Q, K, V, dO = _check_vjp_fast(Q, K, V, dO)
    P = low_rank_attention(Q, K, eps, bound)
    return _fast_vjp_scaled(P, Q, K, V, dO)


def _fast_vjp_scaled(P: LowRankOperator, Q, K, V, dO):
    """``(dQ, dK, dV)`` from ``P~``, with ``V, dO, Q, K`` divided by powers of two inside the products.

    ``P~`` is built from the unscaled ``Q, K``; the gradients are linear in each of
    ``V``, ``dO`` and (given ``P~``) in the ``K`` of ``dQ`` and the ``Q`` of ``dK``,
    so scaling each to ``max|X| < 1`` (exactly: powers of two, :mod:`algorithms._scaling`)
    and applying the factors last keeps products like ``dO ⊗ Q`` of huge inputs
    from overflowing where the gradient itself is in range.
    """
    a, c, q, k = (exponent(X) for X in (V, dO, Q, K))
    Vs, dOs = scale(V, -a), scale(dO, -c)
    out, VK, PK = _left_products(P, Vs, scale(K, -k))
    dK, dV = _dk_dv(P, scale(Q, -q), Vs, dOs, out)
    return scale(_dq(dOs, out, VK, PK), a, c, k), scale(dK, a, c, q), scale(dV, c)


def attention_vjp_error_bound(Q, K, V, dO, eps: float = 1e-6, bound: float | None = None):
    """Entrywise bounds on ``|fast - exact|`` for ``(dQ, dK, dV)`` (our derivation).

    If every entry of the unnormalised matrix has relative error ``<= e'``,
    every entry of the normalised ``P~`` has relative error
    ``eta <= 2 e' / (1 - e')``; with ``w_i = max_j |<dO_i, V_j>|``::

        |dQ~_im - dQ_im| <= eta (3 + eta) w_i max_j |K_jm| / d,
        |dK~_jm - dK_jm| <= eta (3 + eta) (1 + eta) [P~^T (w o |Q_:m|)]_j / d,
        |dV~_jl - dV_jl| <= eta (1 + eta) [P~^T |dO_:l|]_j

    (derived in :func:`algorithms.error_bounds.attention_vjp_bounds`).

    Returns
    -------
    (bQ, bK, bV), arrays with the shapes of ``Q``, ``K``, ``V``.

    Raises
    ------
    ValueError
        As :func:`attention_vjp_fast`.
    """
    Q, K, V, dO = _check_vjp_fast(Q, K, V, dO)
    return attention_vjp_bounds(low_rank_attention(Q, K, eps, bound), Q, K, V, dO)
