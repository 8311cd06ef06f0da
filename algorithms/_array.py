"""Array namespaces for the fast paths: numpy by default, any Array-API library through ``array-api-compat``.

The fast algorithms run their ``O(n r d)`` work in the namespace of the
caller's arrays (numpy, torch, CuPy, ``array-api-strict``), on the caller's
device, in float32 or float64; the certificate (logit interval, degree, rank,
coefficients) stays numpy/mpmath on the host and only small vectors cross
over.  numpy arrays (and lists) never import anything: ``array-api-compat`` is
imported the first time a non-numpy array arrives, and its absence is a
``ValueError`` naming the ``array`` extra.

Dtypes: float32 input stays float32 (its certificate uses float32's unit
roundoff, :data:`UNIT_ROUNDOFF`); float64 stays float64; integers, bools and
numpy's other floats become float64 (as before); half precision (float16,
bfloat16) of a non-numpy library is computed in float32.  Mixed operands take
the wider type.

Examples
--------
>>> import numpy as np
>>> xp = namespace(np.ones((2, 2)), [[1.0]])
>>> xp is np, dtype_name(np.ones(1, dtype=np.float32).dtype)
(True, 'float32')
>>> UNIT_ROUNDOFF["float32"] == 2.0**-24
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["UNIT_ROUNDOFF", "namespace", "is_numpy", "dtype_name", "to_numpy", "from_numpy", "device",
           "concat", "astype", "ones", "zeros", "row_kron", "tril_mask"]

#: Unit roundoff of each working dtype: half the spacing of floats at 1.
UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24}

_EXTRA = ("non-numpy arrays need the optional dependency array-api-compat: pip install 'bounded-entries[array]' "
          "(and torch or cupy for their arrays)")


_LIBRARIES = {"torch", "cupy", "jax", "jaxlib", "dask", "sparse", "ndonnx"}


def _is_host(x) -> bool:
    """numpy, lists, scalars and anything numpy will judge (and refuse with the usual message)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return True
    return not (hasattr(x, "__array_namespace__") or type(x).__module__.split(".")[0] in _LIBRARIES)


def namespace(*arrays):
    """The array namespace shared by ``arrays``: ``numpy`` itself when all are numpy (or lists, scalars).

    Raises
    ------
    ValueError
        Arrays of different libraries (or devices, as array-api-compat reports
        it), or a non-numpy array without ``array-api-compat`` installed.
    """
    foreign = [x for x in arrays if not _is_host(x)]
    if not foreign:
        return np
    try:
        import array_api_compat
    except ImportError:  # pragma: no cover - the extra is installed for the tests
        raise ValueError(_EXTRA) from None
    if len(foreign) != len([x for x in arrays if x is not None]):  # e.g. a torch tensor beside a numpy array
        raise ValueError(f"arrays of one call must come from one library; got {sorted({type(x).__name__ for x in arrays})}")
    try:
        return array_api_compat.array_namespace(*foreign)
    except TypeError as exc:
        raise ValueError(f"arrays of one call must share one namespace: {exc}") from None


def is_numpy(xp) -> bool:
    """Whether ``xp`` is numpy (the default path, or array-api-compat's numpy wrapper)."""
    return xp is np or getattr(xp, "__name__", "").endswith("compat.numpy")


def dtype_name(dtype) -> str:
    """``"float32"`` or ``"float64"`` (any other dtype name as its string)."""
    text = str(dtype)
    for name in ("float32", "float64"):
        if text.endswith(name):
            return name
    return text


def device(x):
    """The device of ``x`` (``"cpu"`` for numpy)."""
    if isinstance(x, np.ndarray):
        return "cpu"
    import array_api_compat
    return array_api_compat.device(x)


def on_cpu(x) -> bool:
    """Whether ``x`` lives in host memory (numpy, torch CPU, array-api-strict's CPU device)."""
    text = str(device(x)).lower()
    return "cuda" not in text and "gpu" not in text and not type(x).__module__.startswith("cupy")


def to_numpy(x) -> np.ndarray:
    """A host numpy copy of ``x`` (for the small vectors the certificate reads)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x)
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        return x.get()
    if hasattr(x, "detach"):  # torch
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):
        return np.from_dlpack(x)


def from_numpy(xp, a, like):
    """``a`` (host numpy) as an array of ``xp`` with the dtype and device of ``like``."""
    if is_numpy(xp):
        return np.asarray(a, dtype=like.dtype)
    return xp.asarray(np.ascontiguousarray(a), dtype=like.dtype, device=device(like))


def astype(xp, x, dtype):
    return x.astype(dtype, copy=False) if is_numpy(xp) else xp.astype(x, dtype)


def concat(xp, arrays, axis: int = 1):
    return np.concatenate(arrays, axis=axis) if is_numpy(xp) else xp.concat(list(arrays), axis=axis)


def ones(xp, shape, like):
    return np.ones(shape, dtype=like.dtype) if is_numpy(xp) else xp.ones(shape, dtype=like.dtype, device=device(like))


def zeros(xp, shape, like, dtype=None):
    dtype = like.dtype if dtype is None else dtype
    return np.zeros(shape, dtype=dtype) if is_numpy(xp) else xp.zeros(shape, dtype=dtype, device=device(like))


def empty(xp, shape, like):
    return np.empty(shape, dtype=like.dtype) if is_numpy(xp) else xp.empty(shape, dtype=like.dtype, device=device(like))


def row_kron(xp, A, B):
    """Row-wise Kronecker product: row ``i`` is ``kron(A[i], B[i])`` (``A``'s index slow)."""
    n, a, b = A.shape[0], A.shape[1], B.shape[1]
    return xp.reshape(xp.reshape(A, (n, a, 1)) * xp.reshape(B, (n, 1, b)), (n, a * b))


def rowdot(xp, A, B):
    """``sum_l A[i, l] B[i, l]`` for every row ``i``."""
    return xp.sum(A * B, axis=1)


def tril_mask(xp, size: int, like, upper: bool = False):
    """The boolean ``(size, size)`` mask of the lower (or upper) triangle, diagonal included."""
    if is_numpy(xp):
        i = np.arange(size)
        return (i[:, None] <= i[None, :]) if upper else (i[:, None] >= i[None, :])
    i = xp.arange(size, device=device(like))
    rows, cols = xp.reshape(i, (size, 1)), xp.reshape(i, (1, size))
    return (rows <= cols) if upper else (rows >= cols)
