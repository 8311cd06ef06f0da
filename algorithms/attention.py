"""Matrix attention, exact and fast, with its gradients (SPEC §1-§2).

Exact (AttC, Alman & Song 2023, Def. 1.1)::

    A = exp(Q K^T / d),   D = diag(A 1_n),   Att(Q, K, V) = D^{-1} A V.

Computed in blocks of query rows with the row maximum subtracted before
``exp``, so memory is ``O(block * n)`` and nothing overflows.

Fast (AAttC, Alman & Song 2023, Thm 1.3, the polynomial method): with every
``|Q_il|, |K_jl| <= B`` each logit ``<q_i, k_j>/d`` lies in ``[-B^2, B^2]``;
:func:`algorithms.polynomial.exp_approximation` gives ``P`` with relative
error ``eps'`` there and :mod:`algorithms.features` factors
``P(Q K^T / d) = U1 U2^T`` with rank ``r = C(d+g, g)``.  Then

    T = D~^{-1} U1 (U2^T V),    D~ = diag(U1 (U2^T 1_n)),

in ``O(n r d)`` time.  Error (our derivation, the constant the SPEC asks to
check): if every entry of ``A~`` has relative error ``<= eps'`` then for each
column ``v`` of ``V``

    |T_i - Att_i| <= eps' (max v - min v) / (1 + sqrt(1 - eps'^2)),      (E1)

about ``eps' (max v - min v) / 2``.  ``T_i`` is an average of ``v`` under weights
``w_ij (1 + delta_ij)`` renormalised; it moves furthest from the exact average
when ``v`` takes two values ``m < M`` and ``delta = +eps'`` on one, ``-eps'`` on
the other, and maximising ``(M - m)[a(1+e)/(1 - e + 2ae) - a]`` over the weight
``a`` on ``M`` gives (E1) (sharp; derived and attained in
:func:`algorithms.bounds.output_error_expr`).  This is the ``O(eps B)`` of the
paper, with the normalisation cancelling the rest.

Gradients.  For ``O = Att(Q, K, V)``, ``P = D^{-1} A`` and an upstream ``dO``,
with ``q = dO V^T`` and ``delta_i = <dO_i, O_i>``::

    dS = P o (q - delta 1^T),   dQ = dS K / d,   dK = dS^T Q / d,   dV = P^T dO.

The training loss of Alman & Song 2024 (arXiv 2402.04497, Def. 1.4) is
``L(X) = 1/2 ||D(X)^{-1} exp(A1 X A2^T / d) A3 Y - E||_F^2``; with
``Q = A1 X``, ``K = A2``, ``V = h = A3 Y`` and ``dO = c = f h - E`` the matrix
``dS`` is the paper's ``p(X)`` (Lemma C.7; ``q(X) = c h^T``, printed transposed
in its Lemma D.3) and ``dL/dX = A1^T dQ = (1/d) A1^T p A2`` (the ``1/d`` the
paper drops is restored; checked against finite differences in the tests).

The fast gradient never forms ``P``: with ``P~ = D~^{-1} U1 U2^T`` and the
row-wise Kronecker product ``(V (x) K)_j = V_j (x) K_j``,

    (P o (dO V^T)) K = rowsum_l dO_il [P~ (V (x) K)]_{i,(l,m)},

so ``dQ`` costs one application of ``P~`` to ``d + d^2`` columns, i.e.
``O(n r d^2)`` (AS24a App. D: ``f o q`` has rank ``r d``); ``dK`` and ``dV``
use ``P~^T`` the same way.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214.
.. [2] J. Alman, Z. Song. The fine-grained complexity of gradient computation
   for training large language models. NeurIPS 2024, arXiv:2402.04497.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import as_matrix, check_bound, check_eps
from .features import feature_rank, key_features, query_features
from .polynomial import ExpApproximation, exp_approximation

__all__ = [
    "attention",
    "attention_fast",
    "low_rank_attention",
    "LowRankAttention",
    "attention_error_bound",
    "normalised_output_error",
    "attention_vjp",
    "attention_vjp_fast",
    "attention_vjp_error_bound",
    "attention_loss",
    "attention_loss_grad",
    "attention_loss_grad_fast",
    "attention_loss_grad_error_bound",
]

_BLOCK_ENTRIES = 2**22  # a query block of the exact algorithm holds at most this many logits
_FEATURE_BLOCK = 2048  # rows of features built at a time by the fast algorithm


# ---------------------------------------------------------------------------- checks
def _check_qkv(Q, K, V) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Q = as_matrix("Q", Q)
    K = as_matrix("K", K, cols=Q.shape[1])
    V = as_matrix("V", V, rows=K.shape[0])
    return Q, K, V


def _block_rows(n_keys: int, n_queries: int, block_size: int | None) -> int:
    if block_size is not None:
        if int(block_size) < 1:
            raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
        return int(block_size)
    return max(1, min(n_queries, _BLOCK_ENTRIES // n_keys))


# ---------------------------------------------------------------------------- exact
def _softmax_rows(Qb: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Rows of ``P = D^{-1} exp(Q K^T / d)`` for a block of queries (row max subtracted)."""
    S = Qb @ K.T
    S /= Qb.shape[1]
    S -= S.max(axis=1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=1, keepdims=True)
    return S


def attention(Q, K, V, *, block_size: int | None = None) -> np.ndarray:
    """Exact attention ``D^{-1} exp(Q K^T / d) V`` (AttC), streamed over query blocks.

    Parameters
    ----------
    Q : (n, d) array
    K : (m, d) array
    V : (m, d_v) array
    block_size : query rows per block (default: about 4M logits per block).

    Returns
    -------
    (n, d_v) array.

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array or the shapes disagree.

    Examples
    --------
    >>> Q = np.zeros((2, 3)); K = np.ones((4, 3)); V = np.arange(8.0).reshape(4, 2)
    >>> attention(Q, K, V)  # equal logits: the mean of V's rows
    array([[3., 4.],
           [3., 4.]])

    Notes
    -----
    ``O(n m d)`` time, ``O(block * m)`` memory; the row maximum is subtracted
    before ``exp``, so large logits cannot overflow.

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Def. 1.1.
    """
    Q, K, V = _check_qkv(Q, K, V)
    b = _block_rows(K.shape[0], Q.shape[0], block_size)
    out = np.empty((Q.shape[0], V.shape[1]))
    for s in range(0, Q.shape[0], b):
        out[s : s + b] = _softmax_rows(Q[s : s + b], K) @ V
    return out


# ---------------------------------------------------------------------------- fast
@dataclass
class LowRankAttention:
    """The normalised low-rank attention matrix ``P~ = D~^{-1} U1 U2^T``.

    ``U1 = phi(Q)``, ``U2 = psi(K)`` are never stored for large inputs: they
    are rebuilt block by block (``O(n r)`` work each time) inside
    :meth:`matmul` and :meth:`rmatmul`; the properties ``U1``/``U2`` build
    them whole for teaching and small inputs.

    Attributes
    ----------
    degree : ``g``, the degree of ``P``.
    rank : ``r = C(d + g, g)``.
    bound : ``B``, the max-norm bound on ``Q`` and ``K`` the error bound relies on.
    approximation : the :class:`~algorithms.polynomial.ExpApproximation` used.
    entry_error : certified relative error of every entry of ``U1 U2^T`` as an
        approximation of ``exp(Q K^T / d)``: the polynomial's sampled error plus
        a worst-case float64 bound ``gamma_{2g+2+r+m} sum_j |a_j| B^{2j} e^{B^2}``
        for forming the feature products and the sums over ``r`` and ``m``.
    """

    Q: np.ndarray
    K: np.ndarray
    approximation: ExpApproximation
    bound: float
    _normaliser: np.ndarray | None = field(default=None, repr=False)

    @property
    def degree(self) -> int:
        return self.approximation.degree

    @property
    def rank(self) -> int:
        return feature_rank(self.Q.shape[1], self.degree)

    @property
    def entry_error(self) -> float:
        return self.approximation.entry_error(2 * self.degree + 2 + self.rank + self.K.shape[0])

    def _phi(self, rows: slice) -> np.ndarray:
        return query_features(self.Q[rows], self.approximation.coefficients, 1.0 / self.Q.shape[1])

    def _psi(self, rows: slice) -> np.ndarray:
        return key_features(self.K[rows], self.degree)

    @property
    def U1(self) -> np.ndarray:
        return self._phi(slice(None))

    @property
    def U2(self) -> np.ndarray:
        return self._psi(slice(None))

    def _blocks(self, n: int):
        for s in range(0, n, _FEATURE_BLOCK):
            yield slice(s, min(n, s + _FEATURE_BLOCK))

    def _key_side(self, Y: np.ndarray) -> np.ndarray:
        """``U2^T Y`` streamed over key blocks."""
        W = np.zeros((self.rank, Y.shape[1]))
        for sl in self._blocks(self.K.shape[0]):
            W += self._psi(sl).T @ Y[sl]
        return W

    def matmul(self, Y: np.ndarray) -> np.ndarray:
        """``P~ Y = D~^{-1} U1 (U2^T Y)`` for ``Y`` of shape ``(m, c)``; ``O(n r c)``."""
        W = self._key_side(np.hstack([Y, np.ones((Y.shape[0], 1))]))
        out = np.empty((self.Q.shape[0], Y.shape[1]))
        norm = np.empty(self.Q.shape[0])
        for sl in self._blocks(self.Q.shape[0]):
            block = self._phi(sl) @ W
            norm[sl] = block[:, -1]
            out[sl] = block[:, :-1] / norm[sl, None]
        self._normaliser = norm
        return out

    @property
    def normaliser(self) -> np.ndarray:
        """``D~ 1 = U1 (U2^T 1_m)``, the approximate row sums."""
        if self._normaliser is None:
            self.matmul(np.zeros((self.K.shape[0], 0)))
        return self._normaliser

    def rmatmul(self, Y: np.ndarray) -> np.ndarray:
        """``P~^T Y = U2 (U1^T D~^{-1} Y)`` for ``Y`` of shape ``(n, c)``; ``O(m r c)``."""
        Y = Y / self.normaliser[:, None]
        W = np.zeros((self.rank, Y.shape[1]))
        for sl in self._blocks(self.Q.shape[0]):
            W += self._phi(sl).T @ Y[sl]
        out = np.empty((self.K.shape[0], Y.shape[1]))
        for sl in self._blocks(self.K.shape[0]):
            out[sl] = self._psi(sl) @ W
        return out

    def apply(self, V: np.ndarray) -> np.ndarray:
        """The fast attention output ``D~^{-1} U1 U2^T V``."""
        return self.matmul(np.asarray(V, dtype=float))

    def dense(self) -> np.ndarray:
        """``P~`` as an ``(n, m)`` array: for small inputs and teaching only."""
        A = self.U1 @ self.U2.T
        return A / A.sum(axis=1, keepdims=True)


def low_rank_attention(Q, K, eps: float = 1e-6, bound: float | None = None) -> LowRankAttention:
    """Set up the polynomial-method approximation of ``D^{-1} exp(Q K^T / d)``.

    Parameters
    ----------
    Q : (n, d) array
    K : (m, d) array
    eps : target relative error of ``P`` against ``exp`` on ``[-B^2, B^2]``.
    bound : the promised ``B >= max(|Q|, |K|)``; ``None`` measures it.

    Returns
    -------
    LowRankAttention

    Raises
    ------
    ValueError
        Bad shapes or non-finite entries; ``eps`` not in (0, 1); an entry of
        ``Q`` or ``K`` above ``bound``; or ``B^2`` so large that no float64
        polynomial reaches ``eps`` (the bounded-entry regime is left: above
        ``B = Theta(sqrt(log n))`` SETH rules out fast algorithms, Thm 1.4).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Q, K = rng.uniform(-1, 1, (50, 4)), rng.uniform(-1, 1, (60, 4))
    >>> P = low_rank_attention(Q, K, eps=1e-6, bound=1.0)
    >>> P.degree, P.rank
    (7, 330)
    """
    Q = as_matrix("Q", Q)
    K = as_matrix("K", K, cols=Q.shape[1])
    eps = check_eps(eps)
    B = check_bound(bound, Q=Q, K=K)
    try:
        approximation = exp_approximation(-(B**2), B**2, eps)
    except ValueError as exc:
        raise ValueError(
            f"entries bounded by B={B:.4g} put logits in [-B^2, B^2] = [{-B * B:.4g}, {B * B:.4g}], "
            f"too wide for the polynomial method at eps={eps:g}: {exc}"
        ) from None
    return LowRankAttention(Q, K, approximation, B)


def attention_fast(Q, K, V, eps: float = 1e-6, bound: float | None = None) -> np.ndarray:
    """Fast attention by the polynomial method (AAttC, Alman & Song 2023, Thm 1.3).

    Parameters
    ----------
    Q, K, V : as in :func:`attention`.
    eps : relative error of the polynomial on ``[-B^2, B^2]``, in (0, 1).
    bound : the promised max-norm ``B`` of ``Q`` and ``K`` (default: measured).

    Returns
    -------
    (n, d_v) array ``T`` with ``|T - Att|`` within :func:`attention_error_bound`
    (use :func:`low_rank_attention` to see the degree, rank and error bound).

    Raises
    ------
    ValueError
        As :func:`low_rank_attention`, and if ``V`` is malformed.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> Q, K, V = (rng.uniform(-1, 1, (200, 4)) for _ in range(3))
    >>> bool(np.max(np.abs(attention_fast(Q, K, V) - attention(Q, K, V))) < 2e-6)
    True

    Notes
    -----
    ``O(n r d)`` time with ``r = C(d+g, g)``; feature blocks of 2048 rows keep
    memory at ``O((n + r) d + 2048 r)``.
    """
    Q, K, V = _check_qkv(Q, K, V)
    return low_rank_attention(Q, K, eps, bound).apply(V)


def attention_error_bound(entry_error: float, V) -> float:
    """The bound (E1): ``eps' * max_c (max V_c - min V_c) / (1 + sqrt(1 - eps'^2))``.

    ``entry_error`` is the relative error of every entry of the unnormalised
    matrix (:attr:`LowRankAttention.entry_error`).
    """
    V = as_matrix("V", V)
    if not 0 <= entry_error < 1:
        raise ValueError(f"entry_error must lie in [0, 1), got {entry_error!r}")
    spread = float(np.max(V.max(axis=0) - V.min(axis=0)))
    return float(normalised_output_error(entry_error, spread))


def normalised_output_error(entry_error: float, spread):
    """(E1) for value columns of the given spread(s): ``e' spread / (1 + sqrt(1 - e'^2))``.

    Any normalised average ``sum_j w_j (1 + delta_j) v_j / sum_j w_j (1 + delta_j)``
    with ``|delta_j| <= e'`` is within this of ``sum_j w_j v_j`` when the ``v_j``
    lie in an interval of length ``spread``; shared by matrix, tensor and
    poly-attention.
    """
    return entry_error * spread / (1 + np.sqrt(1 - entry_error * entry_error))


# ---------------------------------------------------------------------------- VJP
def _check_vjp(Q, K, V, dO):
    Q, K, V = _check_qkv(Q, K, V)
    dO = as_matrix("dO", dO, rows=Q.shape[0], cols=V.shape[1])
    return Q, K, V, dO


def attention_vjp(Q, K, V, dO, *, block_size: int | None = None):
    """Exact gradients of ``<Att(Q, K, V), dO>`` with respect to ``Q``, ``K``, ``V``.

    ``dS = P o (dO V^T - delta 1^T)`` with ``delta_i = <dO_i, O_i>``;
    ``dQ = dS K / d``, ``dK = dS^T Q / d``, ``dV = P^T dO`` (module docstring).

    Parameters
    ----------
    Q, K, V : as in :func:`attention`.
    dO : (n, d_v) upstream gradient.

    Returns
    -------
    (dQ, dK, dV) with the shapes of ``Q``, ``K``, ``V``.

    Raises
    ------
    ValueError
        Malformed or mismatched inputs.

    Notes
    -----
    One streamed pass over query blocks: ``O(n m (d + d_v))`` time and
    ``O(block * m)`` memory.
    """
    Q, K, V, dO = _check_vjp(Q, K, V, dO)
    d = Q.shape[1]
    b = _block_rows(K.shape[0], Q.shape[0], block_size)
    dQ, dK, dV = np.empty_like(Q), np.zeros_like(K), np.zeros_like(V)
    for s in range(0, Q.shape[0], b):
        rows = slice(s, s + b)
        P = _softmax_rows(Q[rows], K)
        delta = np.einsum("ij,ij->i", dO[rows], P @ V)
        dV += P.T @ dO[rows]
        dS = P * (dO[rows] @ V.T - delta[:, None])
        dQ[rows] = dS @ K / d
        dK += dS.T @ Q[rows] / d
    return dQ, dK, dV


def _row_kron(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Row-wise Kronecker product: row ``j`` is ``X_j (x) Y_j`` (shape ``(n, a b)``)."""
    return (X[:, :, None] * Y[:, None, :]).reshape(X.shape[0], -1)


def _left_products(P: LowRankAttention, V: np.ndarray, K: np.ndarray):
    """One application of ``P~`` to ``[V, V (x) K, K]``: ``O``, ``P~ (V (x) K)``, ``P~ K``."""
    n, dv, d = P.Q.shape[0], V.shape[1], K.shape[1]
    left = P.matmul(np.hstack([V, _row_kron(V, K), K]))
    return left[:, :dv], left[:, dv : dv + dv * d].reshape(n, dv, d), left[:, dv + dv * d :]


def _dq(dO: np.ndarray, O: np.ndarray, VK: np.ndarray, PK: np.ndarray) -> np.ndarray:
    """``dQ = [(P o (dO V^T)) K - delta o (P K)] / d`` from the left products."""
    delta = np.einsum("ij,ij->i", dO, O)
    return (np.einsum("il,ilm->im", dO, VK) - delta[:, None] * PK) / PK.shape[1]


def _dk_dv(P: LowRankAttention, Q, V, dO, O):
    """``dK = [V-contracted P~^T (dO (x) Q) - P~^T (delta o Q)] / d`` and ``dV = P~^T dO``."""
    dv, d = V.shape[1], Q.shape[1]
    delta = np.einsum("ij,ij->i", dO, O)
    right = P.rmatmul(np.hstack([dO, _row_kron(dO, Q), delta[:, None] * Q]))
    dOQ = right[:, dv : dv + dv * d].reshape(-1, dv, d)
    return (np.einsum("jl,jlm->jm", V, dOQ) - right[:, dv + dv * d :]) / d, right[:, :dv]


def attention_vjp_fast(Q, K, V, dO, eps: float = 1e-6, bound: float | None = None):
    """Low-rank gradients of ``<Att(Q, K, V), dO>`` (AS24a App. D applied to a VJP).

    Uses ``P~ = D~^{-1} U1 U2^T`` in place of ``P`` in the formulas of
    :func:`attention_vjp`, without forming any ``n x m`` matrix.

    Parameters
    ----------
    Q, K, V, dO : as in :func:`attention_vjp`.
    eps, bound : as in :func:`attention_fast`.

    Returns
    -------
    (dQ, dK, dV), within :func:`attention_vjp_error_bound` of the exact ones.

    Raises
    ------
    ValueError
        As :func:`attention_vjp` and :func:`low_rank_attention`.

    Notes
    -----
    ``O((n + m) r d d_v)`` time: ``P~`` is applied to ``d_v (d + 1) + d``
    columns and ``P~^T`` to as many.
    """
    Q, K, V, dO = _check_vjp(Q, K, V, dO)
    P = low_rank_attention(Q, K, eps, bound)
    O, VK, PK = _left_products(P, V, K)
    dK, dV = _dk_dv(P, Q, V, dO, O)
    return _dq(dO, O, VK, PK), dK, dV


def attention_vjp_error_bound(Q, K, V, dO, eps: float = 1e-6, bound: float | None = None):
    """Entrywise bounds on ``|fast - exact|`` for ``(dQ, dK, dV)`` (our derivation).

    If every entry of the unnormalised matrix has relative error ``<= e'``,
    every entry of the normalised ``P~`` has relative error
    ``eta <= 2 e' / (1 - e')``.  With ``q_ij = <dO_i, V_j>`` and
    ``w_i = max_j |q_ij|``::

        |dS~_ij - dS_ij| <= P_ij eta (3 + eta) w_i,
        |dQ~_im - dQ_im| <= eta (3 + eta) w_i max_j |K_jm| / d,
        |dK~_jm - dK_jm| <= eta (3 + eta) (1 + eta) [P~^T (w o |Q_:m|)]_j / d,
        |dV~_jl - dV_jl| <= eta (1 + eta) [P~^T |dO_:l|]_j,

    The first line: with ``delta_i = sum_k P_ik q_ik`` (and ``delta~`` likewise),
    ``dS~ - dS = (P~ - P) o q - P~ o (delta~ - delta) - (P~ - P) o delta``, and
    ``|delta|, |delta~| <= w``, ``|delta~ - delta| <= eta w``, so the three terms
    give ``P eta w + P (1 + eta) eta w + P eta w``.  The last two lines use
    ``P <= (1 + eta) P~`` to evaluate the bound with the fast operator.  ``w_i`` is bounded by ``sum_l |dO_il| max_j |V_jl|``.
    """
    Q, K, V, dO = _check_vjp(Q, K, V, dO)
    P = low_rank_attention(Q, K, eps, bound)
    e = P.entry_error
    eta = 2 * e / (1 - e)
    w = np.abs(dO) @ np.max(np.abs(V), axis=0)
    d = Q.shape[1]
    bQ = eta * (3 + eta) * np.outer(w, np.max(np.abs(K), axis=0)) / d
    right = P.rmatmul(np.hstack([w[:, None] * np.abs(Q), np.abs(dO)]))
    bK = eta * (3 + eta) * (1 + eta) * right[:, :d] / d
    bV = eta * (1 + eta) * right[:, d:]
    return bQ, bK, bV


# ---------------------------------------------------------------------------- loss
def _check_loss(A1, A2, A3, E, X, Y):
    A1 = as_matrix("A1", A1)
    n, d = A1.shape
    A2 = as_matrix("A2", A2, cols=d)
    A3 = as_matrix("A3", A3, rows=A2.shape[0], cols=d)
    E = as_matrix("E", E, rows=n, cols=d)
    X = as_matrix("X", X, rows=d, cols=d)
    Y = as_matrix("Y", Y, rows=d, cols=d)
    return A1, A2, A3, E, X, Y


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
    """
    A1, A2, A3, E, X, Y = _check_loss(A1, A2, A3, E, X, Y)
    return 0.5 * float(np.sum((attention(A1 @ X, A2, A3 @ Y) - E) ** 2))


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
    """
    A1, A2, A3, E, X, Y = _check_loss(A1, A2, A3, E, X, Y)
    Q, h = A1 @ X, A3 @ Y
    c = attention(Q, A2, h) - E
    dQ = attention_vjp(Q, A2, h, c)[0]
    return A1.T @ dQ


def attention_loss_grad_fast(A1, A2, A3, E, X, Y, eps: float = 1e-6, bound: float | None = None):
    """``dL/dX`` in ``n^{1+o(1)}`` time (AS24a Thm 1.6 / App. D).

    ``f ~ D~^{-1} U1 U2^T`` (polynomial method on ``Q = A1 X``, ``K = A2``) and
    ``q = c h^T`` of rank ``d``, so ``f o q`` has rank ``r d`` and ``p A2`` is
    computed as in :func:`attention_vjp_fast` without any ``n x n`` matrix.

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
    """
    A1, A2, A3, E, X, Y = _check_loss(A1, A2, A3, E, X, Y)
    Q, h = A1 @ X, A3 @ Y
    check_bound(bound, **{"A1 X": Q, "A2": A2})
    P = low_rank_attention(Q, A2, eps, bound)
    O, VK, PK = _left_products(P, h, A2)  # f h, f (h (x) A2), f A2: one pass, O(n r d^2)
    return A1.T @ _dq(O - E, O, VK, PK)


def attention_loss_grad_error_bound(A1, A2, A3, E, X, Y, eps: float = 1e-6, bound=None):
    """Entrywise bound on ``|attention_loss_grad_fast - attention_loss_grad|`` (our derivation).

    Two sources: the VJP bound of :func:`attention_vjp_error_bound` at
    ``dO = c~`` (with ``|c| <= |c~| + e_c``), and the error ``e_c`` of
    ``c~ = f~ h - E`` itself, bounded by (E1) per column; a perturbation
    ``Delta c`` of ``q = c h^T`` moves ``dQ_i`` by at most
    ``2 (1 + eta) max_j |<Delta c_i, h_j>| max|A2| / d``.  The bound on
    ``dL/dX`` is ``|A1|^T`` times the bound on ``dQ``.
    """
    A1, A2, A3, E, X, Y = _check_loss(A1, A2, A3, E, X, Y)
    Q, h = A1 @ X, A3 @ Y
    P = low_rank_attention(Q, A2, eps, bound)
    e = P.entry_error
    eta = 2 * e / (1 - e)
    spread = h.max(axis=0) - h.min(axis=0)
    e_c = normalised_output_error(e, spread)  # per column of c, by (E1)
    c = np.abs(P.apply(h) - E) + e_c
    d = Q.shape[1]
    w = c @ np.max(np.abs(h), axis=0)
    kmax = np.max(np.abs(A2), axis=0)
    bQ = eta * (3 + eta) * np.outer(w, kmax) / d
    bQ += 2 * (1 + eta) * float(e_c @ np.max(np.abs(h), axis=0)) * kmax[None, :] / d
    return np.abs(A1).T @ bQ
