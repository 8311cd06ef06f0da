"""The threshold explorer: sliders for ``n, d, B, eps`` over :func:`algorithms.threshold.threshold_map`.

With ipywidgets and a kernel (JupyterLab), :func:`threshold_explorer` shows sliders and redraws the map with
the point ``(n, B)`` starred and its degree / rank / flops readout; otherwise, or with
``BOUNDED_ENTRIES_EXPLORER=static`` (``make html``), it draws the same figure once.  The map of one
``(d, eps, k)`` is computed once on :data:`N_GRID` x :data:`B_GRIDS` and cached; ``n, B`` snap to that grid
(moving them only redraws); a new ``d`` reuses the degrees (:func:`with_dimension`); only a new ``eps``
certifies polynomials again (seconds, once).

Examples
--------
>>> small = threshold_map([1e3, 1e6], [0.5, 1.0], d=8, eps=1e-3)  # the explorer's grid is larger (seconds)
>>> seed_cache(small)
>>> readout(n=1e6, B=1.0, d=16, eps=1e-3)  # d = 16 reuses the degrees certified for d = 8
Readout(n=1e+06, B=1, d=16, eps=0.001, k=2: g = 5, r = 2.035e+04; fast 1.44e+12 vs exact 6.6e+13 flops: fast cheaper; B below the hard-instance curve B* = 3.72, constant-d region (d < c log2 n))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace

import numpy as np
import sympy as sp

from algorithms.bounds import exact_flops_expr, fast_flops_expr, mechanism_degree
from algorithms.polynomial_method import feature_rank
from algorithms.threshold import EXACT_WINS, FAST_WINS, INFEASIBLE, ThresholdMap, plot_threshold_map, threshold_map

__all__ = ["Readout", "explorer_map", "with_dimension", "seed_cache", "map_to_dict", "map_from_dict", "readout",
           "explorer_figure", "threshold_explorer"]

#: The ``n`` grid of every explorer map (notebook 04's): 36 points from ``10^2`` to ``10^9``.
N_GRID = np.geomspace(1e2, 1e9, 36)
#: The ``B`` grid per logit degree ``k`` (notebook 04's), up to past the float64 limit at ``eps = 1e-3``.
B_GRIDS = {2: np.arange(0.25, 4.01, 0.375), 3: np.arange(0.2, 2.5, 0.35)}
#: The ``eps`` values the slider offers.
EPS_CHOICES = (1e-2, 1e-3, 1e-4, 1e-6, 1e-8)
_MAPS: dict[tuple[int, float, int], ThresholdMap] = {}
_REGIONS = {FAST_WINS: "fast", EXACT_WINS: "exact", INFEASIBLE: "float64-infeasible"}


def with_dimension(tmap: ThresholdMap, d: int) -> ThresholdMap:
    """``tmap`` for head dimension ``d``: the same degrees (they depend on ``B, eps, k`` only), new ranks and flops.

    Equal to ``threshold_map(tmap.n_values, tmap.B_values, d, tmap.eps, tmap.k, tmap.gap, tmap.c)`` without
    certifying a polynomial again (checked in ``tests/algorithms/test_explorer.py``).
    """
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    d = int(d)
    rank = np.array([float(feature_rank(d, int(g))) if g >= 0 else np.nan for g in tmap.degree])
    fast = sp.lambdify(("n", "r"), fast_flops_expr(sp.Symbol("n"), d, sp.Symbol("r"), tmap.k))
    exact = sp.lambdify("n", exact_flops_expr(sp.Symbol("n"), d, tmap.k))
    fast_flops = fast(tmap.n_values[None, :], rank[:, None])
    exact_flops = np.asarray(exact(tmap.n_values), dtype=float)
    region = np.where(~tmap.feasible[:, None], INFEASIBLE, np.where(fast_flops < exact_flops, FAST_WINS, EXACT_WINS))
    log_dimension = d >= tmap.c * np.log2(tmap.n_values)
    return replace(tmap, d=d, rank=rank, fast_flops=fast_flops, exact_flops=exact_flops, region=region,
                   log_dimension=log_dimension, hard_side=tmap.above_curve & log_dimension[None, :])


def map_to_dict(tmap: ThresholdMap) -> dict:
    """The map as plain lists and numbers (JSON); :func:`map_from_dict` inverts it."""
    return {f.name: getattr(tmap, f.name).tolist() if isinstance(getattr(tmap, f.name), np.ndarray)
            else getattr(tmap, f.name) for f in fields(tmap)}


def map_from_dict(data: dict) -> ThresholdMap:
    """A :class:`~algorithms.threshold.ThresholdMap` from :func:`map_to_dict`'s output (e.g. committed JSON)."""
    return ThresholdMap(**{k: np.asarray(v, dtype=float if k in ("rank", "fast_flops") else None)
                           if isinstance(v, list) else v for k, v in data.items()})


def seed_cache(tmap: ThresholdMap | None = None) -> None:
    """Remember a map computed elsewhere (e.g. read from committed JSON) for its ``(d, eps, k)``; ``None`` clears."""
    _MAPS.clear() if tmap is None else _MAPS.update({(tmap.d, float(tmap.eps), tmap.k): tmap})


def explorer_map(d: int, eps: float, k: str | int = "matrix") -> ThresholdMap:
    """The cached map on :data:`N_GRID` x ``B_GRIDS[k]`` for ``(d, eps, k)``; a new ``d`` reuses the degrees."""
    k = mechanism_degree(k)
    if k not in B_GRIDS:
        raise ValueError(f"k must be 2 (matrix) or 3 (tensor) in the explorer, got {k}")
    key = (int(d), float(eps), k)
    if key not in _MAPS:
        same = [m for (_, e, kk), m in _MAPS.items() if e == key[1] and kk == k]
        _MAPS[key] = (with_dimension(same[0], int(d)) if same
                      else threshold_map(N_GRID, B_GRIDS[k], int(d), float(eps), k))
    return _MAPS[key]


@dataclass(frozen=True)
class Readout:
    """The explorer's readout at one grid point: degree, rank, both flop counts, region and hard-side flags."""

    n: float
    B: float
    d: int
    eps: float
    k: int
    degree: int
    rank: float
    fast_flops: float
    exact_flops: float
    region: str
    hard_B: float
    log_dimension: bool
    hard_side: bool

    def __repr__(self) -> str:
        if self.degree < 0:
            cost = "no float64 polynomial reaches eps on [-B^k, B^k]"
        else:
            cost = (f"g = {self.degree}, r = {self.rank:.4g}; fast {self.fast_flops:.3g} vs exact "
                    f"{self.exact_flops:.3g} flops: {self.region} cheaper")
        side = ("hard side (B above the curve, d >= c log2 n)" if self.hard_side else
                f"B {'above' if self.B >= self.hard_B else 'below'} the hard-instance curve B* = {self.hard_B:.3g}"
                + ("" if self.log_dimension else ", constant-d region (d < c log2 n)"))
        return f"Readout(n={self.n:.3g}, B={self.B:.3g}, d={self.d}, eps={self.eps:g}, k={self.k}: {cost}; {side})"


def readout(n: float, B: float, d: int, eps: float, k: str | int = "matrix") -> Readout:
    """The readout at the grid point nearest ``(n, B)`` (``n`` nearest in ``log n``) of :func:`explorer_map`."""
    tmap = explorer_map(d, eps, k)
    j = int(np.argmin(np.abs(np.log(tmap.n_values) - np.log(float(n)))))
    i = int(np.argmin(np.abs(tmap.B_values - float(B))))
    return Readout(float(tmap.n_values[j]), float(tmap.B_values[i]), tmap.d, tmap.eps, tmap.k, int(tmap.degree[i]),
                   float(tmap.rank[i]), float(tmap.fast_flops[i, j]), float(tmap.exact_flops[j]),
                   _REGIONS[int(tmap.region[i, j])], float(tmap.hard_B[j]), bool(tmap.log_dimension[j]),
                   bool(tmap.hard_side[i, j]))


def explorer_figure(n: float, B: float, d: int, eps: float, k: str | int = "matrix", ax=None):
    """The map of :func:`explorer_map` with the point ``(n, B)`` starred and the readout as title; returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 5.2))
    r = readout(n, B, d, eps, k)
    plot_threshold_map(explorer_map(d, eps, k), ax)
    ax.plot([r.n], [r.B], marker="*", ms=18, color="gold", mec="k", ls="none")
    cost = (f"g = {r.degree}, r = {r.rank:.3g}: fast/exact flops = {r.fast_flops / r.exact_flops:.3g}"
            if r.degree >= 0 else "float64 cannot reach eps")
    ax.set_title(f"★ n = {r.n:.3g}, B = {r.B:.3g} (k = {r.k}, d = {r.d}, eps = {r.eps:g}): {cost}", fontsize=10)
    return ax


def _widgets_available() -> bool:
    """ipywidgets importable, an IPython kernel running, and ``BOUNDED_ENTRIES_EXPLORER`` not ``static``."""
    if os.environ.get("BOUNDED_ENTRIES_EXPLORER", "").lower() == "static":
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def threshold_explorer(n: float = 2**16, B: float = 1.0, d: int = 16, eps: float = 1e-3, k: str | int = "matrix",
                       interactive: bool | None = None):
    """Sliders for ``n, d, B, eps`` over the threshold map, or one static figure where widgets cannot run.

    ``n, B, d, eps`` is the starting point (``n, B`` snapped to the grid, ``eps`` in :data:`EPS_CHOICES`), ``k``
    ``"matrix"`` or ``"tensor"``; ``interactive`` forces widgets (``True``) or the static figure (``False``), by
    default widgets when :func:`_widgets_available`.  Returns the ``ipywidgets.VBox`` (sliders, figure, readout),
    or the :class:`Readout` after drawing the static figure.  Raises ``ValueError`` for ``eps`` off the list.
    """
    if eps not in EPS_CHOICES:
        raise ValueError(f"eps must be one of {EPS_CHOICES}, got {eps!r}")
    k = mechanism_degree(k)
    if interactive is None:
        interactive = _widgets_available()
    import matplotlib.pyplot as plt

    if not interactive:
        explorer_figure(n, B, d, eps, k)
        plt.show()
        return readout(n, B, d, eps, k)
    import ipywidgets as w
    from IPython.display import display

    start, grid = readout(n, B, d, eps, k), explorer_map(d, eps, k)  # the sliders move on the map's own grid
    sliders = dict(
        n=w.SelectionSlider(options=[(f"{x:.3g}", float(x)) for x in grid.n_values], value=start.n, description="n"),
        B=w.SelectionSlider(options=[(f"{x:.3g}", float(x)) for x in grid.B_values], value=start.B, description="B"),
        d=w.IntSlider(value=int(d), min=1, max=64, description="d"),
        eps=w.SelectionSlider(options=[(f"{x:g}", x) for x in EPS_CHOICES], value=eps, description="eps"),
    )

    def update(n, B, d, eps):
        explorer_figure(n, B, d, eps, k)
        plt.show()
        display(readout(n, B, d, eps, k))

    out = w.interactive_output(update, sliders)
    return w.VBox([w.HBox(list(sliders.values())[:2]), w.HBox(list(sliders.values())[2:]), out])
