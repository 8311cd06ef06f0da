"""Hostile arguments of the exp approximation (issue 13, item 11): refused at once, never a hang."""

import time

import pytest

from algorithms.polynomial_method.exp_approximation import (
    chebyshev_truncation_error,
    exp_approximation,
    truncation_degree,
)


def _refused_fast(fn, *args, match):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match):
        fn(*args)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("h", [float("nan"), float("inf"), -1.0, 0.0, 1e6, 710.0, True, "3", None])
def test_truncation_error_refuses_bad_half_widths(h):
    _refused_fast(chebyshev_truncation_error, h, 8, match="half_width must be a number in")
    _refused_fast(truncation_degree, h, 1e-6, match="half_width must be a number in")


@pytest.mark.parametrize("g", [-1, 10**7, 2.5, True, float("nan")])
def test_truncation_error_refuses_bad_degrees(g):
    _refused_fast(chebyshev_truncation_error, 3.0, g, match="degree must be an integer")


@pytest.mark.parametrize("lo,hi", [(1e10, 1e10 + 1), (-1e10, 0.0), (float("nan"), 1.0), (0.0, float("inf")),
                                   (-800.0, -799.0), (709.5, 709.7)])
def test_exp_approximation_refuses_intervals_outside_float64(lo, hi):
    _refused_fast(exp_approximation, lo, hi, 0.5, match=r"must be a finite number in \[-708.0, 709.0\]")


def test_largest_half_width_is_fast_and_the_bisection_gives_the_linear_answer():
    start = time.perf_counter()
    assert chebyshev_truncation_error(709.0, 8) > 1e307
    assert truncation_degree(300.0, 1e-6) == 85  # the degree the former linear search found (in 10 s)
    assert time.perf_counter() - start < 6.0
    for h, eps in ((0.5, 0.3), (1.0, 1e-6), (3.0, 1e-12), (7.5, 1e-3)):
        g = truncation_degree(h, eps)
        import math
        assert chebyshev_truncation_error(h, g) * math.exp(-h) <= eps
        assert g == 0 or chebyshev_truncation_error(h, g - 1) * math.exp(-h) > eps
