"""Match3 by two Strassen heads (or, through ``tensor_form``, two 3-tensor heads).

Values ``p_i in {1..m-1}``; ``y_i = 1`` iff ``p_i + p_j + p_k = 0 (mod m)``
for some ``j, k`` (repeats allowed) (Sanford, Hsu & Telgarsky 2023, arXiv
2306.02896).  Two Strassen heads solve it (:func:`match3_weights`, one per
candidate sum ``Sigma = m, 2m``); by
:func:`~algorithms.poly_attention.attention_polynomial.tensor_form` so do two
3-tensor heads.

The weights are our own reconstruction, proved in the docstring (see
docs/poly-attention.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..attention_polynomial import (
    strassen_attention_polynomial,
    tensor_attention_polynomial,
    tensor_form,
)
from ..exact import poly_attention_exact

__all__ = ["Match3Instance", "random_match3", "match3_weights", "solve_match3"]


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
    (h, Xs, Vs) with ``h = strassen_attention_polynomial()``, ``d = 8``, ``d_v = 2``.

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
    return strassen_attention_polynomial(), [X1, X2, X3], Vs


def solve_match3(inst: Match3Instance, mechanism: str = "strassen") -> np.ndarray:
    """Predict Match3 labels with two heads (``Sigma = m, 2m``), evaluated exactly.

    ``mechanism="tensor"`` runs the same heads as 3-tensor attention ``x1x2x3``
    of width 24 through :func:`~algorithms.poly_attention.attention_polynomial.tensor_form`.
    """
    if mechanism not in ("strassen", "tensor"):
        raise ValueError(f"mechanism must be 'strassen' or 'tensor', got {mechanism!r}")
    hit = np.zeros(len(inst.p), dtype=bool)
    for target in (inst.m, 2 * inst.m):
        h, Xs, Vs = match3_weights(inst, target)
        if mechanism == "tensor":
            h, Xs = tensor_attention_polynomial(3), tensor_form(h, Xs)
        out = poly_attention_exact(h, Xs, Vs).output
        hit |= np.abs(inst.p + out[:, 0] + out[:, 1] - target) < 0.25
    return hit
