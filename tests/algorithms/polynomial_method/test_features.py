"""The feature map: phi(Q) psi(K)^T = P(s Q K^T), rank C(d+g, g), every monomial once."""

import itertools
from math import comb, factorial

import numpy as np
import pytest

from algorithms.polynomial_method import (
    feature_rank,
    key_features,
    monomial_exponents,
    monomials,
    multinomial_weights,
    query_features,
)


@pytest.mark.parametrize("d,g", [(1, 0), (1, 5), (2, 3), (3, 4), (4, 7), (6, 2)])
def test_exponents_are_all_multi_indices_once(d, g):
    exps = monomial_exponents(d, g)
    expected = {a for a in itertools.product(range(g + 1), repeat=d) if sum(a) <= g}
    assert {tuple(e) for e in exps} == expected
    assert len(exps) == feature_rank(d, g) == comb(d + g, g)


@pytest.mark.parametrize("d,g", [(2, 3), (3, 4), (4, 5)])
def test_monomials_equal_products_of_powers(d, g):
    X = np.random.default_rng(d * 10 + g).uniform(-2, 2, (17, d))
    exps = monomial_exponents(d, g)
    direct = np.prod(X[:, None, :] ** exps[None, :, :], axis=2)
    np.testing.assert_allclose(monomials(X, g), direct, rtol=1e-13, atol=1e-13)


def test_multinomial_weights_sum_to_powers_of_d():
    # sum_{|alpha| = j} j!/alpha! = d^j (multinomial theorem at x = 1)
    d, g = 3, 5
    w, degs = multinomial_weights(d, g), monomial_exponents(d, g).sum(axis=1)
    for j in range(g + 1):
        assert w[degs == j].sum() == pytest.approx(d**j)
    assert w[-1] == factorial(int(degs[-1])) / np.prod([factorial(int(e)) for e in monomial_exponents(d, g)[-1]])


@pytest.mark.parametrize("d,g,scale", [(2, 4, 0.5), (4, 6, 0.25), (5, 3, 1.0)])
def test_features_reproduce_the_polynomial_of_the_inner_product(d, g, scale):
    rng = np.random.default_rng(g)
    Q, K = rng.uniform(-1, 1, (11, d)), rng.uniform(-1, 1, (13, d))
    a = rng.normal(size=g + 1)
    U1, U2 = query_features(Q, a, scale), key_features(K, g)
    assert U1.shape == (11, feature_rank(d, g)) and U2.shape == (13, feature_rank(d, g))
    expected = np.polynomial.polynomial.polyval(scale * Q @ K.T, a)
    np.testing.assert_allclose(U1 @ U2.T, expected, rtol=1e-11, atol=1e-11)


def test_key_features_of_a_pair_give_the_trilinear_polynomial():
    """phi(q) . (psi(k1) o psi(k2)) = P(s <q, k1 o k2>): the tensor trick's identity."""
    rng = np.random.default_rng(5)
    d, g = 3, 5
    Q, K1, K2 = (rng.uniform(-1, 1, (4, d)) for _ in range(3))
    a = rng.normal(size=g + 1)
    U1 = query_features(Q, a, 1 / d)
    pair = (key_features(K1, g)[:, None, :] * key_features(K2, g)[None, :, :]).reshape(-1, U1.shape[1])
    logits = np.einsum("il,jl,kl->ijk", Q, K1, K2).reshape(4, -1) / d
    np.testing.assert_allclose(U1 @ pair.T, np.polynomial.polynomial.polyval(logits, a), rtol=1e-11, atol=1e-12)


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="X must be a 2-d array"):
        monomials(np.ones(3), 2)
    with pytest.raises(ValueError, match="need d >= 1 and g >= 0"):
        feature_rank(0, 2)
    with pytest.raises(ValueError, match="need d >= 1 and g >= 0"):
        monomial_exponents(2, -1)


def _multinomial(alpha) -> int:
    """|alpha|! / alpha! as a product of binomials (exact Python integers; independent of the library)."""
    total, out = 0, 1
    for a in alpha:
        total += int(a)
        out *= comb(total, int(a))
    return out


@pytest.mark.parametrize("d,g", [(2, 70), (3, 26), (4, 24)])
def test_multinomial_weights_are_exact_at_high_degree(d, g):
    # Regression (fuzz suite): the weights were a ratio of int64 products of factorials, which wraps past 2^63
    # (20! 3! already does), so every feature of degree >= 23 at d = 3 was wrong.
    w, exps = multinomial_weights(d, g), monomial_exponents(d, g)
    assert all(w[c] == float(_multinomial(alpha)) for c, alpha in enumerate(exps))


def test_tensor_features_reproduce_the_polynomial_at_degree_26():
    # The fuzz reproducer's tensor logits (23.09, 16.70, 2.86, 1.53) with exp's Taylor coefficients to degree 26:
    # every coefficient is positive, so the feature sums must match the power basis to rounding.
    Q = np.array([[0.0, 0.17044713, 0.03059802]])
    K1 = np.array([[-232.0, 98.0, -313.0], [475.0, 9.0, -65.0]])
    K2 = np.array([[3.0, 3.0, -2.0], [-3.0, 3.0, 0.0]])
    g = 26
    a = np.array([1.0 / factorial(j) for j in range(g + 1)])
    U1 = query_features(Q, a, 1 / 3)
    pair = (key_features(K1, g)[:, None, :] * key_features(K2, g)[None, :, :]).reshape(-1, U1.shape[1])
    logits = np.einsum("il,jl,kl->ijk", Q, K1, K2).reshape(1, -1) / 3
    np.testing.assert_allclose(U1 @ pair.T, np.polynomial.polynomial.polyval(logits, a), rtol=1e-12)
