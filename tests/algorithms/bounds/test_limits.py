"""Asymptotic exponents (algorithms.bounds.limits): sympy limits against closed forms and large-n evaluation."""

import math

import mpmath
import pytest
import sympy as sp

from algorithms.bounds import SYMBOLS, asymptotic_exponent, time_exponent_expr

n = SYMBOLS.n
LOG = sp.log(n)
KS = [2, 3, 4]


def small_B(k):
    """``(log n)^{1/k} / log log n``: o((log n)^{1/k}), the upper-bound side."""
    return LOG ** sp.Rational(1, k) / sp.log(LOG)


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


def test_bad_rank_bound_is_rejected():
    with pytest.raises(ValueError, match="rank_bound"):
        asymptotic_exponent("matrix", 1, LOG, 1 / n, rank_bound="middle")


def test_oscillating_accuracy_is_rejected():
    with pytest.raises(ValueError, match="no limit|does not exist"):
        asymptotic_exponent("matrix", sp.sqrt(LOG), LOG, sp.exp(-LOG * (2 + sp.sin(n))))
