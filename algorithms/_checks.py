"""Input validation shared by exact and fast algorithms.

Every public function of :mod:`algorithms` checks its inputs up front and
raises ``ValueError`` naming the parameter and what was expected, so that bad
input never becomes a silent NaN, an overflow or a wrong answer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_matrix", "check_same_rows", "check_eps", "check_bound", "max_norm"]


def as_matrix(name: str, X, *, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """Return ``X`` as a finite float64 2-d array, or raise ``ValueError``.

    Parameters
    ----------
    name : the parameter's name, used in the message.
    rows, cols : required sizes, if any.
    """
    try:
        A = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real 2-d array: {exc}") from None
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-d array, got {A.ndim} dimension(s) (shape {A.shape})")
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {A.shape}")
    if rows is not None and A.shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows, got shape {A.shape}")
    if cols is not None and A.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        bad = np.argwhere(~np.isfinite(A))[0]
        raise ValueError(f"{name} must be finite, found {A[tuple(bad)]} at index {tuple(bad)}")
    return A


def check_same_rows(**arrays: np.ndarray) -> int:
    """All arrays have the same number of rows; return it."""
    sizes = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"row counts must agree, got {sizes}")
    return next(iter(sizes.values()))


def check_eps(eps: float, name: str = "eps") -> float:
    """``0 < eps < 1``."""
    if not (isinstance(eps, (int, float, np.floating)) and np.isfinite(eps) and 0 < eps < 1):
        raise ValueError(f"{name} must lie in (0, 1), got {eps!r}")
    return float(eps)


def max_norm(*arrays: np.ndarray) -> float:
    """Largest absolute entry over all arrays (the ``||.||_inf`` of the papers)."""
    return float(max(np.max(np.abs(a)) for a in arrays))


def check_bound(bound: float | None, **arrays: np.ndarray) -> float:
    """Resolve the promised max-norm bound ``B``.

    With ``bound=None`` the bound is measured from the arrays.  With a given
    bound, any entry above it raises ``ValueError`` naming the array: the fast
    algorithms were promised ``||X||_inf <= B`` and their error bound relies on it.
    """
    if bound is None:
        return max(max_norm(*arrays.values()), np.finfo(float).tiny)
    if not (isinstance(bound, (int, float, np.floating)) and np.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be a positive finite number, got {bound!r}")
    for name, a in arrays.items():
        m = float(np.max(np.abs(a)))
        if m > bound:
            raise ValueError(
                f"{name} has an entry of absolute value {m:.6g} above the promised bound B={bound:g}"
            )
    return float(bound)
