"""Symbolic bounds (algorithms.bounds), each checked numerically or against an independent computation."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from algorithms import bounds
from algorithms.bounds import (
    AGGARWAL_ALMAN_CONSTANT,
    DEGREE_GRID,
    aggarwal_alman_degree_expr,
    asymptotic_exponent,
    degree_certificates,
    feature_rank_expr,
    fit_aggarwal_alman_constant,
    hard_instance_bound_expr,
    log_rank_bounds,
    mechanism_degree,
    n,
    output_error_expr,
    paper_rank_expr,
    threshold_table,
    time_exponent_expr,
)
from algorithms.features import feature_rank, monomial_exponents
from algorithms.polynomial import aggarwal_alman_degree, exp_approximation

LOG = sp.log(n)
KS = [2, 3, 4]


def small_B(k):
    """``(log n)^{1/k} / log log n``: o((log n)^{1/k}), the upper-bound side."""
    return LOG ** sp.Rational(1, k) / sp.log(LOG)


# ------------------------------------------------------------------------ limits
@pytest.mark.parametrize("k, d_of_n, eps_of_n", [(2, 3 * LOG, n**-2), (4, 2 * LOG, n**-3)])
def test_small_entries_give_almost_linear_time(k, d_of_n, eps_of_n):
    # (d = log n, eps = 1/n for k = 2, 3, 4: test_threshold_table_is_computed_for_each_mechanism.)
    # The upper bound on log r gives exponent <= 1, and n r d >= n: exactly 1.
    assert asymptotic_exponent(k, small_B(k), d_of_n, eps_of_n) == 1


@pytest.mark.parametrize("k", KS)
def test_threshold_entries_keep_exponent_above_one(k):
    # B = (log n)^{1/k}, d = log n, eps = 1/n: L = 2 log n and log(1/eps)/L = 1/2 < e,
    # so g = max(2 log n, log n) = 2 log n, i.e. g / log n -> gamma = 2 (with C = 1), d / log n -> 1.
    # (m/j)^j <= C(m, j) <= (e m/j)^j with m = d + g, j in {g, d} bracket log r / log n.
    gamma = 2.0
    lower = asymptotic_exponent(k, LOG ** sp.Rational(1, k), LOG, 1 / n, rank_bound="lower")
    upper = asymptotic_exponent(k, LOG ** sp.Rational(1, k), LOG, 1 / n, rank_bound="upper")
    expected_lower = 1 + max(gamma * math.log(1 + 1 / gamma), math.log(1 + gamma))
    expected_upper = 1 + min(gamma * math.log(math.e * (1 + gamma) / gamma), math.log(math.e * (1 + gamma)))
    assert float(lower) == pytest.approx(expected_lower, rel=1e-12)
    assert float(upper) == pytest.approx(expected_upper, rel=1e-12)
    # The true exponent 1 + log C(3x, 2x) / x at large x (lgamma) lies between them.
    x = 1e7
    true = 1 + (math.lgamma(3 * x + 1) - math.lgamma(2 * x + 1) - math.lgamma(x + 1)) / x
    assert 1 < float(lower) < true < float(upper)


@pytest.mark.parametrize("k", KS)
def test_misstated_threshold_does_not_give_exponent_one(k):
    # Feeding the threshold itself (or a constant multiple) to the upper-bound side must fail.
    for c in (1, sp.Rational(1, 2), 3):
        B = c * LOG ** sp.Rational(1, k)
        assert asymptotic_exponent(k, B, LOG, 1 / n, rank_bound="lower") > 1
    # The matrix side's small-B curve is far above the tensor threshold: exponent is infinite there.
    if k > 2:
        assert asymptotic_exponent(k, small_B(2), LOG, 1 / n, rank_bound="lower") == sp.oo


def test_threshold_exponent_grows_with_the_constant():
    values = [float(asymptotic_exponent("matrix", c * sp.sqrt(LOG), LOG, 1 / n, rank_bound="lower"))
              for c in (1, 2, 4)]
    assert values == sorted(values) and values[-1] > 2  # above the exact exponent: exact wins there


def test_symbolic_limit_agrees_with_large_n_evaluation():
    # At the threshold the finite-n exponent converges like log log n / log n: check it numerically.
    limit = float(asymptotic_exponent("matrix", sp.sqrt(LOG), LOG, 1 / n, rank_bound="lower"))
    expr = time_exponent_expr("matrix", sp.sqrt(LOG), LOG, 1 / n, rank_bound="lower")
    with mpmath.workdps(30):
        gaps = [abs(float(expr.subs(n, sp.exp(sp.Integer(10) ** j)).evalf(30)) - limit) for j in (3, 5, 7)]
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 1e-5
    # On the small-B side the finite-n exponent decreases towards 1 (slowly: like 1/log log log n).
    expr = time_exponent_expr("matrix", small_B(2), LOG, 1 / n)
    values = [float(expr.subs(n, sp.exp(sp.Integer(10) ** j)).evalf(30)) for j in (4, 8, 16, 32)]
    assert all(a > b > 1 for a, b in zip(values, values[1:]))


def test_asymptotic_exponent_accepts_callables():
    assert asymptotic_exponent("tensor", lambda m: small_B(3).subs(n, m), lambda m: sp.log(m), lambda m: 1 / m) == 1


def test_threshold_table_is_computed_for_each_mechanism():
    rows = threshold_table(["matrix", "tensor", "degree-4"])
    assert [r.k for r in rows] == [2, 3, 4]
    for r in rows:
        assert r.fast_exponent_small_B == 1
        assert r.hard_B_power == sp.Rational(1, r.k)
        lower, upper = r.fast_exponent_at_hard_B
        assert 1 < float(lower) <= float(upper)
        assert r.exact_exponent == r.k and r.seth_exponent == r.k


# ----------------------------------------------------------- symbolic expressions
def test_rank_expression_counts_the_monomials():
    for d_, g_ in itertools.product(range(1, 5), range(5)):
        brute = sum(1 for a in itertools.product(range(g_ + 1), repeat=d_) if sum(a) <= g_)
        assert feature_rank_expr(d_, g_) == brute == feature_rank(d_, g_) == len(monomial_exponents(d_, g_))


def test_rank_is_below_the_papers_rank_and_within_its_log_bounds():
    for d_, g_ in itertools.product(range(1, 41, 3), range(1, 41, 3)):
        r = int(feature_rank_expr(d_, g_))
        assert r <= int(paper_rank_expr(d_, g_))
        lo, hi = (float(b) for b in log_rank_bounds(d_, g_))
        assert lo <= math.log(r) * (1 + 1e-12) and math.log(r) <= hi * (1 + 1e-12)


def test_degree_expression_matches_the_numeric_formula():
    for L_, e in itertools.product([0.1, 1.0, 5.0, 30.0], [0.3, 1e-3, 1e-9]):
        assert float(aggarwal_alman_degree_expr(L_, e, 1.7)) == pytest.approx(aggarwal_alman_degree(L_, e, 1.7))


def _normalised_error(A, delta, V):
    """``max |T - Att|`` with ``A~ = A (1 + delta)`` (exact weights vs perturbed, both normalised)."""
    W, Wt = A / A.sum(1, keepdims=True), A * (1 + delta)
    Wt = Wt / Wt.sum(1, keepdims=True)
    return float(np.max(np.abs(Wt @ V - W @ V)))


@pytest.mark.parametrize("e", [0.5, 1e-2, 1e-6])
def test_output_error_bound_holds_and_is_attained(e):
    rng = np.random.default_rng(0)
    Bv = 1.5
    bound = float(output_error_expr(e, Bv))
    for _ in range(20):  # random instances: always within the bound
        A = np.exp(rng.normal(size=(8, 30)))
        V = rng.uniform(-Bv, Bv, size=(30, 3))
        delta = rng.choice([-e, e], size=A.shape) * rng.uniform(0.5, 1, size=A.shape)
        assert _normalised_error(A, delta, V) <= bound * (1 + 1e-9)
    # Worst case: two-valued v, mass p on +B with delta = +eps, the rest -B with delta = -eps.
    p = (math.sqrt(1 - e * e) - 1 + e) / (2 * e)
    A = np.array([[p, 1 - p]])
    worst = _normalised_error(A, np.array([[e, -e]]), np.array([[Bv], [-Bv]]))
    assert worst == pytest.approx(bound, rel=1e-9 + 1e-15 / e)  # float64 cancellation at tiny eps
    assert bound <= e * Bv / (1 - e)  # half the (E1) bound of algorithms.attention


def test_tensor_output_error_uses_value_products():
    rng = np.random.default_rng(1)
    Bv, e, m = 1.2, 1e-3, 6
    V1, V2 = rng.uniform(-Bv, Bv, (m, 2)), rng.uniform(-Bv, Bv, (m, 2))
    V = (V1[:, None, :] * V2[None, :, :]).reshape(m * m, 2)  # V1 (col-Kronecker) V2
    A = np.exp(rng.normal(size=(4, m * m)))
    delta = rng.choice([-e, e], size=A.shape)
    assert _normalised_error(A, delta, V) <= float(output_error_expr(e, Bv, k=3))


@pytest.mark.parametrize("k", KS)
def test_hard_instance_bound_is_where_one_near_tuple_beats_all_far_ones(k):
    # Near tuple: logit beta t_hi; n^{k-1} far tuples at beta t_lo; beta = s^k / m, gap = (t_hi - t_lo)/m.
    m_, t_lo, t_hi, n_ = 40, 10, 30, 1000
    s_star = float(hard_instance_bound_expr(k, sp.Rational(t_hi - t_lo, m_)).subs(n, n_))
    for factor, near_wins in ((1.01, True), (0.99, False)):
        beta = (factor * s_star) ** k / m_
        far_mass = (k - 1) * math.log(n_) + beta * t_lo  # log(n^{k-1} e^{beta t_lo})
        assert (beta * t_hi > far_mass) is near_wins
    assert hard_instance_bound_expr(2, 1) == sp.sqrt(LOG)


# ---------------------------------------------------------------- degree certificates
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


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kind", ["vector", "degree-x", 1, "degree-1", True, 2.0])
def test_unknown_mechanism_is_rejected(kind):
    with pytest.raises(ValueError, match="kind"):
        mechanism_degree(kind)


def test_bad_rank_bound_is_rejected():
    with pytest.raises(ValueError, match="rank_bound"):
        asymptotic_exponent("matrix", 1, LOG, 1 / n, rank_bound="middle")


def test_oscillating_accuracy_is_rejected():
    with pytest.raises(ValueError, match="no limit|does not exist"):
        asymptotic_exponent("matrix", sp.sqrt(LOG), LOG, sp.exp(-LOG * (2 + sp.sin(n))))


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


def test_module_exports_exist():
    for name in bounds.__all__:
        assert hasattr(bounds, name)
