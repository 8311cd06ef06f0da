"""Vector-Jacobian products of tensor attention, exact and in ``O(n r d²)`` (docs/tensor-attention.md).

For ``O = Att``, ``f = D^{-1} A`` and upstream ``dO``, with
``q = dO (V1 ⊘ V2)^T`` and ``delta_i = <dO_i, O_i>``::

    F = f ∘ (q - delta 1^T)                         (n × n², "dS")
    dQ  = F (K1 ⊘ K2) / d
    dK1[j1] = sum_{i, j2} F[i, (j1, j2)] Q_i ∘ K2_j2 / d      (dK2 symmetric)
    dV1[j1] = sum_{i, j2} f[i, (j1, j2)] dO_i ∘ V2_j2          (dV2 symmetric)

Exact: the online softmax forward pass, then a replay of its blocks
(:mod:`algorithms.softmax`).  Fast: ``f ∘ q`` has rank ``r d`` in ⊘ form
(Alman & Song 2024, Fact A.2, row-wise Kronecker ``⊗_row``)::

    f~ ∘ q = (U~1 ⊗_row dO) [(U2 ⊗_row V1) ⊘ (U3 ⊗_row V2)]^T,   U~1 = D~^{-1} U1,

and every contraction with ``K1 ⊘ K2``, ``Q`` or ``V`` goes through (I1)
again, so each gradient costs ``O(n r d²)``; see
:func:`tensor_attention_vjp_fast`.  The entrywise bounds are
:func:`algorithms.error_bounds.tensor_attention_vjp_bounds`.

References
----------
.. [1] Y. Liang, Z. Shi, Z. Song, Y. Zhou. Tensor attention training: provably
   efficient learning of higher-order transformers. arXiv:2405.16411.
.. [2] J. Alman, Z. Song. The fine-grained complexity of gradient computation
   for training large language models. NeurIPS 2024, arXiv:2402.04497 (Fact A.2).
"""

from __future__ import annotations

import numpy as np

from algorithms import _array, _scaling
from algorithms._checks import as_fast_matrices, as_matrix
from algorithms.error_bounds import tensor_attention_vjp_bounds
from algorithms.kron import _column_kron
from algorithms.polynomial_method import LowRankOperator
from algorithms.polynomial_method.streaming import sum_rows
from algorithms.softmax import softmax_blocks
from algorithms.tensor_attention.forward import (
    _check_inputs,
    _exact,
    _low_rank,
    _softmax_pass,
)

__all__ = ["tensor_attention_vjp", "tensor_attention_vjp_fast", "tensor_attention_vjp_error_bound"]


def _check_vjp(Q, K1, K2, V1, V2, dO):
    Q, K1, K2, V1, V2 = _check_inputs(Q, K1, K2, V1, V2)
    dO = as_matrix("dO", dO, rows=Q.shape[0], cols=V1.shape[1])
    return Q, K1, K2, V1, V2, dO


def _check_vjp_fast(Q, K1, K2, V1, V2, dO):
    """The fast VJP's operands in the caller's namespace and dtype."""
    return as_fast_matrices(("Q", Q), ("K1", K1, None, ("cols", 0)), ("K2", K2, None, ("cols", 0)),
                            ("V1", V1, ("rows", 1), None), ("V2", V2, ("rows", 2), ("cols", 3)),
                            ("dO", dO, ("rows", 0), ("cols", 3)))[1]


# ---------------------------------------------------------------------------- exact
def _vjp_exact(Q, K1, K2, V1, V2, dO, scale, only_dQ=False, forward=None):
    """Streamed exact VJP: the forward pass for ``(O, lse)`` (or ``forward``), then one replay of its blocks."""
    out, lse = _exact(Q, K1, K2, V1, V2, scale) if forward is None else forward
    delta = np.einsum("il,il->i", dO, out)
    n2 = K2.shape[0]
    dQ, dK1, dK2 = np.zeros_like(Q), np.zeros_like(K1), np.zeros_like(K2)
    dV1, dV2 = np.zeros_like(V1), np.zeros_like(V2)
    for qs, js, f in softmax_blocks(lse=lse, **_softmax_pass(Q, K1, K2, scale)):
        Qb, dOb = Q[qs], dO[qs]
        dOV1 = _column_kron(dOb, V1[js])
        F = (dOV1 @ V2.T).reshape(f.shape)  # q[i, j1, j2]
        F -= delta[qs, None, None]
        F *= f
        F2 = F.reshape(-1, n2)
        FK2 = (F2 @ K2).reshape(F.shape[0], F.shape[1], -1)
        dQ[qs] += np.einsum("ijm,jm->im", FK2, K1[js])
        if only_dQ:
            continue
        dK1[js] += np.einsum("ijm,im->jm", FK2, Qb)
        dK2 += F2.T @ _column_kron(Qb, K1[js])
        f2 = f.reshape(-1, n2)
        fV2 = (f2 @ V2).reshape(f.shape[0], f.shape[1], -1)
        dV1[js] += np.einsum("ijl,il->jl", fV2, dOb)
        dV2 += f2.T @ dOV1
    return dQ * scale, dK1 * scale, dK2 * scale, dV1, dV2, out


def tensor_attention_vjp(Q, K1, K2, V1, V2, dO):
    """Exact gradients of ``<Att(Q, K1, K2, V1, V2), dO>`` w.r.t. all five inputs.

    With ``f = D^{-1} A``, ``q = dO (V1 ⊘ V2)^T``, ``delta_i = <dO_i, O_i>``
    and ``F = f ∘ (q - delta 1^T)`` (the softmax VJP)::

        dQ = F (K1 ⊘ K2) / d,
        dK1[j1] = sum_{i,j2} F[i,(j1,j2)] Q_i ∘ K2_j2 / d,   dK2 likewise,
        dV1[j1] = sum_{i,j2} f[i,(j1,j2)] dO_i ∘ V2_j2,      dV2 likewise.

    Parameters
    ----------
    Q, K1, K2, V1, V2 : as in :func:`~algorithms.tensor_attention.tensor_attention`.
    dO : (n, d_v) upstream gradient.

    Returns
    -------
    (dQ, dK1, dK2, dV1, dV2), each with the shape of its input.

    Raises
    ------
    ValueError
        Malformed or mismatched inputs.

    Examples
    --------
    >>> from algorithms.tensor_attention import tensor_attention
    >>> rng = np.random.default_rng(0)
    >>> Q, K1, K2, V1, V2, dO = (rng.uniform(-1, 1, (4, 2)) for _ in range(6))
    >>> dQ = tensor_attention_vjp(Q, K1, K2, V1, V2, dO)[0]
    >>> h = 1e-6; Qp = Q.copy(); Qp[1, 0] += h; Qm = Q.copy(); Qm[1, 0] -= h
    >>> fd = np.sum((tensor_attention(Qp, K1, K2, V1, V2)
    ...              - tensor_attention(Qm, K1, K2, V1, V2)) * dO) / (2 * h)
    >>> bool(abs(fd - dQ[1, 0]) < 1e-8)
    True

    Notes
    -----
    One streamed forward pass (for ``O``, the row maxima and sums) and one
    streamed backward pass over the same blocks: ``O(n n1 n2 (d + d_v))``
    time, ``O(2**21 + n d)`` memory.

    References
    ----------
    .. [1] Liang, Shi, Song, Zhou, arXiv:2405.16411, Lemma 4.1 (the ``F`` above,
       with the ``1/d`` the paper drops restored).
    """
    Q, K1, K2, V1, V2, dO = _check_vjp(Q, K1, K2, V1, V2, dO)
    with np.errstate(over="ignore", invalid="ignore"):
        grads = _vjp_exact(Q, K1, K2, V1, V2, dO, 1.0 / Q.shape[1])[:5]
    if _scaling.all_finite(*grads):
        return grads
    # values or dO near float64's range (dO (V1 ⊘ V2)^T - delta was inf - inf): the gradients are linear in each of
    # V1, V2, dO (dV1 has no V1, dV2 no V2), so redo with them scaled by powers of two and scale back last
    a1, a2, c = (_scaling.exponent(X) for X in (V1, V2, dO))
    dQ, dK1, dK2, dV1, dV2 = _vjp_exact(Q, K1, K2, _scaling.scale(V1, -a1), _scaling.scale(V2, -a2),
                                        _scaling.scale(dO, -c), 1.0 / Q.shape[1])[:5]
    return (*(_scaling.scale(G, a1, a2, c) for G in (dQ, dK1, dK2)), _scaling.scale(dV1, a2, c),
            _scaling.scale(dV2, a1, c))


# ---------------------------------------------------------------------------- fast
def _fast_vjp(P: LowRankOperator, V1, V2, dO, L2=None, L3=None, *, Q=None, K=None):
    """Low-rank ``F = f~ ∘ (q - delta)`` applied everywhere it is needed.

    Returns ``(G, dK1, dK2, dV1, dV2, O)`` where ``G = F (L2 ⊘ L3)`` (``dQ / scale``
    when ``L2, L3 = K1, K2``).  The key gradients are computed only for the
    default ``L``.  ``Q`` and ``K = (K1, K2)``, where given, replace ``P.Q`` and
    ``P.keys`` in the products (not in the weights ``f~``): scaled copies.  Cost
    ``O((n + n1 + n2) r p m)`` for ``p`` value and ``m`` ``L`` columns.
    """
    xp = P.xp
    keys = L2 is None
    K1, K2 = P.keys if K is None else K
    Qp = P.Q if Q is None else Q
    L2, L3 = (K1, K2) if keys else (L2, L3)
    p, m = int(V1.shape[1]), int(L2.shape[1])
    one1, one2 = _array.ones(xp, (int(V1.shape[0]), 1), V1), _array.ones(xp, (int(V2.shape[0]), 1), V2)
    # Stage 1: key-side products U2^T [V1, 1, L2, V1 ⊗_row L2] and U3^T [V2, 1, L3, V2 ⊗_row L3] (float64).
    T2 = P.key_side(1, _array.concat(xp, [V1, one1, L2, _array.row_kron(xp, V1, L2)]))
    T3 = P.key_side(2, _array.concat(xp, [V2, one2, L3, _array.row_kron(xp, V2, L3)]))
    c1, c2 = p + 1, p + 1 + m
    V2s, V3s = T2[:, :p], T3[:, :p]
    L2s, L3s = T2[:, c1:c2], T3[:, c1:c2]
    VL2, VL3 = T2[:, c2:], T3[:, c2:]
    work = [_array.astype(xp, X, P.Q.dtype) for X in (V2s * V3s, T2[:, p : p + 1] * T3[:, p : p + 1], L2s * L3s,
                                                     VL2 * VL3)]  # (I1)
    N, Zr, KK, WW = work
    n, r, d = P.n, P.rank, int(P.Q.shape[1])
    G, out, acc = [], [], None
    # Stages 2-5, per query block: O~ = f~ (V1 ⊘ V2), delta, G = F (L2 ⊘ L3).
    for sl in P.blocks(n):
        U1 = P.phi(sl)
        U1 = U1 / (U1 @ Zr)  # rows of D~^{-1} U1
        ob, dOb = U1 @ N, dO[sl, ...]
        b = int(ob.shape[0])
        delta = xp.reshape(_array.rowdot(xp, dOb, ob), (b, 1))
        UW = xp.reshape(U1 @ WW, (b, p, m))
        G.append(xp.sum(xp.reshape(dOb, (b, p, 1)) * UW, axis=1) - delta * (U1 @ KK))
        out.append(ob)
        if keys:
            Qb = Qp[sl, ...]
            Y = _array.concat(xp, [_array.row_kron(xp, dOb, Qb), delta * Qb, dOb])
            part = sum_rows(xp, lambda _, U=U1: U, Y, b, P.dtype)
            acc = part if acc is None else acc + part
    G, out = (_array.concat(xp, X, axis=0) if len(X) > 1 else X[0] for X in (G, out))
    if not keys:
        return G, None, None, None, None, out
    PQ, RQ, UdO = acc[:, : p * d], acc[:, p * d : p * d + d], acc[:, p * d + d :]
    PQ3 = xp.reshape(PQ, (r, p, d))
    # dK1[j1] = sum_{i,j2} F[i,(j1,j2)] Q_i ∘ K2_j2: contract the query side first.
    M1 = xp.reshape(PQ3 * xp.reshape(VL3, (r, p, d)), (r, p * d))
    M2 = xp.reshape(PQ3 * xp.reshape(VL2, (r, p, d)), (r, p * d))
    R1, R2 = RQ * L3s, RQ * L2s
    grads = []
    for which, M_, R_, Vw, other in ((1, M1, R1, V1, V3s), (2, M2, R2, V2, V2s)):
        M_, R_, S_ = (_array.astype(xp, X, P.Q.dtype) for X in (M_, R_, UdO * other))
        dK, dV = [], []
        for sl in P.blocks(int(Vw.shape[0])):
            U = P.psi(which, sl)
            b = int(U.shape[0])
            dK.append(xp.sum(xp.reshape(U @ M_, (b, p, d)) * xp.reshape(Vw[sl, ...], (b, p, 1)), axis=1) - U @ R_)
            dV.append(U @ S_)
        grads += [_array.concat(xp, X, axis=0) if len(X) > 1 else X[0] for X in (dK, dV)]
    dK1, dV1, dK2, dV2 = grads
    return G, dK1, dK2, dV1, dV2, out


def tensor_attention_vjp_fast(Q, K1, K2, V1, V2, dO, eps: float = 1e-6, bound: float | None = None):
    """Gradients of ``<Att, dO>`` w.r.t. all five inputs in ``O(n r d²)`` time.

    The formulas of :func:`tensor_attention_vjp` with ``f`` replaced by
    ``f~ = D~^{-1} U1 (U2 ⊘ U3)^T``; nothing of size ``n²`` (let alone
    ``n × n²``) is formed.

    Parameters
    ----------
    Q, K1, K2, V1, V2, dO : as in :func:`tensor_attention_vjp`.
    eps, bound : as in :func:`~algorithms.tensor_attention.tensor_attention_fast`.

    Returns
    -------
    (dQ, dK1, dK2, dV1, dV2) within :func:`tensor_attention_vjp_error_bound`
    of the exact ones.

    Raises
    ------
    ValueError
        As :func:`tensor_attention_vjp` and :func:`~algorithms.tensor_attention.low_rank_tensor_attention`.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> args = [rng.uniform(-1, 1, (12, 3)) for _ in range(6)]
    >>> fast, exact = tensor_attention_vjp_fast(*args), tensor_attention_vjp(*args)
    >>> bool(max(np.max(np.abs(a - b)) for a, b in zip(fast, exact)) < 1e-5)
    True

    Notes
    -----
    The five stages of Liang et al. (arXiv:2405.16411, Sec. 5; reconstructed
    in docs/tensor-attention.md), for a VJP instead of the loss:

    1. key side: ``U2^T [V1, 1, K1, V1 ⊗_row K1]`` and the same for ``U3``;
       products of matching blocks give, by (I1), ``(U2⊘U3)^T (V1⊘V2)``,
       ``(U2⊘U3)^T 1``, ``(U2⊘U3)^T (K1⊘K2)`` and ``W^T (K1⊘K2)`` for
       ``W = (U2 ⊗_row V1) ⊘ (U3 ⊗_row V2)``;
    2. ``O~ = D~^{-1} U1 (U2⊘U3)^T (V1⊘V2)`` and ``delta_i = <dO_i, O~_i>``;
    3. ``f~ ∘ q = (U~1 ⊗_row dO) W^T`` (rank ``r d_v``, I3);
    4. ``F~ = f~ ∘ q - diag(delta) f~``;
    5. ``dQ = F~ (K1⊘K2) / d`` from stage 1's products; ``dK1``, ``dK2``,
       ``dV1``, ``dV2`` contract the query side first
       (``(U~1 ⊗_row dO)^T Q`` etc., ``r d_v d`` numbers), then the key side.

    Cost ``O((n + n1 + n2) r d d_v)``.

    References
    ----------
    .. [1] Liang, Shi, Song, Zhou, arXiv:2405.16411, Thm 5.2 and Lemma 5.6.
    .. [2] Alman & Song, arXiv:2402.04497, App. D (the matrix case).
    """
    Q, K1, K2, V1, V2, dO = _check_vjp_fast(Q, K1, K2, V1, V2, dO)
    P = _low_rank(Q, K1, K2, eps, bound, 1.0 / int(Q.shape[1]))
    # every product runs on inputs scaled by powers of two to max|X| < 1 (the weights f~ are P's own), and the
    # gradients, linear in each factor, are scaled back last: products like K1 ⊗ V1 of huge inputs cannot overflow
    q, k1, k2, a1, a2, c = (_scaling.exponent(X) for X in (Q, K1, K2, V1, V2, dO))
    sc = _scaling.scale
    G, dK1, dK2, dV1, dV2, _ = _fast_vjp(P, sc(V1, -a1), sc(V2, -a2), sc(dO, -c), Q=sc(Q, -q),
                                         K=(sc(K1, -k1), sc(K2, -k2)))
    s = P.scale
    with np.errstate(over="ignore"):
        return (sc(G * s, a1, a2, c, k1, k2), sc(dK1 * s, a1, a2, c, q, k2), sc(dK2 * s, a1, a2, c, q, k1),
                sc(dV1, a2, c), sc(dV2, a1, c))


def tensor_attention_vjp_error_bound(
    Q, K1, K2, V1, V2, dO, eps: float = 1e-6, bound: float | None = None
):
    """Entrywise bounds on ``|fast - exact|`` for the five gradients (our derivation).

    With ``eta = 2 e' / (1 - e')`` and ``R_i = sum_l |dO_il| range_l(V1 ⊘ V2)``::

        |dQ~_im - dQ_im|  <= 1.5 eta R_i max|K1_:m| max|K2_:m| / d,
        |dK1~_jm - dK1_jm| <= 1.5 eta (1 + eta) max|K2_:m| [sum_i R_i |Q_im| f~_i(j, .)] / d,
        |dV1~_jl - dV1_jl| <= eta (1 + eta) max|V2_:l| [sum_i |dO_il| f~_i(j, .)],

    and symmetrically for ``dK2``, ``dV2`` (derived in
    :func:`algorithms.error_bounds.tensor_attention_vjp_bounds`).

    Returns
    -------
    (bQ, bK1, bK2, bV1, bV2), arrays with the shapes of the inputs.

    Raises
    ------
    ValueError
        As :func:`tensor_attention_vjp_fast`.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> args = [rng.uniform(-1, 1, (10, 2)) for _ in range(6)]
    >>> errors = [np.abs(a - b) for a, b in zip(tensor_attention_vjp_fast(*args), tensor_attention_vjp(*args))]
    >>> all(bool(np.all(e <= b)) for e, b in zip(errors, tensor_attention_vjp_error_bound(*args)))
    True

    Notes
    -----
    Same cost as :func:`tensor_attention_vjp_fast`.
    """
    Q, K1, K2, V1, V2, dO = _check_vjp_fast(Q, K1, K2, V1, V2, dO)
    return tensor_attention_vjp_bounds(_low_rank(Q, K1, K2, eps, bound, 1.0 / int(Q.shape[1])), Q, K1, K2, V1, V2,
                                       dO)
