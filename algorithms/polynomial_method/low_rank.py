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

Centring and shift.  Built from a plan (:mod:`~algorithms.polynomial_method.plan`),
the operator may feed the features with ``x - c`` instead of ``x``: ``Q`` gets
the extra column ``-c/scale`` and every key matrix a column of ones, so
``scale <[q, -c/scale], [k2, 1] ∘ ... > = x - c`` (one more coordinate, rank
``C(m + 1 + g, g)``).  Then ``A~`` approximates ``e^{x - c}``; the factor
``e^c`` cancels in every normalised product (``apply``, ``matmul``,
``rmatmul``, ``marginals``, ``dense``), while the unnormalised ``product`` is
``e^{-c}`` times the approximation of ``exp(logits)``.  ``Q`` and ``keys`` keep
the caller's arrays; the centred inputs are private.

Checks and namespaces.  Every product validates its argument (finite, 2-d,
its row count against the key set or the queries), so a value matrix with a
missing or an extra row is a ``ValueError``.  ``Q`` and the keys may be numpy
or any Array-API arrays (:mod:`algorithms._array`); the products run in their
namespace, on their device, in their dtype (:attr:`LowRankOperator.dtype`,
float32 certified with float32's rounding), and return arrays of that kind.

Streaming.  ``U1``, ``Uj`` (``n x r`` each) are never stored: they are rebuilt
block by block where used (:func:`block_rows` rows on the host, larger chunks
on an accelerator; :mod:`~algorithms.polynomial_method.streaming`), so memory is
``O(n d + block r)``; ``U1 W = monomials(Q) (diag(w) W)`` with ``w`` the query weights.

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

from algorithms import _array, _scaling
from algorithms._blocks import row_blocks
from algorithms._checks import as_fast_matrices
from algorithms.error_bounds import entry_error, working_rounding
from algorithms.polynomial_method.exp_approximation import ExpApproximation
from algorithms.polynomial_method.features import (
    feature_rank,
    key_features,
    monomials,
    query_features,
)
from algorithms.polynomial_method.interval import LogitBounds
from algorithms.polynomial_method.mp import mp_apply, mp_unit_roundoff
from algorithms.polynomial_method.streaming import block_buffer, chunk_rows, expand_rows, sum_rows

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


def _balanced(Q, keys: tuple) -> tuple:
    """``Q`` and the keys times powers of two whose product is 1, where their magnitudes are far apart.

    Every logit ``<q, k_1 ∘ ...>`` is unchanged (exactly: powers of two), but the
    features ``q^alpha``, ``k^alpha`` of inputs like ``1e150`` and ``1e-150`` (logits
    near 1) no longer overflow to ``inf`` and underflow to 0, whose product was NaN
    (found by the fuzz suite).  Only the features use them: ``Q`` and ``keys`` stay as given.
    """
    mats = (Q, *keys)
    e = [_scaling.exponent(X) for X in mats]
    if max(abs(x) for x in e) <= 64:
        return Q, keys
    target = round(sum(e) / len(e))
    shifts = [target - x for x in e]
    shifts[-1] -= sum(shifts)
    out = [_scaling.scale(X, s) for X, s in zip(mats, shifts)]
    return out[0], tuple(out[1:])


@dataclass
class LowRankOperator:
    """``A~ = U1 (U2 ⊘ ... ⊘ Uk)^T``, the certified low-rank approximation of ``exp(scale <q, k2 ∘ ... ∘ kk>)``.

    Parameters
    ----------
    Q : (n, m) array
        Queries; ``U1 = phi(Q)``.
    keys : tuple of (n_j, m) arrays (or one array, for ``k = 2``)
        ``K_2, ..., K_k``; ``U_j = psi(K_j)``.
    approximation : ExpApproximation (or MpExpApproximation)
        ``P ~ e^v``, certified on ``[approximation.lo, approximation.hi]``, where
        ``v = x - centre`` (``v = x`` when ``centre`` is ``None``); the caller
        promises every such ``v`` lies there.
    scale : float, optional
        Logit scale; default ``1/m`` (attention's ``1/d``).
    bound : float, optional
        ``B``, the max-norm the caller checked (recorded, not used).
    centre : float, optional
        ``c``: the features are those of ``x - c`` (module docstring).
    bounds : LogitBounds, optional
        The data's certified logit interval and absolute sums; with it the
        entry error's rounding term is the data-aware one of
        :func:`algorithms.error_bounds.entry_error` (required when ``P`` covers
        less than ``[-B^k, B^k]``).
    precision : {"float64", "mpmath"}
        ``"mpmath"``: :meth:`apply` and :meth:`matmul` run in the digits of an
        :class:`~algorithms.polynomial_method.mp.MpExpApproximation`.
    plan : FastPlan, optional
        The plan the operator was built from (recorded).

    Attributes
    ----------
    k : mechanism degree ``1 + len(keys)``.
    degree : ``g``, the degree of ``P``.
    feature_dim : ``m``, or ``m + 1`` when centred.
    rank : ``r = C(feature_dim + g, g)``.
    half_width : ``h``, ``max(|lo|, |hi|)`` of ``P``'s interval.
    entry_error : certified relative error of every entry of ``A~``
        (:func:`algorithms.error_bounds.entry_error` with ``k (g + 1) + r + sum_j n_j``
        rounded operations: the ``k`` monomials, the sum over ``r`` features
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
    centre: float | None = None
    bounds: LogitBounds | None = None
    precision: str = "float64"
    plan: object = None
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.keys, np.ndarray) or (not isinstance(self.keys, (tuple, list)) and hasattr(self.keys, "shape")):
            self.keys = (self.keys,)
        self.keys = tuple(self.keys)
        self._xp = _array.namespace(self.Q, *self.keys)
        if self.scale is None:
            self.scale = 1.0 / self.Q.shape[1]
        xp = self._xp
        Qb, keysb = _balanced(self.Q, self.keys)
        self._centred = self.centre is not None and self.degree > 0
        if self._centred:
            column = _array.ones(xp, (int(self.Q.shape[0]), 1), self.Q) * (-self.centre / self.scale)
            self._Qf = _array.concat(xp, [Qb, column])
            self._keysf = tuple(_array.concat(xp, [K, _array.ones(xp, (int(K.shape[0]), 1), K)]) for K in keysb)
        else:
            self._Qf, self._keysf = Qb, keysb

    # ------------------------------------------------------------------ certificate
    @property
    def k(self) -> int:
        return 1 + len(self.keys)

    @property
    def n(self) -> int:
        return int(self.Q.shape[0])

    @property
    def degree(self) -> int:
        return self.approximation.degree

    @property
    def feature_dim(self) -> int:
        return int(self._Qf.shape[1])

    @property
    def centred(self) -> bool:
        """Whether the features carry the centring coordinate (``x - c``)."""
        return self._centred

    @property
    def rank(self) -> int:
        return feature_rank(self.feature_dim, self.degree)

    @property
    def half_width(self) -> float:
        return max(abs(self.approximation.lo), abs(self.approximation.hi))

    @property
    def dtype(self) -> str:
        """The working dtype of the products, ``"float32"`` or ``"float64"`` (that of ``Q``)."""
        return "float32" if _array.dtype_name(self.Q.dtype) == "float32" else "float64"

    @property
    def xp(self):
        """The array namespace the products run in (``numpy`` unless the inputs are of another library)."""
        return self._xp

    @property
    def entry_error(self) -> float:
        """Certified relative error of every entry of ``A~`` in the working dtype (:attr:`dtype`)."""
        if self.precision == "mpmath":
            operations = self.k * (self.degree + 1) + self.rank + sum(int(K.shape[0]) for K in self.keys)
            u = mp_unit_roundoff(self.approximation.digits)
            return entry_error(self.approximation, operations + 1, self.bounds, self.centre, unit_roundoff=u)
        rows = [int(K.shape[0]) for K in self.keys]
        if self.dtype == "float32":
            rows = [max(self.n, max(rows))] * len(rows)  # marginals sum over the queries too
        ops, u, extra = working_rounding(self.dtype, self.k, self.degree, self.rank, rows)
        return entry_error(self.approximation, ops, self.bounds, self.centre, unit_roundoff=u, extra_gamma=extra)

    def __repr__(self) -> str:
        """Shapes and the certificate, never the arrays (a notebook shows this)."""
        keys = ", ".join(str(K.shape[0]) for K in self.keys)
        P = self.approximation
        return (f"LowRankOperator(k={self.k}, n={self.n} queries, keys of {keys} rows, m={self.Q.shape[1]}, "
                f"degree g={self.degree}, rank r={self.rank}, P on [{P.lo:.4g}, {P.hi:.4g}]"
                + (f" + centre {self.centre:.4g}" if self.centred else "")
                + f", entry_error={self.entry_error:.3g}, {self.precision})")

    # ------------------------------------------------------------------ checks
    def _rows(self, name: str, Y, rows: int):
        """``Y`` validated (finite, 2-d, ``rows`` rows) and cast to this operator's namespace and dtype."""
        if not _array.is_numpy(self._xp) and isinstance(Y, (np.ndarray, list, tuple)):
            return _array.from_numpy(self._xp, as_fast_matrices((name, Y, rows, None))[1][0], self.Q)
        return as_fast_matrices((name, Y, rows, None), dtype=self.dtype)[1][0]

    def _float64_only(self, name: str) -> None:
        if self.precision != "float64":
            raise ValueError(f"{name} is computed in float64 only; this operator has precision={self.precision!r} "
                             f"(use apply or matmul)")

    # ------------------------------------------------------------------ factors
    def blocks(self, n: int) -> Iterator[slice]:
        """Row blocks of :func:`block_rows` rows for this rank (larger chunks on an accelerator)."""
        return row_blocks(n, self._chunk())

    def _chunk(self) -> int:
        return chunk_rows(block_rows(self.rank), self.rank, self.Q)

    @property
    def query_weights(self) -> np.ndarray:
        """``w`` with ``phi(q) = w ∘ monomials(q)``: ``a_|alpha| scale^|alpha| |alpha|!/alpha!`` (host, float64)."""
        if "w" not in self._cache:
            ones = np.ones((1, self.feature_dim))
            self._cache["w"] = query_features(ones, self.approximation.coefficients, self.scale)[0]
        return self._cache["w"]

    def _weights(self):
        """:attr:`query_weights` as a float64 ``(r, 1)`` column of this namespace and device."""
        if "w_xp" not in self._cache:
            w = self.query_weights[:, None]
            xp = self._xp
            self._cache["w_xp"] = w if _array.is_numpy(xp) else xp.asarray(w, device=_array.device(self.Q))
        return self._cache["w_xp"]

    def phi(self, rows: slice = slice(None)):
        """Rows of ``U1 = phi(Q)`` (multinomial weights and ``P``'s coefficients)."""
        return query_features(self._Qf[rows, ...], self.approximation.coefficients, self.scale)

    def psi(self, which: int, rows: slice = slice(None)):
        """Rows of ``U_{which+1} = psi(K_{which+1})``: ``which = 1`` is ``U2``, ..., ``k - 1`` is ``Uk``."""
        return key_features(self._keysf[which - 1][rows, ...], self.degree)

    def _monomials(self, rows: slice):
        return monomials(self._Qf[rows, ...], self.degree, out=self._buffer(rows, self.n))

    def _key_monomials(self, which: int, rows: slice):
        K = self._keysf[which - 1]
        return monomials(K[rows, ...], self.degree, out=self._buffer(rows, int(K.shape[0])))

    def _buffer(self, rows: slice, n: int):
        """A reused ``(r, rows)`` numpy buffer of a streamed block (:func:`~.streaming.block_buffer`)."""
        if not isinstance(self.Q, np.ndarray):
            return None
        return block_buffer(self.rank, len(range(*rows.indices(n))), self.Q.dtype)

    @property
    def U1(self):
        """``phi(Q)`` whole: for small inputs and teaching."""
        return self.phi()

    @property
    def U2(self):
        return self.psi(1)

    @property
    def U3(self):
        return self.psi(2)

    # ------------------------------------------------------------------ thin products
    def key_side(self, which: int, Y):
        """``U_{which+1}^T Y``, streamed over key rows: ``O(n_j r c)``; an ``(r, c)`` float64 array."""
        return sum_rows(self._xp, lambda sl: self._key_monomials(which, sl), Y, self._chunk(), self.dtype)

    def query_side(self, Y):
        """``U1^T Y``, streamed over query rows (float64 ``(r, c)``)."""
        return sum_rows(self._xp, self._monomials, Y, self._chunk(), self.dtype) * self._weights()

    def expand_query(self, W):
        """``U1 W`` for an ``(r, c)`` array, streamed over query rows."""
        return expand_rows(self._xp, self._monomials, W * self._weights(), self.n, self._chunk(), self.Q)

    def expand_key(self, which: int, W):
        """``U_{which+1} W`` for an ``(r, c)`` array, streamed over key rows."""
        K = self._keysf[which - 1]
        return expand_rows(self._xp, lambda sl: self._key_monomials(which, sl), W, int(K.shape[0]), self._chunk(), self.Q)

    # ------------------------------------------------------------------ normalised
    def apply(self, *Vs: np.ndarray) -> np.ndarray:
        """The fast output ``D~^{-1} A~ (V2 ⊘ ... ⊘ Vk) = D~^{-1} U1 [(U2^T V2) ∘ ... ∘ (Uk^T Vk)]`` (I1).

        One value matrix per key set (``apply(V)`` for matrix attention,
        ``apply(V1, V2)`` for tensor attention); the normaliser
        ``D~ 1 = U1 [(U2^T 1) ∘ ... ∘ (Uk^T 1)]`` rides along as a last column.

        Raises
        ------
        ValueError
            A value matrix that is not a finite 2-d array with as many rows as
            its key set, or value matrices of different widths.

        Examples
        --------
        >>> from algorithms.polynomial_method import approximate_exp
        >>> op = LowRankOperator(np.zeros((1, 1)), (np.ones((2, 1)),), approximate_exp(1.0, 2, 1e-6))
        >>> op.apply([[0.0], [0.0], [9.0]])
        Traceback (most recent call last):
        ...
        ValueError: V must have 2 rows, got shape (3, 1)
        """
        if len(Vs) != len(self.keys):
            raise ValueError(f"apply needs {len(self.keys)} value matrices (one per key set), got {len(Vs)}")
        names = ["V"] if len(Vs) == 1 else [f"V{j}" for j in range(1, len(Vs) + 1)]
        Vs = [self._rows(name, V, int(K.shape[0])) for name, V, K in zip(names, Vs, self.keys)]
        if len({int(V.shape[1]) for V in Vs}) > 1:
            raise ValueError(f"value matrices must have the same number of columns, got {[tuple(V.shape) for V in Vs]}")
        if self.precision == "mpmath":
            return mp_apply(self._Qf, self._keysf, self.approximation, self.scale, Vs)
        return self._apply(Vs)

    def _apply(self, Vs):
        """``D~^{-1} A~ (V1 ⊘ ...)``; where that is not finite, again with each ``V`` scaled by a power of two
        and the result scaled back (:mod:`algorithms._scaling`: only an answer above the dtype's range overflows)."""
        with np.errstate(over="ignore", invalid="ignore"):
            out = self._apply_once(Vs)
        if not Vs or _scaling.all_finite(out):
            return out
        exps = [_scaling.exponent(V) for V in Vs]
        out = self._apply_once([_scaling.scale(V, -e) for V, e in zip(Vs, exps)])
        return _scaling.scale(out, *exps)

    def _apply_once(self, Vs):
        xp = self._xp
        W = reduce(lambda A, B: A * B, [self.key_side(j + 1, _array.concat(xp, [V, _array.ones(xp, (int(V.shape[0]), 1), V)]))
                                        for j, V in enumerate(Vs)])
        block = self.expand_query(W)
        norm = block[:, -1]
        self._cache["normaliser"] = norm
        return block[:, :-1] / xp.reshape(norm, (-1, 1))

    @property
    def normaliser(self) -> np.ndarray:
        """``D~ 1``, the approximate row sums of ``A~``."""
        if "normaliser" not in self._cache:
            self._float64_only("normaliser")
            self._apply([_array.zeros(self._xp, (int(K.shape[0]), 0), self.Q) for K in self.keys])
        return self._cache["normaliser"]

    def marginals(self, Y: np.ndarray) -> list[np.ndarray]:
        """``sum_i Y_i f~_i(j at key set s, the others summed)`` for each key set ``s``.

        With ``f~ = D~^{-1} A~`` and ``W = U1^T D~^{-1} Y``, the marginal on key
        set ``s`` is ``U_s [W ∘ prod_{t != s} (U_t^T 1)]``: ``O((n + sum_j n_j) r c)``.
        For ``k = 2`` it is ``P~^T Y``.
        """
        self._float64_only("marginals")
        xp = self._xp
        Y = self._rows("Y", Y, self.n)
        W = self.query_side(Y / xp.reshape(self.normaliser, (-1, 1)))
        sums = [self.key_side(j, _array.ones(xp, (int(K.shape[0]), 1), self.Q)) for j, K in enumerate(self.keys, start=1)]
        out = []
        for s in range(1, self.k):
            others = [sums[t - 1] for t in range(1, self.k) if t != s]
            out.append(self.expand_key(s, W * reduce(lambda A, B: A * B, others) if others else W))
        return out

    # ------------------------------------------------------------------ k = 2
    def _pair(self, name: str) -> None:
        if self.k != 2:
            raise ValueError(f"{name} is defined for k = 2 (matrix attention), this operator has k = {self.k}")

    def matmul(self, Y: np.ndarray) -> np.ndarray:
        """``P~ Y = D~^{-1} U1 (U2^T Y)`` for ``Y`` of shape ``(m, c)`` (``k = 2``); ``O(n r c)``."""
        self._pair("matmul")
        return self.apply(self._rows("Y", Y, int(self.keys[0].shape[0])))

    def rmatmul(self, Y: np.ndarray) -> np.ndarray:
        """``P~^T Y = U2 (U1^T D~^{-1} Y)`` for ``Y`` of shape ``(n, c)`` (``k = 2``); ``O(m r c)``."""
        self._pair("rmatmul")
        return self.marginals(self._rows("Y", Y, self.n))[0]

    def product(self, Y: np.ndarray, *, transpose: bool = False) -> np.ndarray:
        """The unnormalised ``A~ Y = U1 (U2^T Y)``, or ``A~^T Y = U2 (U1^T Y)`` (``k = 2``)."""
        self._pair("product")
        self._float64_only("product")
        Y = self._rows("Y", Y, self.n if transpose else int(self.keys[0].shape[0]))
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
        self._float64_only("dense")
        keys = reduce(lambda A, B: (A[:, None, :] * B[None, :, :]).reshape(-1, self.rank),
                      [self.psi(j) for j in range(1, self.k)])
        A = self.U1 @ keys.T
        return A / A.sum(axis=1, keepdims=True)
