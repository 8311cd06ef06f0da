"""The threshold map: where, for concrete ``(n, B)``, the polynomial method beats exact attention.

:mod:`algorithms.bounds` states the threshold asymptotically: ``B = o((log n)^{1/k})``
gives ``n^{1+o(1)}``, ``B = Theta((log n)^{1/k})`` does not, and SETH forbids
``n^{k-q}`` there.  This module evaluates the same ingredients at finite sizes
(see docs/threshold.md): for each entry bound ``B`` the degree ``g`` the code
would use (:func:`algorithms.polynomial_method.approximate_exp` on ``[-B^k, B^k]``),
the rank ``r = C(d + g, g)`` (:func:`algorithms.features.feature_rank`), and for
each ``n`` the flop counts :func:`algorithms.bounds.fast_flops_expr` and
:func:`algorithms.bounds.exact_flops_expr`.  A point is

- *infeasible* when no float64 power-basis polynomial reaches ``eps`` on the
  logit interval (``approximate_exp`` raises): the fast algorithm cannot be
  run as written, whatever ``n``;
- *fast* when the fast flop count is below the exact one, *exact* otherwise;
- on the *hard side* when both ``B >= ((k - 1) ln n / gap)^{1/k}``
  (:func:`algorithms.bounds.hard_instance_bound_expr`, the entry size the gap
  reduction needs) and ``d >= c log2 n`` for the stated constant ``c``
  (default 1).  The lower bound (Alman & Song 2023 Thm 1.4; 2024 for
  tensors) is for ``d = Theta(log n)`` *and* logits of range
  ``Theta(log n)``: its hard instances are gap max-IP in dimension
  ``Theta(log n)``.  Both conditions are necessary for the label, and even
  together they are not a proof about a fixed ``n``: the curve marks where hard
  instances *fit*, and SETH rules out ``n^{k-q}`` only asymptotically;
- in the *constant-d region* when ``d < c log2 n``: the lower bound's
  ``d = Theta(log n)`` fails there, and for constant ``d`` matrix attention
  has a subquadratic algorithm at *every* ``B``, ``O~(n^{2-1/d} polylog B)``
  (Gupta, Huang, Saha, Xu & Ye 2025).  They also show ``n^{2-o(1)}`` under
  SETH already at ``d = 2^{Theta(log* n)}``, but for large entries, outside
  the bounded-entry threshold this map is about.  With ``d`` fixed per map,
  this region is every ``n > 2^{d/c}``.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214 (Thm 1.3, Thm 1.4).
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064.
.. [3] S. Gupta, B. Huang, B. Saha, Y. Xu, C. Ye. Subquadratic algorithms and
   hardness for attention with any temperature. ICLR 2026, arXiv:2505.14840.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from algorithms._checks import check_eps
from algorithms.bounds import (
    SYMBOLS,
    exact_flops_expr,
    fast_flops_expr,
    hard_instance_bound_expr,
    mechanism_degree,
)
from algorithms.polynomial_method import approximate_exp, feature_rank

__all__ = ["ThresholdMap", "threshold_map", "plot_threshold_map"]

INFEASIBLE, EXACT_WINS, FAST_WINS = 0, 1, 2


@dataclass(frozen=True)
class ThresholdMap:
    """The map on a grid ``B_values x n_values`` (arrays indexed ``[i_B, j_n]``).

    Attributes
    ----------
    n_values, B_values : the grid.
    d, eps, k, gap : head dimension, target relative error, logit degree,
        gap of the hard instance.
    c : the hard side needs ``d >= c log2 n``.
    degree : (len(B),) int, the certified degree, ``-1`` where infeasible.
    rank : (len(B),) float, ``C(d + g, g)``, ``nan`` where infeasible.
    feasible : (len(B),) bool.
    fast_flops : (len(B), len(n)) float, ``nan`` where infeasible.
    exact_flops : (len(n),) float.
    region : (len(B), len(n)) int: ``INFEASIBLE`` (0), ``EXACT_WINS`` (1),
        ``FAST_WINS`` (2).
    hard_B : (len(n),) the curve ``((k-1) ln n / gap)^{1/k}``.
    above_curve : (len(B), len(n)) bool, ``B >= hard_B``: the hard instance's
        entries fit.
    log_dimension : (len(n),) bool, ``d >= c log2 n``; where it is false, the
        constant-``d`` region.
    hard_side : (len(B), len(n)) bool, ``above_curve`` and ``log_dimension``:
        the lower bound's regime (``d = Theta(log n)``, entries at the curve).
    """

    n_values: np.ndarray
    B_values: np.ndarray
    d: int
    eps: float
    k: int
    gap: float
    c: float
    degree: np.ndarray
    rank: np.ndarray
    feasible: np.ndarray
    fast_flops: np.ndarray
    exact_flops: np.ndarray
    region: np.ndarray
    hard_B: np.ndarray
    above_curve: np.ndarray
    log_dimension: np.ndarray
    hard_side: np.ndarray

    @property
    def fast_wins(self) -> np.ndarray:
        """(len(B), len(n)) bool: fast is feasible and cheaper than exact."""
        return self.region == FAST_WINS

    def __repr__(self) -> str:
        """The grid and the counts per region, never the arrays (a notebook shows this)."""
        n, B = self.n_values, self.B_values
        counts = {name: int((self.region == code).sum()) for name, code in
                  (("fast", FAST_WINS), ("exact", EXACT_WINS), ("float64-infeasible", INFEASIBLE))}
        return (f"ThresholdMap(k={self.k}, d={self.d}, eps={self.eps:g}, {B.size} B in [{B[0]:.3g}, {B[-1]:.3g}] "
                f"x {n.size} n in [{n[0]:.3g}, {n[-1]:.3g}]; cells: " + ", ".join(f"{c} {k}" for k, c in counts.items())
                + f"; hard side {int(self.hard_side.sum())})")

    def _repr_html_(self) -> str:
        """One row per ``B``: degree, rank, and the smallest ``n`` of the grid where fast is cheaper."""
        from algorithms._display import html_table

        rows = []
        for b, g, r, wins in zip(self.B_values, self.degree, self.rank, self.fast_wins):
            first = f"{self.n_values[wins.argmax()]:.3g}" if wins.any() else "none"
            rows.append([f"{b:.3g}", g if g >= 0 else "float64 cannot reach eps", f"{r:.4g}" if g >= 0 else "", first])
        return html_table(["B", "degree g", "rank r", "smallest n where fast is cheaper"], rows, caption=repr(self))


def _positive_vector(name: str, values: Sequence[float], minimum: float) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d sequence, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= minimum):
        raise ValueError(f"{name} must be finite and > {minimum:g}, got {values!r}")
    return a


def threshold_map(
    n_values: Sequence[float],
    B_values: Sequence[float],
    d: int,
    eps: float,
    k: str | int = "matrix",
    gap: float = 1.0,
    c: float = 1.0,
) -> ThresholdMap:
    """Classify every ``(n, B)``: fast cheaper, exact cheaper, or fast impossible in float64; and which are hard-side.

    Parameters
    ----------
    n_values : sequence lengths, each ``> 1`` (sorted ascending in the map).
    B_values : entry bounds, each ``> 0`` (sorted ascending in the map).
    d : head dimension, a positive integer.
    eps : relative error of the polynomial, in ``(0, 1)``.
    k : the mechanism's logit degree (logit interval ``[-B^k, B^k]``), or
        its name: ``"matrix"`` (2), ``"tensor"`` (3), ``"degree-<k>"``.
    gap : relative gap ``Delta / m`` of the hard instance, in ``(0, 1]``.
    c : a cell is on the hard side only where ``d >= c log2 n`` (the lower
        bound is for ``d = Theta(log n)``); ``c > 0``.

    Returns
    -------
    ThresholdMap

    Raises
    ------
    ValueError
        If ``n_values`` or ``B_values`` are empty, non-finite or out of range,
        ``d`` is not a positive integer, ``eps`` is not in ``(0, 1)``,
        ``gap`` is not in ``(0, 1]``, ``c <= 0``, or ``k`` is unknown.

    Examples
    --------
    >>> m = threshold_map([1e3, 1e6], [0.5, 1.0, 4.0], d=8, eps=1e-3)
    >>> m.degree.tolist(), m.region.tolist()
    ([2, 5, -1], [[2, 2], [1, 2], [0, 0]])
    >>> m.above_curve.tolist(), m.log_dimension.tolist()  # d = 8 < log2(1e3) = 9.97
    ([[False, False], [False, False], [True, True]], [False, False])
    >>> bool(m.hard_side.any())
    False
    >>> threshold_map([1e3, 1e6], [0.5, 1.0, 4.0], d=8, eps=1e-3, c=0.5).hard_side.tolist()
    [[False, False], [False, False], [True, False]]

    Notes
    -----
    Cost: one (cached) :func:`~algorithms.polynomial_method.approximate_exp` per ``B``, up to a few
    seconds each for wide intervals; the rest is arithmetic.
    """
    n_arr = np.sort(_positive_vector("n_values", n_values, 1.0))
    B_arr = np.sort(_positive_vector("B_values", B_values, 0.0))
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    eps = check_eps(eps)
    if not (isinstance(gap, (int, float)) and 0 < gap <= 1):
        raise ValueError(f"gap must lie in (0, 1], got {gap!r}")
    if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)) or not (np.isfinite(c) and c > 0):
        raise ValueError(f"c (hard side needs d >= c log2 n) must be a positive number, got {c!r}")
    k = mechanism_degree(k)

    degree = np.full(B_arr.size, -1)
    for i, b in enumerate(B_arr):
        try:
            degree[i] = approximate_exp(float(b), k, eps).degree
        except ValueError:
            pass
    feasible = degree >= 0
    rank = np.array([float(feature_rank(int(d), int(gi))) if gi >= 0 else np.nan for gi in degree])

    fast = sp.lambdify(("n", "r"), fast_flops_expr(sp.Symbol("n"), int(d), sp.Symbol("r"), k))
    exact = sp.lambdify("n", exact_flops_expr(sp.Symbol("n"), int(d), k))
    fast_flops = fast(n_arr[None, :], rank[:, None])
    exact_flops = np.asarray(exact(n_arr), dtype=float)
    region = np.where(~feasible[:, None], INFEASIBLE, np.where(fast_flops < exact_flops, FAST_WINS, EXACT_WINS))

    curve = sp.lambdify(SYMBOLS.n, hard_instance_bound_expr(k, sp.nsimplify(gap)))
    hard_B = np.asarray(curve(n_arr), dtype=float)
    above_curve = B_arr[:, None] >= hard_B[None, :]
    log_dimension = d >= c * np.log2(n_arr)
    return ThresholdMap(
        n_values=n_arr, B_values=B_arr, d=int(d), eps=eps, k=k, gap=float(gap), c=float(c),
        degree=degree, rank=rank, feasible=feasible, fast_flops=fast_flops,
        exact_flops=exact_flops, region=region, hard_B=hard_B, above_curve=above_curve,
        log_dimension=log_dimension, hard_side=above_curve & log_dimension[None, :],
    )


def plot_threshold_map(tmap: ThresholdMap, ax=None):
    """Draw a :class:`ThresholdMap`: ``n`` on a log axis, ``B`` upward, the ``(log n)^{1/k}`` curve.

    Colours: green where the polynomial method is cheaper, grey where exact
    attention is, red where float64 cannot reach ``eps``.  Black hatching
    (``//``) above the hard-instance curve only where ``d >= c log2 n``: the
    lower bound's regime, the only place the legend says SETH.  Blue hatching
    (``\\``) over the constant-``d`` region ``n > 2^{d/c}``, where the lower
    bound's ``d = Theta(log n)`` fails (for ``k = 2`` the legend cites the
    ``O~(n^{2-1/d} polylog B)`` algorithm of Gupta et al. 2025 for constant
    ``d``, which holds at every ``B``).

    Parameters
    ----------
    tmap : the map.
    ax : a matplotlib ``Axes`` (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_threshold_map(threshold_map([1e3, 1e6], [0.5, 1.0, 4.0], d=8, eps=1e-3))
    >>> ax.get_xscale()
    'log'
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    colours = ["#d62728", "#bbbbbb", "#2ca02c"]
    x, y = _edges(tmap.n_values, log=True), _edges(tmap.B_values, log=False)
    ax.pcolormesh(x, y, tmap.region, cmap=ListedColormap(colours), vmin=-0.5, vmax=2.5, shading="flat")
    hard = hard_instance_bound_expr(tmap.k, sp.nsimplify(tmap.gap))
    curve_label = rf"hard instance fits: $B = {sp.latex(hard)}$"
    ns = np.geomspace(x[0], x[-1], 200)
    curve = np.asarray(sp.lambdify(SYMBOLS.n, hard)(ns), dtype=float)
    ax.plot(ns, curve, "k-", lw=2, label=curve_label)
    n_star = 2.0 ** (tmap.d / tmap.c)  # d >= c log2 n  <=>  n <= n_star
    ax.fill_between(ns, curve, y[-1], where=ns <= n_star, facecolor="none", edgecolor="k", hatch="//", lw=0,
                    alpha=0.5)
    if n_star < x[-1]:
        ax.fill_betweenx([y[0], y[-1]], max(n_star, x[0]), x[-1], facecolor="none", edgecolor="tab:blue",
                         hatch="\\\\", lw=0, alpha=0.6)
    ax.set_xscale("log")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(y[0], y[-1])
    ax.set_xlabel("n (tokens)")
    ax.set_ylabel("B (entry bound)")
    ax.set_title(f"k = {tmap.k}, d = {tmap.d}, eps = {tmap.eps:g}")
    handles = [
        Patch(color=colours[2], label="polynomial method cheaper"),
        Patch(color=colours[1], label="exact cheaper"),
        Patch(color=colours[0], label="float64 cannot reach eps"),
        Patch(facecolor="none", edgecolor="k", hatch="//",
              label=f"lower-bound regime, SETH (B above curve, d >= {tmap.c:g} log2 n)"),
        Patch(facecolor="none", edgecolor="tab:blue", hatch="\\\\", label=_constant_d_label(tmap)),
        ax.get_lines()[0],
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8)
    return ax


def _constant_d_label(tmap: ThresholdMap) -> str:
    """Legend text of the constant-``d`` region ``d < c log2 n``."""
    text = f"d < {tmap.c:g} log2 n (n > {2.0 ** (tmap.d / tmap.c):.3g}): not the lower bound's d = Θ(log n)"
    if tmap.k == 2:
        text += ";\nconstant d: Õ(n^(2-1/d)) at every B (Gupta et al. 2025)"
    return text


def _edges(centres: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around sorted grid centres (geometric midpoints on a log axis)."""
    c = np.log(centres) if log else np.asarray(centres, dtype=float)
    if c.size == 1:
        e = np.array([c[0] - 0.5, c[0] + 0.5])
    else:
        mid = (c[1:] + c[:-1]) / 2
        e = np.concatenate([[2 * c[0] - mid[0]], mid, [2 * c[-1] - mid[-1]]])
    if not log:
        e[0] = max(e[0], 0.0)
    return np.exp(e) if log else e
