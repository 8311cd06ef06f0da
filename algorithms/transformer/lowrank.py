"""Masked low-rank products by prefix sums: ``(M o U1 U2^T) H`` without the n x n matrix.

The causal mask ``M`` (``M_ij = 1`` iff ``i >= j``) does not preserve low rank,
but it commutes with a running sum (Liang, Sha, Shi, Song, Zhou 2024, App. I,
Lemma I.3 / Algorithm 2; docs/multilayer.md)::

    ((M o U1 U2^T) h)_i = sum_{j <= i} <U1_i, U2_j> h_j = < U1_i, sum_{j <= i} U2_j h_j >,

i.e. ``(M o U1 U2^T) h = sum_t U1[:, t] o cumsum(U2[:, t] o h)``: ``O(n r)`` per
column of ``H``.  The transposed product ``(M o U1 U2^T)^T H`` runs the same sum
from the bottom (suffix sums), and without a mask the running sum is replaced by
one total ``U2^T H``.

Two implementations:

* :func:`masked_lowrank_product` is the formula above, literally (``np.cumsum``
  over an ``(n, r, k)`` array): the reference, for small inputs.
* :func:`lowrank_product` is the blocked version that the transformer uses.
  Rows are cut into blocks of ``b``; the running sum is kept only at block
  boundaries as an ``r x k`` state ``S = sum_{j < start} U2_j^T H_j`` and the
  diagonal block is a dense ``b x b`` masked product::

      Y[block] = U1[block] S + (tril(U1[block] U2[block]^T)) H[block],
      S       += U2[block]^T H[block].

  Cost ``O(n r k + n b (r + k))`` time and ``O(c r + r k)`` memory: the factor
  rows are asked for a chunk of ``c`` rows at a time (``c`` the core's block
  size :func:`~algorithms.polynomial_method.block_rows` for rank ``r``, rounded
  to a multiple of ``b``), so ``U1``, ``U2`` (each ``n x r``) never exist in
  full.  This is the chunked form of causal linear attention (Katharopoulos
  et al. 2020).  The factors of the transformer's heads are the core's
  low-rank operator (:class:`~algorithms.polynomial_method.LowRankOperator`).

References
----------
.. [1] Y. Liang, Z. Sha, Z. Shi, Z. Song, Y. Zhou. Multi-layer transformers
   gradient can be approximated in almost linear time. arXiv:2408.13233,
   App. I (Lemma I.3, I.4, I.6).
.. [2] A. Katharopoulos, A. Vyas, N. Pappas, F. Fleuret. Transformers are RNNs:
   fast autoregressive transformers with linear attention. ICML 2020,
   arXiv:2006.16236, Sec. 3.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from algorithms import _array
from algorithms._checks import as_fast_matrices, as_matrix, check_positive_int, check_same_rows
from algorithms.polynomial_method import block_rows

__all__ = ["Factors", "ArrayFactors", "masked_lowrank_product", "lowrank_product"]


class Factors(Protocol):
    """Row blocks of the two factors of ``U1 U2^T`` (``n`` rows each, rank ``r``)."""

    n: int
    rank: int

    def u1(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of ``U1``."""

    def u2(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` of ``U2``."""


@dataclass(frozen=True)
class ArrayFactors:
    """:class:`Factors` backed by two stored ``(n, r)`` arrays."""

    U1: np.ndarray
    U2: np.ndarray

    def __post_init__(self) -> None:
        U1 = as_matrix("U1", self.U1)
        U2 = as_matrix("U2", self.U2, cols=U1.shape[1])
        check_same_rows(U1=U1, U2=U2)
        object.__setattr__(self, "U1", U1)
        object.__setattr__(self, "U2", U2)

    @property
    def n(self) -> int:
        return self.U1.shape[0]

    @property
    def rank(self) -> int:
        return self.U1.shape[1]

    def u1(self, start: int, stop: int) -> np.ndarray:
        return self.U1[start:stop]

    def u2(self, start: int, stop: int) -> np.ndarray:
        return self.U2[start:stop]


def masked_lowrank_product(U1, U2, H, *, transpose: bool = False) -> np.ndarray:
    """``(M o U1 U2^T) H`` (or its transpose times ``H``) by explicit prefix sums.

    Parameters
    ----------
    U1, U2 : (n, r) arrays
    H : (n, k) array
    transpose : bool
        If true return ``(M o U1 U2^T)^T H`` (suffix sums).

    Returns
    -------
    (n, k) array.

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array, the ranks differ or the row
        counts differ.

    Examples
    --------
    >>> U1 = np.array([[1.0], [2.0], [3.0]]); U2 = np.ones((3, 1)); H = np.ones((3, 1))
    >>> masked_lowrank_product(U1, U2, H).ravel().tolist()
    [1.0, 4.0, 9.0]

    Notes
    -----
    Liang et al.'s Lemma I.3 verbatim: ``sum_t U1[:, t] o cumsum(U2[:, t] o h)``.  Time
    ``O(n r k)`` but memory ``O(n r k)`` too; use :func:`lowrank_product` for
    large inputs.
    """
    U1 = as_matrix("U1", U1)
    U2 = as_matrix("U2", U2, cols=U1.shape[1])
    H = as_matrix("H", H)
    check_same_rows(U1=U1, U2=U2, H=H)
    if transpose:  # (M o U1 U2^T)^T = M^T o U2 U1^T: reverse the rows and it is causal again
        return masked_lowrank_product(U2[::-1], U1[::-1], H[::-1])[::-1]
    running = np.cumsum(U2[:, :, None] * H[:, None, :], axis=0)  # (n, r, k)
    return np.einsum("it,itk->ik", U1, running)


def lowrank_product(
    factors: Factors,
    H: np.ndarray,
    *,
    causal: bool = True,
    transpose: bool = False,
    block: int = 64,
) -> np.ndarray:
    """``(M o U1 U2^T) H`` in row blocks, never forming an ``n x n`` matrix.

    Parameters
    ----------
    factors : Factors
        Supplies the row blocks ``U1[a:b]``, ``U2[a:b]`` (each ``(b - a, r)``).
    H : (n, k) array
        numpy or the factors' Array-API namespace; float32 kept (each block's
        float32 sum spans ``block`` rows, the running state is accumulated in
        float64).
    causal : bool
        Apply the causal mask ``M`` (``M_ij = 1`` iff ``i >= j``); otherwise
        ``M`` is all ones and the result is ``U1 (U2^T H)``.
    transpose : bool
        Return ``(M o U1 U2^T)^T H`` instead.
    block : int
        Rows per block ``b``.

    Returns
    -------
    (n, k) array.

    Raises
    ------
    ValueError
        If ``H`` is not a finite 2-d array with ``factors.n`` rows or not of
        the factors' library, or ``block < 1``.

    Examples
    --------
    >>> F = ArrayFactors(np.array([[1.0], [2.0], [3.0]]), np.ones((3, 1)))
    >>> lowrank_product(F, np.ones((3, 1)), block=2).ravel().tolist()
    [1.0, 4.0, 9.0]
    >>> lowrank_product(F, np.ones((3, 1)), transpose=True, block=2).ravel().tolist()
    [6.0, 5.0, 3.0]

    Notes
    -----
    Time ``O(n r k + n b (r + k))``, memory ``O(b r + r k)`` beyond ``H`` and
    the output (module docstring).  With ``b = 1`` this is exactly the prefix
    sum of Liang et al., Lemma I.3; larger blocks trade a ``b x b`` dense
    diagonal block for fewer Python steps.
    """
    xp, (H,) = as_fast_matrices(("H", H, factors.n, None))
    library = getattr(factors, "xp", np)  # LowRankOperator's namespace; ArrayFactors is numpy
    if (library is not xp) and not (_array.is_numpy(library) and _array.is_numpy(xp)):
        raise ValueError(f"H must be an array of the factors' library ({getattr(library, '__name__', library)}), "
                         f"got {type(H).__module__}.{type(H).__name__}")
    wide = _array.dtype_name(H.dtype) != "float64"  # float32: block sums accumulated in float64
    check_positive_int("block", block)
    n, k = int(H.shape[0]), int(H.shape[1])
    starts = list(range(0, n, block))
    first, second = (factors.u2, factors.u1) if transpose else (factors.u1, factors.u2)
    chunk = block * max(1, block_rows(factors.rank) // block)
    if not causal:
        state = None
        for a in range(0, n, chunk):
            state = _accumulate(xp, state, second(a, min(a + chunk, n)).T @ H[a : a + chunk, ...], wide)
        state = _array.astype(xp, state, H.dtype)
        return _array.concat(xp, [first(a, min(a + chunk, n)) @ state for a in range(0, n, chunk)], axis=0)
    out = _array.empty(xp, (n, k), H)
    state = None
    # Factor rows are fetched a chunk of several blocks at a time: fewer calls to the
    # feature map, still O(chunk r) memory.
    cached = (None, None, None)
    for a in reversed(starts) if transpose else starts:
        b = min(a + block, n)
        c0 = (a // chunk) * chunk
        if cached[0] != c0:
            c1 = min(c0 + chunk, n)
            cached = (c0, first(c0, c1), second(c0, c1))
        # rows of the factor on the output side and on the summed side
        A, B = cached[1][a - c0 : b - c0, ...], cached[2][a - c0 : b - c0, ...]
        local = A @ B.T
        local = xp.triu(local) if transpose else xp.tril(local)
        # transposed: row j of the output sums i >= j, i.e. the upper triangle of U2 U1^T
        Hb = H[a:b, ...]
        out[a:b, ...] = local @ Hb if state is None else A @ (_array.astype(xp, state, H.dtype) if wide else state) + local @ Hb
        state = _accumulate(xp, state, B.T @ Hb, wide)
    return out


def _accumulate(xp, state, part, wide: bool):
    """``state + part`` in float64: float32 sums span one block, the running state is float64 (exact widening)."""
    if wide:
        part = _array.astype(xp, part, np.float64 if _array.is_numpy(xp) else xp.float64)
    return part if state is None else state + part
