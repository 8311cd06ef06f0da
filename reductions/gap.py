"""Gap max-inner-product problems: instances, brute force, random and planted generators.

**Gap max-IP** (:class:`GapInstance`).  ``A`` (``N_a x m``) and ``B``
(``N_b x m``) over ``{0, 1}``, thresholds ``0 <= t_lo < t_hi <= m``, gap
``Delta = t_hi - t_lo``.  Promise: either some pair has ``<a_i, b_j> >= t_hi``
(yes) or every pair has ``<a_i, b_j> <= t_lo`` (no).  **Gap 3-max-IP**
(:class:`Gap3Instance`): the same with three sets and ``<a, b, c> = sum_l a_l
b_l c_l``.  **Gap closest pair in Hamming distance**
(:class:`HammingGapInstance`): yes iff some ``h(a_i, b_j) <= t_near``, promise
else every ``h >= t_far`` (a ``(1 + eps)``-approximate nearest-neighbour gap
when ``t_far = (1 + eps) t_near``).  For rows of one weight ``w``,
``h(a, b) = 2w - 2 <a, b>`` (:func:`to_hamming`).

Where the hardness comes from (cited, not implemented here): under SETH, gap
max-IP in dimension ``m = O(log n)`` with ``Delta = Theta(m)`` has no
``O(n^{2 - q})`` algorithm -- Rubinstein (2018) for ``(1 + eps)``-approximate
Hamming closest pair, Chen (2018) for Boolean max-IP, both through the
distributed PCPs of Abboud, Rubinstein & Williams (2017) -- and gap 3-max-IP
none in ``O(n^{3 - q})`` (Alman & Song 2024).  These are the source problems of
the threshold reductions of :mod:`reductions.gap_to_attention` (see
docs/reductions.md).  The instances here are planted: no executable chain in
this module leads from SAT to them.

The brute force is the quadratic (``N^2 m``; ``N^3 m`` for three sets)
baseline, with integer inner products.

References
----------
.. [1] A. Rubinstein. Hardness of approximate nearest neighbor search. STOC 2018,
   arXiv:1803.00904.
.. [2] L. Chen. On the hardness of approximate and exact (bichromatic) maximum
   inner product. CCC 2018, arXiv:1802.02325.
.. [3] A. Abboud, A. Rubinstein, R. Williams. Distributed PCP theorems for
   hardness of approximation in P. FOCS 2017, arXiv:1706.06407.
.. [4] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (gap 3-max-IP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from algorithms._random import RandomLike, as_generator
from reductions.ov import as_binary

__all__ = [
    "GapInstance",
    "Gap3Instance",
    "HammingGapInstance",
    "max_inner_product",
    "max_inner_product3",
    "min_hamming_distance",
    "gap_answer",
    "planted_gap_instance",
    "disjoint_gap_instance",
    "planted_gap3_instance",
    "to_hamming",
]


def _check_thresholds(lo_name: str, lo: int, hi_name: str, hi: int, m: int) -> tuple[int, int]:
    if not (float(lo).is_integer() and float(hi).is_integer() and 0 <= lo < hi <= m):
        raise ValueError(f"need integers 0 <= {lo_name} < {hi_name} <= m={m}, got {lo_name}={lo!r}, {hi_name}={hi!r}")
    return int(lo), int(hi)


def _validate(instance, matrices: tuple[str, ...], lo_name: str, hi_name: str) -> None:
    """Freeze a gap instance's 0/1 matrices (one dimension ``m``) and integer thresholds ``0 <= lo < hi <= m``."""
    first = as_binary(matrices[0], getattr(instance, matrices[0]))
    object.__setattr__(instance, matrices[0], first)
    for name in matrices[1:]:
        object.__setattr__(instance, name, as_binary(name, getattr(instance, name), cols=first.shape[1]))
    lo, hi = _check_thresholds(lo_name, getattr(instance, lo_name), hi_name, getattr(instance, hi_name), first.shape[1])
    object.__setattr__(instance, lo_name, lo)
    object.__setattr__(instance, hi_name, hi)


@dataclass(frozen=True)
class GapInstance:
    """Gap bichromatic max inner product: yes iff some ``<a_i, b_j> >= t_hi``; promise: else all ``<= t_lo``.

    Raises
    ------
    ValueError
        ``A``/``B`` not 0/1 matrices of one dimension ``m``; not ``0 <= t_lo < t_hi <= m``.
    """

    A: np.ndarray
    B: np.ndarray
    t_lo: int
    t_hi: int

    def __post_init__(self) -> None:
        _validate(self, ("A", "B"), "t_lo", "t_hi")

    @property
    def m(self) -> int:
        return self.A.shape[1]

    @property
    def gap(self) -> int:
        return self.t_hi - self.t_lo

    def __repr__(self) -> str:
        """Sizes and thresholds, never the matrices."""
        return (f"GapInstance(N_a={self.A.shape[0]}, N_b={self.B.shape[0]}, m={self.m}, "
                f"t_lo={self.t_lo}, t_hi={self.t_hi})")


@dataclass(frozen=True)
class Gap3Instance:
    """Gap 3-max-IP: yes iff some ``<a, b, c> = sum_l a_l b_l c_l >= t_hi``; promise: else all ``<= t_lo``."""

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    t_lo: int
    t_hi: int

    def __post_init__(self) -> None:
        _validate(self, ("A", "B", "C"), "t_lo", "t_hi")

    @property
    def m(self) -> int:
        return self.A.shape[1]

    @property
    def gap(self) -> int:
        return self.t_hi - self.t_lo

    def __repr__(self) -> str:
        """Sizes and thresholds, never the matrices."""
        sizes = ", ".join(str(X.shape[0]) for X in (self.A, self.B, self.C))
        return f"Gap3Instance(N = {sizes}, m={self.m}, t_lo={self.t_lo}, t_hi={self.t_hi})"


@dataclass(frozen=True)
class HammingGapInstance:
    """Gap bichromatic closest pair in Hamming distance ``h``.

    Yes iff some ``h(a_i, b_j) <= t_near``; promise: else every ``h >= t_far``
    (a ``(1 + eps)``-approximate nearest-neighbour gap with ``t_far = (1+eps) t_near``).
    """

    A: np.ndarray
    B: np.ndarray
    t_near: int
    t_far: int

    def __post_init__(self) -> None:
        _validate(self, ("A", "B"), "t_near", "t_far")

    @property
    def m(self) -> int:
        return self.A.shape[1]

    @property
    def gap(self) -> int:
        return self.t_far - self.t_near

    def __repr__(self) -> str:
        """Sizes and thresholds, never the matrices."""
        return (f"HammingGapInstance(N_a={self.A.shape[0]}, N_b={self.B.shape[0]}, m={self.m}, "
                f"t_near={self.t_near}, t_far={self.t_far})")


def max_inner_product(A, B) -> tuple[int, int, int]:
    """Brute force ``max_{i,j} <a_i, b_j>`` and a maximising pair: ``(value, i, j)``.

    Examples
    --------
    >>> max_inner_product([[1, 1, 0], [0, 1, 1]], [[0, 1, 1]])
    (2, 1, 0)
    """
    G = as_binary("A", A).astype(np.int64) @ as_binary("B", B, cols=np.shape(A)[1]).astype(np.int64).T
    i, j = np.unravel_index(int(np.argmax(G)), G.shape)
    return int(G[i, j]), int(i), int(j)


def max_inner_product3(A, B, C) -> tuple[int, int, int, int]:
    """Brute force ``max <a_i, b_j, c_k>`` over all triples: ``(value, i, j, k)``, ``O(N^3 m)``."""
    A, B, C = (as_binary(n, X, cols=np.shape(A)[1]).astype(np.int64) for n, X in zip("ABC", (A, B, C)))
    T = np.einsum("il,jl,kl->ijk", A, B, C)
    i, j, k = np.unravel_index(int(np.argmax(T)), T.shape)
    return int(T[i, j, k]), int(i), int(j), int(k)


def min_hamming_distance(A, B) -> tuple[int, int, int]:
    """Brute force ``min h(a_i, b_j)`` and a minimising pair: ``(value, i, j)``."""
    A = as_binary("A", A).astype(np.int64)
    B = as_binary("B", B, cols=A.shape[1]).astype(np.int64)
    H = A.sum(1)[:, None] + B.sum(1)[None, :] - 2 * A @ B.T
    i, j = np.unravel_index(int(np.argmin(H)), H.shape)
    return int(H[i, j]), int(i), int(j)


def gap_answer(instance: GapInstance | Gap3Instance | HammingGapInstance) -> bool:
    """Brute-force answer of a gap instance; ``ValueError`` if the promise is broken."""
    if isinstance(instance, HammingGapInstance):
        h = min_hamming_distance(instance.A, instance.B)[0]
        yes, no = h <= instance.t_near, h >= instance.t_far
    else:
        if isinstance(instance, Gap3Instance):
            v = max_inner_product3(instance.A, instance.B, instance.C)[0]
        else:
            v = max_inner_product(instance.A, instance.B)[0]
        yes, no = v >= instance.t_hi, v <= instance.t_lo
    if not (yes or no):
        raise ValueError("instance breaks the gap promise (its optimum lies strictly inside the gap)")
    return bool(yes)


def _constant_weight_rows(rng: np.random.Generator, N: int, m: int, w: int) -> np.ndarray:
    X = np.zeros((N, m), dtype=np.uint8)
    cols = np.argsort(rng.random((N, m)), axis=1)[:, :w]
    X[np.arange(N)[:, None], cols] = 1
    return X


def _check_planting(N: int, m: int, w: int, t_lo: int, t_hi: int) -> None:
    if N < 1 or m < 1:
        raise ValueError(f"need N >= 1 and m >= 1, got N={N!r}, m={m!r}")
    if not 0 <= t_lo < t_hi <= w <= m:
        raise ValueError(f"need 0 <= t_lo < t_hi <= w <= m, got t_lo={t_lo}, t_hi={t_hi}, w={w}, m={m}")
    if w - t_hi > m - w:
        raise ValueError(f"need w - t_hi <= m - w to plant a pair with overlap t_hi={t_hi}, got w={w}, m={m}")


def _repair(sets: list[np.ndarray], t_lo: int, keep: tuple[int, ...] | None, w: int,
            rng: np.random.Generator, rounds: int = 1000) -> None:
    """Resample rows until every tuple except ``keep`` has inner product ``<= t_lo``."""
    spec = "il,jl->ij" if len(sets) == 2 else "il,jl,kl->ijk"
    for _ in range(rounds):
        T = np.einsum(spec, *(X.astype(np.int64) for X in sets))
        if keep is not None:
            T[keep] = 0
        bad = np.argwhere(T > t_lo)
        if bad.size == 0:
            return
        for tup in bad[rng.permutation(len(bad))[: max(1, len(bad) // 4)]]:
            choices = [s for s in range(len(sets)) if keep is None or tup[s] != keep[s]]
            s = choices[int(rng.integers(len(choices)))]
            sets[s][tup[s]] = _constant_weight_rows(rng, 1, sets[s].shape[1], w)[0]
    raise ValueError(f"could not meet the promise <= t_lo={t_lo}: vectors too dense (lower w or raise m)")


def planted_gap_instance(N: int, m: int, w: int, t_lo: int, t_hi: int, *, yes: bool,
                         rng: RandomLike = None, seed: int | None = None) -> tuple[GapInstance, tuple[int, int] | None]:
    """A planted yes- or no-instance of gap max-IP with constant-weight-``w`` vectors.

    Random weight-``w`` rows; rows are resampled until every pair has
    ``<a, b> <= t_lo``; for ``yes``, a random pair is then rebuilt to overlap in
    exactly ``t_hi`` coordinates and the others repaired again.

    Randomness: ``rng`` (an int seed, a ``numpy.random.Generator`` or ``None``,
    passed to ``numpy.random.default_rng``); ``seed=`` is an alias.

    Returns
    -------
    (GapInstance, planted pair or None)

    Raises
    ------
    ValueError
        If not ``0 <= t_lo < t_hi <= w <= m``, ``N < 1``, or the rows are too
        dense for the promise to be met (``w^2/m`` near ``t_lo``).

    Examples
    --------
    >>> inst, pair = planted_gap_instance(8, 24, 6, 3, 6, yes=True, seed=0)
    >>> gap_answer(inst), max_inner_product(inst.A, inst.B)[0]
    (True, 6)
    >>> planted_gap_instance(8, 24, 6, 3, 6, yes=True, rng=0)
    (GapInstance(N_a=8, N_b=8, m=24, t_lo=3, t_hi=6), (5, 5))
    """
    _check_planting(N, m, w, t_lo, t_hi)
    rng = as_generator(rng, seed=seed)
    sets = [_constant_weight_rows(rng, N, m, w) for _ in range(2)]
    _repair(sets, t_lo, None, w, rng)
    pair = None
    if yes:
        pair = (int(rng.integers(N)), int(rng.integers(N)))
        a = sets[0][pair[0]]
        ones, zeros = rng.permutation(np.flatnonzero(a)), rng.permutation(np.flatnonzero(a == 0))
        b = np.zeros(m, dtype=np.uint8)
        b[ones[:t_hi]] = 1
        b[zeros[: w - t_hi]] = 1
        sets[1][pair[1]] = b
        _repair(sets, t_lo, pair, w, rng)
    return GapInstance(sets[0], sets[1], t_lo, t_hi), pair


def disjoint_gap_instance(N: int, m: int, w: int, *, yes: bool,
                          rng: RandomLike = None, seed: int | None = None) -> GapInstance:
    """A gap max-IP instance with ``t_lo = 0``: the two sides live on disjoint halves of the coordinates.

    The rows of ``A`` are weight-``w`` vectors on one random half of the ``m``
    coordinates and those of ``B`` on the other half, so every pair is
    orthogonal (``t_lo = 0``); for ``yes`` one row of ``B`` is replaced by a
    row of ``A`` (inner product ``w = t_hi``).

    Randomness: ``rng`` (an int seed, a ``numpy.random.Generator`` or ``None``,
    passed to ``numpy.random.default_rng``); ``seed=`` is an alias.

    This is **not** an instance below the threshold.  The gap is the whole
    weight, so :func:`reductions.gap_to_attention.gap_to_attention` takes
    ``B^2 = beta m = m ln(margin N) / w``, i.e. ``B^2 = 2 ln(margin N)`` for
    ``m = 2w``, and puts the logits in ``[0, beta w] = [0, ln(margin N)]``:
    logit range ``Theta(log n)``, the threshold's own scale (the "at" family of
    :mod:`algorithms.threshold_families`, ``c'' = 1``), with a small constant
    at toy ``N``.  No gap instance can be below the threshold: separating the
    ``N`` far keys needs ``beta Delta >= ln N``.  (Earlier versions called it
    ``separated_gap_instance``; honest comparisons below the threshold use
    the ``"below"`` family of :mod:`algorithms.threshold_families`.)

    Raises
    ------
    ValueError
        If not ``1 <= w <= m // 2`` or ``N < 1``.

    Examples
    --------
    >>> gap_answer(disjoint_gap_instance(6, 6, 3, yes=True, seed=0))
    True
    """
    if N < 1 or not 1 <= w <= m // 2:
        raise ValueError(f"need N >= 1 and 1 <= w <= m // 2, got N={N}, m={m}, w={w}")
    rng = as_generator(rng, seed=seed)
    perm, half = rng.permutation(m), m // 2

    def rows(coords: np.ndarray) -> np.ndarray:
        X = np.zeros((N, m), dtype=np.uint8)
        for r in range(N):
            X[r, rng.permutation(coords)[:w]] = 1
        return X

    A, B = rows(perm[:half]), rows(perm[half:])
    if yes:
        B[rng.integers(N)] = A[rng.integers(N)]
    return GapInstance(A, B, 0, w)


def planted_gap3_instance(N: int, m: int, w: int, t_lo: int, t_hi: int, *, yes: bool,
                          rng: RandomLike = None,
                          seed: int | None = None) -> tuple[Gap3Instance, tuple[int, int, int] | None]:
    """A planted yes/no instance of gap 3-max-IP (constant weight ``w``), as :func:`planted_gap_instance`.

    Examples
    --------
    >>> inst, triple = planted_gap3_instance(5, 24, 6, 1, 5, yes=True, seed=0)
    >>> gap_answer(inst), max_inner_product3(inst.A, inst.B, inst.C)[0]
    (True, 5)
    """
    _check_planting(N, m, w, t_lo, t_hi)
    rng = as_generator(rng, seed=seed)
    sets = [_constant_weight_rows(rng, N, m, w) for _ in range(3)]
    _repair(sets, t_lo, None, w, rng)
    triple = None
    if yes:
        triple = tuple(int(rng.integers(N)) for _ in range(3))
        a = sets[0][triple[0]]
        common = rng.permutation(np.flatnonzero(a))[:t_hi]
        outside = np.flatnonzero(a == 0)
        for s in (1, 2):
            row = np.zeros(m, dtype=np.uint8)
            row[common] = 1
            row[rng.permutation(outside)[: w - t_hi]] = 1
            sets[s][triple[s]] = row
        _repair(sets, t_lo, triple, w, rng)
    return Gap3Instance(sets[0], sets[1], sets[2], t_lo, t_hi), triple


def to_hamming(instance: GapInstance) -> HammingGapInstance:
    """Constant-weight gap max-IP as gap closest pair: ``h(a, b) = 2w - 2 <a, b>``.

    Raises
    ------
    ValueError
        If the rows of ``A`` and ``B`` do not all have one weight ``w``.
    """
    weights = np.concatenate([instance.A.sum(1), instance.B.sum(1)])
    if np.any(weights != weights[0]):
        raise ValueError("to_hamming needs every row of A and B to have the same weight w")
    w = int(weights[0])
    return HammingGapInstance(instance.A, instance.B, 2 * (w - instance.t_hi), 2 * (w - instance.t_lo))
