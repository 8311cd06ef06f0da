"""The threshold map (algorithms.threshold): regions follow the degree, rank and flop counts."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from algorithms.polynomial import exp_approximation
from algorithms.threshold import (
    EXACT_WINS,
    FAST_WINS,
    INFEASIBLE,
    plot_threshold_map,
    threshold_map,
)

N_VALUES = [1e2, 1e3, 1e4, 1e5, 1e6, 1e8]
B_VALUES = [0.25, 0.5, 1.0, 1.5, 2.0, 4.0]
D, EPS = 8, 1e-3


@pytest.fixture(scope="module")
def matrix_map():
    return threshold_map(N_VALUES, B_VALUES, d=D, eps=EPS)


def test_map_degree_is_the_certified_degree_on_the_logit_interval(matrix_map):
    for b, g in zip(B_VALUES, matrix_map.degree):
        if g >= 0:
            assert g == exp_approximation(-b * b, b * b, EPS).degree
            assert matrix_map.rank[B_VALUES.index(b)] == math.comb(D + g, g)
        else:
            with pytest.raises(ValueError):
                exp_approximation(-b * b, b * b, EPS)


def test_float64_cannot_reach_eps_for_wide_logit_intervals(matrix_map):
    # B = 4: logits in [-16, 16], beyond what float64 power coefficients can certify at 1e-3.
    assert not matrix_map.feasible[-1] and np.all(matrix_map.region[-1] == INFEASIBLE)
    assert np.all(matrix_map.feasible[:-1])


def test_regions_follow_the_flop_counts(matrix_map):
    for i, b in enumerate(B_VALUES):
        for j, n_ in enumerate(N_VALUES):
            if not matrix_map.feasible[i]:
                continue
            r = matrix_map.rank[i]
            fast, exact = n_ * r * (4 * D + 7), n_**2 * (4 * D + 2)  # fast_flops_expr, exact_flops_expr (k = 2)
            assert matrix_map.region[i, j] == (FAST_WINS if fast < exact else EXACT_WINS)


def test_fast_wins_for_long_sequences_and_small_entries(matrix_map):
    wins = matrix_map.fast_wins
    # n r d vs n^2 d: once fast wins at some n it wins at every larger n ...
    for row in wins:
        assert np.all(np.diff(row.astype(int)) >= 0)
    # ... and the degree grows with B, so a win at B is a win at every smaller B.
    for col in wins.T:
        assert np.all(np.diff(col.astype(int)) <= 0)
    assert wins[0, 0] and not wins[-2, 0] and wins[-2, -1]


def test_hard_side_lies_above_the_sqrt_log_n_curve(matrix_map):
    assert np.allclose(matrix_map.hard_B, np.sqrt(np.log(N_VALUES)))
    assert np.array_equal(matrix_map.above_curve, np.array(B_VALUES)[:, None] >= np.sqrt(np.log(N_VALUES)))
    # ... and only where d >= c log2 n (c = 1): with d = 8 that is n <= 2^8, the column n = 100 alone.
    log_dimension = D >= np.log2(N_VALUES)
    assert log_dimension.tolist() == [True, False, False, False, False, False]
    assert np.array_equal(matrix_map.log_dimension, log_dimension)
    assert np.array_equal(matrix_map.hard_side, matrix_map.above_curve & log_dimension[None, :])


@pytest.mark.parametrize("d", [1, 2])
def test_constant_d_cells_above_the_curve_are_not_labelled_hard(d):
    # Issue 10, item 4: at d in {1, 2}, n = 1e3 and B = 2.7..3.0 the entries reach the hard instance's
    # size sqrt(ln 1e3) = 2.63 and the polynomial method is cheaper than exact attention; these cells
    # used to be labelled "SETH side".  The lower bound needs d = Theta(log n): d < log2(1e3) = 9.97.
    B_values = [2.7, 2.8, 2.9, 3.0]
    m = threshold_map([1e3], B_values, d=d, eps=EPS)
    assert m.above_curve.all() and m.fast_wins.all()
    assert not m.log_dimension.any() and not m.hard_side.any()
    # With d >= c log2 n (here c = 0.1: d >= 0.997) the same cells are hard-side again.
    assert threshold_map([1e3], B_values, d=d, eps=EPS, c=0.1).hard_side.all()


def test_hard_side_needs_d_of_order_log_n():
    # d = 16 >= log2 n up to n = 2^16 = 65536 (c = 1), up to 2^32 with c = 1/2.
    ns = [1e3, 6e4, 7e4, 1e9]
    m = threshold_map(ns, [5.0], d=16, eps=EPS)
    assert m.above_curve.all() and m.hard_side.tolist() == [[True, True, False, False]]
    assert threshold_map(ns, [5.0], d=16, eps=EPS, c=0.5).hard_side.all()


def test_tensor_map_uses_the_cubic_interval_and_the_cube_root_curve():
    m = threshold_map([1e2, 1e4], [0.5, 1.0, 1.5], d=4, eps=1e-3, k="tensor", gap=0.5)
    for b, g in zip([0.5, 1.0, 1.5], m.degree):
        assert g == exp_approximation(-(b**3), b**3, 1e-3).degree
    assert np.allclose(m.hard_B, (2 * np.log([1e2, 1e4]) / 0.5) ** (1 / 3))
    assert np.allclose(m.exact_flops, np.array([1e2, 1e4]) ** 3 * (4 * 4 + 2))


def test_map_sorts_its_grid():
    m = threshold_map([1e4, 1e2], [1.0, 0.5], d=4, eps=1e-2)
    assert m.n_values.tolist() == [1e2, 1e4] and m.B_values.tolist() == [0.5, 1.0]


def test_plot_draws_regions_curve_and_legend(matrix_map):
    ax = plot_threshold_map(matrix_map)
    assert ax.get_xscale() == "log"
    (curve,) = ax.get_lines()
    xs, ys = curve.get_data()
    assert np.allclose(ys, np.sqrt(np.log(xs)))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "float64 cannot reach eps" in labels and any("sqrt" in t for t in labels)
    # "SETH" appears once, with the condition d >= c log2 n; the constant-d region has its own entry.
    (seth,) = [t for t in labels if "SETH" in t]
    assert "d >= 1 log2 n" in seth
    (constant_d,) = [t for t in labels if t.startswith("d < 1 log2 n")]
    assert "Gupta et al. 2025" in constant_d and "SETH" not in constant_d
    # The SETH hatching stops at n = 2^(d/c) = 256; the constant-d hatching starts there.
    (seth_fill,) = [c for c in ax.collections if c.get_hatch() == "//"]
    (constant_d_fill,) = [c for c in ax.collections if c.get_hatch() == "\\\\"]
    assert max(p.vertices[:, 0].max() for p in seth_fill.get_paths()) <= 2.0**D
    assert min(p.vertices[:, 0].min() for p in constant_d_fill.get_paths()) == pytest.approx(2.0**D)
    matplotlib.pyplot.close("all")


def test_tensor_plot_does_not_cite_the_matrix_algorithm():
    ax = plot_threshold_map(threshold_map([1e2, 1e4], [0.5, 1.0], d=4, eps=1e-3, k="tensor"))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("d < 1 log2 n") for t in labels) and not any("Gupta" in t for t in labels)
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_values=[]), "n_values"),
        (dict(n_values=[1.0]), "n_values"),
        (dict(n_values=[np.nan]), "n_values"),
        (dict(n_values=[[10.0]]), "n_values"),
        (dict(B_values=[0.0]), "B_values"),
        (dict(B_values=[np.inf]), "B_values"),
        (dict(d=0), "d must"),
        (dict(d=2.5), "d must"),
        (dict(eps=1.0), "eps"),
        (dict(gap=0.0), "gap"),
        (dict(gap=1.5), "gap"),
        (dict(c=0.0), "c "),
        (dict(c=np.inf), "c "),
        (dict(c=True), "c "),
        (dict(k="vector"), "k must"),
    ],
)
def test_bad_input_is_rejected(kwargs, match):
    args = dict(n_values=[1e3], B_values=[0.5], d=4, eps=1e-3) | kwargs
    with pytest.raises(ValueError, match=match):
        threshold_map(**args)
