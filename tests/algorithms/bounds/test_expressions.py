"""Symbolic expressions (algorithms.bounds.expressions), each checked numerically or against an independent computation."""

import itertools
import math

import numpy as np
import pytest
import sympy as sp

from algorithms import bounds
from algorithms.bounds import (
    SYMBOLS,
    aggarwal_alman_degree_expr,
    feature_rank_expr,
    hard_instance_bound_expr,
    log_rank_bounds,
    mechanism_degree,
    output_error_expr,
    paper_rank_expr,
)
from algorithms.features import feature_rank, monomial_exponents
from algorithms.polynomial import aggarwal_alman_degree

n = SYMBOLS.n
LOG = sp.log(n)
KS = [2, 3, 4]


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
    # It is (E1), e' spread / (1 + sqrt(1 - e'^2)), at the largest spread R = 2 B: not half of it.
    assert bound == pytest.approx(e * (2 * Bv) / (1 + math.sqrt(1 - e * e)), rel=1e-14)


def test_output_error_expression_is_documented_as_e1_itself():
    # Issue 10, item 7: the docstring called this bound "half the bound (E1)", a leftover of an older (E1).
    eps_, B_ = SYMBOLS.eps, SYMBOLS.B
    e1_at_spread_2B = eps_ * (2 * B_) / (1 + sp.sqrt(1 - eps_**2))
    assert sp.simplify(output_error_expr(eps_, B_) - e1_at_spread_2B) == 0
    doc = " ".join(output_error_expr.__doc__.split())
    assert "half the bound" not in doc and "the same bound, not a multiple of it" in doc


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


@pytest.mark.parametrize("k", ["vector", "degree-x", 1, "degree-1", True, 2.0])
def test_unknown_mechanism_is_rejected(k):
    with pytest.raises(ValueError, match="k "):
        mechanism_degree(k)


def test_module_exports_exist():
    for name in bounds.__all__:
        assert hasattr(bounds, name)


def test_star_import_does_not_overwrite_single_letter_names():
    namespace = {"n": 5, "d": 7, "B": 1.0, "eps": 1e-3, "L": 2, "g": 3, "N": 11}
    exec("from algorithms.bounds import *", namespace)
    assert [namespace[k] for k in ("n", "d", "B", "eps", "L", "g", "N")] == [5, 7, 1.0, 1e-3, 2, 3, 11]
    assert not {"n", "d", "B", "eps", "L", "g", "N"} & set(bounds.__all__)
    # ... and the symbols stay reachable under one name, in this order.
    assert [str(s) for s in SYMBOLS] == ["n", "d", "B", "epsilon", "L", "g", "N"]
    assert SYMBOLS.eps is namespace["SYMBOLS"].eps and all(s.is_positive for s in SYMBOLS)
