"""The training loss of tensor attention and its gradient, exact and in ``n^{1+o(1)}`` (docs/tensor-attention.md).

Loss (Liang, Shi, Song, Zhou, arXiv 2405.16411, Def. 3.8 in the ICLR'25
version; the body of the paper could not be read, the form below is the one
its reviews quote)::

    L(X) = 1/2 || D(X)^{-1} exp(A1 X (A2 ⊗ A3)^T / d) (A4 ⊗ A5) Y - E ||_F^2,
    D(X) = diag(exp(A1 X (A2 ⊗ A3)^T / d) 1_{n²}),

with ``A1 ... A5, E ∈ R^{n × d}``, ``⊗`` the ordinary Kronecker product,
``X ∈ R^{d × d²}`` (it plays ``W_Q (W_K1 ⊘ W_K2)^T``) and ``Y ∈ R^{d² × d}``
(``W_V1 ⊘ W_V2``).  By (I2), ``(A2 X2) ⊘ (A3 X3) = (A2 ⊗ A3)(X2 ⊘ X3)``, so for
``X = X1 (X2 ⊘ X3)^T`` and ``Y = Y1 ⊘ Y2`` the loss is the tensor attention
of ``Q = A1 X1``, ``K1 = A2 X2``, ``K2 = A3 X3``, ``V1 = A4 Y1``,
``V2 = A5 Y2`` (checked in the tests).  Every function here accepts ``X`` as a
``(d, d²)`` array or as the factors ``(X1, X2, X3)`` (each ``d × m``), and
``Y`` as a ``(d², d_v)`` array or as ``(Y1, Y2)`` (each ``d × d_v``).

Gradient (their Lemma 4.1, with the ``1/d`` the paper drops restored; checked
against central finite differences in the tests)::

    f = D^{-1} exp(...) ∈ R^{n × n²},  h = (A4 ⊗ A5) Y,  c = f h - E,  q = c h^T,
    F = f ∘ q - diag((f ∘ q) 1) f,      dL/dX = (1/d) A1^T F (A2 ⊗ A3).

``F`` is the softmax VJP of :func:`~algorithms.tensor_attention.tensor_attention_vjp`
at ``dO = c`` (``rowsum(f ∘ q)_i = <c_i, (f h)_i>``), and ``F (A2 ⊗ A3)`` is
``d · dQ'`` for the head-dimension-``d²`` tensor attention with
``Q' = A1 X``, ``K1' = A2 ⊗ 1_d^T``, ``K2' = 1_d^T ⊗ A3`` (then
``K1' ⊘ K2' = A2 ⊗ A3``), which is how the exact gradient is computed.

Fast (their Thm 5.2): with ``X`` factored, ``f~ = D~^{-1} U1 (U2 ⊘ U3)^T`` by
the polynomial method on ``Q, K1, K2``; ``F~`` is kept in ⊘ form (rank
``r (d_v + 1)``) and (I4), ``(Ub ⊘ Uc)^T (A2 ⊗ A3) = (Ub^T A2) ⊗_row (Uc^T A3)``,
avoids any ``n²`` dimension.  A general ``(d, d²)`` array ``X`` is factored
trivially (``m = d²``, ``X2 ⊘ X3 = I``): correct, but the features then have
rank ``C(d² + g, g)`` and the logits lie in ``[-d B³, d B³]``, so pass the
factors when you have them (the paper's ATAttLGC, Def. 3.9, assumes them).

References
----------
.. [1] Y. Liang, Z. Shi, Z. Song, Y. Zhou. Tensor attention training: provably
   efficient learning of higher-order transformers. arXiv:2405.16411
   (Def. 3.8, Lemma 4.1, Thm 5.2, Lemma 5.6 as numbered in the ICLR'25 reviews).
.. [2] J. Alman, Z. Song. How to capture higher-order correlations?
   Generalizing matrix softmax attention to Kronecker computation. ICLR 2024,
   arXiv:2310.04064.
"""

from __future__ import annotations

import numpy as np

from algorithms import _array
from algorithms._checks import as_fast_matrices, as_matrix
from algorithms.error_bounds import tensor_attention_loss_grad_bounds, value_product_range
from algorithms.kron import _column_kron
from algorithms.tensor_attention.forward import _exact, _low_rank
from algorithms.tensor_attention.vjp import _fast_vjp, _vjp_exact

__all__ = [
    "tensor_attention_loss",
    "tensor_attention_loss_grad",
    "tensor_attention_loss_grad_fast",
    "tensor_attention_loss_grad_error_bound",
]


# ---------------------------------------------------------------------------- checks
def _check_loss(A1, A2, A3, A4, A5, E, X, Y):
    """Validate; return the arrays and ``X``, ``Y`` as factor tuples or ``None``."""
    A1 = as_matrix("A1", A1)
    n, d = A1.shape
    A2 = as_matrix("A2", A2, cols=d)
    A3 = as_matrix("A3", A3, cols=d)
    A4 = as_matrix("A4", A4, rows=A2.shape[0], cols=d)
    A5 = as_matrix("A5", A5, rows=A3.shape[0], cols=d)
    if isinstance(X, (tuple, list)):
        if len(X) != 3:
            raise ValueError(f"X must be a (d, d^2) array or a tuple (X1, X2, X3), got {len(X)} factors")
        X1 = as_matrix("X1", X[0], rows=d)
        Xf = (X1, as_matrix("X2", X[1], rows=d, cols=X1.shape[1]),
              as_matrix("X3", X[2], rows=d, cols=X1.shape[1]))
        X = Xf[0] @ _column_kron(Xf[1], Xf[2]).T
    else:
        Xf, X = None, as_matrix("X", X, rows=d, cols=d * d)
    if isinstance(Y, (tuple, list)):
        if len(Y) != 2:
            raise ValueError(f"Y must be a (d^2, d_v) array or a tuple (Y1, Y2), got {len(Y)} factors")
        Y1 = as_matrix("Y1", Y[0], rows=d)
        Yf = (Y1, as_matrix("Y2", Y[1], rows=d, cols=Y1.shape[1]))
        Y = _column_kron(*Yf)
    else:
        Yf, Y = None, as_matrix("Y", Y, rows=d * d)
    E = as_matrix("E", E, rows=n, cols=Y.shape[1])
    return A1, A2, A3, A4, A5, E, X, Y, Xf, Yf


def _check_loss_fast(A1, A2, A3, A4, A5, E, X, Y):
    """As :func:`_check_loss` for the fast gradient: every operand in the caller's namespace and dtype."""
    xs = list(X) if isinstance(X, (tuple, list)) else [X]
    ys = list(Y) if isinstance(Y, (tuple, list)) else [Y]
    if isinstance(X, (tuple, list)) and len(xs) != 3:
        raise ValueError(f"X must be a (d, d^2) array or a tuple (X1, X2, X3), got {len(xs)} factors")
    if isinstance(Y, (tuple, list)) and len(ys) != 2:
        raise ValueError(f"Y must be a (d^2, d_v) array or a tuple (Y1, Y2), got {len(ys)} factors")
    specs = [("A1", A1), ("A2", A2, None, ("cols", 0)), ("A3", A3, None, ("cols", 0)),
             ("A4", A4, ("rows", 1), ("cols", 0)), ("A5", A5, ("rows", 2), ("cols", 0))]
    if len(xs) == 3:
        specs += [("X1", xs[0], ("cols", 0), None), ("X2", xs[1], ("cols", 0), ("cols", 5)),
                  ("X3", xs[2], ("cols", 0), ("cols", 5))]
    else:
        specs += [("X", xs[0], ("cols", 0), None)]
    at = len(specs)
    if len(ys) == 2:
        specs += [("Y1", ys[0], ("cols", 0), None), ("Y2", ys[1], ("cols", 0), ("cols", at))]
    else:
        specs += [("Y", ys[0], None, None)]
    specs += [("E", E, ("rows", 0), None)]
    xp, arrays = as_fast_matrices(*specs)
    A1, A2, A3, A4, A5 = arrays[:5]
    d = int(A1.shape[1])
    Xf = tuple(arrays[5:8]) if len(xs) == 3 else None
    if Xf is None and int(arrays[5].shape[1]) != d * d:
        raise ValueError(f"X must have {d * d} columns, got shape {tuple(arrays[5].shape)}")
    X = arrays[5] if Xf is None else None
    Yf = tuple(arrays[at : at + 2]) if len(ys) == 2 else None
    Y = arrays[at] if Yf is None else _column_kron_xp(xp, *Yf)
    if Yf is None and int(Y.shape[0]) != d * d:
        raise ValueError(f"Y must have {d * d} rows, got shape {tuple(Y.shape)}")
    E = arrays[-1]
    if int(E.shape[1]) != int(Y.shape[1]):
        raise ValueError(f"E must have {int(Y.shape[1])} columns, got shape {tuple(E.shape)}")
    return A1, A2, A3, A4, A5, E, X, Y, Xf, Yf


def _column_kron_xp(xp, A, B):
    """``A ⊘ B`` (row ``(i, j)`` is ``A[i] ∘ B[j]``) in any namespace."""
    a, b, c = int(A.shape[0]), int(B.shape[0]), int(A.shape[1])
    return xp.reshape(xp.reshape(A, (a, 1, c)) * xp.reshape(B, (1, b, c)), (a * b, c))


def _kron_factors(A2, A3):
    """``(A2 ⊗ 1_d^T, 1_d^T ⊗ A3)``: their ⊘ is ``A2 ⊗ A3`` (an ``n × d²`` pair)."""
    if isinstance(A2, np.ndarray):
        d = A2.shape[1]
        return np.repeat(A2, d, axis=1), np.tile(A3, (1, d))
    xp = _array.namespace(A2, A3)
    n2, n3, d = int(A2.shape[0]), int(A3.shape[0]), int(A2.shape[1])
    ones2, ones3 = _array.ones(xp, (1, 1, d), A2), _array.ones(xp, (1, d, 1), A3)
    return (xp.reshape(xp.reshape(A2, (n2, d, 1)) * ones2, (n2, d * d)),
            xp.reshape(ones3 * xp.reshape(A3, (n3, 1, d)), (n3, d * d)))


def _values(A4, A5, Y, Yf):
    """``(V1, V2, W)`` with ``(A4 ⊗ A5) Y = (V1 ⊘ V2) W`` (``W = None`` means identity)."""
    if Yf is not None:
        return A4 @ Yf[0], A5 @ Yf[1], None
    V1, V2 = _kron_factors(A4, A5)
    return V1, V2, Y


def _output(out, W):
    return out if W is None else out @ W


# ---------------------------------------------------------------------------- exact
def tensor_attention_loss(A1, A2, A3, A4, A5, E, X, Y) -> float:
    """``L(X) = 1/2 ||D^{-1} exp(A1 X (A2 ⊗ A3)^T / d) (A4 ⊗ A5) Y - E||_F^2`` (Liang et al. Def. 3.8).

    Parameters
    ----------
    A1, E : (n, d) and (n, d_v) arrays.
    A2, A4 : (n1, d) arrays; A3, A5 : (n2, d) arrays (the paper: ``n1 = n2 = n``).
    X : (d, d²) array, or factors ``(X1, X2, X3)`` with ``X = X1 (X2 ⊘ X3)^T``.
    Y : (d², d_v) array, or factors ``(Y1, Y2)`` with ``Y = Y1 ⊘ Y2``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Malformed or mismatched inputs (each names the parameter).

    Examples
    --------
    With factored weights the loss is half the squared error of tensor attention (I2):

    >>> from algorithms.tensor_attention import tensor_attention
    >>> rng = np.random.default_rng(0)
    >>> A1, A2, A3, A4, A5, E = (rng.uniform(-1, 1, (5, 2)) for _ in range(6))
    >>> X1, X2, X3, Y1, Y2 = (rng.uniform(-1, 1, (2, 2)) for _ in range(5))
    >>> T = tensor_attention(A1 @ X1, A2 @ X2, A3 @ X3, A4 @ Y1, A5 @ Y2)
    >>> L = tensor_attention_loss(A1, A2, A3, A4, A5, E, (X1, X2, X3), (Y1, Y2))
    >>> bool(np.isclose(L, 0.5 * np.sum((T - E) ** 2), rtol=1e-12))
    True

    Notes
    -----
    ``O(n n1 n2 d²)`` time (the logits are contracted from ``A1 X`` in head
    dimension ``d²``), memory ``O(2**21 + n d²)``, streamed as
    :func:`~algorithms.tensor_attention.tensor_attention`.

    References
    ----------
    .. [1] Liang, Shi, Song, Zhou, arXiv:2405.16411, Def. 3.8.
    """
    A1, A2, A3, A4, A5, E, X, Y, Xf, Yf = _check_loss(A1, A2, A3, A4, A5, E, X, Y)
    V1, V2, W = _values(A4, A5, Y, Yf)
    K1, K2 = _kron_factors(A2, A3)
    out = _exact(A1 @ X, K1, K2, V1, V2, 1.0 / A1.shape[1])[0]
    return 0.5 * float(np.sum((_output(out, W) - E) ** 2))


def tensor_attention_loss_grad(A1, A2, A3, A4, A5, E, X, Y) -> np.ndarray:
    """Exact ``dL/dX = (1/d) A1^T F (A2 ⊗ A3)`` (Liang et al. Lemma 4.1, ``1/d`` restored).

    ``f``, ``h``, ``c``, ``q``, ``F`` as in the module docstring; computed as
    ``A1^T dQ'`` for the VJP of the head-dimension-``d²`` tensor attention
    ``(A1 X, A2 ⊗ 1^T, 1^T ⊗ A3)`` at ``dO = c W^T``.

    Parameters
    ----------
    A1, A2, A3, A4, A5, E, X, Y : as in :func:`tensor_attention_loss`.

    Returns
    -------
    (d, d²) array (also when ``X`` is given as factors: the gradient is with
    respect to ``X`` itself).

    Raises
    ------
    ValueError
        Malformed or mismatched inputs.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = [rng.uniform(-1, 1, (5, 2)) for _ in range(6)]
    >>> X, Y = rng.uniform(-1, 1, (2, 4)), rng.uniform(-1, 1, (4, 2))
    >>> G = tensor_attention_loss_grad(*A, X, Y)
    >>> h = 1e-6; Xp = X.copy(); Xp[1, 2] += h; Xm = X.copy(); Xm[1, 2] -= h
    >>> fd = (tensor_attention_loss(*A, Xp, Y) - tensor_attention_loss(*A, Xm, Y)) / (2 * h)
    >>> bool(abs(fd - G[1, 2]) < 1e-8)
    True

    Notes
    -----
    Two streamed passes, ``O(n n1 n2 d²)`` time, ``O(2**21 + n d²)`` memory.

    References
    ----------
    .. [1] Liang, Shi, Song, Zhou, arXiv:2405.16411, Lemma 4.1.
    .. [2] Alman & Song, arXiv:2402.04497, Lemma C.7 (the matrix case).
    """
    A1, A2, A3, A4, A5, E, X, Y, Xf, Yf = _check_loss(A1, A2, A3, A4, A5, E, X, Y)
    V1, V2, W = _values(A4, A5, Y, Yf)
    K1, K2 = _kron_factors(A2, A3)
    Q, scale = A1 @ X, 1.0 / A1.shape[1]
    forward = _exact(Q, K1, K2, V1, V2, scale)
    c = _output(forward[0], W) - E
    dO = c if W is None else c @ W.T
    return A1.T @ _vjp_exact(Q, K1, K2, V1, V2, dO, scale, only_dQ=True, forward=forward)[0]


# ---------------------------------------------------------------------------- fast
def _fast_setup(A1, A2, A3, X, Xf, eps, bound):
    d = A1.shape[1]
    if Xf is not None:
        Q, K1, K2 = A1 @ Xf[0], A2 @ Xf[1], A3 @ Xf[2]
        names = ("A1 X1", "A2 X2", "A3 X3")
    else:
        Q, (K1, K2) = A1 @ X, _kron_factors(A2, A3)
        names = ("A1 X", "A2", "A3")
    return _low_rank(Q, K1, K2, eps, bound, 1.0 / d, names=names)


def tensor_attention_loss_grad_fast(
    A1, A2, A3, A4, A5, E, X, Y, eps: float = 1e-6, bound: float | None = None
) -> np.ndarray:
    """``dL/dX`` in ``n^{1+o(1)}`` time: the five stages of Liang et al. (Thm 5.2).

    Parameters
    ----------
    A1, A2, A3, A4, A5, E, X, Y : as in :func:`tensor_attention_loss`; pass
        ``X`` as factors ``(X1, X2, X3)`` for the fast regime (a plain array is
        factored trivially with ``m = d²``: rank ``C(d² + g, g)``).
    eps : relative error of the polynomial, in (0, 1).
    bound : the promised ``B >= max(|A1 X1|, |A2 X2|, |A3 X3|)`` (ATAttLGC,
        Def. 3.9); for an array ``X``, ``B >= max(|A1 X|, |A2|, |A3|)``.
        ``None`` measures it.  Logits lie in ``[-(m/d) B³, (m/d) B³]``.

    Returns
    -------
    (d, d²) array within :func:`tensor_attention_loss_grad_error_bound` of the exact one.

    Raises
    ------
    ValueError
        Malformed inputs; ``eps`` outside (0, 1); a factor above ``bound``;
        logits too wide for a float64 polynomial at ``eps``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> A = [rng.uniform(-1, 1, (8, 2)) for _ in range(6)]
    >>> Xf = tuple(rng.uniform(-1, 1, (2, 2)) for _ in range(3))
    >>> Yf = tuple(rng.uniform(-1, 1, (2, 2)) for _ in range(2))
    >>> G = tensor_attention_loss_grad_fast(*A, Xf, Yf)
    >>> bool(np.max(np.abs(G - tensor_attention_loss_grad(*A, Xf, Yf))) < 1e-5)
    True

    Notes
    -----
    1. ``f~ = D~^{-1} U1 (U2 ⊘ U3)^T`` (polynomial method on ``Q, K1, K2``);
    2. ``c~ = f~ h - E`` by (I1), ``h = V1 ⊘ V2``;
    3. ``q = c~ h^T``, rank ``d_v``, in ⊘ form;
    4. ``f~ ∘ q = (U~1 ⊗_row c~) [(U2 ⊗_row V1) ⊘ (U3 ⊗_row V2)]^T`` (I3),
       and ``diag(rowsum(f~ ∘ q)) f~`` (row scaling of ``U~1``);
    5. ``F~ (A2 ⊗ A3)`` through (I4): ``[(U2 ⊗_row V1)^T A2] ⊗_row [(U3 ⊗_row V2)^T A3]``.

    Cost ``O((n + n1 + n2) r d_v d²)`` with ``r = C(m + g, g)``; no ``n²`` array.

    References
    ----------
    .. [1] Liang, Shi, Song, Zhou, arXiv:2405.16411, Thm 5.2 (``n^{1+o(1)}`` for
       ``B = o((log n)^{1/3})``, ``d = O(log n)``), Facts 5.4-5.5, Lemma 5.6.
    """
    A1, A2, A3, A4, A5, E, X, Y, Xf, Yf = _check_loss_fast(A1, A2, A3, A4, A5, E, X, Y)
    P = _fast_setup(A1, A2, A3, X, Xf, eps, bound)
    V1, V2, W = _values(A4, A5, Y, Yf)
    c = _output(P.apply(V1, V2), W) - E
    dO = c if W is None else c @ W.T
    L2, L3 = _kron_factors(A2, A3)
    G = _fast_vjp(P, V1, V2, dO, L2, L3)[0]
    return P.scale * (A1.T @ G)


def tensor_attention_loss_grad_error_bound(
    A1, A2, A3, A4, A5, E, X, Y, eps: float = 1e-6, bound: float | None = None
) -> np.ndarray:
    """Entrywise bound on ``|tensor_attention_loss_grad_fast - tensor_attention_loss_grad|`` (our derivation).

    The (E1) error of ``c~ = f~ h - E`` plus the VJP bound at ``c~``::

        |dL/dX~ - dL/dX| <= (1/d) |A1|^T [(1.5 eta R + R_c) (max|A2| ⊗ max|A3|)]

    with ``R_i = sum_l |c~_il| range(h_:l)`` and ``R_c = sum_l e_l range(h_:l)``
    (derived in :func:`algorithms.error_bounds.tensor_attention_loss_grad_bounds`).
    ``range(h_:l)`` is exact from column extremes for factored ``Y`` and
    ``2 sum_bc |Y_bc,l| max|A4_b| max|A5_c|`` for an array ``Y``.

    Returns
    -------
    (d, d²) array.

    Raises
    ------
    ValueError
        As :func:`tensor_attention_loss_grad_fast`.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> A = [rng.uniform(-1, 1, (8, 2)) for _ in range(6)]
    >>> Xf, Yf = tuple(rng.uniform(-0.5, 0.5, (2, 2)) for _ in range(3)), (np.eye(2), np.eye(2))
    >>> err = np.abs(tensor_attention_loss_grad_fast(*A, Xf, Yf) - tensor_attention_loss_grad(*A, Xf, Yf))
    >>> bool(np.all(err <= tensor_attention_loss_grad_error_bound(*A, Xf, Yf)))
    True

    Notes
    -----
    Same cost as :func:`tensor_attention_loss_grad_fast`.
    """
    A1, A2, A3, A4, A5, E, X, Y, Xf, Yf = _check_loss_fast(A1, A2, A3, A4, A5, E, X, Y)
    P = _fast_setup(A1, A2, A3, X, Xf, eps, bound)
    V1, V2, W = _values(A4, A5, Y, Yf)
    value_max = None
    if W is None:
        lo, hi = value_product_range([V1, V2])
        spread, value_max = hi - lo, np.maximum(-lo, hi)
    else:
        xp = _array.namespace(W)
        a45 = np.kron(*(_array.to_numpy(xp.max(xp.abs(A), axis=0)) for A in (A4, A5)))
        spread = 2 * (_array.to_numpy(xp.abs(W)).T.astype(float) @ a45)
    c = _output(P.apply(V1, V2), W) - E
    return tensor_attention_loss_grad_bounds(P, A1, A2, A3, c, spread, value_max)
