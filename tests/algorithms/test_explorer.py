"""The threshold explorer (algorithms/explorer.py): cache, reuse of degrees, readout, both display modes.

The explorer's own grid costs seconds to certify; these tests shrink it
(monkeypatched ``N_GRID`` / ``B_GRIDS``) so that the code paths run in well under a second each.
"""

from __future__ import annotations

import dataclasses

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from algorithms import explorer  # noqa: E402
from algorithms.threshold import threshold_map  # noqa: E402

SMALL_N = np.array([1e2, 1e3, 1e4, 1e6, 1e9])
SMALL_B = {2: np.array([0.5, 1.0, 1.75, 4.0]), 3: np.array([0.5, 1.0, 3.0])}


@pytest.fixture(autouse=True)
def small_grid(monkeypatch):
    """A fresh cache and a small grid for every test (4.0 and 3.0 are past the float64 limit at eps = 1e-3)."""
    monkeypatch.setattr(explorer, "N_GRID", SMALL_N)
    monkeypatch.setattr(explorer, "B_GRIDS", SMALL_B)
    explorer.seed_cache(None)
    yield
    explorer.seed_cache(None)


def assert_maps_equal(a, b):
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("d", [1, 4, 16, 40])
def test_with_dimension_equals_threshold_map(d, k):
    base = threshold_map(SMALL_N, SMALL_B[k], d=8, eps=1e-3, k=k)
    assert_maps_equal(explorer.with_dimension(base, d), threshold_map(SMALL_N, SMALL_B[k], d=d, eps=1e-3, k=k))


def test_explorer_map_is_cached_and_a_new_d_certifies_nothing(monkeypatch):
    first = explorer.explorer_map(16, 1e-3)
    expected = threshold_map(SMALL_N, SMALL_B[2], d=3, eps=1e-3)
    assert explorer.explorer_map(16, 1e-3) is first
    np.testing.assert_array_equal(first.n_values, SMALL_N)
    assert first.degree.tolist()[-1] == -1  # B = 4: float64 cannot reach eps = 1e-3 on [-16, 16]

    def refuse(*args, **kwargs):
        raise AssertionError("a new d must reuse the certified degrees")

    monkeypatch.setattr(explorer, "threshold_map", refuse)
    other = explorer.explorer_map(3, 1e-3)
    assert_maps_equal(other, expected)
    with pytest.raises(AssertionError, match="reuse"):
        explorer.explorer_map(3, 1e-2)  # a new eps does certify


def test_readout_snaps_to_the_grid_and_reads_the_map():
    tmap = explorer.explorer_map(16, 1e-3)
    r = explorer.readout(n=2e3, B=1.1, d=16, eps=1e-3)
    assert (r.n, r.B) == (1e3, 1.0)  # nearest in log n, nearest in B
    i, j = 1, 1
    assert (r.degree, r.rank) == (int(tmap.degree[i]), float(tmap.rank[i]))
    assert (r.fast_flops, r.exact_flops) == (float(tmap.fast_flops[i, j]), float(tmap.exact_flops[j]))
    assert r.region == ("fast" if tmap.fast_wins[i, j] else "exact")
    assert r.log_dimension and r.hard_B == pytest.approx(np.sqrt(np.log(1e3)))
    off = explorer.readout(n=1e9, B=4.0, d=16, eps=1e-3)
    assert off.degree == -1 and off.region == "float64-infeasible" and "no float64 polynomial" in repr(off)
    assert off.hard_side is False and not off.log_dimension  # d = 16 < log2(1e9): constant-d region


def test_readout_reprs_are_short():
    r = explorer.readout(n=1e3, B=1.75, d=16, eps=1e-3)
    assert len(repr(r)) < 300 and "\n" not in repr(r) and f"g = {r.degree}" in repr(r)


def test_static_mode_draws_and_returns_the_readout(monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setenv("BOUNDED_ENTRIES_EXPLORER", "static")
    assert explorer._widgets_available() is False
    out = explorer.threshold_explorer(n=1e4, B=1.0, d=16, eps=1e-3)
    assert isinstance(out, explorer.Readout) and out.n == 1e4
    ax = explorer.explorer_figure(1e4, 1.0, 16, 1e-3)
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None and "★" in ax.get_title()
    plt.close("all")


def test_widget_mode_builds_sliders_headless():
    w = pytest.importorskip("ipywidgets")
    import matplotlib.pyplot as plt

    box = explorer.threshold_explorer(n=1e4, B=1.0, d=16, eps=1e-3, interactive=True)
    assert isinstance(box, w.VBox)
    sliders = [c for row in box.children[:2] for c in row.children]
    assert [s.description for s in sliders] == ["n", "B", "d", "eps"]
    sliders[2].value = 8  # moving d redraws from the cache
    assert (8, 1e-3, 2) in explorer._MAPS
    plt.close("all")


def test_maps_survive_json():
    import json

    tmap = threshold_map(SMALL_N, SMALL_B[2], d=16, eps=1e-3)
    back = explorer.map_from_dict(json.loads(json.dumps(explorer.map_to_dict(tmap))))
    assert_maps_equal(back, tmap)
    explorer.seed_cache(back)
    assert explorer.explorer_map(16, 1e-3) is back


@pytest.mark.parametrize("call, message", [
    (lambda: explorer.threshold_explorer(eps=0.5, interactive=False), "eps must be one of"),
    (lambda: explorer.explorer_map(16, 1e-3, k=4), "k must be 2"),
    (lambda: explorer.with_dimension(threshold_map([1e3], [1.0], d=4, eps=1e-3), 0), "d must be a positive integer"),
])
def test_bad_input_names_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()
