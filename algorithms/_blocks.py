"""Row blocks: how every streamed algorithm walks over the rows of its inputs.

The exact softmax (:mod:`algorithms.softmax`) and the low-rank operator
(:mod:`algorithms.polynomial_method.low_rank`) never hold a whole ``n x n`` (or
``n x r``) array: they visit ``rows 0:b, b:2b, ...``.  This is the one place
that cuts ``range(n)`` into such slices.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["row_blocks"]


def row_blocks(n: int, size: int) -> Iterator[slice]:
    """Consecutive slices ``[s, min(n, s + size))`` covering ``range(n)``.

    Examples
    --------
    >>> list(row_blocks(5, 2))
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    for s in range(0, n, size):
        yield slice(s, min(n, s + size))
