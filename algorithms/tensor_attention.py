"""Tensor attention, exact and fast by the tensor trick, with its gradients (SPEC §3).

Tensor attention (TAttC, Alman & Song, ICLR 2024, arXiv 2310.04064, abstract and Sec. 1)
lets a query look at *pairs* of tokens.  With the column-wise Kronecker
product ``K1 ⊘ K2`` (row ``(j1, j2)`` is ``K1[j1] ∘ K2[j2]``)::

    A = exp(Q (K1 ⊘ K2)^T / d) ∈ R^{n × n²},   D = diag(A 1_{n²}),
    Att(Q, K1, K2, V1, V2) = D^{-1} A (V1 ⊘ V2) ∈ R^{n × d},

so ``A[i, (j1, j2)] = exp(<q_i, k1_j1 ∘ k2_j2> / d)``: a trilinear logit (the
same object as "2-simplicial attention").  The abstract of the paper writes
no ``1/d``; we keep it, as in matrix attention (AS23) and in the training loss
of Liang et al. (a rescaling of ``Q``; papers/tensor-and-gradient.md §3.1).  Row ``(j1, j2)`` is stored at
``j1 * n2 + j2``: the first factor is the slow index, which makes ``⊘`` agree
with ``numpy.kron`` (identity (I2) below).

Exact: ``O(n³ d)`` time.  :func:`tensor_attention` streams over blocks of
queries and of ``j1``; a block holds at most ``2**21`` logits, and the running
maximum of each query row over all ``(j1, j2)`` is subtracted before ``exp``
(online softmax: the running sums are rescaled when the maximum grows).

Fast (Alman & Song, ICLR 2024, Sec. 3.1; the tensor trick).  With ``|Q|, |K1|, |K2|
<= B`` every logit lies in ``[-B³, B³]``; :func:`~algorithms.polynomial.
exp_approximation` gives ``P`` of degree ``g`` with relative error ``eps``
there, and since ``<q, k1 ∘ k2>^t`` expands over the same multi-indices as
``<q, k>^t``::

    P(<q, k1 ∘ k2> / d) = phi(q) · (psi(k1) ∘ psi(k2)),    i.e.  A~ = U1 (U2 ⊘ U3)^T,

with ``U1 = phi(Q)``, ``U2 = psi(K1)``, ``U3 = psi(K2)`` of rank
``r = C(d + g, g)``.  Identity (I1) turns the ``n² × d`` product into two
``n × d`` ones::

    (U2 ⊘ U3)^T (V1 ⊘ V2) = (U2^T V1) ∘ (U3^T V2)                         (I1)

so ``T = D~^{-1} U1 [(U2^T V1) ∘ (U3^T V2)]`` with ``D~ = diag(U1 [(U2^T 1) ∘
(U3^T 1)])`` costs ``O(n r d)`` and never forms anything of size ``n²``.
The rank is ``C(d+g, g)`` because the three factors share one multi-index;
the looser ``C(3(g+d), 3g)`` we recall from the paper (its body could not
be read to confirm) is not needed; the tests check the rank numerically.

Error of the output (same argument as matrix attention, (E1) of
:mod:`algorithms.attention`): if every entry of ``A~`` has relative error
``<= e'``, then per column ``l`` of ``V = V1 ⊘ V2``::

    |T_il - Att_il| <= e' (max V_:l - min V_:l) / (1 + sqrt(1 - e'^2)),   (E1)

The extremes of a column of ``V1 ⊘ V2`` are among the four products of the
extremes of ``V1_:l`` and ``V2_:l``, so the bound costs ``O(n d)``.

Gradients.  For ``O = Att``, ``f = D^{-1} A`` and upstream ``dO``, with
``q = dO (V1 ⊘ V2)^T`` and ``delta_i = <dO_i, O_i>``::

    F = f ∘ (q - delta 1^T)                         (n × n², "dS")
    dQ  = F (K1 ⊘ K2) / d
    dK1[j1] = sum_{i, j2} F[i, (j1, j2)] Q_i ∘ K2_j2 / d      (dK2 symmetric)
    dV1[j1] = sum_{i, j2} f[i, (j1, j2)] dO_i ∘ V2_j2          (dV2 symmetric)

Fast gradients.  ``f ∘ q`` has rank ``r d`` in ⊘ form (AS24a Fact A.2,
row-wise Kronecker ``⊗_row``)::

    f~ ∘ q = (U~1 ⊗_row dO) [(U2 ⊗_row V1) ⊘ (U3 ⊗_row V2)]^T,   U~1 = D~^{-1} U1,

and every contraction with ``K1 ⊘ K2``, ``Q`` or ``V`` goes through (I1) again,
so each gradient costs ``O(n r d²)``; see :func:`tensor_attention_vjp_fast`.

References
----------
.. [1] J. Alman, Z. Song. How to capture higher-order correlations?
   Generalizing matrix softmax attention to Kronecker computation. ICLR 2024,
   arXiv:2310.04064.
.. [2] Y. Liang, Z. Shi, Z. Song, Y. Zhou. Tensor attention training: provably
   efficient learning of higher-order transformers. arXiv:2405.16411.
.. [3] J. Alman, Z. Song. The fine-grained complexity of gradient computation
   for training large language models. NeurIPS 2024, arXiv:2402.04497 (Fact A.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_matrix, check_bound, check_eps
from .attention import normalised_output_error
from .features import feature_rank, key_features, monomials, query_features
from .polynomial import ExpApproximation, exp_approximation

__all__ = [
    "column_kron",
    "row_kron",
    "tensor_attention",
    "LowRankTensorAttention",
    "low_rank_tensor_attention",
    "tensor_attention_fast",
    "tensor_attention_error_bound",
    "tensor_attention_vjp",
    "tensor_attention_vjp_fast",
    "tensor_attention_vjp_error_bound",
    "tensor_attention_loss",
    "tensor_attention_loss_grad",
    "tensor_attention_loss_grad_fast",
    "tensor_attention_loss_grad_error_bound",
]

_BLOCK_ENTRIES = 2**21  # logits held by one block of the exact algorithms (16 MB)
_QUERY_BLOCK = 64  # query rows per block of the exact algorithms
_FEATURE_BLOCK = 512  # rows of features built at a time by the fast algorithms (fits in cache)


# ---------------------------------------------------------------------------- Kronecker
def column_kron(A, B) -> np.ndarray:
    """Column-wise Kronecker product ``A ⊘ B`` (Khatri-Rao): row ``j1 * n2 + j2`` is ``A[j1] ∘ B[j2]``.

    Parameters
    ----------
    A : (n1, d) array
    B : (n2, d) array

    Returns
    -------
    (n1 * n2, d) array; column ``l`` is ``numpy.kron(A[:, l], B[:, l])``.

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array or the column counts differ.

    Examples
    --------
    >>> column_kron(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 10.0], [2.0, 20.0]]))
    array([[ 1., 20.],
           [ 2., 40.],
           [ 3., 40.],
           [ 6., 80.]])

    Notes
    -----
    Materialises ``n1 n2 d`` numbers: for tests and teaching.  The algorithms
    never call it on large inputs; they use the identities (I1)-(I4) instead:

    - (I1) ``(K1 ⊘ K2)^T (V1 ⊘ V2) = (K1^T V1) ∘ (K2^T V2)``;
    - (I2) ``(A2 X2) ⊘ (A3 X3) = (A2 ⊗ A3)(X2 ⊘ X3)``;
    - (I3) ``(U1 V1^T) ∘ (U2 V2^T) = (U1 ⊗_row U2)(V1 ⊗_row V2)^T``;
    - (I4) ``(Ub ⊘ Uc)^T (A2 ⊗ A3) = (Ub^T A2) ⊗_row (Uc^T A3)``.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064 (definition of ⊘).
    .. [2] Liang, Shi, Song, Zhou, arXiv:2405.16411 (I2, I4; Facts 5.4-5.5, Lemma 5.6).
    """
    A = as_matrix("A", A)
    B = as_matrix("B", B, cols=A.shape[1])
    return (A[:, None, :] * B[None, :, :]).reshape(-1, A.shape[1])


def row_kron(A, B) -> np.ndarray:
    """Row-wise Kronecker product ``A ⊗_row B``: row ``i`` is ``numpy.kron(A[i], B[i])``.

    Parameters
    ----------
    A : (n, a) array
    B : (n, b) array

    Returns
    -------
    (n, a * b) array (the ⊘ of AS24a Fact A.2, with ``A``'s index slow).

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array or the row counts differ.

    Examples
    --------
    >>> row_kron(np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]]))
    array([[3., 4., 6., 8.]])

    Notes
    -----
    ``O(n a b)``.  It turns an entrywise product of low-rank matrices into one
    low-rank product, (I3): this is why ``f ∘ q`` has rank ``r d`` in the fast
    gradient.

    References
    ----------
    .. [1] Alman & Song, arXiv:2402.04497, Fact A.2.
    """
    A = as_matrix("A", A)
    B = as_matrix("B", B, rows=A.shape[0])
    return _row_kron(A, B)


def _row_kron(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return (A[:, :, None] * B[:, None, :]).reshape(A.shape[0], -1)


def _column_range(V1: np.ndarray, V2: np.ndarray) -> np.ndarray:
    """``max - min`` of each column of ``V1 ⊘ V2``, from the columns' extremes (``O(n d)``)."""
    ends = np.stack(
        [a * b for a in (V1.max(axis=0), V1.min(axis=0)) for b in (V2.max(axis=0), V2.min(axis=0))]
    )
    return ends.max(axis=0) - ends.min(axis=0)


# ---------------------------------------------------------------------------- checks
def _check_inputs(Q, K1, K2, V1, V2):
    Q = as_matrix("Q", Q)
    K1 = as_matrix("K1", K1, cols=Q.shape[1])
    K2 = as_matrix("K2", K2, cols=Q.shape[1])
    V1 = as_matrix("V1", V1, rows=K1.shape[0])
    V2 = as_matrix("V2", V2, rows=K2.shape[0], cols=V1.shape[1])
    return Q, K1, K2, V1, V2


def _check_vjp(Q, K1, K2, V1, V2, dO):
    Q, K1, K2, V1, V2 = _check_inputs(Q, K1, K2, V1, V2)
    dO = as_matrix("dO", dO, rows=Q.shape[0], cols=V1.shape[1])
    return Q, K1, K2, V1, V2, dO


# ---------------------------------------------------------------------------- exact
def _blocks(n: int, size: int):
    for s in range(0, n, size):
        yield slice(s, min(n, s + size))


def _block_sizes(n_queries: int, n1: int, n2: int) -> tuple[int, int]:
    bq = min(n_queries, _QUERY_BLOCK)
    return bq, max(1, min(n1, _BLOCK_ENTRIES // (bq * n2)))


def _logits(Qb, K1b, K2, scale) -> np.ndarray:
    """``S[i, j1, j2] = scale * <q_i, k1_j1 ∘ k2_j2>`` for a block: shape ``(bq, b1, n2)``."""
    QK = (Qb[:, None, :] * K1b[None, :, :]).reshape(-1, Qb.shape[1])
    S = QK @ K2.T
    S *= scale
    return S.reshape(Qb.shape[0], K1b.shape[0], K2.shape[0])


def _forward_exact(Q, K1, K2, V1, V2, scale):
    """Online softmax over ``j1`` blocks: ``(O, row max M, row sum Z of exp(S - M))``."""
    n, p = Q.shape[0], V1.shape[1]
    bq, b1 = _block_sizes(n, K1.shape[0], K2.shape[0])
    O, M, Z = np.empty((n, p)), np.empty(n), np.empty(n)
    for qs in _blocks(n, bq):
        m = np.full(qs.stop - qs.start, -np.inf)
        z = np.zeros_like(m)
        num = np.zeros((m.size, p))
        for js in _blocks(K1.shape[0], b1):
            S = _logits(Q[qs], K1[js], K2, scale)
            m_new = np.maximum(m, S.max(axis=(1, 2)))
            rescale = np.exp(m - m_new)
            S -= m_new[:, None, None]
            np.exp(S, out=S)
            SV2 = (S.reshape(-1, K2.shape[0]) @ V2).reshape(m.size, -1, p)
            num = num * rescale[:, None] + np.einsum("ijl,jl->il", SV2, V1[js])
            z = z * rescale + S.sum(axis=(1, 2))
            m = m_new
        O[qs], M[qs], Z[qs] = num / z[:, None], m, z
    return O, M, Z


def tensor_attention(Q, K1, K2, V1, V2) -> np.ndarray:
    """Exact tensor attention ``D^{-1} exp(Q (K1 ⊘ K2)^T / d) (V1 ⊘ V2)`` (TAttC).

    Parameters
    ----------
    Q : (n, d) array
    K1, K2 : (n1, d) and (n2, d) arrays (the papers take ``n1 = n2 = n``).
    V1, V2 : (n1, d_v) and (n2, d_v) arrays.

    Returns
    -------
    (n, d_v) array: row ``i`` is ``sum_{j1,j2} softmax_i(j1, j2) V1[j1] ∘ V2[j2]``.

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array or the shapes disagree.

    Examples
    --------
    >>> Q = np.zeros((1, 2)); K = np.ones((3, 2)); V1 = np.arange(6.0).reshape(3, 2)
    >>> tensor_attention(Q, K, K, V1, np.ones((3, 2)))  # equal logits: mean of V1 ∘ 1
    array([[2., 3.]])

    Notes
    -----
    ``O(n n1 n2 (d + d_v))`` time.  Blocks of 64 queries times ``b1`` values
    of ``j1`` (``64 b1 n2 <= 2**21``) keep memory at ``O(2**21 + n d)``,
    independent of ``n1``; the running row maximum over all ``(j1, j2)`` is
    subtracted before ``exp`` and earlier partial sums are rescaled when it
    grows, so no logit can overflow.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064 (the problem as stated in the abstract,
       with the ``1/d`` of matrix attention; see papers/tensor-and-gradient.md §3.1).
    """
    Q, K1, K2, V1, V2 = _check_inputs(Q, K1, K2, V1, V2)
    return _forward_exact(Q, K1, K2, V1, V2, 1.0 / Q.shape[1])[0]


def _vjp_exact(Q, K1, K2, V1, V2, dO, scale, only_dQ=False):
    """Streamed exact VJP: a forward pass for ``(O, M, Z)``, then one pass over the blocks."""
    O, M, Z = _forward_exact(Q, K1, K2, V1, V2, scale)
    delta = np.einsum("il,il->i", dO, O)
    n, n2 = Q.shape[0], K2.shape[0]
    bq, b1 = _block_sizes(n, K1.shape[0], n2)
    dQ, dK1, dK2 = np.zeros_like(Q), np.zeros_like(K1), np.zeros_like(K2)
    dV1, dV2 = np.zeros_like(V1), np.zeros_like(V2)
    for qs in _blocks(n, bq):
        Qb, dOb = Q[qs], dO[qs]
        for js in _blocks(K1.shape[0], b1):
            f = _logits(Qb, K1[js], K2, scale)
            f -= M[qs, None, None]
            np.exp(f, out=f)
            f /= Z[qs, None, None]
            dOV1 = (dOb[:, None, :] * V1[js][None]).reshape(-1, V1.shape[1])
            F = (dOV1 @ V2.T).reshape(f.shape)  # q[i, j1, j2]
            F -= delta[qs, None, None]
            F *= f
            F2 = F.reshape(-1, n2)
            FK2 = (F2 @ K2).reshape(F.shape[0], F.shape[1], -1)
            dQ[qs] += np.einsum("ijm,jm->im", FK2, K1[js])
            if only_dQ:
                continue
            QK1 = (Qb[:, None, :] * K1[js][None]).reshape(-1, Q.shape[1])
            dK1[js] += np.einsum("ijm,im->jm", FK2, Qb)
            dK2 += F2.T @ QK1
            f2 = f.reshape(-1, n2)
            fV2 = (f2 @ V2).reshape(f.shape[0], f.shape[1], -1)
            dV1[js] += np.einsum("ijl,il->jl", fV2, dOb)
            dV2 += f2.T @ dOV1
    return dQ * scale, dK1 * scale, dK2 * scale, dV1, dV2, O


def tensor_attention_vjp(Q, K1, K2, V1, V2, dO):
    """Exact gradients of ``<Att(Q, K1, K2, V1, V2), dO>`` w.r.t. all five inputs.

    With ``f = D^{-1} A``, ``q = dO (V1 ⊘ V2)^T``, ``delta_i = <dO_i, O_i>``
    and ``F = f ∘ (q - delta 1^T)`` (the softmax VJP)::

        dQ = F (K1 ⊘ K2) / d,
        dK1[j1] = sum_{i,j2} F[i,(j1,j2)] Q_i ∘ K2_j2 / d,   dK2 likewise,
        dV1[j1] = sum_{i,j2} f[i,(j1,j2)] dO_i ∘ V2_j2,      dV2 likewise.

    Parameters
    ----------
    Q, K1, K2, V1, V2 : as in :func:`tensor_attention`.
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
    return _vjp_exact(Q, K1, K2, V1, V2, dO, 1.0 / Q.shape[1])[:5]


# ---------------------------------------------------------------------------- fast
@dataclass
class LowRankTensorAttention:
    """The approximation ``A~ = U1 (U2 ⊘ U3)^T`` of ``exp(scale * Q (K1 ⊘ K2)^T)``.

    ``U1 = phi(Q)``, ``U2 = psi(K1)``, ``U3 = psi(K2)`` are rebuilt in row
    blocks of 512 where they are used; the properties ``U1``, ``U2``, ``U3``
    build them whole for teaching and small inputs.

    Attributes
    ----------
    degree : ``g``, the degree of ``P``.
    rank : ``r = C(m + g, g)`` for head dimension ``m`` (``m = d`` for attention).
    bound : ``B``, the max-norm bound on ``Q``, ``K1``, ``K2``.
    half_width : ``M``, logits lie in ``[-M, M]``; ``M = m B³ scale`` (``B³`` for attention).
    approximation : the :class:`~algorithms.polynomial.ExpApproximation` used.
    entry_error : relative error bound for every entry of ``A~``: the
        polynomial's certified sampled error plus a worst-case float64 term
        ``gamma_k sum_j |a_j| M^j e^M`` with ``k = 3g + 3 + r + n1 + n2``
        (forming the three monomials, the sum over ``r`` features and the
        streamed sums over ``j1`` and ``j2``; the standard model of Higham,
        Accuracy and Stability, Sec. 3).
    """

    Q: np.ndarray
    K1: np.ndarray
    K2: np.ndarray
    approximation: ExpApproximation
    bound: float
    scale: float
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def degree(self) -> int:
        return self.approximation.degree

    @property
    def rank(self) -> int:
        return feature_rank(self.Q.shape[1], self.degree)

    @property
    def half_width(self) -> float:
        return self.approximation.hi

    @property
    def entry_error(self) -> float:
        return self.approximation.entry_error(3 * self.degree + 3 + self.rank + self.K1.shape[0] + self.K2.shape[0])

    @property
    def query_weights(self) -> np.ndarray:
        """``w`` with ``phi(q) = w ∘ monomials(q)``: ``a_|alpha| scale^|alpha| |alpha|!/alpha!``."""
        if "w" not in self._cache:
            ones = np.ones((1, self.Q.shape[1]))
            self._cache["w"] = query_features(ones, self.approximation.coefficients, self.scale)[0]
        return self._cache["w"]

    def phi(self, rows: slice = slice(None)) -> np.ndarray:
        """Rows of ``U1 = phi(Q)`` (multinomial weights and ``P``'s coefficients)."""
        return query_features(self.Q[rows], self.approximation.coefficients, self.scale)

    def psi(self, which: int, rows: slice = slice(None)) -> np.ndarray:
        """Rows of ``U2 = psi(K1)`` (``which=1``) or ``U3 = psi(K2)`` (``which=2``)."""
        return key_features((self.K1, self.K2)[which - 1][rows], self.degree)

    @property
    def U1(self) -> np.ndarray:
        return self.phi()

    @property
    def U2(self) -> np.ndarray:
        return self.psi(1)

    @property
    def U3(self) -> np.ndarray:
        return self.psi(2)

    def key_side(self, which: int, Y: np.ndarray) -> np.ndarray:
        """``U2^T Y`` (``which=1``) or ``U3^T Y`` (``which=2``), streamed: ``O(n r c)``."""
        W = np.zeros((self.rank, Y.shape[1]))
        for sl in _blocks(Y.shape[0], _FEATURE_BLOCK):
            W += self.psi(which, sl).T @ Y[sl]
        return W

    def apply(self, V1, V2) -> np.ndarray:
        """The fast output ``D~^{-1} U1 [(U2^T V1) ∘ (U3^T V2)]`` (identity I1)."""
        ones1, ones2 = np.ones((V1.shape[0], 1)), np.ones((V2.shape[0], 1))
        W = self.key_side(1, np.hstack([V1, ones1])) * self.key_side(2, np.hstack([V2, ones2]))
        W *= self.query_weights[:, None]  # U1 W = monomials(Q) (diag(w) W): one pass fewer over n x r
        out = np.empty((self.Q.shape[0], V1.shape[1]))
        norm = np.empty(self.Q.shape[0])
        for sl in _blocks(self.Q.shape[0], _FEATURE_BLOCK):
            block = monomials(self.Q[sl], self.degree) @ W
            norm[sl] = block[:, -1]
            out[sl] = block[:, :-1] / norm[sl, None]
        self._cache["normaliser"] = norm
        return out

    @property
    def normaliser(self) -> np.ndarray:
        """``D~ 1 = U1 [(U2^T 1) ∘ (U3^T 1)]``, the approximate row sums."""
        if "normaliser" not in self._cache:
            self.apply(np.zeros((self.K1.shape[0], 0)), np.zeros((self.K2.shape[0], 0)))
        return self._cache["normaliser"]

    def dense(self) -> np.ndarray:
        """``f~ = D~^{-1} A~`` as an ``(n, n1 n2)`` array: small inputs and teaching only."""
        A = self.U1 @ (self.U2[:, None, :] * self.U3[None, :, :]).reshape(-1, self.rank).T
        return A / A.sum(axis=1, keepdims=True)


def _low_rank(Q, K1, K2, eps, bound, scale, names=("Q", "K1", "K2")) -> LowRankTensorAttention:
    eps = check_eps(eps)
    B = check_bound(bound, **dict(zip(names, (Q, K1, K2))))
    M = Q.shape[1] * scale * B**3
    try:
        approximation = exp_approximation(-M, M, eps)
    except ValueError as exc:
        raise ValueError(
            f"entries bounded by B={B:.4g} put the trilinear logits in [-{M:.4g}, {M:.4g}], "
            f"too wide for the polynomial method at eps={eps:g} (above B = Theta((log n)^(1/3)) "
            f"SETH rules out fast algorithms, Alman & Song ICLR 2024): {exc}"
        ) from None
    return LowRankTensorAttention(Q, K1, K2, approximation, B, scale)


def low_rank_tensor_attention(Q, K1, K2, eps: float = 1e-6, bound: float | None = None):
    """Set up the polynomial-method approximation ``A~ = U1 (U2 ⊘ U3)^T``.

    Parameters
    ----------
    Q : (n, d) array
    K1, K2 : (n1, d) and (n2, d) arrays.
    eps : target relative error of ``P`` against ``exp`` on ``[-B³, B³]``, in (0, 1).
    bound : the promised ``B >= max(|Q|, |K1|, |K2|)``; ``None`` measures it.

    Returns
    -------
    LowRankTensorAttention (degree, rank, entry_error, apply, ...).

    Raises
    ------
    ValueError
        Bad shapes or non-finite entries; ``eps`` not in (0, 1); an entry of
        ``Q``, ``K1`` or ``K2`` above ``bound``; or ``B³`` so large that no
        float64 polynomial reaches ``eps``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Q, K1, K2 = (rng.uniform(-1, 1, (30, 4)) for _ in range(3))
    >>> P = low_rank_tensor_attention(Q, K1, K2, eps=1e-6, bound=1.0)
    >>> P.degree, P.rank
    (7, 330)

    Notes
    -----
    Certifying ``P`` costs a few mpmath evaluations once per ``(B, eps)``
    (cached); nothing else is computed until the object is used.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064, Sec. 3.1 (the ``U1, U2, U3`` of the upper bound).
    """
    Q = as_matrix("Q", Q)
    K1 = as_matrix("K1", K1, cols=Q.shape[1])
    K2 = as_matrix("K2", K2, cols=Q.shape[1])
    return _low_rank(Q, K1, K2, eps, bound, 1.0 / Q.shape[1])


def tensor_attention_fast(
    Q, K1, K2, V1, V2, eps: float = 1e-6, bound: float | None = None, *, return_info: bool = False
):
    """Fast tensor attention by the polynomial method and the tensor trick.

    Parameters
    ----------
    Q, K1, K2, V1, V2 : as in :func:`tensor_attention`.
    eps : relative error of the polynomial on ``[-B³, B³]``, in (0, 1).
    bound : the promised max-norm ``B`` of ``Q``, ``K1``, ``K2`` (default: measured).
    return_info : also return the :class:`LowRankTensorAttention` (degree,
        rank, ``entry_error``); :func:`tensor_attention_error_bound` turns its
        ``entry_error`` into the bound on the output.

    Returns
    -------
    T : (n, d_v) array with ``|T - Att|`` within :func:`tensor_attention_error_bound`.
    info : LowRankTensorAttention, only if ``return_info``.

    Raises
    ------
    ValueError
        As :func:`low_rank_tensor_attention`, and if ``V1``/``V2`` are malformed.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> Q, K1, K2, V1, V2 = (rng.uniform(-1, 1, (40, 4)) for _ in range(5))
    >>> T, info = tensor_attention_fast(Q, K1, K2, V1, V2, return_info=True)
    >>> err = np.max(np.abs(T - tensor_attention(Q, K1, K2, V1, V2)))
    >>> bool(err <= tensor_attention_error_bound(info.entry_error, V1, V2))
    True

    Notes
    -----
    ``O((n + n1 + n2) r d)`` time with ``r = C(d + g, g)`` (``g = 7``,
    ``r = 330`` for ``d = 4``, ``B = 1``, ``eps = 1e-6``: the example of
    :func:`low_rank_tensor_attention`); features are built
    in blocks of 512 rows, so memory is ``O((n + n1 + n2) d + 512 r)``.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064, upper bound (``n^{1+o(1)}`` for
       ``B = o((log n)^{1/3})``, ``d = O(log n)``).
    """
    Q, K1, K2, V1, V2 = _check_inputs(Q, K1, K2, V1, V2)
    info = _low_rank(Q, K1, K2, eps, bound, 1.0 / Q.shape[1])
    T = info.apply(V1, V2)
    return (T, info) if return_info else T


def tensor_attention_error_bound(entry_error: float, V1, V2) -> float:
    """The bound (E1) for tensor attention: ``e' max_l (max V_:l - min V_:l) / (1 + sqrt(1 - e'^2))``, ``V = V1 ⊘ V2``.

    Parameters
    ----------
    entry_error : relative error ``e'`` of every entry of ``A~``
        (:attr:`LowRankTensorAttention.entry_error`), in [0, 1).
    V1, V2 : the value matrices.

    Returns
    -------
    float, a bound on ``max |T - Att|``.

    Raises
    ------
    ValueError
        ``entry_error`` outside [0, 1); malformed ``V1``/``V2``.

    Examples
    --------
    >>> tensor_attention_error_bound(1e-6, np.array([[1.0], [-1.0]]), np.array([[2.0], [1.0]]))
    2.0000000000005e-06

    Notes
    -----
    ``T_i`` is a renormalised average of the values under weights perturbed by
    relative errors ``|delta| <= e'``; the worst case puts ``+e'`` on one value
    and ``-e'`` on another, which gives (E1) exactly (see
    :func:`algorithms.attention.normalised_output_error`): the normalisation
    cancels everything but the spread of ``V``.  SPEC §1 step 3 asks to check
    the constant; ``O(n d)``.
    (E1) is for exact arithmetic on ``A~``; the final division and the signed
    sums add a few float64 ulps of ``max |V|`` (visible when the spread is 0,
    e.g. a single key pair), which the tests allow for.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064, Sec. 3.1 (error of the normalised output).
    """
    V1 = as_matrix("V1", V1)
    V2 = as_matrix("V2", V2, cols=V1.shape[1])
    if not 0 <= entry_error < 1:
        raise ValueError(f"entry_error must lie in [0, 1), got {entry_error!r}")
    return float(normalised_output_error(entry_error, float(np.max(_column_range(V1, V2)))))


# ---------------------------------------------------------------------------- fast VJP
def _fast_vjp(P: LowRankTensorAttention, V1, V2, dO, L2=None, L3=None):
    """Low-rank ``F = f~ ∘ (q - delta)`` applied everywhere it is needed.

    Returns ``(G, dK1, dK2, dV1, dV2, O)`` where ``G = F (L2 ⊘ L3)`` (``dQ / scale``
    when ``L2, L3 = K1, K2``).  The key gradients are computed only for the
    default ``L``.  Cost ``O((n + n1 + n2) r p m)`` for ``p`` value and ``m``
    ``L`` columns.
    """
    keys = L2 is None
    L2, L3 = (P.K1, P.K2) if keys else (L2, L3)
    p, m = V1.shape[1], L2.shape[1]
    one1, one2 = np.ones((V1.shape[0], 1)), np.ones((V2.shape[0], 1))
    # Stage 1: key-side products U2^T [V1, 1, L2, V1 ⊗_row L2] and U3^T [V2, 1, L3, V2 ⊗_row L3].
    T2 = P.key_side(1, np.hstack([V1, one1, L2, _row_kron(V1, L2)]))
    T3 = P.key_side(2, np.hstack([V2, one2, L3, _row_kron(V2, L3)]))
    cut = np.cumsum([p, 1, m])
    V2s, V3s = T2[:, : cut[0]], T3[:, : cut[0]]
    L2s, L3s = T2[:, cut[1] : cut[2]], T3[:, cut[1] : cut[2]]
    VL2, VL3 = T2[:, cut[2] :], T3[:, cut[2] :]
    N, Zr, KK, WW = V2s * V3s, T2[:, p] * T3[:, p], L2s * L3s, VL2 * VL3  # (I1)
    n, r = P.Q.shape[0], P.rank
    G, O = np.empty((n, m)), np.empty((n, p))
    PQ, RQ, UdO = np.zeros((r, p * P.Q.shape[1])), np.zeros((r, P.Q.shape[1])), np.zeros((r, p))
    # Stages 2-5, per query block: O~ = f~ (V1 ⊘ V2), delta, G = F (L2 ⊘ L3).
    for sl in _blocks(n, _FEATURE_BLOCK):
        U1 = P.phi(sl)
        den = U1 @ Zr
        U1 /= den[:, None]  # rows of D~^{-1} U1
        O[sl] = U1 @ N
        delta = np.einsum("il,il->i", dO[sl], O[sl])
        UW = (U1 @ WW).reshape(-1, p, m)
        G[sl] = np.einsum("il,ilm->im", dO[sl], UW) - delta[:, None] * (U1 @ KK)
        if keys:
            PQ += U1.T @ _row_kron(dO[sl], P.Q[sl])
            RQ += U1.T @ (delta[:, None] * P.Q[sl])
            UdO += U1.T @ dO[sl]
    if not keys:
        return G, None, None, None, None, O
    d = P.Q.shape[1]
    PQ3 = PQ.reshape(r, p, d)
    # dK1[j1] = sum_{i,j2} F[i,(j1,j2)] Q_i ∘ K2_j2: contract the query side first.
    M1 = (PQ3 * VL3.reshape(r, p, d)).reshape(r, p * d)
    M2 = (PQ3 * VL2.reshape(r, p, d)).reshape(r, p * d)
    R1, R2 = RQ * L3s, RQ * L2s
    dK1, dK2 = np.empty_like(P.K1), np.empty_like(P.K2)
    dV1, dV2 = np.empty_like(V1), np.empty_like(V2)
    for which, M_, R_, Vw, dK, dV, other in (
        (1, M1, R1, V1, dK1, dV1, V3s),
        (2, M2, R2, V2, dK2, dV2, V2s),
    ):
        for sl in _blocks(Vw.shape[0], _FEATURE_BLOCK):
            U = P.psi(which, sl)
            dK[sl] = np.einsum("jlm,jl->jm", (U @ M_).reshape(-1, p, d), Vw[sl]) - U @ R_
            dV[sl] = U @ (UdO * other)
    return G, dK1, dK2, dV1, dV2, O


def tensor_attention_vjp_fast(Q, K1, K2, V1, V2, dO, eps: float = 1e-6, bound: float | None = None):
    """Gradients of ``<Att, dO>`` w.r.t. all five inputs in ``O(n r d²)`` time.

    The formulas of :func:`tensor_attention_vjp` with ``f`` replaced by
    ``f~ = D~^{-1} U1 (U2 ⊘ U3)^T``; nothing of size ``n²`` (let alone
    ``n × n²``) is formed.

    Parameters
    ----------
    Q, K1, K2, V1, V2, dO : as in :func:`tensor_attention_vjp`.
    eps, bound : as in :func:`tensor_attention_fast`.

    Returns
    -------
    (dQ, dK1, dK2, dV1, dV2) within :func:`tensor_attention_vjp_error_bound`
    of the exact ones.

    Raises
    ------
    ValueError
        As :func:`tensor_attention_vjp` and :func:`low_rank_tensor_attention`.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> args = [rng.uniform(-1, 1, (12, 3)) for _ in range(6)]
    >>> fast, exact = tensor_attention_vjp_fast(*args), tensor_attention_vjp(*args)
    >>> bool(max(np.max(np.abs(a - b)) for a, b in zip(fast, exact)) < 1e-5)
    True

    Notes
    -----
    The five stages of Liang et al. (arXiv:2405.16411, Sec. 5; reconstruction
    in papers/tensor-and-gradient.md §4.4), for a VJP instead of the loss:

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
    Q, K1, K2, V1, V2, dO = _check_vjp(Q, K1, K2, V1, V2, dO)
    P = _low_rank(Q, K1, K2, eps, bound, 1.0 / Q.shape[1])
    G, dK1, dK2, dV1, dV2, _ = _fast_vjp(P, V1, V2, dO)
    s = P.scale
    return G * s, dK1 * s, dK2 * s, dV1, dV2


def _marginals(P: LowRankTensorAttention, Y: np.ndarray):
    """``(sum_i Y_i f~_i(j1, .), sum_i Y_i f~_i(., j2))``: the row mass ``f~`` puts on each key.

    ``sum_{j2} f~[i,(j1,j2)] = U~1[i] · (U2[j1] ∘ (U3^T 1))``, so both marginals
    weighted by the columns of ``Y`` cost ``O((n + n1 + n2) r c)``.
    """
    W = np.zeros((P.rank, Y.shape[1]))
    norm = P.normaliser
    for sl in _blocks(P.Q.shape[0], _FEATURE_BLOCK):
        W += P.phi(sl).T @ (Y[sl] / norm[sl, None])
    s2 = P.key_side(1, np.ones((P.K1.shape[0], 1)))
    s3 = P.key_side(2, np.ones((P.K2.shape[0], 1)))
    m1 = np.vstack([P.psi(1, sl) @ (W * s3) for sl in _blocks(P.K1.shape[0], _FEATURE_BLOCK)])
    m2 = np.vstack([P.psi(2, sl) @ (W * s2) for sl in _blocks(P.K2.shape[0], _FEATURE_BLOCK)])
    return m1, m2


def tensor_attention_vjp_error_bound(
    Q, K1, K2, V1, V2, dO, eps: float = 1e-6, bound: float | None = None
):
    """Entrywise bounds on ``|fast - exact|`` for the five gradients (our derivation).

    If every entry of ``A~`` has relative error ``<= e'``, every entry of the
    normalised ``f~`` has relative error ``eta <= 2 e' / (1 - e')``.  Let
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
    row ``i`` on key ``j1`` (``f <= (1 + eta) f~``), evaluated with the fast
    operator (:func:`_marginals`).  Float64 rounding of the products is in
    ``e'`` only through its ``gamma`` term (see :class:`LowRankTensorAttention`).

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
    Q, K1, K2, V1, V2, dO = _check_vjp(Q, K1, K2, V1, V2, dO)
    P = _low_rank(Q, K1, K2, eps, bound, 1.0 / Q.shape[1])
    e = P.entry_error
    eta = 2 * e / (1 - e)
    R = np.abs(dO) @ _column_range(V1, V2)
    aK1, aK2 = np.max(np.abs(K1), axis=0), np.max(np.abs(K2), axis=0)
    aV1, aV2 = np.max(np.abs(V1), axis=0), np.max(np.abs(V2), axis=0)
    d, p = Q.shape[1], V1.shape[1]
    bQ = 1.5 * eta * np.outer(R, aK1 * aK2) / d
    m1, m2 = _marginals(P, np.hstack([R[:, None] * np.abs(Q), np.abs(dO)]))
    cK = 1.5 * eta * (1 + eta) / d
    bK1, bK2 = cK * m1[:, :d] * aK2, cK * m2[:, :d] * aK1
    bV1, bV2 = eta * (1 + eta) * m1[:, d : d + p] * aV2, eta * (1 + eta) * m2[:, d : d + p] * aV1
    return bQ, bK1, bK2, bV1, bV2


_LOSS = (
    "tensor_attention_loss",
    "tensor_attention_loss_grad",
    "tensor_attention_loss_grad_fast",
    "tensor_attention_loss_grad_error_bound",
)


def __getattr__(name: str):
    """Re-export the training loss from :mod:`algorithms.tensor_gradient` (PEP 562).

    The loss lives in its own module, which builds on this one; importing it
    lazily here keeps ``from algorithms.tensor_attention import
    tensor_attention_loss`` working without a circular import.
    """
    if name in _LOSS:
        from . import tensor_gradient

        return getattr(tensor_gradient, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
