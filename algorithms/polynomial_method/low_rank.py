"""One low-rank operator for every mechanism: ``A~ = U1 (U2 ⊘ ... ⊘ Uk)^T ~ exp(logits)``.

Step 3 of the polynomial method.  For a mechanism of degree ``k`` the logit of
query ``i`` and keys ``j_2, ..., j_k`` is ``scale <q_i, k2_{j_2} ∘ ... ∘ kk_{j_k}>``;
with the certified ``P ~ exp`` (:mod:`~algorithms.polynomial_method.certified`)
and the feature maps ``phi``, ``psi`` (:mod:`~algorithms.polynomial_method.features`),
the multinomial theorem gives (Alman & Song 2023, Lemma 3.1; 2024, Sec. 3.1)::

    P(scale <q, k2 ∘ ... ∘ kk>) = phi(q) · (psi(k2) ∘ ... ∘ psi(kk)),
    i.e.  A~ = U1 (U2 ⊘ ... ⊘ Uk)^T,   U1 = phi(Q),  Uj = psi(K_j),

of rank ``r = C(d + g, g)`` whatever ``k``: every factor shares one
multi-index.  ``k = 2`` is matrix attention (``A~ = U1 U2^T``), ``k = 3``
tensor attention, a degree-``k`` monomial of poly-attention the general case.
Identity (I1) of :mod:`algorithms.kron` turns every product with values of the
form ``V2 ⊘ ... ⊘ Vk`` into ``k - 1`` thin products::

    (U2 ⊘ ... ⊘ Uk)^T (V2 ⊘ ... ⊘ Vk) = (U2^T V2) ∘ ... ∘ (Uk^T Vk),

so the normalised output ``D~^{-1} A~ (V2 ⊘ ... ⊘ Vk)`` costs ``O(n r d)``
(:meth:`LowRankOperator.apply`) and nothing of size ``n^2`` is formed.

Streaming.  ``U1``, ``Uj`` (``n x r`` each) are never stored: they are rebuilt
block by block where used, :func:`block_rows` rows at a time (the one
block-size policy of the package, a function of the rank), so memory is
``O(n d + block r)``.  On the query side ``U1 W = monomials(Q) (diag(w) W)``
with ``w`` the query weights, one pass fewer over an ``n x r`` block.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Lemma 3.1, Thm 1.3.
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064, Sec. 3.1 (the tensor trick).
.. [3] Y. Liang, Z. Sha, Z. Shi, Z. Song, Y. Zhou. Multi-layer transformers gradient
   can be approximated in almost linear time. arXiv:2408.13233, App. I.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import reduce

import numpy as np

from algorithms._blocks import row_blocks
from algorithms.error_bounds import entry_error
from algorithms.polynomial_method.exp_approximation import ExpApproximation
from algorithms.polynomial_method.features import (
    feature_rank,
    key_features,
    monomials,
    query_features,
)

__all__ = ["block_rows", "LowRankOperator"]

_BLOCK_ENTRIES = 2**18  # feature entries held by one block (2 MiB of float64)
_MIN_BLOCK, _MAX_BLOCK = 64, 2048


def block_rows(rank: int) -> int:
    """Rows of features built at a time: the block-size policy of every low-rank computation.

    A block of ``b`` rows of an ``n x r`` factor holds ``b r`` numbers; ``b`` is
    the largest power of two with ``b r <= 2^18`` (2 MiB), clipped to
    ``[64, 2048]``: large blocks amortise Python overhead, small ones keep
    the block and its products in cache.  Measured (one thread, ``r = 330``):
    512 rows beat 1024 and 2048 for matrix (``n = 2^17``), tensor
    (``n = 2^12``) and the transformer alike.

    Examples
    --------
    >>> block_rows(330), block_rows(35), block_rows(10**5)
    (512, 2048, 64)
    """
    rows = _BLOCK_ENTRIES // max(1, int(rank))
    b = 1 << max(0, rows.bit_length() - 1)
    return int(min(_MAX_BLOCK, max(_MIN_BLOCK, b)))


@dataclass
class LowRankOperator:
    """``A~ = U1 (U2 ⊘ ... ⊘ Uk)^T``, the certified low-rank approximation of ``exp(scale <q, k2 ∘ ... ∘ kk>)``.

    Parameters
    ----------
    Q : (n, m) array
        Queries; ``U1 = phi(Q)``.
    keys : tuple of (n_j, m) arrays (or one array, for ``k = 2``)
        ``K_2, ..., K_k``; ``U_j = psi(K_j)``.
    approximation : ExpApproximation
        ``P``, certified on the logit interval (the caller promises every logit lies in it).
    scale : float, optional
        Logit scale; default ``1/m`` (attention's ``1/d``).
    bound : float, optional
        ``B``, the max-norm the caller checked (recorded, not used).

    Attributes
    ----------
    k : mechanism degree ``1 + len(keys)``.
    degree : ``g``, the degree of ``P``.
    rank : ``r = C(m + g, g)``.
    half_width : ``h``, logits lie in ``[-h, h]``.
    entry_error : certified relative error of every entry of ``A~``
        (:func:`algorithms.error_bounds.entry_error` with ``k (g + 1) + r + sum_j n_j``
        float64 operations: the ``k`` monomials, the sum over ``r`` features
        and the streamed sums over the keys).

    Examples
    --------
    >>> from algorithms.polynomial_method import approximate_exp
    >>> rng = np.random.default_rng(0)
    >>> Q, K, V = rng.uniform(-1, 1, (30, 2)), rng.uniform(-1, 1, (20, 2)), rng.normal(size=(20, 1))
    >>> op = LowRankOperator(Q, (K,), approximate_exp(1.0, 2, 1e-6))
    >>> op.k, op.degree, op.rank
    (2, 7, 36)
    >>> A = np.exp(Q @ K.T / 2)
    >>> bool(np.max(np.abs(op.apply(V) - (A / A.sum(1, keepdims=True)) @ V)) < 1e-6)
    True
    """

    Q: np.ndarray
    keys: tuple
    approximation: ExpApproximation
    scale: float | None = None
    bound: float | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.keys, np.ndarray):
            self.keys = (self.keys,)
        self.keys = tuple(self.keys)
        if self.scale is None:
            self.scale = 1.0 / self.Q.shape[1]

    # ------------------------------------------------------------------ certificate
    @property
    def k(self) -> int:
        return 1 + len(self.keys)

    @property
    def n(self) -> int:
        return self.Q.shape[0]

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
        operations = self.k * (self.degree + 1) + self.rank + sum(K.shape[0] for K in self.keys)
        return entry_error(self.approximation, operations)

    # ------------------------------------------------------------------ factors
    def blocks(self, n: int) -> Iterator[slice]:
        """Row blocks of :func:`block_rows` rows for this rank."""
        return row_blocks(n, block_rows(self.rank))

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
        """Rows of ``U_{which+1} = psi(K_{which+1})``: ``which = 1`` is ``U2``, ..., ``k - 1`` is ``Uk``."""
        return key_features(self.keys[which - 1][rows], self.degree)

    @property
    def U1(self) -> np.ndarray:
        """``phi(Q)`` whole: for small inputs and teaching."""
        return self.phi()

    @property
    def U2(self) -> np.ndarray:
        return self.psi(1)

    @property
    def U3(self) -> np.ndarray:
        return self.psi(2)

    # ------------------------------------------------------------------ thin products
    def key_side(self, which: int, Y: np.ndarray) -> np.ndarray:
        """``U_{which+1}^T Y``, streamed over key rows: ``O(n_j r c)``."""
        W = np.zeros((self.rank, Y.shape[1]))
        for sl in self.blocks(Y.shape[0]):
            W += self.psi(which, sl).T @ Y[sl]
        return W

    def query_side(self, Y: np.ndarray) -> np.ndarray:
        """``U1^T Y``, streamed over query rows."""
        W = np.zeros((self.rank, Y.shape[1]))
        for sl in self.blocks(self.n):
            W += monomials(self.Q[sl], self.degree).T @ Y[sl]
        return W * self.query_weights[:, None]

    def expand_query(self, W: np.ndarray) -> np.ndarray:
        """``U1 W`` for an ``(r, c)`` array, streamed over query rows."""
        W = W * self.query_weights[:, None]
        out = np.empty((self.n, W.shape[1]))
        for sl in self.blocks(self.n):
            out[sl] = monomials(self.Q[sl], self.degree) @ W
        return out

    def expand_key(self, which: int, W: np.ndarray) -> np.ndarray:
        """``U_{which+1} W`` for an ``(r, c)`` array, streamed over key rows."""
        K = self.keys[which - 1]
        out = np.empty((K.shape[0], W.shape[1]))
        for sl in self.blocks(K.shape[0]):
            out[sl] = self.psi(which, sl) @ W
        return out

    # ------------------------------------------------------------------ normalised
    def apply(self, *Vs: np.ndarray) -> np.ndarray:
        """The fast output ``D~^{-1} A~ (V2 ⊘ ... ⊘ Vk) = D~^{-1} U1 [(U2^T V2) ∘ ... ∘ (Uk^T Vk)]`` (I1).

        One value matrix per key set (``apply(V)`` for matrix attention,
        ``apply(V1, V2)`` for tensor attention); the normaliser
        ``D~ 1 = U1 [(U2^T 1) ∘ ... ∘ (Uk^T 1)]`` rides along as a last column.
        """
        if len(Vs) != len(self.keys):
            raise ValueError(f"apply needs {len(self.keys)} value matrices (one per key set), got {len(Vs)}")
        W = reduce(np.multiply, [self.key_side(j + 1, np.hstack([V, np.ones((V.shape[0], 1))]))
                                 for j, V in enumerate(Vs)])
        W = W * self.query_weights[:, None]
        out, norm = np.empty((self.n, W.shape[1] - 1)), np.empty(self.n)
        for sl in self.blocks(self.n):
            block = monomials(self.Q[sl], self.degree) @ W
            norm[sl] = block[:, -1]
            out[sl] = block[:, :-1] / norm[sl, None]
        self._cache["normaliser"] = norm
        return out

    @property
    def normaliser(self) -> np.ndarray:
        """``D~ 1``, the approximate row sums of ``A~``."""
        if "normaliser" not in self._cache:
            self.apply(*(np.zeros((K.shape[0], 0)) for K in self.keys))
        return self._cache["normaliser"]

    def marginals(self, Y: np.ndarray) -> list[np.ndarray]:
        """``sum_i Y_i f~_i(j at key set s, the others summed)`` for each key set ``s``.

        With ``f~ = D~^{-1} A~`` and ``W = U1^T D~^{-1} Y``, the marginal on key
        set ``s`` is ``U_s [W ∘ prod_{t != s} (U_t^T 1)]``: ``O((n + sum_j n_j) r c)``.
        For ``k = 2`` it is ``P~^T Y``.
        """
        W = self.query_side(Y / self.normaliser[:, None])
        sums = [self.key_side(j, np.ones((K.shape[0], 1))) for j, K in enumerate(self.keys, start=1)]
        out = []
        for s in range(1, self.k):
            others = [sums[t - 1] for t in range(1, self.k) if t != s]
            out.append(self.expand_key(s, W * reduce(np.multiply, others) if others else W))
        return out

    # ------------------------------------------------------------------ k = 2
    def _pair(self, name: str) -> None:
        if self.k != 2:
            raise ValueError(f"{name} is defined for k = 2 (matrix attention), this operator has k = {self.k}")

    def matmul(self, Y: np.ndarray) -> np.ndarray:
        """``P~ Y = D~^{-1} U1 (U2^T Y)`` for ``Y`` of shape ``(m, c)`` (``k = 2``); ``O(n r c)``."""
        self._pair("matmul")
        return self.apply(np.asarray(Y, dtype=float))

    def rmatmul(self, Y: np.ndarray) -> np.ndarray:
        """``P~^T Y = U2 (U1^T D~^{-1} Y)`` for ``Y`` of shape ``(n, c)`` (``k = 2``); ``O(m r c)``."""
        self._pair("rmatmul")
        return self.marginals(Y)[0]

    def product(self, Y: np.ndarray, *, transpose: bool = False) -> np.ndarray:
        """The unnormalised ``A~ Y = U1 (U2^T Y)``, or ``A~^T Y = U2 (U1^T Y)`` (``k = 2``)."""
        self._pair("product")
        if transpose:
            return self.expand_key(1, self.query_side(Y))
        return self.expand_query(self.key_side(1, Y))

    def u1(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of ``U1`` (the row-block protocol of :mod:`algorithms.transformer.lowrank`)."""
        return self.phi(slice(start, stop))

    def u2(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of ``U2``."""
        return self.psi(1, slice(start, stop))

    # ------------------------------------------------------------------ teaching
    def dense(self) -> np.ndarray:
        """``f~ = D~^{-1} A~`` as an ``(n, n_2 ... n_k)`` array: small inputs and teaching only."""
        keys = reduce(lambda A, B: (A[:, None, :] * B[None, :, :]).reshape(-1, self.rank),
                      [self.psi(j) for j in range(1, self.k)])
        A = self.U1 @ keys.T
        return A / A.sum(axis=1, keepdims=True)
