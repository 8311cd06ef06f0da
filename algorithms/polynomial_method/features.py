"""Polynomial feature maps: ``P(<q, k> / d) = phi(q) . psi(k)`` with rank ``C(d+g, g)``.

Step 2 of the polynomial method (Alman & Song, NeurIPS 2023, arXiv 2302.13214,
Lemma 3.1 and Sec. 3).  For ``P(t) = sum_{j<=g} a_j t^j`` and any scale ``s``,
the multinomial theorem gives

    P(s <q, k>) = sum_{|alpha| <= g}  a_{|alpha|} s^{|alpha|} (|alpha|! / alpha!) q^alpha  *  k^alpha

over multi-indices ``alpha in N^d``, so with

    phi(q)_alpha = a_{|alpha|} s^{|alpha|} (|alpha|! / alpha!) q^alpha,     psi(k)_alpha = k^alpha

the matrix ``P(s Q K^T)`` equals ``U1 U2^T`` with ``U1 = phi(Q)``, ``U2 = psi(K)``
of rank ``r = C(d + g, g)`` (the paper states the looser ``C(2(g+d), 2g)``).

The weights sit on the query side only, so the same ``psi`` serves tensor
attention: ``<q, k1 o k2>^j`` expands the same way and ``psi(k1) o psi(k2)`` is
the key feature of the pair (Alman & Song, ICLR 2024, arXiv 2310.04064, Sec. 5).

Monomials are built degree by degree: each monomial of degree ``j`` is a monomial
of degree ``j - 1`` times one coordinate (indices kept non-decreasing, so each
multi-index appears once).  That is ``g`` vectorised steps and ``O(n r)`` work,
with no Python loop over rows.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214.
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? Generalizing
   matrix softmax attention to Kronecker computation. ICLR 2024, arXiv:2310.04064.
"""

from __future__ import annotations

from functools import lru_cache
from math import comb, factorial, prod

import numpy as np

__all__ = [
    "feature_rank",
    "monomial_exponents",
    "multinomial_weights",
    "monomials",
    "query_features",
    "key_features",
]


def feature_rank(d: int, g: int) -> int:
    """Number of multi-indices ``alpha in N^d`` with ``|alpha| <= g``: ``C(d + g, g)``.

    Examples
    --------
    >>> feature_rank(4, 7)
    330
    """
    if d < 1 or g < 0:
        raise ValueError(f"need d >= 1 and g >= 0, got d={d!r}, g={g!r}")
    return comb(d + g, g)


@lru_cache(maxsize=64)
def _monomial_tree(d: int, g: int) -> tuple[list, np.ndarray, np.ndarray]:
    """How to build every monomial of degree ``<= g`` from contiguous slices.

    Within each degree, monomials are sorted by their largest coordinate ``i``.
    The monomials of degree ``j`` whose largest coordinate is ``i`` are then the
    monomials of degree ``j - 1`` with largest coordinate ``<= i`` (a *prefix*
    of that degree's block) times ``x_i``.  Returns the list of steps
    ``(src_start, length, dst_start, i)``, the level offsets and the exponents.
    """
    exps = [np.zeros(d, dtype=np.int64)]
    lasts = [0]  # the constant monomial may be extended by any coordinate
    steps, offsets = [], [0, 1]
    for _ in range(g):
        lo, hi = offsets[-2], offsets[-1]
        for i in range(d):
            count = sum(1 for c in range(lo, hi) if lasts[c] <= i)
            steps.append((lo, count, len(exps), i))
            for c in range(lo, lo + count):
                e = exps[c].copy()
                e[i] += 1
                exps.append(e)
                lasts.append(i)
        offsets.append(len(exps))
    return steps, np.array(offsets), np.array(exps)


def monomial_exponents(d: int, g: int) -> np.ndarray:
    """All multi-indices ``alpha`` with ``|alpha| <= g`` as rows of an ``(r, d)`` array.

    Ordered by degree, so ``monomials(X, g)[:, c] == prod(X ** exponents[c], axis=1)``.
    """
    feature_rank(d, g)
    return _monomial_tree(d, g)[2]


def multinomial_weights(d: int, g: int) -> np.ndarray:
    """``|alpha|! / alpha!`` for every multi-index, in :func:`monomial_exponents` order."""
    return _multinomial_weights(d, g).copy()


@lru_cache(maxsize=64)
def _multinomial_weights(d: int, g: int) -> np.ndarray:
    exps = monomial_exponents(d, g)
    # exact integers (math.prod of Python ints), rounded once: an int64 product of factorials wraps past 2^63
    # (20! 3! already does), which silently broke every feature of degree >= 23 for d = 3
    return np.array([float(factorial(int(e.sum())) // prod(factorial(int(x)) for x in e)) for e in exps])


def monomials(X, g: int, out=None):
    """All monomials ``X[i]^alpha`` with ``|alpha| <= g``: an ``(n, r)`` array.

    Parameters
    ----------
    X : (n, d) array
        numpy (float32 kept, anything else as float64) or any Array-API array
        (torch, CuPy, ...; its namespace, device and dtype are kept).
    g : int, degree ``>= 0``
    out : (r, n) numpy array, optional
        A buffer to write into (numpy only; the streamed products reuse one
        per block size instead of allocating a fresh block each time).

    Returns
    -------
    (n, r) array with ``r = C(d + g, g)``, of ``X``'s kind (the transpose of
    an ``(r, n)`` buffer: each monomial is a contiguous column, which is what
    the products ``U^T V`` read).  Degree ``j`` is built from degree ``j - 1``
    by ``d`` products of contiguous slices: ``g d`` vectorised steps, no loop
    over monomials or rows.

    Examples
    --------
    >>> monomials(np.array([[2.0, 3.0]]), 2)
    array([[1., 2., 3., 4., 6., 9.]])
    >>> monomials(np.array([[2.0, 3.0]], dtype=np.float32), 1).dtype
    dtype('float32')
    """
    from algorithms import _array

    xp = _array.namespace(X)
    if _array.is_numpy(xp):
        X = np.asarray(X)
        X = X if X.dtype == np.float32 else np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-d array (n, d), got shape {tuple(X.shape)}")
    n, d = X.shape
    steps, offsets, _ = _monomial_tree(int(d), g)
    if _array.is_numpy(xp):
        if out is None or out.shape != (offsets[-1], n) or out.dtype != X.dtype:
            out = np.empty((offsets[-1], n), dtype=X.dtype)
        out[0] = 1.0
        XT = np.ascontiguousarray(X.T)
        for src, length, dst, i in steps:
            np.multiply(out[src : src + length], XT[i], out=out[dst : dst + length])
        return out.T
    out = _array.empty(xp, (int(offsets[-1]), int(n)), X)
    out[0:1, :] = _array.ones(xp, (1, int(n)), X)
    XT = xp.asarray(X.T, copy=True)
    for src, length, dst, i in steps:
        out[dst : dst + length, :] = out[src : src + length, :] * XT[i : i + 1, :]
    return out.T


def _query_weights(d: int, coefficients: np.ndarray, scale: float) -> np.ndarray:
    g = len(coefficients) - 1
    degrees = monomial_exponents(d, g).sum(axis=1)
    return coefficients[degrees] * scale ** degrees.astype(float) * _multinomial_weights(d, g)


def query_features(Q, coefficients: np.ndarray, scale: float):
    """``phi(Q)``: rows ``a_{|alpha|} s^{|alpha|} (|alpha|!/alpha!) q^alpha``, shape ``(n, r)``.

    Parameters
    ----------
    Q : (n, d) array (numpy, or any Array-API array: its kind, device and dtype are kept)
    coefficients : power-basis coefficients ``a_0..a_g`` of ``P`` (ascending)
    scale : the ``s`` in ``P(s <q, k>)``; ``1/d`` for attention.

    Examples
    --------
    >>> q, k = np.array([[0.3, -0.2]]), np.array([[0.5, 0.1]])
    >>> a = np.array([1.0, 1.0, 0.5])  # P(t) = 1 + t + t^2/2
    >>> t = 0.5 * (q @ k.T)
    >>> bool(np.allclose(query_features(q, a, 0.5) @ key_features(k, 2).T, 1 + t + t * t / 2))
    True
    """
    from algorithms import _array

    coefficients = np.asarray(coefficients, dtype=float)
    U = monomials(Q, len(coefficients) - 1)
    d = int(np.shape(Q)[1]) if isinstance(Q, (list, tuple, np.ndarray)) else int(Q.shape[1])
    w = _query_weights(d, coefficients, scale)
    return U * _array.from_numpy(_array.namespace(U), w, U)


def key_features(K, g: int):
    """``psi(K)``: the plain monomials ``k^alpha``, shape ``(n, r)``."""
    return monomials(K, g)
