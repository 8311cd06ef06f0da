"""The certified exp approximation: error holds, degree is minimal, bad input is refused.

The checks here are independent of the code that picks the degree: a fresh
random grid evaluated at 50 digits with mpmath, and the Chebyshev-Bessel
closed form of the truncation error (docs/polynomial-method.md).
"""

import math

import mpmath
import numpy as np
import pytest

from algorithms.polynomial_method import (
    aggarwal_alman_degree,
    chebyshev_truncation_error,
    exp_approximation,
)

CASES = [(-1.0, 1.0, 1e-6), (-1.0, 1.0, 1e-12), (-4.0, 4.0, 1e-6), (0.0, 6.0, 1e-8), (-9.0, 9.0, 1e-6), (-0.25, 0.25, 1e-3)]


def _independent_max_relative_error(coefficients, lo, hi, points=1200, seed=0):
    rng = np.random.default_rng(seed)
    xs = np.concatenate([[lo, hi], rng.uniform(lo, hi, points)])
    worst = mpmath.mpf(0)
    with mpmath.workdps(50):
        coefs = [mpmath.mpf(float(a)) for a in coefficients][::-1]
        for x in xs:
            xm = mpmath.mpf(float(x))
            worst = max(worst, abs(mpmath.polyval(coefs, xm) / mpmath.exp(xm) - 1))
    return float(worst)


@pytest.mark.parametrize("lo,hi,eps", CASES)
def test_certified_relative_error_holds_on_an_independent_grid(lo, hi, eps):
    p = exp_approximation(lo, hi, eps)
    measured = _independent_max_relative_error(p.coefficients, lo, hi)
    assert p.max_relative_error <= eps
    assert measured <= p.max_relative_error


@pytest.mark.parametrize("lo,hi,eps", CASES)
def test_float64_evaluation_stays_within_the_certificate(lo, hi, eps):
    p = exp_approximation(lo, hi, eps)
    x = np.linspace(lo, hi, 801)
    with mpmath.workdps(30):
        truth = np.array([float(mpmath.exp(mpmath.mpf(float(v)))) for v in x])
    assert np.max(np.abs(p(x) / truth - 1)) <= p.max_relative_error


def _bessel_tail(h, start, sign=1):
    with mpmath.workdps(40):
        return 2 * mpmath.nsum(lambda k: sign**k * mpmath.besseli(k, h), [start, mpmath.inf])


@pytest.mark.parametrize("lo,hi,eps", CASES)
def test_degree_is_minimal_degree_minus_one_fails(lo, hi, eps):
    """The degree-(g-1) truncation misses eps at an end point.

    With T_k(1) = 1 and T_k(-1) = (-1)^k its error is e^c 2 sum_{k>=g} I_k(h)
    at x = hi and e^c 2 sum_{k>=g} (-1)^k I_k(h) at x = lo.
    """
    p = exp_approximation(lo, hi, eps)
    h = (hi - lo) / 2
    at_hi = float(abs(_bessel_tail(h, p.degree)) * mpmath.exp(-h))
    at_lo = float(abs(_bessel_tail(h, p.degree, sign=-1)) * mpmath.exp(h))
    assert max(at_hi, at_lo) > eps


@pytest.mark.parametrize("lo,hi,eps", CASES)
def test_error_at_right_end_matches_chebyshev_bessel_closed_form(lo, hi, eps):
    p = exp_approximation(lo, hi, eps)
    h = (hi - lo) / 2
    with mpmath.workdps(50):
        coefs = [mpmath.mpf(float(a)) for a in p.coefficients][::-1]
        actual = (mpmath.polyval(coefs, mpmath.mpf(hi)) - mpmath.exp(hi)) / mpmath.exp(hi)
    predicted = -_bessel_tail(h, p.degree + 1) * mpmath.exp(-h)
    # float64 rounding of the coefficients adds at most the certified rounding term
    assert abs(float(actual - predicted)) <= 10 * p.rounding_error + 1e-15


def test_truncation_error_matches_published_values():
    # E_g(3) = 2 sum_{k>g} I_k(3), tabulated independently (mpmath besseli at 40 digits) for B = 3
    assert chebyshev_truncation_error(3.0, 4) == pytest.approx(0.23666, rel=1e-4)
    assert chebyshev_truncation_error(3.0, 12) == pytest.approx(8.197e-8, rel=1e-3)
    assert chebyshev_truncation_error(3.0, 16) == pytest.approx(6.839e-12, rel=1e-3)


def test_degree_grows_with_interval_and_accuracy():
    degrees = [exp_approximation(-L, L, 1e-6).degree for L in (0.5, 1, 2, 4, 8)]
    assert degrees == sorted(degrees) and degrees[0] < degrees[-1]
    by_eps = [exp_approximation(-1, 1, e).degree for e in (1e-2, 1e-4, 1e-8, 1e-12)]
    assert by_eps == sorted(by_eps) and by_eps[0] < by_eps[-1]


def test_aggarwal_alman_estimate_tracks_chosen_degree_within_a_constant():
    ratios = []
    for L in (1, 2, 4, 8, 12):
        for eps in (1e-3, 1e-6, 1e-9):
            ratios.append(exp_approximation(-L / 2, L / 2, eps).degree / aggarwal_alman_degree(L, eps))
    assert 0.3 < min(ratios) and max(ratios) < 4


@pytest.mark.parametrize(
    "lo,hi,eps,match",
    [
        (1.0, 1.0, 1e-6, "lo must be < hi"),
        (2.0, 1.0, 1e-6, "lo must be < hi"),
        (float("nan"), 1.0, 1e-6, "lo must be a finite"),
        (-1.0, float("inf"), 1e-6, "hi must be a finite"),
        (-1.0, 1.0, 0.0, "eps must lie in"),
        (-1.0, 1.0, 1.0, "eps must lie in"),
        (-1.0, 1.0, -1e-3, "eps must lie in"),
        (-16.0, 16.0, 1e-6, "no float64 power-basis polynomial"),
        (0.0, 40.0, 1e-3, "no float64 power-basis polynomial"),
    ],
)
def test_bad_input_raises_value_error(lo, hi, eps, match):
    with pytest.raises(ValueError, match=match):
        exp_approximation(lo, hi, eps)


def test_helper_functions_reject_bad_input():
    with pytest.raises(ValueError, match="half_width"):
        chebyshev_truncation_error(0.0, 3)
    with pytest.raises(ValueError, match="degree"):
        chebyshev_truncation_error(1.0, -1)
    with pytest.raises(ValueError, match="length"):
        aggarwal_alman_degree(-1.0, 1e-3)
    with pytest.raises(ValueError, match="eps"):
        aggarwal_alman_degree(1.0, 2.0)
    assert math.isfinite(aggarwal_alman_degree(100.0, 0.5))
