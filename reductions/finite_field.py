"""Arithmetic in the prime field ``F_q``: primes, polynomial evaluation and Lagrange interpolation.

The small toolkit of the Merlin-Arthur protocol of :mod:`reductions.ov_to_gap`.
Field elements are the integers ``0..q-1`` held in ``int64`` arrays;
a polynomial is its coefficient vector, constant term first.  Every product
of two reduced elements is below ``q^2 < 2^62``, so ``q < 2^31`` keeps all
arithmetic exact in ``int64`` (:func:`check_prime` enforces it).  Primality
and the next prime come from sympy.

References
----------
.. [1] V. Shoup. A Computational Introduction to Number Theory and Algebra,
   2nd ed., Cambridge University Press 2009, ch. 17 (polynomial interpolation
   over a field: a nonzero polynomial of degree ``<= D`` has ``<= D`` roots).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy

__all__ = ["MAX_PRIME", "check_prime", "next_prime", "evaluate", "lagrange_basis", "interpolate", "power_sums"]

MAX_PRIME = 2**31 - 1  # q^2 < 2^62: products of two field elements stay exact in int64


def check_prime(q) -> int:
    """Return ``q`` as an ``int`` if it is a prime below ``2^31``, else raise ``ValueError``.

    Raises
    ------
    ValueError
        If ``q`` is not an integer, not prime, or ``q > 2^31 - 1``.

    Examples
    --------
    >>> check_prime(7)
    7
    >>> check_prime(9)
    Traceback (most recent call last):
    ...
    ValueError: q=9 is not prime (9 = 3^2)
    """
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)):
        raise ValueError(f"q must be an integer prime, got {q!r}")
    q = int(q)
    if q > MAX_PRIME:
        raise ValueError(f"q={q} exceeds {MAX_PRIME} = 2^31 - 1 (int64 field arithmetic)")
    if not sympy.isprime(q):
        factors = " * ".join(f"{p}^{e}" if e > 1 else str(p) for p, e in sympy.factorint(q).items())
        raise ValueError(f"q={q} is not prime" + (f" ({q} = {factors})" if q > 1 else ""))
    return q


def next_prime(n: int) -> int:
    """The smallest prime ``q > n`` (sympy's ``nextprime``).

    Raises
    ------
    ValueError
        If that prime exceeds ``2^31 - 1``.

    Examples
    --------
    >>> next_prime(4), next_prime(7)
    (5, 11)
    """
    return check_prime(int(sympy.nextprime(max(int(n), 1))))


def evaluate(coefficients: Sequence[int], points, q: int) -> np.ndarray:
    """Values ``P(r) mod q`` at ``points`` of ``P = sum_e coefficients[e] z^e`` (Horner).

    Examples
    --------
    >>> evaluate([1, 0, 1], range(5), 5).tolist()  # 1 + z^2 over F_5
    [1, 2, 0, 0, 2]
    """
    r = np.asarray(points, dtype=np.int64) % q
    out = np.zeros_like(r)
    for c in reversed(list(coefficients)):
        out = (out * r + int(c)) % q
    return out


def lagrange_basis(nodes: Sequence[int], q: int, points=None) -> np.ndarray:
    """Matrix ``L[r, t] = l_t(points[r]) mod q`` of the Lagrange basis on ``nodes``.

    ``l_t`` is the polynomial of degree ``< len(nodes)`` with ``l_t(nodes[s]) =
    [s = t]``, so ``P(r) = sum_t L[r, t] P(nodes[t])`` for every ``P`` of degree
    ``< len(nodes)``.  ``points`` defaults to the whole field ``0..q-1``.

    Raises
    ------
    ValueError
        If the nodes are not distinct modulo ``q``.

    Examples
    --------
    >>> L = lagrange_basis([1, 2], 5)  # l_1 = 2 - z, l_2 = z - 1
    >>> L.tolist()
    [[2, 4], [1, 0], [0, 1], [4, 2], [3, 3]]
    """
    x = [int(t) % q for t in nodes]
    if len(set(x)) != len(x):
        raise ValueError(f"interpolation nodes {list(nodes)} are not distinct modulo q={q}")
    r = np.arange(q, dtype=np.int64) if points is None else np.asarray(points, dtype=np.int64) % q
    L = np.ones((len(r), len(x)), dtype=np.int64)
    for t, xt in enumerate(x):
        denominator = 1
        for s, xs in enumerate(x):
            if s != t:
                L[:, t] = L[:, t] * ((r - xs) % q) % q
                denominator = denominator * (xt - xs) % q
        L[:, t] = L[:, t] * pow(denominator, -1, q) % q
    return L


def interpolate(nodes: Sequence[int], values: Sequence[int], q: int) -> np.ndarray:
    """Coefficients (constant first) of the unique ``P`` of degree ``< len(nodes)`` with ``P(nodes) = values``.

    Solves the Vandermonde system through the Lagrange basis: ``O(T^2)``
    products of linear factors.

    Raises
    ------
    ValueError
        If the nodes are not distinct modulo ``q`` or the lengths differ.

    Examples
    --------
    >>> interpolate([1, 2, 3], [1, 4, 9], 7).tolist()  # z^2
    [0, 0, 1]
    """
    x = [int(t) % q for t in nodes]
    if len(values) != len(x):
        raise ValueError(f"got {len(x)} nodes and {len(values)} values")
    lagrange_basis(x, q, points=[])  # distinctness check
    out = np.zeros(len(x), dtype=np.int64)
    for t, (xt, yt) in enumerate(zip(x, values)):
        basis, denominator = np.array([1], dtype=np.int64), 1
        for s, xs in enumerate(x):
            if s != t:  # basis *= (z - xs)
                basis = (np.concatenate([[0], basis]) - np.concatenate([basis * xs, [0]])) % q
                denominator = denominator * (xt - xs) % q
        out = (out + basis * (int(yt) * pow(denominator, -1, q) % q)) % q
    return out


def power_sums(T: int, degree: int, q: int) -> np.ndarray:
    """``S[e] = sum_{t=1..T} t^e mod q`` for ``e = 0..degree``: the linear form ``C -> sum_t C(t)``.

    Examples
    --------
    >>> power_sums(2, 2, 5).tolist()  # 1+1, 1+2, 1+4
    [2, 3, 0]
    """
    t = np.arange(1, T + 1, dtype=np.int64) % q
    S, power = np.zeros(degree + 1, dtype=np.int64), np.ones(T, dtype=np.int64)
    for e in range(degree + 1):
        S[e] = int(power.sum()) % q
        power = power * t % q
    return S
