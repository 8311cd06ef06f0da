"""Input validation shared by exact and fast algorithms.

Every public function of :mod:`algorithms` checks its inputs up front and
raises ``ValueError`` naming the parameter and what was expected, so that bad
input never becomes a silent NaN, an overflow or a wrong answer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_matrix", "as_fast_matrices", "check_same_rows", "check_eps", "check_bound", "check_positive_int",
           "check_integer", "max_norm"]


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


def _as_fast(name: str, X, xp, rows, cols):
    """One operand of a fast path in its own namespace: float32 kept, float64 otherwise (half -> float32)."""
    from algorithms import _array

    if _array.is_numpy(xp):
        raw = np.asarray(X) if not isinstance(X, np.ndarray) else X
        if raw.dtype == np.float32:
            A = raw
            if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0 or (rows is not None and A.shape[0] != rows) or (
                    cols is not None and A.shape[1] != cols) or not np.all(np.isfinite(A)):
                as_matrix(name, A.astype(float), rows=rows, cols=cols)  # raises the usual message
            return A
        return as_matrix(name, X, rows=rows, cols=cols)
    kind = str(X.dtype)
    if "complex" in kind or not any(t in kind for t in ("float", "int", "bool")):
        raise ValueError(f"{name} must be a real 2-d array (bool, integer or float entries), got dtype {X.dtype}")
    if kind.endswith(("float16", "bfloat16")):
        X = xp.astype(X, xp.float32)
    elif not kind.endswith(("float32", "float64")):
        X = xp.astype(X, xp.float64)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-d array, got {X.ndim} dimension(s) (shape {tuple(X.shape)})")
    shape = tuple(int(s) for s in X.shape)
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {shape}")
    if rows is not None and shape[0] != rows:
        raise ValueError(f"{name} must have {rows} rows, got shape {shape}")
    if cols is not None and shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns, got shape {shape}")
    if not bool(xp.all(xp.isfinite(X))):
        raise ValueError(f"{name} must be finite, found a NaN or infinite entry")
    return X


def as_fast_matrices(*specs, dtype: str | None = None):
    """Validate the operands of a fast path in the caller's namespace; return ``(xp, arrays)``.

    Each spec is ``(name, X)`` or ``(name, X, rows, cols)``, where ``rows`` /
    ``cols`` may be an ``int``, ``None``, or ``("rows", j)`` / ``("cols", j)``:
    the number of rows / columns of the ``j``-th operand.  numpy
    inputs keep float32 (every other real dtype becomes float64, as
    :func:`as_matrix`); other libraries keep float32 and float64 (half
    precision becomes float32, integers float64).  All operands are then cast
    to the widest of their dtypes (or to ``dtype``, ``"float32"`` or
    ``"float64"``), so one call runs in one dtype.

    Raises
    ------
    ValueError
        As :func:`as_matrix` (naming the parameter); operands of different
        libraries; a non-numpy array without ``array-api-compat``.

    Examples
    --------
    >>> xp, (A, B) = as_fast_matrices(("A", np.ones((2, 3), dtype=np.float32)), ("B", [[1, 2, 3]], None, ("cols", 0)))
    >>> xp is np, A.dtype, B.dtype
    (True, dtype('float64'), dtype('float64'))
    """
    from algorithms import _array

    xp = _array.namespace(*[spec[1] for spec in specs])
    out = []
    for spec in specs:
        name, X = spec[0], spec[1]
        rows, cols = (spec[2], spec[3]) if len(spec) > 2 else (None, None)
        rows, cols = (int(out[v[1]].shape[0 if v[0] == "rows" else 1]) if isinstance(v, tuple) else v
                      for v in (rows, cols))
        out.append(_as_fast(name, X, xp, rows, cols))
    names = {_array.dtype_name(A.dtype) for A in out}
    target = dtype or ("float64" if "float64" in names else "float32")
    if target not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    wanted = np.float32 if target == "float32" else np.float64
    if not _array.is_numpy(xp):
        wanted = xp.float32 if target == "float32" else xp.float64
    out = [A if _array.dtype_name(A.dtype) == target else _array.astype(xp, A, wanted) for A in out]
    return xp, out


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


def check_integer(name: str, value, *, least: int = 0) -> int:
    """``value`` as an ``int`` if it is an integer ``>= least`` (Python or numpy; not ``bool``), else ``ValueError``.

    Strings, floats (``2.0`` included), ``None`` and ``True`` are refused rather than converted;
    the message names ``name``.

    Examples
    --------
    >>> check_integer("num_clauses", np.int64(0))
    0
    >>> check_integer("num_vars", None, least=1)
    Traceback (most recent call last):
    ...
    ValueError: num_vars must be a positive integer, got None
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{name} must be {'a positive integer' if least == 1 else f'an integer >= {least}'}, "
                         f"got {value!r}")
    return int(value)


def check_positive_int(name: str, value) -> int:
    """``value`` as an ``int`` if it is an integer ``>= 1`` (Python or numpy; not ``bool``), else ``ValueError`` naming ``name``.

    Examples
    --------
    >>> check_positive_int("block", np.int64(3))
    3
    >>> check_positive_int("block", "4")
    Traceback (most recent call last):
    ...
    ValueError: block must be a positive integer, got '4'
    """
    return check_integer(name, value, least=1)


def max_norm(*arrays: np.ndarray) -> float:
    """Largest absolute entry over all arrays (the ``||.||_inf`` of the papers)."""
    return float(max(_absmax(a) for a in arrays))


def _absmax(a) -> float:
    """``max |a|`` in the namespace of ``a`` (one number crosses to the host)."""
    if isinstance(a, np.ndarray):
        return float(np.max(np.abs(a)))
    from algorithms._array import namespace
    xp = namespace(a)
    return float(xp.max(xp.abs(a)))


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
        m = _absmax(a)
        if m > bound:
            raise ValueError(
                f"{name} has an entry of absolute value {m:.6g} above the promised bound B={bound:g}"
            )
    return float(bound)
