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

from algorithms._blocks import row_blocks

__all__ = ["online_softmax", "softmax_blocks"]

#: ``logits(queries, keys)``: the logits of a block, first axis the queries (other axes: keys).
Logits = Callable[[slice, slice], np.ndarray]
#: ``key_blocks(queries)``: the key slices a query block sees (all keys, or a causal prefix).
KeyBlocks = Callable[[slice], Iterable[slice]]


def _rows(x: np.ndarray, ndim: int) -> np.ndarray:
    """``x`` (one number per query row) broadcast against a block with ``ndim`` axes."""
    return x.reshape((-1,) + (1,) * (ndim - 1))


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
        every row must see at least one finite logit.
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
    lse : (n,) array, ``log sum_j exp(S_ij)``.

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

    Notes
    -----
    ``O(|S|)`` work beyond ``logits`` and ``contract``; memory one block of
    logits plus ``O(query_block p)``.
    """
    out, lse = np.empty((n, p)), np.empty(n)
    for qs in row_blocks(n, query_block):
        m = np.full(qs.stop - qs.start, -np.inf)
        z = np.zeros_like(m)
        num = np.zeros((m.size, p))
        for ks in key_blocks(qs):
            S = logits(qs, ks)
            axes = tuple(range(1, S.ndim))
            m_new = np.maximum(m, S.max(axis=axes))
            rescale = np.exp(m - m_new)
            S -= _rows(m_new, S.ndim)
            np.exp(S, out=S)
            num = num * rescale[:, None] + contract(S, qs, ks)
            z = z * rescale + S.sum(axis=axes)
            m = m_new
        out[qs] = num / z[:, None]
        lse[qs] = m + np.log(z)
    return out, lse


def softmax_blocks(
    logits: Logits, lse: np.ndarray, n: int, *, query_block: int, key_blocks: KeyBlocks
) -> Iterator[tuple[slice, slice, np.ndarray]]:
    """Replay the blocks of ``f = softmax(S)`` row by row from the log-normalisers.

    Yields ``(queries, keys, f)`` with ``f = exp(S - lse)`` for each block of
    :func:`online_softmax` (same ``logits`` and blocks): the backward pass of
    every exact VJP.

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
    for qs in row_blocks(n, query_block):
        for ks in key_blocks(qs):
            S = logits(qs, ks)
            S -= _rows(lse[qs], S.ndim)
            np.exp(S, out=S)
            yield qs, ks, S
