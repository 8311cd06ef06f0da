"""The central figure's data: spot checks by hand and in mpmath, the committed JSON against the library."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from algorithms.polynomial_method import exp_approximation
from algorithms.threshold_families import (
    FAMILIES,
    family_curves,
    family_parameters,
    family_point,
    load_results,
    measure_point,
    plot_threshold_families,
)


def _tail(h: float, g: int) -> mpmath.mpf:
    """E_g(h) = 2 sum_{j > g} I_j(h), summed by mpmath's nsum (independent of the library's loop)."""
    with mpmath.workdps(40):
        return 2 * mpmath.nsum(lambda j: mpmath.besseli(j, h), [g + 1, mpmath.inf])


@pytest.mark.parametrize("family,k,log2_n,c", [("below", 2, 16, 1.0), ("at", 2, 32, 1.0), ("at", 3, 20, 0.5),
                                               ("deep_below", 3, 24, 0.5)])
def test_computed_points_check_by_hand_and_in_mpmath(family, k, log2_n, c):
    p = family_point(family, k, log2_n, c)
    n, ln_n = 2.0**log2_n, log2_n * math.log(2)
    assert p["d"] == math.ceil(c * log2_n) and p["eps"] == 1 / n
    B = {"deep_below": 1.0, "below": ln_n ** (1 / k) / math.log(ln_n), "at": ((k - 1) * ln_n) ** (1 / k)}[family]
    assert p["B"] == pytest.approx(B) and p["hi"] == pytest.approx(B**k)
    h, g, eps = (p["hi"] - p["lo"]) / 2, p["degree"], p["eps"]
    e_h, e_mh = mpmath.exp(h), mpmath.exp(-h)
    # the lower bound: the right-end error of degree g_lower - 1 exceeds eps, of g_lower does not
    assert _tail(h, p["degree_lower"]) * e_mh <= eps < _tail(h, p["degree_lower"] - 1) * e_mh
    if p["source"] == "bessel":  # the smallest degree certified by E_g(h) e^h <= eps
        assert _tail(h, g) * e_h <= eps < _tail(h, g - 1) * e_h
    else:  # float64: the certified polynomial, re-evaluated at 50 digits on a grid of its own
        P = exp_approximation(p["lo"], p["hi"], eps)
        assert P.degree == g >= p["degree_lower"]
        with mpmath.workdps(50):
            coefs = [mpmath.mpf(float(a)) for a in P.coefficients[::-1]]
            worst = max(abs(mpmath.polyval(coefs, x) / mpmath.exp(x) - 1)
                        for x in np.linspace(p["lo"], p["hi"], 397))
        assert worst <= eps
    r = math.comb(p["d"] + g, g)
    fast = n * r * (2 * k * (p["d"] + 1) + k + 1)  # bounds.fast_flops_expr with n tokens a side
    exact = n**k * (4 * p["d"] + 2)
    assert p["rank"] == pytest.approx(r, rel=1e-15) and p["fast_flops"] == pytest.approx(fast) and p["exact_flops"] == pytest.approx(exact)
    assert p["fast_exponent"] == pytest.approx(math.log(fast) / ln_n)
    assert p["exact_exponent"] == pytest.approx(k + math.log(4 * p["d"] + 2) / ln_n)


def test_the_contrast_of_the_constants_with_lower_bound_degrees():
    """docs/threshold.md's table: below family, truncation (lower-bound) degrees, eps = 1/n."""
    pts = {(p["c"], p["log2_n"]): p for p in family_curves(ks=(2,), cs=(0.5, 1.0), log2_ns=[4, 32, 40])
           if p["family"] == "below"}
    assert [round(pts[1.0, j]["r_lower_over_n"], 1) for j in (4, 32, 40)] == [2.2, 17.0, 10.8]
    assert round(pts[0.5, 4]["r_lower_over_n"], 3) == 0.625 and round(pts[0.5, 40]["r_lower_over_n"], 3) == 0.003
    # the certified degree is at least the lower bound, so r/n is at least as large
    assert all(p["r_over_n"] >= p["r_lower_over_n"] for p in pts.values())


def test_committed_results_are_what_the_library_computes():
    data = load_results()
    assert {"machine", "date", "command", "constants", "computed", "measured", "asymptotes"} <= set(data)
    assert data["command"] == "python bench/threshold_families.py" and data["constants"]["c_prime"] == 1.0
    grid = {(p["family"], p["k"], p["c"], p["log2_n"]) for p in data["computed"]}
    assert grid == {(f, k, c, j) for f in FAMILIES for k in (2, 3) for c in (0.5, 1.0) for j in range(4, 41)}
    for p in data["computed"]:
        if p["log2_n"] in (10, 20) and p["c"] == 1.0:
            q = family_point(p["family"], p["k"], p["log2_n"], p["c"])
            assert (q["degree"], q["source"]) == (p["degree"], p["source"])
            assert q["rank"] == pytest.approx(p["rank"], rel=1e-6)  # the file keeps 7 significant digits
            assert q["fast_exponent"] == pytest.approx(p["fast_exponent"], rel=1e-6)
    for m in data["measured"]:
        assert m["error"] <= m["error_bound"] and m["precision"] in ("float64", "mpmath")
        fam = family_parameters(m["family"], m["k"], m["log2_n"], m["c"])
        tol = 1e-6 * max(1.0, abs(fam["hi"]))  # the file keeps 7 significant digits
        assert fam["lo"] - tol <= m["logits"][0] <= m["logits"][1] <= fam["hi"] + tol
    assert all(v == [1.0, 1.0] for key, lim in data["asymptotes"].items() for f, v in lim.items() if f != "at")
    assert all(1 < lim["at"][0] < lim["at"][1] for lim in data["asymptotes"].values())


def test_the_at_asymptote_is_sympys_limit():
    import sympy as sp

    from algorithms.bounds import SYMBOLS, asymptotic_exponent

    n = SYMBOLS.n
    lo = asymptotic_exponent(2, sp.sqrt(sp.log(n) / 2), sp.log(n) / sp.log(2), 1 / n, constant=sp.Rational(3, 2),
                             rank_bound="lower")
    assert float(lo) == pytest.approx(load_results()["asymptotes"]["k=2,c=1"]["at"][0], rel=1e-6)
    assert float(lo) == pytest.approx(math.log(2 + 3 * math.log(2)) / math.log(2), rel=1e-12)


def test_a_measured_point_runs_the_fast_path_against_exact_in_both_arithmetics():
    m = measure_point("below", 2, 7, c=0.5)
    assert m["error"] <= m["error_bound"] and m["d"] == 4 and m["precision"] == "float64"
    assert m["degree"] == family_point("below", 2, 7, c=0.5)["degree"]  # its data fill the family's interval
    mp = measure_point("below", 2, 5, c=1.0, precision="mpmath")  # the same family, below the threshold
    assert mp["error"] <= mp["error_bound"] and mp["precision"] == "mpmath"


def test_the_figure_draws_from_the_committed_json():
    import matplotlib

    matplotlib.use("Agg")
    fig = plot_threshold_families(load_results())
    assert len(fig.axes) == 6 and fig.axes[1].get_yscale() == "log"
    import matplotlib.pyplot as plt

    plt.close(fig)
