"""The exact streaming softmax shared by matrix, tensor and multi-layer attention.

Every exact algorithm of this package computes, for logits ``S_ij`` (a row
``i`` per query; ``j`` over keys, key pairs, or the unmasked keys of a causal
row)::

    f_ij = exp(S_ij) / sum_j exp(S_ij),     O_i = sum_j f_ij v_j,

without ever holding a whole ``n x n`` (or ``n x n^2``) array and without
overflow, by the *online softmax* (Milakov & Gimelshein 2018): the rows are
visited in query blocks, the keys of a row in key blocks, and a running
maximum ``m_i`` is subtracted before ``exp``; when a later block raises it to
``m'_i`` the partial sums are rescaled by ``e^{m_i - m'_i}``::

    m'_i = max(m_i, max_j S_ij),   z_i <- z_i e^{m_i - m'_i} + sum_j e^{S_ij - m'_i},
    num_i <- num_i e^{m_i - m'_i} + sum_j e^{S_ij - m'_i} v_j,   O_i = num_i / z_i.

Every exponent is ``<= 0``, so nothing overflows, whatever the logits.  The
pass also returns the log-normaliser ``lse_i = m_i + log z_i``, with which a
backward pass replays the same blocks as ``f_ij = exp(S_ij - lse_i)``
(:func:`softmax_blocks`): one number per row is all a VJP keeps.

Logits beyond float64.  With entries of ``Q, K`` near ``1e200`` (``1e110`` for
three factors) the products ``<q_i, k_j>`` themselves overflow, before any
maximum can be subtracted.  :class:`ProductLogits` (the logits of matrix and
tensor attention) computes a block in float64 and, where that overflows (a
``NaN`` or ``+inf``; a ``-inf`` is ``exp = 0`` and stays), recomputes the
block's query rows with a wide exponent (:mod:`algorithms._xfloat`): each
logit is then the float64 inner product *with an unbounded exponent range*
(error ``<= (d + k) u sum_l |q_il| |k_jl|``, the usual float64 bound), the row
maximum is found in that form and only ``S_ij - m_i`` (``<= 0``, saturating to
``-inf``) is turned into float64.  The output is then finite and as accurate
as float64 inner products allow.  In the *saturated* regime, ``|m_i| >= 2^63``,
two logits of a row that differ at all differ by at least one unit in the last
place of ``m_i`` (``>= 2048``) and ``e^{-2048}`` is 0 in float64: the softmax is
exactly the uniform distribution on the row's ties ``{j : S_ij = m_i}``
(``1/|ties|`` each), as the mathematics gives to float64 precision.  Rows done
this way get ``lse_i = NaN`` (their log-normaliser may not be a float64), and
so do rows whose ``m_i + log z_i`` rounds ``log z_i`` away (``|m_i| > ~1e4``:
at a tie of a huge maximum ``lse_i == m_i``, and ``exp(S - lse)`` would give
every tied key weight 1); :func:`softmax_blocks` recomputes them.

Gradients there.  The exact VJPs (``dS = P o (dO V^T - delta)``, then
``dS K / d`` ...) replay these weights, so in the saturated regime they give
the derivative *at the tie*: ``P`` uniform on the tied keys, every other key
contributing ``e^{-2048}`` or less (0 in float64) to the value and to the
derivative alike.  With a unique maximum the gradient with respect to the
logits is 0 (``O_i = v_{j*}``); with ties it is the softmax derivative at equal
logits and, through ``K / d``, may be of the size of the entries (``1e200``):
that is the true derivative.  Gradient entries whose own size exceeds float64
(a product of two entries above ``1.8e308``) are not representable and
overflow.  Logits given as a
plain callable (no ``extended`` method) that overflow raise ``ValueError``.

:func:`online_softmax` is the forward pass and :func:`softmax_blocks` the
replay; the callers supply only the logits of a block and what to contract the
weights with.

References
----------
.. [1] M. Milakov, N. Gimelshein. Online normalizer calculation for softmax.
   arXiv:1805.02867.
.. [2] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Def. 1.1 (the exact attention this computes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from algorithms import _xfloat as xf
from algorithms._blocks import row_blocks
from algorithms.budget import progress

__all__ = ["online_softmax", "softmax_blocks", "ProductLogits"]

_LSE_TOLERANCE = 1e-12  # largest error of lse - m against log z before a row is recomputed in the replay

#: ``logits(queries, keys)``: the logits of a block, first axis the queries (other axes: keys).
Logits = Callable[[slice, slice], np.ndarray]
#: ``key_blocks(queries)``: the key slices a query block sees (all keys, or a causal prefix).
KeyBlocks = Callable[[slice], Iterable[slice]]


class ProductLogits:
    """The logits ``S[i, j_1, ..., j_{k-1}] = scale * sum_l Q[i, l] K_1[j_1, l] ... K_{k-1}[j_{k-1}, l]``.

    A block is ``(queries, keys)``: rows ``queries`` of ``Q``, rows ``keys`` of
    ``K_1``, all rows of the other ``K_t``.  ``k = 2`` is matrix attention
    (``S = scale Q K^T``), ``k = 3`` tensor attention (``S[i, j1, j2] = scale
    <q_i, k1_j1 o k2_j2>``).

    Parameters
    ----------
    scale : float
        Positive factor (``1/d`` for attention).
    queries : (n, d) float64 array
    keys : one or more (n_t, d) float64 arrays

    Examples
    --------
    >>> S = ProductLogits(0.5, np.array([[1e200]]), np.array([[1e200], [-1e200]]))
    >>> S(slice(0, 1), slice(0, 2))          # float64 overflows ...
    array([[ inf, -inf]])
    >>> m, e = S.extended(slice(0, 1), slice(0, 2))    # ... the wide form does not
    >>> np.round(m, 4).tolist(), e.tolist()           # +-5e399 = +-0.8534 * 2**1328
    ([[0.8534, -0.8534]], [[1328, 1328]])
    """

    def __init__(self, scale: float, queries: np.ndarray, *keys: np.ndarray) -> None:
        if not keys:
            raise ValueError("ProductLogits needs at least one key matrix")
        self.scale, self.queries, self.keys = float(scale), queries, keys

    def _factors(self, qs: slice, ks: slice) -> list[np.ndarray]:
        return [self.queries[qs], self.keys[0][ks], *self.keys[1:]]

    def __call__(self, qs: slice, ks: slice) -> np.ndarray:
        """The block in float64 (``+-inf`` or ``NaN`` where it overflows)."""
        mats = self._factors(qs, ks)
        with np.errstate(over="ignore", invalid="ignore"):
            left = mats[0]
            for K in mats[1:-1]:
                left = (left[:, None, :] * K[None, :, :]).reshape(-1, left.shape[1])
            S = left @ mats[-1].T
            S *= self.scale
        return S.reshape([X.shape[0] for X in mats])

    def extended(self, qs: slice, ks: slice) -> xf.XFloat:
        """The block as wide-exponent pairs ``(m, e)`` (:func:`algorithms._xfloat.multilinear`)."""
        return xf.multilinear(self._factors(qs, ks), self.scale)


def _rows(x: np.ndarray, ndim: int) -> np.ndarray:
    """``x`` (one number per query row) broadcast against a block with ``ndim`` axes."""
    return x.reshape((-1,) + (1,) * (ndim - 1))


def _overflowed(S: np.ndarray) -> np.ndarray:
    """Per query row: a NaN or ``+inf`` logit (an overflow; ``-inf`` is a mask or ``exp = 0``)."""
    bad = np.isnan(S) | (S == np.inf)
    return bad.reshape(S.shape[0], -1).any(axis=1)


def _plain_normaliser(logits, qs: slice, key_slices: list[slice]):
    """Row maxima ``m`` and sums ``z = sum_j exp(S_ij - m_i)`` of a query block in float64; ``None`` on overflow."""
    m, z = None, None
    for ks in key_slices:
        S = logits(qs, ks)
        if _overflowed(S).any():
            return None
        S = S.reshape(S.shape[0], -1)
        m_new = S.max(axis=1) if m is None else np.maximum(m, S.max(axis=1))
        shift = np.where(m_new == -np.inf, 0.0, m_new)
        part = np.exp(S - shift[:, None]).sum(axis=1)
        z = part if z is None else z * np.exp(np.where(m == -np.inf, -np.inf, m - shift)) + part
        m = m_new
    if not np.all(np.isfinite(m)):
        return None
    return m, z


def _wide_block(logits, qs: slice, key_slices: list[slice]):
    """Wide-exponent row maxima ``m`` of a query block, and a function giving ``exp(S - m)`` per key block."""
    if not callable(getattr(logits, "extended", None)):
        raise ValueError(
            f"the logits of query rows {qs.start}..{qs.stop - 1} overflow float64 (inputs of magnitude about "
            f"1e154 or more); scale the inputs down"
        )
    top = None
    for ks in key_slices:
        L = logits.extended(qs, ks)
        axes = tuple(range(1, L[0].ndim))
        block_top = xf.amax(L, axis=axes) if axes else L
        top = block_top if top is None else xf.maximum(top, block_top)

    def weights(ks: slice) -> np.ndarray:
        return np.exp(xf.sub_to_float(logits.extended(qs, ks), top))

    return weights


def _wide_pass(logits, contract, qs: slice, key_slices: list[slice], p: int) -> np.ndarray:
    """Output rows of one query block in the wide form (module docstring)."""
    weights = _wide_block(logits, qs, key_slices)
    num, z = np.zeros((qs.stop - qs.start, p)), np.zeros(qs.stop - qs.start)
    for ks in key_slices:
        W = weights(ks)
        num += contract(W, qs, ks)
        z += W.reshape(W.shape[0], -1).sum(axis=1)
    return num / z[:, None]


def online_softmax(
    logits: Logits,
    contract: Callable[[np.ndarray, slice, slice], np.ndarray],
    n: int,
    p: int,
    *,
    query_block: int,
    key_blocks: KeyBlocks,
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax-weighted sums ``O_i = sum_j f_ij v_j`` and log-normalisers, streamed.

    Parameters
    ----------
    logits : callable ``(queries, keys) -> S``
        The logits of a block as a fresh float64 array (it is overwritten);
        first axis the queries, the rest the keys.  Masked entries are ``-inf``;
        every row must see at least one finite logit.  If it has a method
        ``extended(queries, keys) -> (m, e)`` (:class:`ProductLogits`), blocks
        that overflow float64 are recomputed in the wide form (module
        docstring); otherwise an overflow raises ``ValueError``.
    contract : callable ``(W, queries, keys) -> (b, p) array``
        ``sum_j W_ij v_j`` for the block's unnormalised weights ``W = exp(S - m)``.
    n, p : int
        Number of query rows and of output columns.
    query_block : int
        Query rows per block.
    key_blocks : callable ``queries -> iterable of slices``
        The key blocks of a query block, in order.

    Returns
    -------
    O : (n, p) array
    lse : (n,) array, ``log sum_j exp(S_ij)``; ``NaN`` where float64 cannot hold
        it to ``1e-12`` (rows computed in the wide form, or with a maximum above
        about ``1e4``, whose ``log z`` rounds away in ``m + log z``):
        :func:`softmax_blocks` recomputes those rows.

    Raises
    ------
    ValueError
        Logits that overflow float64 given without an ``extended`` method.

    Examples
    --------
    >>> S = np.array([[0.0, 1000.0, 1000.0], [0.0, 0.0, 0.0]])
    >>> v = np.array([[3.0], [1.0], [2.0]])
    >>> O, lse = online_softmax(lambda q, k: S[q, k].copy(), lambda W, q, k: W @ v[k], 2, 1,
    ...                         query_block=1, key_blocks=lambda q: [slice(0, 1), slice(1, 3)])
    >>> O.ravel().tolist()
    [1.5, 2.0]
    >>> round(float(lse[0]) - 1000, 6)
    0.693147

    Logits beyond float64, ``1e400`` twice (a tie) and ``-1e400``:

    >>> S = ProductLogits(1.0, np.array([[1e200]]), np.array([[1e200], [1e200], [-1e200]]))
    >>> O, lse = online_softmax(S, lambda W, q, k: W @ v[k], 1, 1, query_block=1,
    ...                         key_blocks=lambda q: [slice(0, 3)])
    >>> O.tolist(), bool(np.isnan(lse[0]))
    ([[2.0]], True)

    Notes
    -----
    ``O(|S|)`` work beyond ``logits`` and ``contract``; memory one block of
    logits plus ``O(query_block p)``.  A query block that overflows is
    recomputed in the wide form: a few times the float64 work on it.  Shows a
    progress bar over the query blocks when the pass runs for more than a few
    seconds (:func:`algorithms.budget.progress`).
    """
    out, lse = np.empty((n, p)), np.empty(n)
    for qs in progress(list(row_blocks(n, query_block)), desc="softmax", unit="block"):
        key_slices = list(key_blocks(qs))
        m = np.full(qs.stop - qs.start, -np.inf)
        z = np.zeros_like(m)
        num = np.zeros((m.size, p))
        wide = False
        for ks in key_slices:
            S = logits(qs, ks)
            if _overflowed(S).any():
                wide = True
                break
            axes = tuple(range(1, S.ndim))
            m_new = np.maximum(m, S.max(axis=axes))
            shift = np.where(m_new == -np.inf, 0.0, m_new)  # a row masked so far: nothing to rescale
            rescale = np.exp(np.where(m == -np.inf, -np.inf, m - shift))
            S -= _rows(shift, S.ndim)
            np.exp(S, out=S)
            num = num * rescale[:, None] + contract(S, qs, ks)
            z = z * rescale + S.sum(axis=axes)
            m = m_new
        if not wide:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_z = np.log(z)
                lse_block = m + log_z
                # m + log z rounds to the grid of m: |m| > ~1e4 loses part of log z (all of it when a
                # huge m ties: z >= 2, lse == m), and a replay would not sum to 1.  Recompute those rows.
                lost = ~(np.abs((lse_block - m) - log_z) <= _LSE_TOLERANCE)
            wide = not np.all(np.isfinite(lse_block))  # a row of -inf (huge negative logits), or lse > 1.8e308
        if wide:
            out[qs] = _wide_pass(logits, contract, qs, key_slices, p)
            lse[qs] = np.nan
        else:
            out[qs] = num / z[:, None]
            lse[qs] = np.where(lost, np.nan, lse_block)
    return out, lse


def softmax_blocks(
    logits: Logits, lse: np.ndarray, n: int, *, query_block: int, key_blocks: KeyBlocks
) -> Iterator[tuple[slice, slice, np.ndarray]]:
    """Replay the blocks of ``f = softmax(S)`` row by row from the log-normalisers.

    Yields ``(queries, keys, f)`` with ``f = exp(S - lse)`` for each block of
    :func:`online_softmax` (same ``logits`` and blocks): the backward pass of
    every exact VJP.  Query blocks with a ``NaN`` in ``lse`` are replayed as
    ``f = exp(S - m) / z`` with the row maximum ``m`` and sum ``z`` found again
    (in the wide form if the block overflows float64).

    Parameters
    ----------
    logits, n, query_block, key_blocks : as in :func:`online_softmax`.
    lse : (n,) array from :func:`online_softmax`.

    Examples
    --------
    >>> S = np.log(np.array([[1.0, 3.0]]))
    >>> [np.round(f, 12).tolist() for _, _, f in softmax_blocks(
    ...     lambda q, k: S[q, k].copy(), np.log([4.0]), 1, query_block=1, key_blocks=lambda q: [slice(0, 2)])]
    [[[0.25, 0.75]]]
    """
    for qs in progress(list(row_blocks(n, query_block)), desc="softmax replay", unit="block"):
        key_slices = list(key_blocks(qs))
        if np.isnan(lse[qs]).any():
            plain = _plain_normaliser(logits, qs, key_slices)
            if plain is not None:  # log z was rounded away by a large m: normalise by m and z separately
                m, z = plain
                for ks in key_slices:
                    S = logits(qs, ks)
                    S -= _rows(m, S.ndim)
                    np.exp(S, out=S)
                    S /= _rows(z, S.ndim)
                    yield qs, ks, S
                continue
            weights = _wide_block(logits, qs, key_slices)
            z = sum(W.reshape(W.shape[0], -1).sum(axis=1) for W in map(weights, key_slices))
            for ks in key_slices:
                W = weights(ks)
                W /= _rows(z, W.ndim)
                yield qs, ks, W
            continue
        for ks in key_slices:
            S = logits(qs, ks)
            S -= _rows(lse[qs], S.ndim)
            np.exp(S, out=S)
            yield qs, ks, S
