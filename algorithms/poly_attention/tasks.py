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

The weights are our own reconstructions (papers/poly-attention.md §5.3; the
paper's own constructions were not readable), each with its proof below.  Their
entries are ``poly(n)``: far above the ``(log n)^{1/k}`` threshold of the fast
algorithm, as the paper's expressiveness/entry-size trade-off predicts.  They
are evaluated with the exact algorithm, whose log-domain elimination handles
logits of size ``10^5`` without overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .exact import poly_attention_exact
from .polynomial import path_attention, self_attention, strassen_attention

__all__ = [
    "CompositionInstance",
    "random_composition",
    "composition_weights",
    "solve_composition",
    "self_attention_one_hop",
    "Match3Instance",
    "random_match3",
    "match3_weights",
    "solve_match3",
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
