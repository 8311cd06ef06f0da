"""Orthogonal Vectors (OV) and k-OV: instances, brute force, random and planted generators.

**OV.** Given ``A`` (``N_a x m``) and ``B`` (``N_b x m``) with 0/1 entries, is
there a pair ``(i, j)`` with ``<a_i, b_j> = 0``?  **k-OV.** Given ``k`` sets
``X_1..X_k`` of 0/1 vectors in dimension ``m``, is there a tuple with
``sum_l X_1[i_1, l] * ... * X_k[i_k, l] = 0`` (no coordinate where all are 1)?

Under SETH, for every ``delta > 0`` there is a ``c`` such that OV with
``m = c log N`` has no ``O(N^{2 - delta})`` algorithm, and k-OV none in
``O(N^{k - delta})`` (Williams 2005; see :mod:`reductions.sat_to_ov`).  The
brute force here is the quadratic (``N^k``) baseline, with the inner products
done as float64 matrix products (exact: they are integers ``<= m < 2^53``).

References
----------
.. [1] R. Williams. A new algorithm for optimal 2-constraint satisfaction and
   its implications. Theoretical Computer Science 348(2-3), 2005.
.. [2] V. Vassilevska Williams. On some fine-grained questions in algorithms and
   complexity. Proc. ICM 2018 (survey; OV and k-OV conjectures).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from algorithms._checks import check_integer
from algorithms._random import RandomLike, as_generator
from algorithms.budget import check_budget, random_instance_cost

__all__ = [
    "OVInstance",
    "KOVInstance",
    "as_binary",
    "find_orthogonal_pair",
    "count_orthogonal_pairs",
    "find_orthogonal_tuple",
    "count_orthogonal_tuples",
    "random_ov",
    "planted_ov",
    "random_kov",
    "planted_kov",
]

_BLOCK = 2048  # rows of A per matrix-product block


def as_binary(name: str, X, cols: int | None = None) -> np.ndarray:
    """Return ``X`` as a 2-d ``uint8`` array of 0/1 entries, or raise ``ValueError`` naming ``name``.

    Zero columns are allowed (dimension ``m = 0``: every pair is orthogonal).

    Examples
    --------
    >>> as_binary("A", [[1, 0], [0, 1]]).dtype
    dtype('uint8')
    """
    A = np.asarray(X)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-d 0/1 array, got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row, got shape {A.shape}")
    if cols is not None and A.shape[1] != cols:
        raise ValueError(f"{name} must have {cols} columns (the dimension m), got shape {A.shape}")
    if A.dtype.kind not in "biuf" or not np.all((A == 0) | (A == 1)):
        raise ValueError(f"{name} must hold only 0/1 entries")
    return A.astype(np.uint8)


@dataclass(frozen=True)
class OVInstance:
    """An OV instance: 0/1 matrices ``A`` (``N_a x m``) and ``B`` (``N_b x m``).

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not a 2-d 0/1 array or their dimensions differ.

    Examples
    --------
    >>> inst = OVInstance([[1, 0], [1, 1]], [[0, 1]])
    >>> inst.N_a, inst.N_b, inst.m
    (2, 1, 2)
    """

    A: np.ndarray
    B: np.ndarray

    def __post_init__(self) -> None:
        A = as_binary("A", self.A)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", as_binary("B", self.B, cols=A.shape[1]))

    @property
    def N_a(self) -> int:
        return self.A.shape[0]

    @property
    def N_b(self) -> int:
        return self.B.shape[0]

    @property
    def m(self) -> int:
        return self.A.shape[1]

    def __repr__(self) -> str:
        """Sizes and density, never the matrices."""
        ones = (int(self.A.sum()) + int(self.B.sum())) / max(1, (self.N_a + self.N_b) * self.m)
        return f"OVInstance(N_a={self.N_a}, N_b={self.N_b}, m={self.m}, density of ones {ones:.2f})"


@dataclass(frozen=True)
class KOVInstance:
    """A k-OV instance: ``sets[t]`` is an ``N_t x m`` 0/1 matrix, ``k = len(sets) >= 2``.

    Raises
    ------
    ValueError
        If fewer than two sets are given, a set is not a 2-d 0/1 array, or the
        dimensions differ.
    """

    sets: tuple[np.ndarray, ...]

    def __post_init__(self) -> None:
        if len(self.sets) < 2:
            raise ValueError(f"sets must hold at least 2 matrices, got {len(self.sets)}")
        first = as_binary("sets[0]", self.sets[0])
        rest = [as_binary(f"sets[{t}]", X, cols=first.shape[1]) for t, X in enumerate(self.sets[1:], 1)]
        object.__setattr__(self, "sets", (first, *rest))

    @property
    def k(self) -> int:
        return len(self.sets)

    @property
    def m(self) -> int:
        return self.sets[0].shape[1]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(X.shape[0] for X in self.sets)

    def __repr__(self) -> str:
        """Sizes, never the matrices."""
        return f"KOVInstance(k={self.k}, sizes={self.sizes}, m={self.m})"


def _pair_blocks(A: np.ndarray, B: np.ndarray):
    """Yield ``(row offset, <a_i, b_j> block)`` over row blocks of ``A``."""
    Bf = B.astype(np.float64).T
    for s in range(0, A.shape[0], _BLOCK):
        yield s, A[s : s + _BLOCK].astype(np.float64) @ Bf


def find_orthogonal_pair(A, B) -> tuple[int, int] | None:
    """Brute force: the first orthogonal pair ``(i, j)`` (row-major order), or ``None``.

    Parameters
    ----------
    A, B : array_like of 0/1, shapes ``(N_a, m)`` and ``(N_b, m)``

    Returns
    -------
    (i, j) or None

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not a 2-d 0/1 array or their dimensions differ.

    Examples
    --------
    >>> find_orthogonal_pair([[1, 1], [1, 0]], [[1, 0], [0, 1]])
    (1, 1)
    >>> find_orthogonal_pair([[1, 1]], [[0, 1]]) is None
    True

    Notes
    -----
    ``O(N_a N_b m)`` time as blocked matrix products, ``O(2048 N_b)`` memory.
    """
    inst = OVInstance(A, B)
    for s, G in _pair_blocks(inst.A, inst.B):
        hits = np.argwhere(G == 0)
        if len(hits):
            return s + int(hits[0, 0]), int(hits[0, 1])
    return None


def count_orthogonal_pairs(A, B) -> int:
    """Brute force: the number of orthogonal pairs ``(i, j)``.

    Raises
    ------
    ValueError
        As :func:`find_orthogonal_pair`.

    Examples
    --------
    >>> count_orthogonal_pairs([[1, 0], [0, 0]], [[0, 1], [1, 1]])
    3
    """
    inst = OVInstance(A, B)
    return sum(int(np.count_nonzero(G == 0)) for _, G in _pair_blocks(inst.A, inst.B))


def _tuple_blocks(sets: Sequence[np.ndarray]):
    """Yield ``(prefix tuple, counts)`` where ``counts[i, j]`` is the k-wise product count
    of ``prefix + (i, j)`` over the last two sets."""
    *head, X, Y = sets
    Yf = Y.astype(np.float64).T
    for prefix in itertools.product(*(range(H.shape[0]) for H in head)):
        p = np.ones(X.shape[1], dtype=np.float64)
        for H, i in zip(head, prefix):
            p = p * H[i]
        yield prefix, (X * p) @ Yf


def find_orthogonal_tuple(sets: Sequence) -> tuple[int, ...] | None:
    """Brute force k-OV: the first tuple ``(i_1, ..., i_k)`` with no all-ones coordinate, or ``None``.

    Parameters
    ----------
    sets : sequence of k >= 2 array_like of 0/1, each ``(N_t, m)``

    Returns
    -------
    tuple of k ints, or None

    Raises
    ------
    ValueError
        As :class:`KOVInstance`.

    Examples
    --------
    >>> find_orthogonal_tuple([[[1, 1]], [[1, 1], [1, 0]], [[0, 1]]])
    (0, 1, 0)

    Notes
    -----
    ``O(N_1 ... N_k m)``: a loop over the first ``k - 2`` coordinates of the
    tuple, a matrix product for the last two.
    """
    inst = KOVInstance(tuple(sets))
    for prefix, G in _tuple_blocks(inst.sets):
        hits = np.argwhere(G == 0)
        if len(hits):
            return (*prefix, int(hits[0, 0]), int(hits[0, 1]))
    return None


def count_orthogonal_tuples(sets: Sequence) -> int:
    """Brute force k-OV: the number of orthogonal tuples.

    Examples
    --------
    >>> count_orthogonal_tuples([[[1, 0]], [[1, 1]], [[0, 1], [1, 1]]])
    1
    """
    inst = KOVInstance(tuple(sets))
    return sum(int(np.count_nonzero(G == 0)) for _, G in _tuple_blocks(inst.sets))


def _check_sizes(N: int, m: int, p: float, sets: int = 2, planted: bool = False) -> tuple[int, int, float]:
    """The sizes as ints (integers only), ``p`` in ``[0, 1]``, and the cost of drawing (and, ``planted``: of a
    pass over all ``N^sets`` tuples, which planting repeats) checked against the limits."""
    N, m = check_integer("N", N, least=1), check_integer("m", m, least=1)
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1] (a number), got {p!r}")
    check_budget(f"a random {sets}-OV instance with N = {N}, m = {m}",
                 *random_instance_cost(float(sets) * N * m, float(N) ** sets * m if planted else 0.0))
    return N, m, float(p)


def random_ov(N: int, m: int, p: float = 0.5, rng: RandomLike = None, *, seed: int | None = None) -> OVInstance:
    """``A, B`` with ``N`` rows each and i.i.d. Bernoulli(``p``) entries.

    ``rng`` (an int seed, a ``numpy.random.Generator`` or ``None``) is passed to
    ``numpy.random.default_rng``; ``seed=`` is an alias.

    Raises
    ------
    ValueError
        If ``N < 1``, ``m < 1`` or ``p`` is outside ``[0, 1]``.

    Examples
    --------
    >>> random_ov(4, 6, seed=0).A.shape
    (4, 6)
    >>> bool((random_ov(4, 6, rng=0).A == random_ov(4, 6, seed=0).A).all())  # rng is the convention, seed its alias
    True
    """
    N, m, p = _check_sizes(N, m, p)
    rng = as_generator(rng, seed=seed)
    return OVInstance(rng.random((N, m)) < p, rng.random((N, m)) < p)


def _break_orthogonality(sets: list[np.ndarray], rng: np.random.Generator) -> None:
    """Set one shared coordinate to 1 in every vector of each orthogonal tuple, until none is left."""
    while (t := find_orthogonal_tuple(sets) if len(sets) > 2 else find_orthogonal_pair(*sets)) is not None:
        c = rng.integers(sets[0].shape[1])
        for X, i in zip(sets, t):
            X[i, c] = 1


def _plant(sets: list[np.ndarray], rng: np.random.Generator) -> tuple[int, ...]:
    """Make a random tuple ``t`` orthogonal and the only orthogonal tuple.

    Coordinate ``l`` gets a 0 in member ``owner[l]`` of ``t`` (every member owns
    at least one coordinate when ``m >= k``).  Zeroing can create other
    orthogonal tuples; each is broken at a coordinate owned by a member where it
    differs from ``t``, by setting that coordinate to 1 in all its vectors,
    which leaves ``t`` orthogonal (its owner there is not touched).
    """
    k, m = len(sets), sets[0].shape[1]
    t = tuple(int(rng.integers(X.shape[0])) for X in sets)
    owner = rng.permutation(np.resize(np.arange(k), m)) if m >= k else rng.integers(k, size=m)
    for c, o in enumerate(owner):
        sets[o][t[o], c] = 0
    while True:
        others = [u for u in _all_orthogonal(sets) if u != t]
        if not others:
            return t
        u = others[0]
        owned = [c for c in range(m) if u[owner[c]] != t[owner[c]]]
        if not owned:
            raise ValueError(f"cannot plant a unique orthogonal tuple with m={m} < k={k}")
        c = owned[int(rng.integers(len(owned)))]
        for X, i in zip(sets, u):
            X[i, c] = 1


def _all_orthogonal(sets: list[np.ndarray]) -> list[tuple[int, ...]]:
    if len(sets) == 2:
        return [(s + int(i), int(j)) for s, G in _pair_blocks(*sets) for i, j in np.argwhere(G == 0)]
    return [(*p, int(i), int(j)) for p, G in _tuple_blocks(sets) for i, j in np.argwhere(G == 0)]


def planted_ov(
    N: int, m: int, orthogonal: bool, p: float = 0.5, rng: RandomLike = None, *, seed: int | None = None
) -> tuple[OVInstance, tuple[int, int] | None]:
    """A yes- or no-instance of OV with known answer.

    Start from :func:`random_ov`; remove every orthogonal pair by setting a
    random shared coordinate to 1 in both vectors; if ``orthogonal``, then plant
    one pair by zeroing, coordinate by coordinate, one of its two vectors.

    ``rng`` (an int seed, a ``numpy.random.Generator`` or ``None``) is passed to
    ``numpy.random.default_rng``; ``seed=`` is an alias.

    Returns
    -------
    (OVInstance, planted pair or None)

    Raises
    ------
    ValueError
        As :func:`random_ov`.

    Examples
    --------
    >>> inst, pair = planted_ov(8, 10, orthogonal=True, seed=0)
    >>> count_orthogonal_pairs(inst.A, inst.B), pair == find_orthogonal_pair(inst.A, inst.B)
    (1, True)
    """
    N, m, p = _check_sizes(N, m, p, planted=True)
    rng = as_generator(rng, seed=seed)
    sets = [(rng.random((N, m)) < p).astype(np.uint8) for _ in range(2)]
    _break_orthogonality(sets, rng)
    pair = _plant(sets, rng) if orthogonal else None
    return OVInstance(*sets), pair


def random_kov(
    k: int, N: int, m: int, p: float = 0.5, rng: RandomLike = None, *, seed: int | None = None
) -> KOVInstance:
    """``k`` sets of ``N`` i.i.d. Bernoulli(``p``) vectors in dimension ``m``.

    ``rng`` (an int seed, a ``numpy.random.Generator`` or ``None``) is passed to
    ``numpy.random.default_rng``; ``seed=`` is an alias.

    Raises
    ------
    ValueError
        If ``k < 2``, ``N < 1``, ``m < 1`` or ``p`` is outside ``[0, 1]``.
    """
    k = check_integer("k", k, least=2)
    N, m, p = _check_sizes(N, m, p, sets=k)
    rng = as_generator(rng, seed=seed)
    return KOVInstance(tuple(rng.random((N, m)) < p for _ in range(k)))


def planted_kov(
    k: int, N: int, m: int, orthogonal: bool, p: float = 0.7, rng: RandomLike = None, *, seed: int | None = None
) -> tuple[KOVInstance, tuple[int, ...] | None]:
    """A yes- or no-instance of k-OV with known answer (as :func:`planted_ov`, for tuples).

    ``rng`` (an int seed, a ``numpy.random.Generator`` or ``None``) is passed to
    ``numpy.random.default_rng``; ``seed=`` is an alias.

    Examples
    --------
    >>> inst, t = planted_kov(3, 5, 8, orthogonal=True, seed=0)
    >>> count_orthogonal_tuples(inst.sets), t == find_orthogonal_tuple(inst.sets)
    (1, True)
    """
    k = check_integer("k", k, least=2)
    N, m, p = _check_sizes(N, m, p, sets=k, planted=True)
    rng = as_generator(rng, seed=seed)
    sets = [(rng.random((N, m)) < p).astype(np.uint8) for _ in range(k)]
    _break_orthogonality(sets, rng)
    t = _plant(sets, rng) if orthogonal else None
    return KOVInstance(tuple(sets)), t
