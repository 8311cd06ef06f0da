"""Gap max-inner-product -> attention at the threshold B = Theta(sqrt(log n)) (and its tensor analogue).

This is the reduction behind the lower bound of Alman & Song (NeurIPS 2023,
arXiv 2302.13214, Thm 1.4 / Lemma 4.7): approximate attention with entries
``B = C_b sqrt(log n)`` and accuracy ``n^{-C_a}`` decides a *gap* problem whose
SETH-hardness is known (Rubinstein 2018; Chen 2018; via the distributed PCPs
of Abboud, Rubinstein & Williams 2017 -- cited, not implemented: see
papers/tensor-and-gradient.md §6).  Source instances here are planted.

Gap max-IP (:class:`GapInstance`).  ``A, B`` in ``{0,1}^{N x m}``, thresholds
``t_lo < t_hi``, gap ``Delta = t_hi - t_lo``; promise: either some
``<a_i, b_j> >= t_hi`` (yes) or every ``<a_i, b_j> <= t_lo`` (no).

Max-IP form (:func:`gap_to_attention`, SPEC §1; papers/tensor-and-gradient.md §5.2)::

    Q = s A,   K = [s B; 0],   V = e_dummy,    beta = s^2 / m,
    y_i = 1 / (1 + S_i),       S_i = sum_j exp(beta <a_i, b_j>).

Yes gives a row with ``S_i >= e^{beta t_hi}``; no gives every ``S_i <= N_b
e^{beta t_lo}``.  The two separate iff ``e^{beta Delta} > N_b``, i.e. ``beta >
ln(N_b) / Delta``, i.e. ``B = s = sqrt(beta m) > sqrt(m ln(N_b) / Delta)``
(:func:`minimal_bound`).  With ``Delta = Theta(m)`` and ``m = Theta(log n)``
that is ``beta = Theta(1)`` and ``B = Theta(sqrt(log n))``: the threshold.  We
take ``beta = ln(margin N_b) / Delta`` (default ``margin = 4``).  The outputs to
separate are ``y_yes = 1/(1 + e^{beta t_hi})`` and ``y_no = 1/(1 + N_b e^{beta
t_lo})``, both ``n^{-Theta(1)}``: the decoder needs additive accuracy
``(y_no - y_yes)/2 = n^{-O(1)}``, the ``eps_a = n^{-C_a}`` of the theorem.

Hamming form (:func:`hamming_to_attention`, AS23's hard instance as
reconstructed in papers/hardness-and-multilayer.md §1.4): complemented vectors
``a' = (a, 1 - a)`` so ``<a', b'> = m - h(a, b)``, and ``N_b`` dummy keys
``s 1_{2m}`` at the row maximum::

    Q = s A',   K = [s B'; s 1 (N_b rows)],   V = [1 (real keys); 0 (dummies)],
    beta = s^2 / (2m),   y_i = R_i / (N_b + R_i),   R_i = sum_j exp(-beta h(a_i, b_j)).

Every raw logit ``s^2 <a', b'>`` lies in ``[0, s^2 m]``, half of each row sits
at the maximum, ``V`` is 0/1: the constraints AS24a Lemma E.2 quotes.  Yes
(some ``h <= t_near``) vs no (every ``h >= t_far``) separate iff ``beta
(t_far - t_near) > ln N_b``, so ``B > sqrt(2 m ln(N_b) / (t_far - t_near))``.

Tensor (:func:`gap3_to_tensor_attention`, papers/tensor-and-gradient.md §5.2):
``Q = s A``, ``K1 = [s B; 0]``, ``K2 = [s C; 0]``, ``V1 = V2 = e_dummy``,
``beta = s^3 / m``, ``y_i = 1/(S_i + N_b + N_c + 1)`` with ``S_i = sum_{j,k}
exp(beta <a_i, b_j, c_k>)``.  ``N_b N_c`` far pairs per query: correct iff
``beta Delta > ln(N_b N_c)``, so ``B > (m ln(N_b N_c) / Delta)^{1/3} =
Theta((log n)^{1/3})``: why the tensor threshold is a cube root.

Blow-ups (tests check them): max-IP form ``n = max(N_a, N_b + 1)``, ``d = m``,
``B = sqrt(m ln(margin N_b) / Delta)``; Hamming form ``n = max(N_a, 2 N_b)``,
``d = 2m``, ``B = sqrt(2 m ln(margin N_b) / (t_far - t_near))``; tensor
``n = max(N_a, N_b + 1, N_c + 1)``, ``d = m``, ``B = (m ln(margin N_b N_c) /
Delta)^{1/3}``.  All built in ``O(n m)``.

The point of the threshold.  The polynomial method approximates ``e^x`` on
``[-B^2, B^2]`` (``[-B^3, B^3]`` for tensors); at ``B^2 = Theta(log n)`` and
``eps = n^{-O(1)}`` its degree is ``Theta(log n)`` and its rank ``C(d + g, g)
= n^{Theta(1)}`` (:func:`polynomial_method_rank`), and in float64 it cannot
even reach the needed ``eps`` once ``B^2`` exceeds ~10 (the power basis
loses ``e^{2 B^2}`` to rounding), so :func:`algorithms.attention.attention_fast`
refuses with a ``ValueError`` naming ``B``.  Exact attention decodes these
instances correctly.  Where ``m / Delta`` is small enough that ``B^2`` stays
small, the fast path runs at the decoder's ``eps`` and decodes correctly.
(At test sizes the rank exceeds ``n`` on both sides of the threshold: the
asymptotic crossover needs ``n`` far beyond what a test can run.)

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Thm 1.4 and Lemma 4.7 (quoted as AS24a Lemma E.2).
.. [2] A. Rubinstein. Hardness of approximate nearest neighbor search. STOC 2018,
   arXiv:1803.00904.
.. [3] L. Chen. On the hardness of approximate and exact (bichromatic) maximum
   inner product. CCC 2018, arXiv:1802.02325.
.. [4] A. Abboud, A. Rubinstein, R. Williams. Distributed PCP theorems for
   hardness of approximation in P. FOCS 2017, arXiv:1706.06407.
.. [5] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (gap 3-max-IP -> tensor attention, B = Theta((log n)^{1/3})).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from algorithms._checks import as_matrix, max_norm
from algorithms.features import feature_rank
from algorithms.polynomial import chebyshev_truncation_error
from reductions.ov import as_binary

__all__ = [
    "GapInstance",
    "Gap3Instance",
    "HammingGapInstance",
    "ThresholdInstance",
    "TensorThresholdInstance",
    "max_inner_product",
    "max_inner_product3",
    "min_hamming_distance",
    "separated_gap_instance",
    "gap_answer",
    "planted_gap_instance",
    "planted_gap3_instance",
    "to_hamming",
    "minimal_bound",
    "minimal_bound_tensor",
    "gap_to_attention",
    "hamming_to_attention",
    "gap3_to_tensor_attention",
    "polynomial_method_rank",
]


# ---------------------------------------------------------------------------- source problems
def _check_thresholds(lo_name: str, lo: int, hi_name: str, hi: int, m: int) -> tuple[int, int]:
    if not (float(lo).is_integer() and float(hi).is_integer() and 0 <= lo < hi <= m):
        raise ValueError(f"need integers 0 <= {lo_name} < {hi_name} <= m={m}, got {lo_name}={lo!r}, {hi_name}={hi!r}")
    return int(lo), int(hi)


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
        A = as_binary("A", self.A)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", as_binary("B", self.B, cols=A.shape[1]))
        lo, hi = _check_thresholds("t_lo", self.t_lo, "t_hi", self.t_hi, A.shape[1])
        object.__setattr__(self, "t_lo", lo)
        object.__setattr__(self, "t_hi", hi)

    @property
    def m(self) -> int:
        return self.A.shape[1]

    @property
    def gap(self) -> int:
        return self.t_hi - self.t_lo


@dataclass(frozen=True)
class Gap3Instance:
    """Gap 3-max-IP: yes iff some ``<a, b, c> = sum_l a_l b_l c_l >= t_hi``; promise: else all ``<= t_lo``."""

    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    t_lo: int
    t_hi: int

    def __post_init__(self) -> None:
        A = as_binary("A", self.A)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", as_binary("B", self.B, cols=A.shape[1]))
        object.__setattr__(self, "C", as_binary("C", self.C, cols=A.shape[1]))
        lo, hi = _check_thresholds("t_lo", self.t_lo, "t_hi", self.t_hi, A.shape[1])
        object.__setattr__(self, "t_lo", lo)
        object.__setattr__(self, "t_hi", hi)

    @property
    def m(self) -> int:
        return self.A.shape[1]

    @property
    def gap(self) -> int:
        return self.t_hi - self.t_lo


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
        A = as_binary("A", self.A)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "B", as_binary("B", self.B, cols=A.shape[1]))
        near, far = _check_thresholds("t_near", self.t_near, "t_far", self.t_far, A.shape[1])
        object.__setattr__(self, "t_near", near)
        object.__setattr__(self, "t_far", far)

    @property
    def m(self) -> int:
        return self.A.shape[1]

    @property
    def gap(self) -> int:
        return self.t_far - self.t_near


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
                         seed: int | None = None) -> tuple[GapInstance, tuple[int, int] | None]:
    """A planted yes- or no-instance of gap max-IP with constant-weight-``w`` vectors.

    Random weight-``w`` rows; rows are resampled until every pair has
    ``<a, b> <= t_lo``; for ``yes``, a random pair is then rebuilt to overlap in
    exactly ``t_hi`` coordinates and the others repaired again.

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
    """
    _check_planting(N, m, w, t_lo, t_hi)
    rng = np.random.default_rng(seed)
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


def separated_gap_instance(N: int, m: int, w: int, *, yes: bool,
                           seed: int | None = None) -> GapInstance:
    """A gap max-IP instance with ``t_lo = 0``: the two sides live on disjoint halves.

    The rows of ``A`` are weight-``w`` vectors on one random half of the ``m``
    coordinates and those of ``B`` on the other half, so every pair is
    orthogonal (``t_lo = 0``); for ``yes`` one row of ``B`` is replaced by a
    row of ``A`` (inner product ``w = t_hi``).  The gap is the whole weight, so
    the construction of :func:`gap_to_attention` needs only a small ``B``:
    these are the below-threshold instances on which the polynomial method
    runs at test sizes.

    Raises
    ------
    ValueError
        If not ``1 <= w <= m // 2`` or ``N < 1``.

    Examples
    --------
    >>> gap_answer(separated_gap_instance(6, 6, 3, yes=True, seed=0))
    True
    """
    if N < 1 or not 1 <= w <= m // 2:
        raise ValueError(f"need N >= 1 and 1 <= w <= m // 2, got N={N}, m={m}, w={w}")
    rng = np.random.default_rng(seed)
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
                          seed: int | None = None) -> tuple[Gap3Instance, tuple[int, int, int] | None]:
    """A planted yes/no instance of gap 3-max-IP (constant weight ``w``), as :func:`planted_gap_instance`.

    Examples
    --------
    >>> inst, triple = planted_gap3_instance(5, 24, 6, 1, 5, yes=True, seed=0)
    >>> gap_answer(inst), max_inner_product3(inst.A, inst.B, inst.C)[0]
    (True, 5)
    """
    _check_planting(N, m, w, t_lo, t_hi)
    rng = np.random.default_rng(seed)
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


# ---------------------------------------------------------------------------- bounds
def _check_sizes(n: int, m: int, gap: float) -> None:
    if not (n >= 1 and m >= 1 and gap > 0):
        raise ValueError(f"need n >= 1, m >= 1 and gap > 0, got n={n!r}, m={m!r}, gap={gap!r}")


def minimal_bound(n: int, m: int, gap: float, form: str = "max-ip") -> float:
    """Smallest entry bound ``B`` for which the threshold construction is correct for every instance.

    ``n`` far keys per query must lose to one near key: ``beta gap > ln n``.
    Max-IP form (``beta = B^2 / m``): ``B > sqrt(m ln(n) / gap)``; Hamming
    form (``d = 2m``, ``beta = B^2 / (2m)``): ``B > sqrt(2 m ln(n) / gap)``.
    Sufficient for every instance with these ``(n, m, gap)``; necessary up to
    a relative correction ``(n - 1) e^{-beta t_lo}`` (the weakest yes-row also
    carries ``n - 1`` keys of weight ``>= 1``), which vanishes as ``t_lo`` grows:
    at slightly smaller ``B`` the no-row with all ``n`` keys at ``t_lo`` outweighs
    the yes-row with one key at ``t_hi`` (checked in the tests).

    Parameters
    ----------
    n : number of keys ``N_b`` (vectors per side).
    m : dimension of the source vectors.
    gap : ``t_hi - t_lo`` (max-IP) or ``t_far - t_near`` (Hamming).
    form : ``"max-ip"`` or ``"hamming"``.

    Raises
    ------
    ValueError
        ``n < 1``, ``m < 1``, ``gap <= 0`` or an unknown ``form``.

    Examples
    --------
    >>> round(minimal_bound(2**20, 60, 30), 4)  # m = 3 log2 n, gap m/2: B^2 = 2 ln n
    5.2655
    """
    _check_sizes(n, m, gap)
    if form not in ("max-ip", "hamming"):
        raise ValueError(f"form must be 'max-ip' or 'hamming', got {form!r}")
    dims = m if form == "max-ip" else 2 * m
    return math.sqrt(dims * math.log(n) / gap)


def minimal_bound_tensor(n: int, m: int, gap: float) -> float:
    """Tensor analogue: ``B > (m ln(n^2) / gap)^{1/3}`` with ``n^2`` far key pairs (``beta = B^3 / m``).

    Examples
    --------
    >>> round(minimal_bound_tensor(2**20, 60, 30), 4)
    3.8133
    """
    _check_sizes(n, m, gap)
    return (m * math.log(n * n) / gap) ** (1.0 / 3.0)


def polynomial_method_rank(half_width: float, d: int, eps: float) -> tuple[int, int]:
    """Lower bounds on the degree ``g`` and rank ``C(d + g, g)`` the polynomial method needs on ``[-h, h]``.

    ``g`` is the smallest degree whose Chebyshev truncation has relative error
    ``<= eps`` at the single point ``x = h`` (exact, via Bessel functions), so
    the construction of :func:`algorithms.polynomial.exp_approximation` needs
    at least this degree, in any precision (it certifies the whole interval
    and usually needs a little more).  Matrix attention: ``h = B^2``; tensor:
    ``h = B^3``.

    Examples
    --------
    >>> polynomial_method_rank(1.0, 4, 1e-6)  # exp_approximation certifies degree 9 here
    (7, 330)
    """
    if not (half_width > 0 and d >= 1 and 0 < eps < 1):
        raise ValueError(f"need half_width > 0, d >= 1, 0 < eps < 1, got {half_width!r}, {d!r}, {eps!r}")
    g = 0
    while chebyshev_truncation_error(half_width, g) * math.exp(-half_width) > eps:
        g += 1
    return g, feature_rank(d, g)


# ---------------------------------------------------------------------------- constructions
@dataclass(frozen=True)
class ThresholdInstance:
    """An attention instance from a gap problem, with what its decoder needs.

    Attributes
    ----------
    Q, K, V : the attention inputs.
    n, d, B, beta : sequence length ``max(#queries, #keys)``, head dimension,
        max-norm of ``Q, K``, logit scale per unit of inner product.
    threshold : ``decide`` answers yes iff ``min y < threshold`` (max-IP, tensor)
        or ``max y > threshold`` (Hamming), ``y`` the output's first column.
    tolerance : additive error on ``y`` the decision survives (``eps_a``).
    eps : relative entry error ``e`` with ``e / (1 + sqrt(1 - e^2)) = tolerance``, the
        ``eps`` to hand :func:`~algorithms.attention.attention_fast` (by its
        bound (E1), the spread of ``V`` being 1).
    form : ``"max-ip"``, ``"hamming"`` or ``"tensor"``.
    """

    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    n: int
    d: int
    B: float
    beta: float
    threshold: float
    tolerance: float
    eps: float
    form: str

    def decide(self, output) -> bool:
        """The yes/no answer read off the output alone (no look at the source vectors)."""
        y = as_matrix("output", output, rows=self.Q.shape[0])[:, 0]
        return bool(y.max() > self.threshold) if self.form == "hamming" else bool(y.min() < self.threshold)


@dataclass(frozen=True)
class TensorThresholdInstance(ThresholdInstance):
    """As :class:`ThresholdInstance` with ``K = K1``, ``V = V1`` and the second pair ``K2, V2``."""

    K2: np.ndarray = None
    V2: np.ndarray = None

    @property
    def K1(self) -> np.ndarray:
        return self.K

    @property
    def V1(self) -> np.ndarray:
        return self.V


def _check_margin(margin: float) -> float:
    if not (np.isfinite(margin) and margin > 1):
        raise ValueError(f"margin must be a finite number > 1, got {margin!r}")
    return float(margin)


def _separation(y_yes: float, y_no: float) -> tuple[float, float, float]:
    lo, hi = min(y_yes, y_no), max(y_yes, y_no)
    tolerance = (hi - lo) / 2
    # Invert (E1) of algorithms.attention for an indicator V (spread 1):
    # e / (1 + sqrt(1 - e^2)) = tolerance  <=>  e = 2 tolerance / (1 + tolerance^2).
    return (lo + hi) / 2, tolerance, 2 * tolerance / (1 + tolerance**2)


def _indicator(rows: int, at: slice) -> np.ndarray:
    V = np.zeros((rows, 1))
    V[at, 0] = 1.0
    return V


def gap_to_attention(instance: GapInstance, *, margin: float = 4.0
                     ) -> tuple[ThresholdInstance, Callable[[np.ndarray], tuple[int, int] | None]]:
    """Gap max-IP -> attention at the threshold (max-IP form; SPEC §1).

    Parameters
    ----------
    instance : GapInstance
    margin : ``e^{beta Delta} = margin N_b``; the no-side row mass is a factor
        ``margin`` below the yes-side one (``> 1``; default 4).

    Returns
    -------
    ThresholdInstance
        ``Q = s A``, ``K = [s B; 0]``, ``V = e_dummy``, ``beta = ln(margin N_b) /
        Delta``, ``B = s = sqrt(beta m)``.
    decode : callable
        ``decode(output)`` returns ``(i, j)`` with ``<a_i, b_j> >= t_hi``,
        scanning only the rows the output flags (``y_i < threshold``), or
        ``None``; correct whenever the output is within ``tolerance`` of exact.

    Raises
    ------
    ValueError
        ``margin <= 1``; ``decode`` on an output of the wrong shape or non-finite.

    Examples
    --------
    >>> from algorithms.attention import attention
    >>> src, pair = planted_gap_instance(8, 24, 6, 3, 6, yes=True, seed=1)
    >>> inst, decode = gap_to_attention(src)
    >>> decode(attention(inst.Q, inst.K, inst.V)) == pair
    True
    >>> round(inst.B, 3), round(minimal_bound(8, 24, 3), 3)
    (5.266, 4.079)

    Notes
    -----
    Yes: some ``S_i >= e^{beta t_hi}``, so ``y_i <= 1/(1 + e^{beta t_hi})``; no:
    every ``S_i <= N_b e^{beta t_lo}``.  Blow-up: ``n = max(N_a, N_b + 1)``,
    ``d = m``, ``B = sqrt(m ln(margin N_b) / Delta)``; tolerance ``n^{-O(1)}``.
    """
    margin = _check_margin(margin)
    A, Bv = instance.A.astype(float), instance.B.astype(float)
    (N_a, m), N_b = A.shape, Bv.shape[0]
    beta = math.log(margin * N_b) / instance.gap
    s = math.sqrt(beta * m)
    Q, K = s * A, np.vstack([s * Bv, np.zeros((1, m))])
    y_yes = 1.0 / (1.0 + math.exp(beta * instance.t_hi))
    y_no = 1.0 / (1.0 + N_b * math.exp(beta * instance.t_lo))
    threshold, tolerance, eps = _separation(y_yes, y_no)
    out = ThresholdInstance(Q, K, _indicator(N_b + 1, slice(N_b, None)), max(N_a, N_b + 1), m,
                            max_norm(Q, K), beta, threshold, tolerance, eps, "max-ip")

    def decode(output) -> tuple[int, int] | None:
        y = as_matrix("output", output, rows=N_a)[:, 0]
        for i in np.flatnonzero(y < threshold):
            G = instance.B.astype(np.int64) @ instance.A[i].astype(np.int64)
            if G.max() >= instance.t_hi:
                return int(i), int(np.argmax(G))
        return None

    return out, decode


def hamming_to_attention(instance: HammingGapInstance, *, margin: float = 4.0
                         ) -> tuple[ThresholdInstance, Callable[[np.ndarray], tuple[int, int] | None]]:
    """Gap closest pair (Hamming) -> attention: AS23's hard instance, reconstructed.

    Parameters
    ----------
    instance : HammingGapInstance
    margin : ``e^{beta (t_far - t_near)} = margin N_b`` (``> 1``).

    Returns
    -------
    ThresholdInstance
        ``Q = s (A, 1 - A)`` (``N_a x 2m``), ``K = [s (B, 1 - B); s 1]``
        (``2 N_b x 2m``), ``V = [1; 0]``; ``beta = ln(margin N_b) / (t_far -
        t_near)``, ``B = s = sqrt(2 m beta)``.
    decode : callable
        ``(i, j)`` with ``h(a_i, b_j) <= t_near`` from the rows flagged by the
        output (``y_i > threshold``), or ``None``.

    Examples
    --------
    >>> from algorithms.attention import attention
    >>> src, pair = planted_gap_instance(8, 24, 6, 3, 6, yes=False, seed=2)
    >>> inst, decode = hamming_to_attention(to_hamming(src))
    >>> decode(attention(inst.Q, inst.K, inst.V)) is None
    True
    >>> inst.K.shape, inst.d
    ((16, 48), 48)

    Notes
    -----
    Raw logits ``s^2 <a', b'>`` lie in ``[0, s^2 m]`` and ``N_b`` of the ``2 N_b``
    keys of every row sit at the maximum ``s^2 m`` (AS24a Lemma E.2's
    constraints).  ``y_i = R_i/(N_b + R_i)``: yes gives ``R_i >= e^{-beta t_near}``,
    no gives ``R_i <= N_b e^{-beta t_far}``.  Blow-up ``n = max(N_a, 2 N_b)``,
    ``d = 2m``, ``B = sqrt(2 m ln(margin N_b) / (t_far - t_near))``.

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Lemma 4.7; papers/hardness-and-multilayer.md §1.4.
    """
    margin = _check_margin(margin)
    A, Bv = instance.A.astype(float), instance.B.astype(float)
    (N_a, m), N_b = A.shape, Bv.shape[0]
    beta = math.log(margin * N_b) / instance.gap
    s = math.sqrt(2 * m * beta)
    Q = s * np.hstack([A, 1 - A])
    K = np.vstack([s * np.hstack([Bv, 1 - Bv]), np.full((N_b, 2 * m), s)])
    r_yes, r_no = math.exp(-beta * instance.t_near), N_b * math.exp(-beta * instance.t_far)
    threshold, tolerance, eps = _separation(r_yes / (N_b + r_yes), r_no / (N_b + r_no))
    out = ThresholdInstance(Q, K, _indicator(2 * N_b, slice(0, N_b)), max(N_a, 2 * N_b), 2 * m,
                            max_norm(Q, K), beta, threshold, tolerance, eps, "hamming")

    def decode(output) -> tuple[int, int] | None:
        y = as_matrix("output", output, rows=N_a)[:, 0]
        for i in np.flatnonzero(y > threshold):
            h = np.sum(instance.B != instance.A[i], axis=1)
            if h.min() <= instance.t_near:
                return int(i), int(np.argmin(h))
        return None

    return out, decode


def gap3_to_tensor_attention(instance: Gap3Instance, *, margin: float = 4.0
                             ) -> tuple[TensorThresholdInstance, Callable[[np.ndarray], tuple[int, int, int] | None]]:
    """Gap 3-max-IP -> tensor attention at ``B = Theta((log n)^{1/3})``.

    Parameters
    ----------
    instance : Gap3Instance
    margin : ``e^{beta Delta} = margin N_b N_c`` (``> 1``).

    Returns
    -------
    TensorThresholdInstance
        ``Q = s A``, ``K1 = [s B; 0]``, ``K2 = [s C; 0]``, ``V1 = V2 = e_dummy``,
        ``beta = ln(margin N_b N_c) / Delta``, ``B = s = (beta m)^{1/3}``.
    decode : callable
        ``(i, j, k)`` with ``<a_i, b_j, c_k> >= t_hi`` from the flagged rows, or ``None``.

    Examples
    --------
    >>> from algorithms.tensor_attention import tensor_attention
    >>> src, triple = planted_gap3_instance(5, 24, 6, 1, 5, yes=True, seed=3)
    >>> inst, decode = gap3_to_tensor_attention(src)
    >>> decode(tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)) == triple
    True

    Notes
    -----
    ``y_i = 1/(S_i + N_b + N_c + 1)``; yes gives ``S_i >= e^{beta t_hi}``, no
    gives ``S_i <= N_b N_c e^{beta t_lo}``.  Blow-up ``n = max(N_a, N_b + 1,
    N_c + 1)``, ``d = m``, ``B = (m ln(margin N_b N_c) / Delta)^{1/3}``.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064; papers/tensor-and-gradient.md §5.2.
    """
    margin = _check_margin(margin)
    A, Bv, Cv = (X.astype(float) for X in (instance.A, instance.B, instance.C))
    (N_a, m), N_b, N_c = A.shape, Bv.shape[0], Cv.shape[0]
    beta = math.log(margin * N_b * N_c) / instance.gap
    s = (beta * m) ** (1.0 / 3.0)
    Q = s * A
    K1, K2 = (np.vstack([s * X, np.zeros((1, m))]) for X in (Bv, Cv))
    base = N_b + N_c + 1.0
    y_yes = 1.0 / (math.exp(beta * instance.t_hi) + base)
    y_no = 1.0 / (N_b * N_c * math.exp(beta * instance.t_lo) + base)
    threshold, tolerance, eps = _separation(y_yes, y_no)
    out = TensorThresholdInstance(
        Q, K1, _indicator(N_b + 1, slice(N_b, None)), max(N_a, N_b + 1, N_c + 1), m,
        max_norm(Q, K1, K2), beta, threshold, tolerance, eps, "tensor",
        K2=K2, V2=_indicator(N_c + 1, slice(N_c, None)),
    )

    def decode(output) -> tuple[int, int, int] | None:
        y = as_matrix("output", output, rows=N_a)[:, 0]
        Bi, Ci = instance.B.astype(np.int64), instance.C.astype(np.int64)
        for i in np.flatnonzero(y < threshold):
            T = (Bi * instance.A[i]) @ Ci.T
            if T.max() >= instance.t_hi:
                j, k = np.unravel_index(int(np.argmax(T)), T.shape)
                return int(i), int(j), int(k)
        return None

    return out, decode
