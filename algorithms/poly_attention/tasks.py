"""Polyadic tasks that separate attention mechanisms, with explicit one-layer weights.

* **r-fold function composition** (Peng, Narayanan & Papadimitriou 2024,
  arXiv 2402.08164; the setting of Chakrabarti, Pitassi & Alman, arXiv
  2602.02422, Thms 3.1, 3.3, 3.4).  ``L = r n + 1`` tokens: the token at
  position ``s n + a`` carries ``f_{s+1}(a)`` (``s = 0..r-1``, ``a in [n]``),
  the last token carries ``x``; the answer, read at the last token, is
  ``f_r(...f_1(x))``.  One tree-attention head along the path ``h_r`` solves it
  (:func:`composition_weights`); one layer of standard attention cannot
  (Peng et al.: not once ``n log n > H (d+1) p``), and tensor or Strassen
  attention need ``n^{1-o(1)}`` heads for ``r = 3`` (Thm 3.3).
* **Match3** (Sanford, Hsu & Telgarsky 2023, arXiv 2306.02896): ``p_i in
  {1..m-1}``, ``y_i = 1`` iff ``p_i + p_j + p_k = 0 (mod m)`` for some ``j, k``
  (repeats allowed).  Two Strassen heads solve it (:func:`match3_weights`);
  by :func:`~algorithms.poly_attention.polynomial.tensor_form` so do two
  3-tensor heads.
* **Binary relation composition** (Kozachinskiy et al., arXiv 2501.19215,
  §3.2.3): ``n = m^2`` tokens ``(i, j)`` holding ``(A_ij, B_ij)``, answer
  ``(B o A)_ij``.  One Strassen head solves it
  (:func:`relation_composition_weights`, their Thm 4.2 by our own weights);
  one standard layer needs size ``n^{Omega(1)}`` (their Thm 3.2), and the
  natural one-head lookups decide a different relation
  (:func:`self_attention_relation_lookup`, a demonstration).
* **Polynomial root-finding** (Chakrabarti, Pitassi & Alman, Thm 3.7): token
  ``l1`` answers whether ``p(y_l1, y_l2, ..., y_lt) = 0`` for some tokens.
  One head whose ``h`` is read off the support of ``p^2``
  (:func:`root_finding_weights`); Match3 without the modulus is
  ``p = y1 + y2 + y3 - m``.

The weights are our own reconstructions (papers/poly-attention.md §5.3; the
paper's own constructions were not readable), each with its proof below.  Their
entries are ``poly(n)``: far above the ``(log n)^{1/k}`` threshold of the fast
algorithm, as the paper's expressiveness/entry-size trade-off predicts.  They
are evaluated with the exact algorithm, whose log-domain elimination handles
logits of size ``10^5`` without overflow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .exact import poly_attention_exact
from .polynomial import (
    AttentionPolynomial,
    path_attention,
    self_attention,
    strassen_attention,
)

__all__ = [
    "CompositionInstance",
    "Match3Instance",
    "RelationInstance",
    "RootFindingInstance",
    "composition_weights",
    "evaluate_polynomial",
    "match3_weights",
    "parse_polynomial",
    "random_composition",
    "random_match3",
    "random_relations",
    "random_root_finding",
    "relation_composition_weights",
    "root_finding_polynomial",
    "root_finding_weights",
    "self_attention_one_hop",
    "self_attention_relation_lookup",
    "solve_composition",
    "solve_match3",
    "solve_relation_composition",
    "solve_root_finding",
]


# ------------------------------------------------------------- composition
@dataclass(frozen=True)
class CompositionInstance:
    """``r`` functions ``[n] -> [n]`` (``functions[s, a] = f_{s+1}(a)``) and a query ``x``."""

    functions: np.ndarray
    x: int

    def __post_init__(self) -> None:
        f = np.asarray(self.functions)
        if f.ndim != 2 or f.shape[0] < 1 or f.shape[1] < 1:
            raise ValueError(f"functions must be an (r, n) integer array, got shape {f.shape}")
        n = f.shape[1]
        if not np.issubdtype(f.dtype, np.integer) or f.min() < 0 or f.max() >= n:
            raise ValueError(f"functions must take integer values in 0..{n - 1}")
        if not (isinstance(self.x, (int, np.integer)) and 0 <= self.x < n):
            raise ValueError(f"x must be an integer in 0..{n - 1}, got {self.x!r}")
        object.__setattr__(self, "functions", f.astype(np.int64))
        object.__setattr__(self, "x", int(self.x))

    @property
    def r(self) -> int:
        return self.functions.shape[0]

    @property
    def n(self) -> int:
        return self.functions.shape[1]

    @property
    def tokens(self) -> np.ndarray:
        """The ``r n + 1`` token values: ``f_1`` listed, ..., ``f_r`` listed, then ``x``."""
        return np.append(self.functions.reshape(-1), self.x)

    @property
    def answer(self) -> int:
        """``f_r(...f_1(x))``, by direct evaluation."""
        y = self.x
        for f in self.functions:
            y = int(f[y])
        return y

    def chain(self) -> list[int]:
        """Token positions of the true chain ``l_2, ..., l_{r+1}``."""
        y, out = self.x, []
        for s in range(self.r):
            out.append(s * self.n + y)
            y = int(self.functions[s, y])
        return out


def random_composition(n: int, r: int, rng: np.random.Generator | None = None) -> CompositionInstance:
    """Uniform random functions ``f_1..f_r : [n] -> [n]`` and a uniform query ``x``."""
    if not isinstance(n, int) or n < 1 or not isinstance(r, int) or r < 1:
        raise ValueError(f"n and r must be positive integers, got n={n!r}, r={r!r}")
    rng = np.random.default_rng(rng)
    return CompositionInstance(rng.integers(0, n, size=(r, n)), int(rng.integers(0, n)))


def composition_weights(inst: CompositionInstance, C: float | None = None):
    """One path-attention head ``h_r`` whose output at the last token is ``f_r(...f_1(x))``.

    Parameters
    ----------
    inst : CompositionInstance
    C : penalty per unit squared distance after the ``1/d`` scaling; default
        ``ln(8 r n)``, which the proof below shows is enough.

    Returns
    -------
    (h, Xs, Vs) with ``h = path_attention(r)``, ``d = 3 r``, ``d_v = 1``.

    Notes
    -----
    Construction.  For edge ``e = 1..r`` (variables ``x_e, x_{e+1}``) let
    ``u_e(l) = (e - 1) n + val_l``: the position that token ``l`` points to in
    block ``e``.  Block ``e`` (3 columns) of ``Q^(e)`` holds ``(u^2, u, 1)`` and
    of ``Q^(e+1)`` holds ``d C (-1, 2 l, -l^2)``, all else 0, so edge ``e``
    contributes ``-C (l_{e+1} - u_e(l_e))^2`` to ``h/d``.  ``V^(j) = 1`` for
    ``j <= r`` and ``V^(r+1)_l = val_l``.

    Proof.  Fix the query ``l_1 = L - 1`` (value ``x``).  The true chain
    ``l_{e+1} = u_e(l_e)`` has weight ``e^0 = 1``; every ``u_e(l)`` is a valid
    position, so summing leaf first each ``sum_{l_{e+1}} e^{-C(l_{e+1}-u)^2}``
    lies in ``[1, 1 + delta]``, ``delta = 2 sum_{k>=1} e^{-C k^2} <=
    2 e^{-C}/(1 - e^{-C})``.  The other tuples carry mass at most
    ``(1 + delta)^r - 1`` out of a total ``>= 1`` and change the output by at
    most ``n - 1`` each, so ``|out - answer| <= (n-1)((1+delta)^r - 1)``.  With
    ``e^{-C} = 1/(8 r n)``: ``r delta <= 4/(15 n)`` and the error is
    ``<= (n-1) (4/(15n)) e^{4/15} < 0.35``: rounding gives the answer.
    """
    r, n = inst.r, inst.n
    C = float(np.log(8 * r * n)) if C is None else float(C)
    if not (np.isfinite(C) and C > 0):
        raise ValueError(f"C must be a positive finite number, got {C!r}")
    vals = inst.tokens.astype(float)
    pos = np.arange(r * n + 1, dtype=float)
    d = 3 * r
    Xs = [np.zeros((len(vals), d)) for _ in range(r + 1)]
    for e in range(1, r + 1):
        u = (e - 1) * n + vals
        cols = slice(3 * (e - 1), 3 * e)
        Xs[e - 1][:, cols] = np.column_stack([u * u, u, np.ones_like(u)])
        Xs[e][:, cols] = d * C * np.column_stack([-np.ones_like(pos), 2 * pos, -pos * pos])
    Vs = [np.ones((len(vals), 1)) for _ in range(r - 1)] + [vals[:, None].copy()]
    return path_attention(r), Xs, Vs


def solve_composition(inst: CompositionInstance, C: float | None = None) -> tuple[int, float]:
    """Run the path-attention head exactly; return ``(rounded prediction, raw output)``."""
    h, Xs, Vs = composition_weights(inst, C)
    raw = float(poly_attention_exact(h, Xs, Vs).output[-1, 0])
    return int(round(raw)), raw


def self_attention_one_hop(inst: CompositionInstance, block: int = 0, C: float | None = None) -> int:
    """The natural one-layer self-attention construction: a single lookup.

    The last token attends, with the same squared-distance score as one edge of
    :func:`composition_weights`, to position ``block * n + x`` and outputs that
    token's value, ``f_{block+1}(x)``.  One softmax over single tokens can follow
    one pointer; following the second needs ``f_1(x)``, which lies in another
    token's value, and no score of the pair (query, key) can read it.  This is a
    demonstration of why the natural constructions fail, not a lower bound
    (for that, Peng et al. 2024, Thm 1).

    Returns the rounded output at the last token.
    """
    if not 0 <= block < inst.r:
        raise ValueError(f"block must lie in 0..{inst.r - 1}, got {block!r}")
    n = inst.n
    C = float(np.log(8 * n)) if C is None else float(C)
    vals = inst.tokens.astype(float)
    pos = np.arange(len(vals), dtype=float)
    u = block * n + vals
    Q = np.column_stack([u * u, u, np.ones_like(u)])
    K = 3 * C * np.column_stack([-np.ones_like(pos), 2 * pos, -pos * pos])
    out = poly_attention_exact(self_attention(), [Q, K], [vals[:, None]]).output
    return int(round(float(out[-1, 0])))


# ------------------------------------------------------------------ Match3
@dataclass(frozen=True)
class Match3Instance:
    """Values ``p_i in {1..m-1}`` and the modulus ``m``."""

    p: np.ndarray
    m: int

    def __post_init__(self) -> None:
        p = np.asarray(self.p)
        if not (isinstance(self.m, (int, np.integer)) and self.m >= 2):
            raise ValueError(f"m must be an integer >= 2, got {self.m!r}")
        if p.ndim != 1 or p.size == 0 or not np.issubdtype(p.dtype, np.integer):
            raise ValueError("p must be a non-empty 1-d integer array")
        if p.min() < 1 or p.max() > self.m - 1:
            raise ValueError(f"p must take values in 1..{self.m - 1}")
        object.__setattr__(self, "p", p.astype(np.int64))
        object.__setattr__(self, "m", int(self.m))

    @property
    def labels(self) -> np.ndarray:
        """``y_i = 1`` iff some ``j, k`` give ``p_i + p_j + p_k = 0 (mod m)`` (brute force, ``O(n^3)``)."""
        s = self.p[:, None, None] + self.p[None, :, None] + self.p[None, None, :]
        return (s % self.m == 0).any(axis=(1, 2))


def random_match3(n: int, m: int, rng: np.random.Generator | None = None) -> Match3Instance:
    """``p`` uniform in ``{1..m-1}^n``."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(m, int) or m < 2:
        raise ValueError(f"m must be an integer >= 2, got {m!r}")
    rng = np.random.default_rng(rng)
    return Match3Instance(rng.integers(1, m, size=n), m)


def match3_weights(inst: Match3Instance, target: int):
    """One Strassen head whose output at ``i`` is ``(p_j*, p_k*)`` with ``|p_i+p_j*+p_k*-target|`` minimal.

    Parameters
    ----------
    inst : Match3Instance
    target : ``Sigma``; two heads, ``Sigma = m`` and ``Sigma = 2m``, decide Match3
        because ``p_i + p_j + p_k`` lies in ``[3, 3m - 3]``.

    Returns
    -------
    (h, Xs, Vs) with ``h = strassen_attention()``, ``d = 8``, ``d_v = 2``.

    Notes
    -----
    With ``q = p - Sigma/3`` the score is
    ``K [-(q_i + q_j + q_k)^2 + delta (n j + k)]``, split over the triangle:
    edge ``(i,j)``: ``-K(q_i^2 + 2 q_i q_j)``, edge ``(j,k)``:
    ``-K(q_j^2 + 2 q_j q_k) + K delta (n j + k)``, edge ``(k,i)``:
    ``-K(q_k^2 + 2 q_k q_i)``; each edge gets its own columns (2 + 4 + 2) and
    ``K`` is multiplied by ``d`` to undo the ``1/d``.  Values ``V^(2)_j =
    (p_j, 1)``, ``V^(3)_k = (1, p_k)``, so the Hadamard product is
    ``(p_j, p_k)``.

    Proof.  ``(q_i+q_j+q_k)^2 = (s - Sigma)^2`` for the integer ``s = p_i+p_j+p_k``,
    so tuples off the minimal ``|s - Sigma|`` lose at least ``K`` while the
    tie-break ``delta (n j + k) < 1/4`` (``delta = 1/(4 n^2)``) is injective in
    ``(j, k)``: every tuple but the maximiser ``(j*, k*)`` has logit at least
    ``G = K delta`` below it.  The ``< n^2`` others then move each output
    coordinate by at most ``(m - 2) n^2 e^{-G}``; with
    ``G = ln(8 m n^2) + 1`` the total error in ``p_i + E p_j + E p_k`` is
    below ``1/4``.  So ``|p_i + out_1 + out_2 - Sigma| < 1/4`` iff
    ``s* = Sigma``, iff some pair hits ``Sigma`` (Kozachinskiy et al.,
    arXiv 2501.19215, Thm 4.2 use the same negated square with a tie-break).
    """
    if not isinstance(target, (int, np.integer)) or target < 1:
        raise ValueError(f"target must be a positive integer, got {target!r}")
    p = inst.p.astype(float)
    n = len(p)
    q = p - target / 3
    G = float(np.log(8 * inst.m * n * n)) + 1
    delta = 1 / (4 * n * n)
    d = 8
    K = d * G / delta
    idx = np.arange(n, dtype=float)
    one = np.ones(n)
    X1, X2, X3 = (np.zeros((n, d)) for _ in range(3))
    X1[:, 0:2] = np.column_stack([q * q, q])  # edge (1,2)
    X2[:, 0:2] = np.column_stack([-K * one, -2 * K * q])
    X2[:, 2:6] = np.column_stack([q * q, q, idx, one])  # edge (2,3)
    X3[:, 2:6] = np.column_stack([-K * one, -2 * K * q, K * delta * n * one, K * delta * idx])
    X3[:, 6:8] = np.column_stack([q * q, q])  # edge (3,1)
    X1[:, 6:8] = np.column_stack([-K * one, -2 * K * q])
    Vs = [np.column_stack([p, one]), np.column_stack([one, p])]
    return strassen_attention(), [X1, X2, X3], Vs


def solve_match3(inst: Match3Instance, mechanism: str = "strassen") -> np.ndarray:
    """Predict Match3 labels with two heads (``Sigma = m, 2m``), evaluated exactly.

    ``mechanism="tensor"`` runs the same heads as 3-tensor attention ``x1x2x3``
    of width 24 through :func:`~algorithms.poly_attention.polynomial.tensor_form`.
    """
    from .polynomial import tensor_attention, tensor_form

    if mechanism not in ("strassen", "tensor"):
        raise ValueError(f"mechanism must be 'strassen' or 'tensor', got {mechanism!r}")
    hit = np.zeros(len(inst.p), dtype=bool)
    for target in (inst.m, 2 * inst.m):
        h, Xs, Vs = match3_weights(inst, target)
        if mechanism == "tensor":
            h, Xs = tensor_attention(3), tensor_form(h, Xs)
        out = poly_attention_exact(h, Xs, Vs).output
        hit |= np.abs(inst.p + out[:, 0] + out[:, 1] - target) < 0.25
    return hit


# ------------------------------------------------- binary relation composition
@dataclass(frozen=True)
class RelationInstance:
    """Two relations ``A, B in {0,1}^{m x m}`` listed as ``n = m^2`` tokens.

    Token ``l = i m + j`` holds ``(A_ij, B_ij)``; its answer is
    ``(B o A)_ij = 1`` iff ``A_ik = B_kj = 1`` for some ``k`` (Kozachinskiy et
    al., arXiv 2501.19215, §3.2.3).

    Examples
    --------
    >>> inst = RelationInstance(np.array([[0, 1], [0, 0]]), np.array([[0, 0], [1, 0]]))
    >>> inst.answers.astype(int).tolist()  # 0 -A-> 1 -B-> 0
    [[1, 0], [0, 0]]
    """

    A: np.ndarray
    B: np.ndarray

    def __post_init__(self) -> None:
        for name in ("A", "B"):
            R = np.asarray(getattr(self, name))
            if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 1:
                raise ValueError(f"{name} must be a square (m, m) 0/1 matrix, got shape {R.shape}")
            if not np.isin(R, (0, 1)).all():
                raise ValueError(f"{name} must have entries in {{0, 1}}")
            object.__setattr__(self, name, R.astype(np.int64))
        if self.A.shape != self.B.shape:
            raise ValueError(f"A and B must have the same shape, got {self.A.shape} and {self.B.shape}")

    @property
    def m(self) -> int:
        return self.A.shape[0]

    @property
    def answers(self) -> np.ndarray:
        """``(B o A)_ij = [exists k: A_ik B_kj = 1]``, an (m, m) bool array (``A B > 0``)."""
        return (self.A @ self.B) > 0

    @property
    def labels(self) -> np.ndarray:
        """The answers in token order ``l = i m + j`` (shape ``(m^2,)``)."""
        return self.answers.reshape(-1)


def random_relations(
    m: int, density: float = 0.325, rng: np.random.Generator | None = None, same: bool = False
) -> RelationInstance:
    """Bernoulli(``density``) relations; ``same=True`` gives ``A = B = R`` (the Strassen paper's experiment).

    The default ``density = 0.325`` is that experiment's (App. C.1.2): for
    ``m = 6`` about half the answers are 1.
    """
    if not isinstance(m, int) or m < 1:
        raise ValueError(f"m must be a positive integer, got {m!r}")
    if not 0 <= density <= 1:
        raise ValueError(f"density must lie in [0, 1], got {density!r}")
    rng = np.random.default_rng(rng)
    A = (rng.random((m, m)) < density).astype(np.int64)
    B = A if same else (rng.random((m, m)) < density).astype(np.int64)
    return RelationInstance(A, B)


def _grid(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column ``(i, j)`` of each token ``l = i m + j``, as floats."""
    l = np.arange(m * m)
    return (l // m).astype(float), (l % m).astype(float)


def relation_composition_weights(inst: RelationInstance):
    """One Strassen head whose output at token ``(i, j)`` is ``> 3/4`` if ``(B o A)_ij = 1``, else ``< 1/4``.

    Parameters
    ----------
    inst : RelationInstance

    Returns
    -------
    (h, Xs, Vs) with ``h = strassen_attention()``, ``n = m^2``, ``d = 11``, ``d_v = 1``.

    Notes
    -----
    Construction.  The query ``x1`` is the token ``(i, j)``, ``x2`` a token
    ``(c, e)``, ``x3`` a token ``(k, l)``.  After the ``1/d`` the logit is
    ``G s`` with ``G = ln(4 n^2)`` and

        s = -3 (i - c)^2 + A_ce  -  3 (e - k)^2 + B_kl  -  3 (l - j)^2,

    one group per edge of the triangle: edge ``(1,2)`` carries ``-3(i-c)^2``
    with ``A_ce`` folded in (a column that is 1 on the query side),
    edge ``(2,3)`` carries ``-3(e-k)^2 + B_kl``, edge ``(3,1)`` carries
    ``-3(l-j)^2``; each edge has its own columns (4 + 4 + 3), zero in the
    third variable's matrix.  Every row of every ``Q^(j)`` is a fixed linear
    map of the token embedding ``(i^2, i, j^2, j, 1, A_ij, B_ij)`` (``G``
    depends on ``n`` only).  Values ``V^(2) = A_ce``, ``V^(3) = B_kl``: the
    Hadamard product is ``P = A_ce B_kl in {0, 1}`` and the output is the
    softmax mass on tuples with ``P = 1``.

    Proof.  The penalty ``3[(i-c)^2 + (e-k)^2 + (l-j)^2]`` is 0 or ``>= 3``.
    *If* ``(B o A)_ij = 1`` with witness ``k*``: the tuple ``(i, k*), (k*, j)``
    has ``s = 2`` and ``P = 1``; every tuple with ``P = 0`` has ``s <= 1``
    (penalty 0 and ``A + B <= 1``, or penalty ``>= 3``).  So the ``< n^2``
    tuples with ``P = 0`` carry at most ``n^2 e^{-G} = 1/4`` of the mass of
    that one tuple: output ``>= 3/4``.  *If* ``(B o A)_ij = 0``: a tuple with
    ``P = 1`` and penalty 0 would be a witness, so every ``P = 1`` tuple has
    ``s <= 2 - 3 = -1``, while ``(i, 0), (0, j)`` has penalty 0 and ``s >= 0``:
    output ``<= n^2 e^{-G} = 1/4``.  Threshold ``1/2``.  Ties are harmless:
    all tuples of the top score have the same ``P`` (``s = 2`` forces
    ``P = 1``; in the no case the top score is ``>= 0 > -1``), so no
    tie-break is needed.  The Strassen paper's construction (its App. B.4,
    formulas lost in our copy, papers/poly-attention.md §5.3) instead scores
    ``-(i-c)^2 - (e-k)^2 - (l-j)^2 + A_ce + B_kl`` plus a unique-ifying
    ``(c m^3 + e m^2 + k m + l)/m^5``, scaled by ``n^4``, and reads whether the
    top score's integer part is 2; with penalty weight 1 a tuple of penalty 1
    and ``A = B = 1`` ties in integer part with a witness-free penalty-0
    tuple, which is why we weight the penalty by 3 and read ``P`` instead.

    Cost and regime: entries reach ``d G 3 (m - 1)^2 = Theta(n log n)``, far
    above the ``sqrt(log n)`` threshold of the fast algorithm (Thm 3.6 of
    arXiv 2602.02422): this is the exact, ``n^3`` (``n^omega``) regime.

    Examples
    --------
    >>> inst = random_relations(4, rng=0)
    >>> h, Xs, Vs = relation_composition_weights(inst)
    >>> str(h), Xs[0].shape
    ('x1x2 + x2x3 + x1x3', (16, 11))
    """
    m = inst.m
    n = m * m
    i, j = _grid(m)
    A, B = inst.A.reshape(-1).astype(float), inst.B.reshape(-1).astype(float)
    one = np.ones(n)
    d = 11
    gd = d * float(np.log(4 * n * n))
    X1, X2, X3 = (np.zeros((n, d)) for _ in range(3))
    # edge (1,2): -3(i-c)^2 + A_ce          (query (i, j), second token (c, e))
    X1[:, 0:4] = np.column_stack([i * i, i, one, one])
    X2[:, 0:4] = gd * np.column_stack([-3 * one, 6 * i, -3 * i * i, A])
    # edge (2,3): -3(e-k)^2 + B_kl          (second (c, e), third (k, l))
    X2[:, 4:8] = np.column_stack([j * j, j, one, one])
    X3[:, 4:8] = gd * np.column_stack([-3 * one, 6 * i, -3 * i * i, B])
    # edge (3,1): -3(l-j)^2
    X3[:, 8:11] = np.column_stack([j * j, j, one])
    X1[:, 8:11] = gd * np.column_stack([-3 * one, 6 * j, -3 * j * j])
    return strassen_attention(), [X1, X2, X3], [A[:, None], B[:, None]]


def solve_relation_composition(inst: RelationInstance) -> tuple[np.ndarray, np.ndarray]:
    """Run the Strassen head exactly; return ``(predicted labels, raw outputs)`` in token order."""
    h, Xs, Vs = relation_composition_weights(inst)
    raw = poly_attention_exact(h, Xs, Vs).output[:, 0]
    return raw > 0.5, raw


def self_attention_relation_lookup(inst: RelationInstance, side: str = "row") -> np.ndarray:
    """The natural one-head self-attention attempt at ``B o A``: a single lookup.

    ``side="row"``: token ``(i, j)`` attends, with the score
    ``G[-3(i - c)^2 + A_ce + B_ce]`` of :func:`relation_composition_weights`
    reduced to one key, to the tokens ``(i, e)`` of its row and reads
    ``A_ie B_ie``: it decides ``exists e: A_ie = B_ie = 1`` (same proof, margin
    1/4).  ``side="column"`` reads column ``j``: ``exists c: A_cj = B_cj = 1``.
    The true answer needs two tokens ``(i, k)`` and ``(k, j)`` that agree on
    ``k``, and a score of one (query, key) pair cannot look at both.  A
    demonstration that the natural constructions fail on a fraction of random
    instances, not a lower bound (that is Thm 3.2 with the split-VC dimension
    in Kozachinskiy et al., arXiv 2501.19215: size ``n^{Omega(1)}``).

    Returns the predicted labels in token order.
    """
    if side not in ("row", "column"):
        raise ValueError(f"side must be 'row' or 'column', got {side!r}")
    m = inst.m
    n = m * m
    i, j = _grid(m)
    u = i if side == "row" else j
    A, B = inst.A.reshape(-1).astype(float), inst.B.reshape(-1).astype(float)
    one = np.ones(n)
    gd = 4 * float(np.log(4 * n))
    Q = np.column_stack([u * u, u, one, one])
    K = gd * np.column_stack([-3 * one, 6 * u, -3 * u * u, A + B])
    out = poly_attention_exact(self_attention(), [Q, K], [(A * B)[:, None]]).output[:, 0]
    return out > 0.5


# ------------------------------------------------------ polynomial root-finding
Exponent = tuple[int, ...]


def parse_polynomial(p, t: int | None = None) -> dict[Exponent, int]:
    """An integer polynomial ``p(y_1..y_t)`` as ``{exponent tuple: coefficient}``.

    Parameters
    ----------
    p : dict ``{(a_1, ..., a_t): c}`` with integer ``a_j >= 0`` and integer
        ``c``, or a string / sympy expression in ``y1, ..., yt`` with integer
        coefficients (e.g. ``"y1*y2 - y3"``).
    t : number of variables; default the tuple length (dict) or the largest
        index ``yj`` that occurs (expression).

    Raises
    ------
    ValueError
        Exponent tuples of unequal length or with negative entries, a
        non-integer coefficient, an unreadable expression, ``t < 2``, or ``p``
        identically zero.

    Examples
    --------
    >>> parse_polynomial("y1 + y2 - 3") == {(1, 0): 1, (0, 1): 1, (0, 0): -3}
    True
    """
    if isinstance(p, dict):
        terms = {}
        for a, c in p.items():
            a = tuple(a)
            if not all(isinstance(e, (int, np.integer)) and e >= 0 for e in a):
                raise ValueError(f"exponents must be non-negative integers, got {a}")
            if not isinstance(c, (int, np.integer)):
                raise ValueError(f"coefficients must be integers, got {c!r} for {a}")
            terms[tuple(int(e) for e in a)] = terms.get(tuple(int(e) for e in a), 0) + int(c)
        lengths = {len(a) for a in terms}
        if len(lengths) > 1:
            raise ValueError(f"exponent tuples must all have length t, got lengths {sorted(lengths)}")
        t0 = lengths.pop() if lengths else 0
        if t is not None and t0 != t:
            raise ValueError(f"exponent tuples have length {t0}, expected t={t}")
        t = t0
    else:
        import sympy

        try:
            expr = sympy.sympify(p)
        except (sympy.SympifyError, TypeError) as exc:
            raise ValueError(f"cannot read the polynomial {p!r}") from exc
        names = {s.name for s in expr.free_symbols}
        if not all(re.fullmatch(r"y[1-9]\d*", s) for s in names):
            raise ValueError(f"p may use only the variables y1, y2, ...; got {sorted(names)}")
        t = max([int(s[1:]) for s in names] + [t or 0])
        if t < 2:
            raise ValueError(f"p must have t >= 2 variables (y1 is the query's), got {p!r}")
        syms = sympy.symbols(f"y1:{t + 1}")
        try:
            poly = sympy.Poly(sympy.expand(expr), *syms)
        except sympy.PolynomialError as exc:
            raise ValueError(f"p must be a polynomial, got {p!r}") from exc
        terms = {}
        for a, c in poly.terms():
            if not c.is_integer:
                raise ValueError(f"coefficients must be integers, got {c} for y^{a}")
            terms[tuple(a)] = int(c)
    terms = {a: c for a, c in terms.items() if c != 0}
    if t < 2:
        raise ValueError(f"p must have t >= 2 variables (y1 is the query's), got t={t}")
    if not terms:
        raise ValueError("p is identically zero")
    return terms


def _square(p: dict[Exponent, int]) -> dict[Exponent, int]:
    """``p^2`` by expanding the product (exact integer coefficients)."""
    out: dict[Exponent, int] = {}
    for a, c in p.items():
        for b, e in p.items():
            ab = tuple(x + y for x, y in zip(a, b, strict=True))
            out[ab] = out.get(ab, 0) + c * e
    return {a: c for a, c in out.items() if c != 0}


def _support(a: Exponent) -> frozenset[int]:
    """Variables (numbered from 1) with a positive exponent."""
    return frozenset(j + 1 for j, e in enumerate(a) if e > 0)


def evaluate_polynomial(p: dict[Exponent, int], Y) -> np.ndarray:
    """``p(Y_1, ..., Y_t)`` for broadcastable arrays ``Y_j`` (integers stay exact in int64)."""
    t = len(next(iter(p)))
    if len(Y) != t:
        raise ValueError(f"Y must hold t={t} arrays, one per variable, got {len(Y)}")
    total = 0
    for a, c in p.items():
        term = c
        for Yj, e in zip(Y, a, strict=True):
            if e:
                term = term * np.asarray(Yj) ** e
        total = total + term
    return np.asarray(total)


@dataclass(frozen=True)
class RootFindingInstance:
    """Token values ``y_l`` (integers) and a fixed integer polynomial ``p(y_1..y_t)``.

    Token ``l1`` answers 1 iff some ``l2..lt`` (repeats allowed, ``l1``
    included) give ``p(y_l1, y_l2, ..., y_lt) = 0``: polynomial root-finding
    over the set ``S`` of token values (Chakrabarti, Pitassi & Alman, arXiv
    2602.02422, Thm 3.7).  Match3 without the modulus is ``p = y1 + y2 + y3 - m``.

    Examples
    --------
    >>> inst = RootFindingInstance(np.array([1, 2, 5]), "y1 + y2 - y3")
    >>> inst.labels.tolist()  # 1 + 1 - 2 = 0; 2 + y2 is never in S; 5 + y2 > 5
    [True, False, False]
    """

    y: np.ndarray
    p: dict

    def __post_init__(self) -> None:
        y = np.asarray(self.y)
        if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError("y must be a non-empty 1-d integer array")
        object.__setattr__(self, "y", y.astype(np.int64))
        object.__setattr__(self, "p", parse_polynomial(self.p))

    @property
    def t(self) -> int:
        return len(next(iter(self.p)))

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def labels(self) -> np.ndarray:
        """Brute force over the ``n^t`` tuples: ``exists l2..lt: p(y_l1, y_l2, ...) = 0``."""
        n, t = self.n, self.t
        if n**t > 10**7:
            raise ValueError(f"n^t = {n}^{t} is too large for the brute-force labels (limit 1e7)")
        R = int(np.abs(self.y).max())
        if sum(abs(c) * R ** sum(a) for a, c in self.p.items()) >= 2**62:
            raise ValueError("|p| may exceed the int64 range on these values")
        Y = [self.y.reshape([n if k == j else 1 for k in range(t)]) for j in range(t)]
        return (evaluate_polynomial(self.p, Y) == 0).reshape(n, -1).any(axis=1)


def random_root_finding(
    p, n: int, low: int, high: int, rng: np.random.Generator | None = None
) -> RootFindingInstance:
    """``n`` token values uniform in ``{low, ..., high}`` and the polynomial ``p``."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not (isinstance(low, int) and isinstance(high, int) and low <= high):
        raise ValueError(f"low and high must be integers with low <= high, got {low!r}, {high!r}")
    rng = np.random.default_rng(rng)
    return RootFindingInstance(rng.integers(low, high + 1, size=n), p)


def root_finding_polynomial(p, t: int | None = None) -> tuple[AttentionPolynomial, dict]:
    """The attention polynomial ``h`` read off the support of ``p^2``, and where each term goes.

    Every monomial ``c y^beta`` of ``p^2`` involves the token variables
    ``supp(beta)``.  Terms in ``y1`` alone (and the constant) are the same
    for every tuple of a query and cancel in the softmax: dropped.  The
    monomials of ``h`` are the *maximal* supports of size ``>= 2``; every other
    term (a smaller support, or a single variable) is folded into the first
    maximal support that contains it.  Maximal, because one matrix ``Q^(j)``
    serves every monomial of ``h`` containing ``x_j``: a monomial ``x_S`` with
    ``S`` inside another monomial ``x_T`` would also multiply ``T``'s columns
    (all of ``T``'s variables are non-zero there) and read a wrong term.  A
    variable in no support of size ``>= 2`` gets the monomial ``x1 x_j``.

    Returns ``(h, assignment)`` with ``assignment[beta]`` the monomial
    (a sorted tuple) that carries the term ``beta``.

    Examples
    --------
    >>> print(root_finding_polynomial("y1 + y2 + y3 - 7")[0])  # Match3 -> Strassen
    x1x2 + x1x3 + x2x3
    >>> print(root_finding_polynomial("y1*y2 - y3")[0])  # -> 3-tensor attention
    x1x2x3
    """
    p = parse_polynomial(p, t)
    t = len(next(iter(p)))
    terms = {a: c for a, c in _square(p).items() if not _support(a) <= {1}}
    supports = {_support(a) for a in terms if len(_support(a)) >= 2}
    sets = sorted((S for S in supports if not any(S < T for T in supports)), key=lambda S: (len(S), sorted(S)))
    for j in range(1, t + 1):
        if not any(j in S for S in sets):
            sets.append(frozenset({1, j if j != 1 else 2}))
    assignment = {a: tuple(sorted(next(S for S in sets if _support(a) <= S))) for a in terms}
    return AttentionPolynomial(t, [tuple(sorted(S)) for S in sets]), assignment


def root_finding_weights(inst: RootFindingInstance):
    """One poly-attention head with logit ``-K p(y)^2 + G code(l)``; the output reads off a root.

    Parameters
    ----------
    inst : RootFindingInstance

    Returns
    -------
    (h, Xs, Vs) with ``h`` from :func:`root_finding_polynomial`, ``d`` = the
    number of kept terms of ``p^2`` plus ``t - 1``, ``d_v = t - 1``.

    Raises
    ------
    ValueError
        The logits are too large for the float64 argument below (very large
        ``n``, values or coefficients).

    Notes
    -----
    Construction.  ``N = n^(t-1)`` tuples ``l = (l_2..l_t)`` per query;
    ``code(l) = sum_{j>=2} n^(t-j) l_j`` (base-``n`` digits, injective, in
    ``[0, N)``).  With ``R = max |y|``, spread ``D = max y - min y`` and
    ``Lip = sum_{j>=2} sum_beta |c_beta| beta_j R^(|beta|-1)`` (a bound on
    ``sum_j |dp/dy_j|`` over the box ``[-R, R]^t``), put
    ``G = ln(4 max(1, Lip D) N) + 1`` and ``K = 2 G N``.  Each kept term
    ``c y^beta`` of ``p^2`` (see :func:`root_finding_polynomial`) is one column
    in the block of its monomial ``T`` of ``h``: ``Q^(j)[l, col] = y_l^beta_j``
    for ``j in T`` (1 where ``beta_j = 0``), times ``-K c d`` on the smallest
    ``j`` of ``T``, 0 for ``j`` outside ``T``.  The tie-break ``G n^(t-j) l_j``
    is one more column in a monomial containing ``x_j``.  Since monomials of
    ``h`` are never nested, the columns of ``T`` contribute to ``T`` only, so
    ``h/d = -K p(y_l1, y_l)^2 + G code(l) + const(l1)``.  Values:
    ``V^(j)[l]`` has ``y_l`` in coordinate ``j - 2`` and 1 elsewhere, so the
    output is ``(E y_l2, ..., E y_lt) = yhat``.  Output check:
    ``|p(y_l1, yhat)| < 1/2``.  Every row of ``Q^(j)`` is a fixed map of the
    token's powers ``(1, y, y^2, ..., y^(2 deg p))`` and its position.

    Proof.  Margin: let ``l*`` maximise the logit.  ``p^2`` is a non-negative
    integer; a tuple with larger ``p^2`` loses ``>= K - G(N - 1) > G``, one
    with equal ``p^2`` has a different code and loses ``>= G``.  So ``l*``
    minimises ``|p|`` (a root if one exists) and every other tuple is at least
    ``G`` lower; the ``< N`` others carry a fraction ``<= N e^{-G}`` of the
    softmax mass.  Read-off: ``yhat`` is a convex combination of value rows, so
    ``|yhat_j - y*_j| <= D N e^{-G}`` and ``yhat`` stays in the box; along the
    segment from ``y*`` to ``yhat``, ``|p(y_l1, yhat) - p(y_l1, y*)| <= Lip D N
    e^{-G} <= 1/(4e) < 1/4``.  If a root exists, ``p(y_l1, y*) = 0`` and the
    check passes; if not, ``|p(y_l1, y*)| >= 1`` and it fails.  Ties are
    broken by ``code`` (without it the mean of two roots need not be a root,
    e.g. for ``y1 y2 - y3``).  Precision: the logits are sums of ``d`` float64
    products of at most ``t + 1`` factors, so their rounding error is at most
    ``eta = (t + d + 2) u (K sum|c_beta| R^|beta| + G N)`` (``u = 2^-53``);
    we require ``eta <= 1/2``, which costs at most ``2 eta <= 1`` of the margin,
    the ``+1`` in ``G``.

    Relation to the paper.  Thm 3.7 of arXiv 2602.02422 (read through
    secondary summaries, papers/poly-attention.md §5.1(c)) says root-finding
    for any fixed ``p`` is solved by poly-attention with "two heads" (one
    summary says two layers; unresolved in our sources), with ``p^2``
    hard-coded into the weights (Appendix G, per a reviewer).  Here one head
    suffices over the integers; Match3's ``mod m`` needs one head per
    candidate value of the sum (``Sigma = m, 2m``), which may be where the
    paper's two heads come from.  The entries are ``poly(n)``: outside the
    ``(log n)^{1/k}`` regime of the fast algorithm.

    Examples
    --------
    >>> inst = RootFindingInstance(np.array([1, 2, 5, 3]), "y1 + y2 - y3")
    >>> h, Xs, Vs = root_finding_weights(inst)
    >>> print(h)
    x1x2 + x1x3 + x2x3
    >>> len(Vs), Vs[0].shape
    (2, (4, 2))
    >>> solve_root_finding(inst)[0].tolist() == inst.labels.tolist()
    True
    """
    p, y, n, t = inst.p, inst.y.astype(float), inst.n, inst.t
    h, assignment = root_finding_polynomial(p, t)
    terms = _square(p)
    R = float(np.abs(inst.y).max())
    D = float(inst.y.max() - inst.y.min())
    N = float(n) ** (t - 1)
    lip = sum(abs(c) * a[j] * R ** (sum(a) - 1) for a, c in p.items() for j in range(1, t) if a[j])
    G = float(np.log(4 * max(1.0, lip * D) * N)) + 1
    K = 2 * G * N
    d = len(assignment) + t - 1
    eta = (t + d + 2) * 2.0**-53 * (K * sum(abs(terms[a]) * R ** sum(a) for a in assignment) + G * N)
    if eta > 0.5:
        raise ValueError(f"logits too large for float64 (rounding bound {eta:.2g} > 1/2): use smaller n, values or p")
    Xs = [np.zeros((n, d)) for _ in range(t)]

    def column(col: int, T: tuple[int, ...], factors: dict[int, np.ndarray], scale: float) -> None:
        for j in T:
            Xs[j - 1][:, col] = factors.get(j, 1.0)
        Xs[min(T) - 1][:, col] *= d * scale

    for col, (a, T) in enumerate(assignment.items()):
        column(col, T, {j: y ** a[j - 1] for j in T}, -K * terms[a])
    pos = np.arange(n, dtype=float)
    for j in range(2, t + 1):
        T = next(M for M in h.monomials if j in M)
        column(len(assignment) + j - 2, T, {j: float(n) ** (t - j) * pos}, G)
    Vs = []
    for j in range(2, t + 1):
        V = np.ones((n, t - 1))
        V[:, j - 2] = y
        Vs.append(V)
    return h, Xs, Vs


def solve_root_finding(inst: RootFindingInstance) -> tuple[np.ndarray, np.ndarray]:
    """Run the head exactly; return ``(predicted labels, |p(y_l1, yhat)|)`` per token."""
    h, Xs, Vs = root_finding_weights(inst)
    yhat = poly_attention_exact(h, Xs, Vs).output
    value = evaluate_polynomial(inst.p, [inst.y.astype(float)] + list(yhat.T))
    return np.abs(value) < 0.5, np.abs(value)
