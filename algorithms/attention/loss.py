"""The training loss of Alman & Song 2024 and its gradient, exact and in ``n^{1+o(1)}`` (docs/gradient.md).

``L(X) = 1/2 ||D(X)^{-1} exp(A1 X A2^T / d) A3 Y - E||_F^2`` (arXiv 2402.04497,
Def. 1.4).  With ``Q = A1 X``, ``K = A2``, ``V = h = A3 Y`` and ``dO = c = f h - E``
the matrix ``dS`` of :mod:`algorithms.attention.vjp` is the paper's ``p(X)``
(Lemma C.7; ``q(X) = c h^T``, printed transposed in its Lemma D.3) and
``dL/dX = A1^T dQ = (1/d) A1^T p A2`` (the ``1/d`` the paper drops is
restored; checked against finite differences in the tests).

The fast gradient (Thm 1.6, App. D) runs the fast VJP with the polynomial
method on ``Q = A1 X``, ``K = A2``: ``f o q`` has rank ``r d`` and no ``n x n``
matrix is formed.  Bounded entries (AttLGC) means ``||A1 X||_inf, ||A2||_inf <= B``.

References
----------
.. [1] J. Alman, Z. Song. The fine-grained complexity of gradient computation
   for training large language models. NeurIPS 2024, arXiv:2402.04497,
   Def. 1.4, Lemma C.7, Thm 1.6, App. D.
"""

from __future__ import annotations

import numpy as np

from algorithms._checks import as_fast_matrices, as_matrix, check_bound
from algorithms._scaling import all_finite, exponent, scale
from algorithms.attention.forward import (
    _block_rows,
    _exact,
    attention,
    low_rank_attention,
)
from algorithms.attention.vjp import _dq, _left_products, vjp_exact_scaled
from algorithms.error_bounds import attention_loss_grad_bounds

__all__ = [
    "attention_loss",
    "attention_loss_grad",
    "attention_loss_grad_fast",
    "attention_loss_grad_error_bound",
]


def _check_loss(A1, A2, A3, E, X, Y):
    A1 = as_matrix("A1", A1)
    n, d = A1.shape
    A2 = as_matrix("A2", A2, cols=d)
    A3 = as_matrix("A3", A3, rows=A2.shape[0], cols=d)
    E = as_matrix("E", E, rows=n, cols=d)
    X = as_matrix("X", X, rows=d, cols=d)
    Y = as_matrix("Y", Y, rows=d, cols=d)
    return A1, A2, A3, E, X, Y


def _check_loss_fast(A1, A2, A3, E, X, Y):
    """The fast gradient's operands in the caller's namespace and dtype."""
    return as_fast_matrices(("A1", A1), ("A2", A2, None, ("cols", 0)), ("A3", A3, ("rows", 1), ("cols", 0)),
                            ("E", E, ("rows", 0), ("cols", 0)), ("X", X, ("cols", 0), ("cols", 0)),
                            ("Y", Y, ("cols", 0), ("cols", 0)))[1]


def _products(A1, X, A3, Y):
    """``(A1 X, A3 Y)``, or a ``ValueError`` naming the product that overflows float64 (or float32)."""
    with np.errstate(over="ignore", invalid="ignore"):
        Q, h = A1 @ X, A3 @ Y
    for name, P in (("A1 X", Q), ("A3 Y", h)):
        if not all_finite(P):
            raise ValueError(f"{name} must be finite: the product overflows (entries of {name.split()[0]} and "
                             f"{name.split()[1]} too large for their dtype)")
    return Q, h


def attention_loss(A1, A2, A3, E, X, Y) -> float:
    """``L(X) = 1/2 ||D(X)^{-1} exp(A1 X A2^T / d) A3 Y - E||_F^2`` (AS24a Def. 1.4).

    Parameters
    ----------
    A1, A2, A3, E : (n, d) arrays (``A2``, ``A3`` may have their own row count m).
    X, Y : (d, d) arrays; ``X`` plays ``W_Q W_K^T``, ``Y`` plays ``W_V``.

    Raises
    ------
    ValueError
        Malformed or mismatched inputs.

    Examples
    --------
    >>> A = np.zeros((3, 2))
    >>> attention_loss(A, A, A, np.ones((3, 2)), np.eye(2), np.eye(2))
    3.0
    """
    A1, A2, A3, E, X, Y = _check_loss(A1, A2, A3, E, X, Y)
    Q, h = _products(A1, X, A3, Y)
    return 0.5 * float(np.sum((attention(Q, A2, h) - E) ** 2))


def attention_loss_grad(A1, A2, A3, E, X, Y) -> np.ndarray:
    """Exact ``dL/dX = (1/d) A1^T p(X) A2`` (AS24a Lemma C.7, ``1/d`` restored).

    ``f = D^{-1} exp(A1 X A2^T / d)``, ``h = A3 Y``, ``c = f h - E``,
    ``q = c h^T``, ``p = f o q - diag(rowsum(f o q)) f``.  Computed as the VJP
    of attention at ``(A1 X, A2, h)`` with ``dO = c``, which is the same
    expression: ``rowsum(f o q)_i = <c_i, (f h)_i>``.

    Returns
    -------
    (d, d) array.

    Raises
    ------
    ValueError
        Malformed or mismatched inputs.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> A1, A2, A3, E = (rng.uniform(-1, 1, (6, 2)) for _ in range(4))
    >>> X, Y = rng.uniform(-1, 1, (2, 2)), rng.uniform(-1, 1, (2, 2))
    >>> G = attention_loss_grad(A1, A2, A3, E, X, Y)
    >>> h = 1e-6; Xp = X.copy(); Xp[0, 1] += h; Xm = X.copy(); Xm[0, 1] -= h
    >>> fd = (attention_loss(A1, A2, A3, E, Xp, Y) - attention_loss(A1, A2, A3, E, Xm, Y)) / (2 * h)
    >>> bool(abs(fd - G[0, 1]) < 1e-8)
    True

    Notes
    -----
    One forward pass (for ``c``) and one replay pass of the softmax blocks:
    ``O(n m d)`` time, ``O(block * m)`` memory.
    """
    A1, A2, A3, E, X, Y = _check_loss(A1, A2, A3, E, X, Y)
    Q, h = _products(A1, X, A3, Y)
    b = _block_rows(A2.shape[0], Q.shape[0], None)
    out, lse = _exact(Q, A2, h, b)
    (dQ, _, _), (a, c) = vjp_exact_scaled(Q, A2, h, out - E, out, lse, b)
    with np.errstate(over="ignore"):
        return scale(A1.T @ dQ, a, c)  # the factors of values near float64's range applied last


def attention_loss_grad_fast(A1, A2, A3, E, X, Y, eps: float = 1e-6, bound: float | None = None):
    """``dL/dX`` in ``n^{1+o(1)}`` time (AS24a Thm 1.6 / App. D).

    ``f ~ D~^{-1} U1 U2^T`` (polynomial method on ``Q = A1 X``, ``K = A2``) and
    ``q = c h^T`` of rank ``d``, so ``f o q`` has rank ``r d`` and ``p A2`` is
    computed as in :func:`~algorithms.attention.attention_vjp_fast` without
    any ``n x n`` matrix.

    Parameters
    ----------
    A1, A2, A3, E, X, Y : as in :func:`attention_loss`.
    eps : relative error of the polynomial, in (0, 1).
    bound : the promised ``B >= max(||A1 X||_inf, ||A2||_inf)`` (the bounded
        entries of AttLGC); ``None`` measures it.

    Returns
    -------
    (d, d) array within :func:`attention_loss_grad_error_bound` of the exact one.

    Raises
    ------
    ValueError
        Malformed inputs, ``eps`` outside (0, 1), ``A1 X`` or ``A2`` above ``bound``.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> A1, A2, A3, E = (rng.uniform(-1, 1, (40, 2)) for _ in range(4))
    >>> X, Y = np.eye(2), rng.uniform(-1, 1, (2, 2))
    >>> G = attention_loss_grad_fast(A1, A2, A3, E, X, Y)
    >>> bool(np.max(np.abs(G - attention_loss_grad(A1, A2, A3, E, X, Y))) < 1e-5)
    True
    """
    A1, A2, A3, E, X, Y = _check_loss_fast(A1, A2, A3, E, X, Y)
    Q, h = _products(A1, X, A3, Y)
    check_bound(bound, **{"A1 X": Q, "A2": A2})
    P = low_rank_attention(Q, A2, eps, bound)
    a, k = exponent(h), exponent(A2)  # h and A2 scaled by powers of two in the products (algorithms._scaling)
    out, VK, PK = _left_products(P, scale(h, -a), scale(A2, -k))  # f h, f (h (x) A2), f A2: O(n r d^2)
    with np.errstate(over="ignore", invalid="ignore"):
        c = scale(out, a) - E  # c = f h - E, then scaled by its own power of two
        e = exponent(c)
        dQ = _dq(scale(c, -e), out, VK, PK)  # dQ 2^-(e + a + k)
        g = exponent(A1)  # A1 too: a subnormal A1 times dQ would lose its digits before the scaling back
        return scale(scale(A1, -g).T @ dQ, e, a, k, g)


def attention_loss_grad_error_bound(A1, A2, A3, E, X, Y, eps: float = 1e-6, bound=None):
    """Entrywise bound on ``|attention_loss_grad_fast - attention_loss_grad|`` (our derivation).

    The VJP bound at ``dO = c~`` plus the (E1) error of ``c~ = f~ h - E``
    itself, times ``|A1|^T`` (derived in
    :func:`algorithms.error_bounds.attention_loss_grad_bounds`).

    Returns
    -------
    (d, d) array.

    Raises
    ------
    ValueError
        As :func:`attention_loss_grad_fast`.
    """
    A1, A2, A3, E, X, Y = _check_loss_fast(A1, A2, A3, E, X, Y)
    Q, h = _products(A1, X, A3, Y)
    return attention_loss_grad_bounds(low_rank_attention(Q, A2, eps, bound), A1, A2, h, E)
