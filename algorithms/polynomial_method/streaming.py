"""Streamed feature products in the caller's namespace: the ``O(n r c)`` work of every fast path.

:class:`~algorithms.polynomial_method.low_rank.LowRankOperator` keeps its
inputs in the caller's array library (numpy, torch, CuPy, ``array-api-strict``)
and dtype; these helpers run its two kinds of product, row chunk by row chunk,
so that no ``n x r`` factor is ever held whole:

* :func:`sum_rows` -- ``sum_i F_i^T Y_i`` (``F`` a factor of ``n`` rows built
  chunk by chunk, ``Y`` an ``n x c`` array): an ``r x c`` result, accumulated
  in **float64**.  In float64 it is one product per chunk.  In float32 each chunk
  is cut into sub-blocks of :data:`~algorithms.error_bounds.SUM_BLOCK` rows, each
  sub-block summed by one batched float32 product, and the partial sums added
  in float64: a float32 sum then spans at most ``SUM_BLOCK`` terms whatever
  ``n``, which is what the float32 certificate counts
  (:func:`algorithms.error_bounds.working_rounding`).
* :func:`expand_rows` -- ``F W`` for an ``r x c`` array ``W`` (cast once to the
  working dtype), chunk by chunk.

Chunks: on the host (numpy, torch CPU) the operator's cache-sized blocks
(:func:`~algorithms.polynomial_method.low_rank.block_rows`); on an accelerator,
chunks of about ``2^25`` feature entries (a multiple of ``SUM_BLOCK`` rows),
so that a call is a few large kernels rather than thousands of small ones.
"""

from __future__ import annotations

import threading

import numpy as np

from algorithms import _array
from algorithms.error_bounds import SUM_BLOCK

__all__ = ["chunk_rows", "sum_rows", "expand_rows", "block_buffer"]

_DEVICE_ENTRIES = 2**25
_POOL = threading.local()  # reused feature buffers of the streamed products, one pool per thread


def block_buffer(rank: int, rows: int, dtype) -> np.ndarray:
    """A reused ``(rank, rows)`` numpy buffer for one streamed block of features.

    A small per-thread pool shared by all operators: a fresh 1-2 MiB block per
    step costs page faults whenever the allocator has returned the memory to
    the system, which measured up to 1.5x a whole call at n = 4096.
    """
    key = (int(rank), int(rows), np.dtype(dtype).str)
    pool = _POOL.__dict__.setdefault("buffers", {})
    if key not in pool:
        if len(pool) >= 8:
            pool.pop(next(iter(pool)))
        pool[key] = np.empty((key[0], key[1]), dtype=dtype)
    return pool[key]


def chunk_rows(host_block: int, rank: int, like) -> int:
    """Rows per chunk: ``host_block`` on the host, about ``2^25 / r`` (a multiple of ``SUM_BLOCK``) on a device."""
    if isinstance(like, np.ndarray) or _array.on_cpu(like):
        return host_block
    return max(SUM_BLOCK, (_DEVICE_ENTRIES // max(1, rank)) // SUM_BLOCK * SUM_BLOCK)


def _float64(xp, like):
    return np.float64 if _array.is_numpy(xp) else xp.float64


def sum_rows(xp, factor, Y, chunk: int, dtype: str):
    """``sum over row chunks of factor(chunk)^T Y[chunk]`` as an ``(r, c)`` float64 array of ``xp``.

    ``factor(sl)`` returns the ``(rows, r)`` rows ``sl`` of the factor in the
    working dtype (the transpose of a contiguous ``(r, rows)`` buffer).
    """
    n, c = int(Y.shape[0]), int(Y.shape[1])
    acc = None
    f64 = _float64(xp, Y)
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        FT, Yb = factor(sl).T, Y[sl, ...]
        rows = sl.stop - sl.start
        if dtype == "float64":
            part = FT @ Yb
        else:
            full = rows // SUM_BLOCK * SUM_BLOCK
            part = None
            if full:
                r, nb = int(FT.shape[0]), full // SUM_BLOCK
                Fs = xp.reshape(FT[:, :full] if full < rows else FT, (r, nb, SUM_BLOCK))
                Ys = xp.reshape(Yb[:full, ...] if full < rows else Yb, (nb, SUM_BLOCK, c))
                partials = xp.matmul(_permute(xp, Fs), Ys)  # (nb, r, c) float32 sums of SUM_BLOCK terms
                part = xp.sum(_array.astype(xp, partials, f64), axis=0)
            if full < rows:
                rest = _array.astype(xp, FT[:, full:] @ Yb[full:, ...], f64)
                part = rest if part is None else part + rest
        del FT, Yb
        part = _array.astype(xp, part, f64)
        if acc is None:
            acc = part
        elif _array.is_numpy(xp):
            acc += part
        else:
            acc = acc + part
    return acc


def _permute(xp, A):
    return np.transpose(A, (1, 0, 2)) if _array.is_numpy(xp) else xp.permute_dims(A, (1, 0, 2))


def expand_rows(xp, factor, W, n: int, chunk: int, like):
    """``factor W`` for an ``(r, c)`` array ``W`` (cast once to ``like``'s dtype): an ``(n, c)`` array of ``xp``."""
    W = _array.astype(xp, W, like.dtype)
    if _array.is_numpy(xp):  # one output, written block by block (no list, no concatenation)
        out = np.empty((n, W.shape[1]), dtype=like.dtype)
        for s in range(0, n, chunk):
            np.matmul(factor(slice(s, min(n, s + chunk))), W, out=out[s : s + chunk])
        return out
    blocks = [factor(slice(s, min(n, s + chunk))) @ W for s in range(0, n, chunk)]
    return blocks[0] if len(blocks) == 1 else _array.concat(xp, blocks, axis=0)
