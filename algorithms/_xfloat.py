"""Floats with a wide exponent: the fallback of the exact softmax when logits overflow float64.

A number is a pair ``(m, e)`` of arrays, value ``m * 2**e``, with ``m`` a
float64 mantissa, ``0.5 <= |m| < 1`` or ``m = 0`` (then ``e = 0``), and ``e``
an int64 exponent.  Inner products of float64 vectors with entries up to
``1.8e308`` have values up to ``d * 1.8e308**k``, beyond float64 but well
inside this range.

:func:`multilinear` computes ``scale * sum_l prod_t X_t[i_t, l]`` term by term:
every product is exact in this form (mantissas multiply, exponents add) and
the sum is taken at the largest term's exponent, so the result is the float64
computation *with an unbounded exponent range*: its error is at most
``(d + k) u sum_l prod_t |X_t[i_t, l]|`` (``u = 2^-53``), the usual bound of a
float64 dot product; terms more than ``2^-1100`` below the largest are dropped,
far inside that bound.  The other operations (:func:`add`, :func:`amax`,
:func:`sub_to_float`) are exact up to one rounding, and :func:`to_float` /
:func:`sub_to_float` saturate to ``+-inf`` (never NaN).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["split", "normalize", "to_float", "add", "amax", "maximum", "sub_to_float", "multilinear"]

_ZERO_EXP = -(1 << 40)  # exponent of a zero while comparing exponents: below every real one
_SHIFT = 1100  # shifts are clipped to [-1100, 1100]: beyond, ldexp gives 0 or inf anyway
_CHUNK = 1 << 21  # entries (times d) of one chunk of multilinear

XFloat = tuple[np.ndarray, np.ndarray]


def _ldexp(m: np.ndarray, e: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(m, np.clip(e, -_SHIFT, _SHIFT).astype(np.int32))


def split(a) -> XFloat:
    """``a`` (float64) as ``(m, e)``."""
    m, e = np.frexp(np.asarray(a, dtype=float))
    return m, e.astype(np.int64)


def normalize(m: np.ndarray, e: np.ndarray) -> XFloat:
    """Bring ``m * 2**e`` (any finite ``m``) to normal form."""
    f, x = np.frexp(m)
    return f, np.where(f == 0, 0, np.asarray(e, dtype=np.int64) + x)


def to_float(a: XFloat) -> np.ndarray:
    """The value as float64: ``+-inf`` above the range, 0 (or a subnormal) below it."""
    return _ldexp(*a)


def _key_exp(m: np.ndarray, e: np.ndarray) -> np.ndarray:
    return np.where(m == 0, _ZERO_EXP, e)


def add(a: XFloat, b: XFloat) -> XFloat:
    """``a + b`` (broadcasting), rounded once."""
    ka, kb = _key_exp(*a), _key_exp(*b)
    E = np.maximum(ka, kb)
    s = _ldexp(a[0], np.maximum(ka - E, -_SHIFT)) + _ldexp(b[0], np.maximum(kb - E, -_SHIFT))
    return normalize(s, np.where(E == _ZERO_EXP, 0, E))


def amax(a: XFloat, axis) -> XFloat:
    """Maximum over ``axis`` (keepdims): by sign, then exponent (reversed for negatives), then mantissa."""
    m, e = a
    c = np.sign(m).astype(np.int64)
    c_max = c.max(axis=axis, keepdims=True)
    key = np.where(c == c_max, c * e, np.iinfo(np.int64).min)
    k_max = key.max(axis=axis, keepdims=True)
    m_max = np.where((c == c_max) & (key == k_max), m, -np.inf).max(axis=axis, keepdims=True)
    return m_max, np.where(c_max == 0, 0, k_max * c_max)


def maximum(a: XFloat, b: XFloat) -> XFloat:
    """Elementwise maximum."""
    m = np.stack(np.broadcast_arrays(a[0], b[0]))
    e = np.stack(np.broadcast_arrays(a[1], b[1]))
    top = amax((m, e), axis=0)
    return top[0][0], top[1][0]


def sub_to_float(a: XFloat, b: XFloat) -> np.ndarray:
    """``a - b`` as float64, saturating to ``+-inf``; exactly 0 where ``a == b``."""
    return to_float(add(a, (-b[0], b[1])))


def multilinear(mats: Sequence[np.ndarray], scale: float = 1.0) -> XFloat:
    """``T[i_0, ..., i_{k-1}] = scale * sum_l prod_t mats[t][i_t, l]`` with a wide exponent.

    Parameters
    ----------
    mats : sequence of ``k`` float64 arrays ``(n_t, d)``
    scale : a positive float64 factor.

    Returns
    -------
    ``(m, e)``, each of shape ``(n_0, ..., n_{k-1})``.

    Examples
    --------
    >>> Q, K = np.array([[1e200, 3.0]]), np.array([[1e200, 0.0], [-1e200, 1.0]])
    >>> to_float(multilinear([Q, K]))            # 1e400 and -1e400: beyond float64
    array([[ inf, -inf]])
    >>> to_float(multilinear([Q, K], 1e-300))    # the same scaled back into range
    array([[ 1.e+100, -1.e+100]])
    """
    k, d = len(mats), mats[0].shape[1]
    parts = [split(X) for X in mats]
    sizes = [X.shape[0] for X in mats]
    tail = int(np.prod(sizes[1:], dtype=np.int64)) * d
    rows = max(1, _CHUNK // max(tail, 1))
    out_m = np.empty(sizes)
    out_e = np.empty(sizes, dtype=np.int64)
    for lo in range(0, sizes[0], rows):
        sl = slice(lo, min(sizes[0], lo + rows))
        prod_m, prod_e = 1.0, 0
        for t, (m, e) in enumerate(parts):
            if t == 0:
                m, e = m[sl], e[sl]
            shape = [1] * k + [d]
            shape[t] = m.shape[0]
            prod_m = prod_m * m.reshape(shape)
            prod_e = prod_e + _key_exp(m, e).reshape(shape)
        E = prod_e.max(axis=-1)
        s = _ldexp(prod_m, np.maximum(prod_e - E[..., None], -_SHIFT)).sum(axis=-1)
        out_m[sl], out_e[sl] = normalize(s * scale, np.where(E <= _ZERO_EXP // 2, 0, E))
    return out_m, out_e
