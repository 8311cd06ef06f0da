"""``einsum`` with numpy's greedy path, executed in any Array-API namespace.

The Array-API standard has no ``einsum``; it has ``matmul``, ``permute_dims``,
``reshape`` and ``sum``, and every pairwise contraction is one batched
``matmul`` between two of them.  :func:`contract` plans the order with
:func:`numpy.einsum_path` (from the shapes alone: the operands it sees are
zero-stride views, so nothing is copied to the host) and runs each step in the
operands' own namespace and device.  numpy operands keep :func:`numpy.einsum`.

Subscripts are single letters, each at most once per operand (no diagonals),
and the output is explicit (``"ab,bc->ac"``): what poly-attention's tensor
network needs (:mod:`algorithms.poly_attention.fast`).

Examples
--------
>>> A, B = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
>>> bool(np.array_equal(contract(np, "ab,bc->ac", A, B), A @ B))
True
>>> contract(np, "ab,bc->ac", A, B, max_intermediate=10**6, generic=True).tolist() == (A @ B).tolist()
True
"""

from __future__ import annotations

import math

import numpy as np

from algorithms import _array

__all__ = ["contract"]


def contract(xp, expr: str, *operands, max_intermediate: int = 10**8, generic: bool = False):
    """``einsum(expr, *operands)`` by numpy's greedy path with intermediates up to ``max_intermediate`` entries.

    Parameters
    ----------
    xp : the operands' namespace (:func:`algorithms._array.namespace`).
    expr : explicit subscripts ``"ab,bc->ac"``; no letter twice in one operand.
    operands : arrays of ``xp``, one per input subscript.
    max_intermediate : the largest intermediate the greedy path may form.
    generic : run the pairwise steps even for numpy (tests).

    Returns
    -------
    The contraction, an array of ``xp``.
    """
    inputs, output = expr.split("->")
    subs = inputs.split(",")
    shapes = [np.broadcast_to(np.zeros((), dtype=np.float64), tuple(int(s) for s in X.shape)) for X in operands]
    path, _ = np.einsum_path(expr, *shapes, optimize=("greedy", int(max_intermediate)))
    if _array.is_numpy(xp) and not generic:
        return np.einsum(expr, *operands, optimize=path)
    live = list(zip(operands, subs))
    for step in path[1:]:
        taken = [live.pop(i) for i in sorted(step, reverse=True)]
        keep = set(output).union(*(set(s) for _, s in live))
        (A, sa), rest = taken[0], taken[1:]
        if not rest:
            A, sa = _sum_out(xp, A, sa, keep)
        while rest:
            (B, sb), rest = rest[0], rest[1:]
            A, sa = _pair(xp, A, sa, B, sb, keep.union(*(set(s) for _, s in rest)))
        live.append((A, sa))
    (A, sa), = live
    A, sa = _sum_out(xp, A, sa, set(output))
    return xp.permute_dims(A, tuple(sa.index(c) for c in output)) if sa != output else A


def _sum_out(xp, A, sa: str, keep: set):
    """Sum ``A`` over its letters not in ``keep``."""
    gone = tuple(i for i, c in enumerate(sa) if c not in keep)
    if not gone:
        return A, sa
    return xp.sum(A, axis=gone), "".join(c for c in sa if c in keep)


def _pair(xp, A, sa: str, B, sb: str, keep: set):
    """Contract ``A`` (letters ``sa``) with ``B`` (``sb``) by one batched ``matmul``; keep the letters in ``keep``."""
    A, sa = _sum_out(xp, A, sa, keep | set(sb))
    B, sb = _sum_out(xp, B, sb, keep | set(sa))
    batch = [c for c in sa if c in sb and c in keep]
    inner = [c for c in sa if c in sb and c not in keep]
    left, right = [c for c in sa if c not in sb], [c for c in sb if c not in sa]
    size = {**dict(zip(sa, (int(s) for s in A.shape))), **dict(zip(sb, (int(s) for s in B.shape)))}

    def grouped(X, sx, groups):
        order = tuple(sx.index(c) for group in groups for c in group)
        return xp.reshape(xp.permute_dims(X, order), tuple(math.prod(size[c] for c in group) for group in groups))

    C = xp.matmul(grouped(A, sa, (batch, left, inner)), grouped(B, sb, (batch, inner, right)))
    out = batch + left + right
    return xp.reshape(C, tuple(size[c] for c in out)), "".join(out)
