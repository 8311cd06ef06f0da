"""r-fold function composition by one tree-attention head (the path ``h_r``).

``L = r n + 1`` tokens: the token at position ``s n + a`` carries
``f_{s+1}(a)`` (``s = 0..r-1``, ``a in [n]``), the last token carries ``x``;
the answer, read at the last token, is ``f_r(...f_1(x))`` (Peng, Narayanan &
Papadimitriou 2024, arXiv 2402.08164; the setting of Chakrabarti, Pitassi &
Alman, arXiv 2602.02422, Thms 3.1, 3.3, 3.4).  One head along the path ``h_r``
solves it (:func:`composition_weights`); one layer of standard attention
cannot (Peng et al.: not once ``n log n > H (d+1) p``), and tensor or Strassen
attention need ``n^{1-o(1)}`` heads for ``r = 3`` (Thm 3.3).
:func:`self_attention_one_hop` shows the natural one-head attempt following a
single pointer.

The weights are our own reconstruction, proved in the docstring (see
docs/poly-attention.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..attention_polynomial import path_attention_polynomial, self_attention_polynomial
from ..exact import poly_attention_exact

__all__ = [
    "CompositionInstance",
    "random_composition",
    "composition_weights",
    "solve_composition",
    "self_attention_one_hop",
]


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
    (h, Xs, Vs) with ``h = path_attention_polynomial(r)``, ``d = 3 r``, ``d_v = 1``.

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
    return path_attention_polynomial(r), Xs, Vs


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
    out = poly_attention_exact(self_attention_polynomial(), [Q, K], [vals[:, None]]).output
    return int(round(float(out[-1, 0])))
