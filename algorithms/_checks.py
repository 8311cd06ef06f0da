"""Input validation shared by exact and fast algorithms.

Every public function of :mod:`algorithms` checks its inputs up front and
raises ``ValueError`` naming the parameter and what was expected, so that bad
input never becomes a silent NaN, an overflow or a wrong answer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_matrix", "check_same_rows", "check_eps", "check_bound", "max_norm"]


def as_matrix(name: str, X, *, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    """Return ``X`` as a finite float64 2-d array, or raise ``ValueError`` naming ``name``.

    Real numbers only: arrays (or nested sequences) of bools, integers or
    floats are converted to float64 (``True`` is 1.0).  Complex numbers are
    refused rather than silently cut to their real part, and so are objects,
    strings, dates and anything else numpy does not hold as a real number.

    Parameters
    ----------
    name : the parameter's name, used in the message.
    rows, cols : required sizes, if any.

    Raises
    ------
    ValueError
        ``X`` is complex or not numeric (object, string, date ... dtype), cannot
        be made an array (ragged), is not 2-d, is empty, has the wrong number
        of rows or columns, or has a NaN or infinite entry.  (The project's
        rule: bad input is a ``ValueError`` naming the parameter.)

    Examples
    --------
    >>> as_matrix("Q", [[1, 2], [True, 0.5]])
    array([[1. , 2. ],
           [1. , 0.5]])
    >>> as_matrix("Q", [[1j]])
    Traceback (most recent call last):
    ...
    ValueError: Q must be a real 2-d array (bool, integer or float entries), got dtype complex128
    """
    try:
        raw = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real 2-d array: {exc}") from None
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be a real 2-d array (bool, integer or float entries), got dtype {raw.dtype}")
    with np.errstate(over="ignore"):  # float128 above float64's range becomes inf, refused below
        A = raw.astype(float, copy=False)
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
