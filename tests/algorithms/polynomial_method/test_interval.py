"""The O(n d) logit certificate: it contains every logit (checked in exact rational arithmetic), k = 2, 3, 4."""

from __future__ import annotations

import tracemalloc
from fractions import Fraction
from itertools import product

import numpy as np
import pytest

from algorithms.polynomial_method import logit_bounds
from algorithms.polynomial_method.interval import LogitBounds


def _exact_logits(Q, keys, scale):
    """Every logit scale * sum_l Q[i,l] K2[j2,l] ... as exact Fractions, with its absolute-term sum."""
    s = Fraction(scale)
    factors = [[[Fraction(float(x)) for x in row] for row in X] for X in [Q, *keys]]
    out = []
    for rows in product(*factors):
        terms = [np.prod([r[c] for r in rows]) for c in range(len(rows[0]))]
        out.append((s * sum(terms), s * sum(abs(t) for t in terms)))
    return out


def _contains(b: LogitBounds, Q, keys, scale):
    for x, a in _exact_logits(Q, keys, scale):
        assert Fraction(b.lo) <= x <= Fraction(b.hi)
        assert a <= Fraction(b.absmax) and a <= x + 2 * Fraction(b.neg)  # the rounding bound's assumption


ADVERSARIAL = {
    "mixed signs": lambda rng: rng.choice([-3.0, 3.0], size=(4, 3)),
    "huge and tiny": lambda rng: rng.choice([-1e150, 1e-150, 7.0, -2e-300], size=(4, 3)),
    "one zero column": lambda rng: np.hstack([rng.normal(size=(4, 2)), np.zeros((4, 1))]),
    "constant rows": lambda rng: np.tile(rng.normal(size=(1, 3)), (4, 1)),
    "non-negative": lambda rng: rng.integers(0, 2, size=(4, 3)) * 2.5,
    "subnormal": lambda rng: rng.choice([5e-324, -3e-320, 1e-310], size=(4, 3)),
}


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("seed", range(4))
def test_random_certificates_contain_every_exact_logit(k, seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 5))
    Q = rng.uniform(-2, 2, (5, d))
    keys = [rng.uniform(-2, 2, (int(rng.integers(1, 5)), d)) * rng.uniform(0.1, 3) for _ in range(k - 1)]
    _contains(logit_bounds(Q, keys), Q, keys, 1.0 / d)
    _contains(logit_bounds(Q, keys, scale=0.3, bound=6.0), Q, keys, 0.3)


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
@pytest.mark.parametrize("k", [2, 3])
def test_adversarial_certificates_contain_every_exact_logit(name, k):
    rng = np.random.default_rng(len(name))
    mats = [ADVERSARIAL[name](rng) for _ in range(k)]
    b = logit_bounds(mats[0], mats[1:])
    if np.all(np.isfinite([b.lo, b.hi])):
        _contains(b, mats[0], mats[1:], 1 / 3)
    else:  # beyond float64's range: the certificate says so instead of overflowing
        assert name == "huge and tiny" and (b.lo == -np.inf or b.hi == np.inf)


def test_non_negative_inputs_give_lo_zero_exactly_and_no_negative_mass():
    rng = np.random.default_rng(0)
    A, B = rng.integers(0, 2, (30, 8)).astype(float), rng.integers(0, 2, (31, 8)).astype(float)
    b = logit_bounds(3.0 * A, [3.0 * B])
    assert b.lo == 0.0 and b.neg == 0.0
    assert b.hi >= 9.0 * (A @ B.T).max() / 8


def test_the_tightest_of_interval_products_hoelder_and_the_bound_is_used():
    q, k = np.array([[1.0, 1.0, 1.0, 1.0]]), np.array([[1.0, -1.0, 1.0, -1.0]])
    b = logit_bounds(q, [k])  # interval products: exactly 0 (two +1, two -1)
    assert abs(b.lo) < 1e-15 and abs(b.hi) < 1e-15
    Q = np.eye(4)
    b = logit_bounds(Q, [Q])  # products give [0, 1] per coordinate, sum [0, 4]/4 = [0, 1]; Cauchy-Schwarz 1/4
    assert b.lo == 0.0 and b.hi == pytest.approx(0.25)
    b = logit_bounds(Q, [Q], bound=0.1)  # a promised bound is intersected too
    assert b.hi == pytest.approx(0.01)


def test_nothing_overflows_and_zero_width_is_allowed():
    """Issue 13, items 2 and 3: no B**2 on Python floats, zero and tiny inputs accepted."""
    b = logit_bounds(np.ones((1, 1)), [np.ones((1, 1))], bound=1e200)
    assert b.lo == pytest.approx(1.0, abs=1e-15) and b.hi == pytest.approx(1.0, abs=1e-15)
    assert logit_bounds(np.zeros((2, 2)), [np.zeros((3, 2))]) == LogitBounds(0.0, 0.0, 0.0, 0.0)
    b = logit_bounds(np.full((2, 1), 1e200), [np.full((2, 1), 1e200)])
    assert b.hi == np.inf  # beyond float64: reported, not raised


def test_the_certificate_costs_O_n_d_memory():
    n, d = 200_000, 4
    rng = np.random.default_rng(1)
    Q, K = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    tracemalloc.start()
    logit_bounds(Q, [K])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 6 * n * d * 8  # a few copies of the inputs; an n x n matrix would be 320 GB


def test_each_poly_attention_monomial_certifies_its_own_logits():
    """Poly-attention builds one operator per monomial on that monomial's certified interval."""
    from algorithms.poly_attention import AttentionPolynomial
    from algorithms.poly_attention.fast import _factor_operators

    rng = np.random.default_rng(7)
    h = AttentionPolynomial.parse("x1x2 + x2x3x4")
    Xs = [rng.uniform(-1.5, 1.5, (3, 2)) for _ in range(h.t)]
    Xs[2] = np.abs(Xs[2])  # mixed signs and a non-negative factor
    ops, *_ = _factor_operators(h, Xs, 1.5, 1e-6)
    for M, op in zip(h.monomials, ops):
        mats = [Xs[j - 1] for j in M]
        _contains(op.bounds, mats[0], mats[1:], 0.5)
        lo, hi = op.plan.covered
        assert lo <= op.bounds.lo and op.bounds.hi <= hi
