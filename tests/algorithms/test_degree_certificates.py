"""Degree certificates (algorithms.degree_certificates): certified degrees re-checked at 50 digits, the fitted constant."""

import math

import mpmath
import numpy as np
import pytest

from algorithms.bounds import AGGARWAL_ALMAN_CONSTANT
from algorithms.degree_certificates import (
    DEGREE_GRID,
    degree_certificates,
    fit_aggarwal_alman_constant,
)
from algorithms.polynomial import exp_approximation


@pytest.fixture(scope="module")
def certificates():
    return degree_certificates(*DEGREE_GRID, points=101)


def _independent_truncation(h, g):
    """Chebyshev–Bessel coefficients of e^{h s} on [-1, 1], degree g (mpmath, 50 digits)."""
    return [mpmath.besseli(0, h)] + [2 * mpmath.besseli(j, h) for j in range(1, g + 1)]


def _chebyshev_sum(coefs, s):
    """sum_j coefs[j] T_j(s) by Clenshaw's recurrence."""
    b1 = b2 = mpmath.mpf(0)
    for cj in reversed(coefs[1:]):
        b1, b2 = 2 * s * b1 - b2 + cj, b1
    return s * b1 - b2 + coefs[0]


def _tail(h, g):
    """2 sum_{j > g} I_j(h), summed until the terms are negligible."""
    total, j = mpmath.mpf(0), g + 1
    while True:
        term = mpmath.besseli(j, h)
        total += term
        if j > h + 5 and term < total * mpmath.mpf(10) ** -30:
            return 2 * total
        j += 1


def test_certified_degrees_reach_eps_independently(certificates):
    rng = np.random.default_rng(2)
    checked = 0
    for c in certificates:
        if c.code_degree is None:
            continue
        h = c.L / 2
        p = exp_approximation(-h, h, c.eps)
        xs = np.concatenate([np.linspace(-h, h, 601), rng.uniform(-h, h, 100)])
        with mpmath.workdps(50):
            coefs = [mpmath.mpf(float(a)) for a in p.coefficients][::-1]
            cheb = _independent_truncation(mpmath.mpf(h), p.degree)
            worst = mpmath.mpf(0)
            for x in xs:
                xm = mpmath.mpf(float(x))
                value, target = mpmath.polyval(coefs, xm), mpmath.exp(xm)
                worst = max(worst, abs(value / target - 1))
                # The float64 coefficients are the Chebyshev truncation, up to their rounding.
                trunc = _chebyshev_sum(cheb, xm / h)
                assert abs(value - trunc) / target < 1e-13 * math.exp(c.L)
            # The truncation's error at x = hi is exactly the Bessel tail (all terms positive there).
            at_hi = mpmath.polyval(coefs, mpmath.mpf(h)) - mpmath.exp(mpmath.mpf(h))
            assert float(abs(at_hi)) == pytest.approx(float(_tail(mpmath.mpf(h), p.degree)), rel=1e-6)
            # Minimality: the degree g - 1 truncation, exact, misses eps at an endpoint.
            if p.degree > 0:
                lower = _independent_truncation(mpmath.mpf(h), p.degree - 1)
                miss = max(abs(_chebyshev_sum(lower, s) / mpmath.exp(s * h) - 1) for s in (-1, 1))
                assert miss > c.eps
        assert float(worst) <= c.eps
        assert float(worst) <= p.max_relative_error * (1 + 1e-6)
        checked += 1
    assert checked == 19  # every feasible cell of the 5 x 4 grid; (16, 1e-8) needs more than float64


def test_certificate_errors_lie_between_the_bessel_bounds(certificates):
    for c in certificates:
        if c.code_degree is None:
            assert math.isnan(c.certified_error) and c.L == 16.0 and c.eps == 1e-8
            continue
        rounding = 1e-15 * math.exp(c.L)  # float64 coefficient rounding, relative to e^x
        assert c.bessel_lower * (1 - 1e-9) <= c.true_error <= c.bessel_upper + rounding
        assert c.true_error <= c.certified_error <= c.eps


def test_aggarwal_alman_constant_is_the_fit_and_the_formula_is_tight(certificates):
    assert fit_aggarwal_alman_constant(certificates) == AGGARWAL_ALMAN_CONSTANT
    ratios = [c.formula_degree / c.code_degree for c in certificates if c.code_degree is not None]
    # C g_AA >= g_code everywhere, and a Theta: never more than 2.5 times the certified degree.
    assert 1 <= min(ratios) and max(ratios) <= 2.5


@pytest.mark.parametrize("L_values, eps_values, match", [
    ([0.0], [1e-3], "L_values"), ([np.inf], [1e-3], "L_values"),
    ([1.0], [0.0], "eps_values"), ([1.0], [1.5], "eps_values"),
])
def test_degree_certificates_reject_bad_grids(L_values, eps_values, match):
    with pytest.raises(ValueError, match=match):
        degree_certificates(L_values, eps_values)


def test_fit_needs_a_feasible_certificate():
    with pytest.raises(ValueError, match="feasible"):
        fit_aggarwal_alman_constant(degree_certificates([16.0], [1e-8]))
