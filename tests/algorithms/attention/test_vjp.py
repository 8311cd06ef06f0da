"""The VJP of matrix attention: closed form against finite differences, fast within derived bounds."""

import numpy as np
import pytest

from algorithms.attention import (
    attention,
    attention_vjp,
    attention_vjp_error_bound,
    attention_vjp_fast,
)
from tests.conftest import central_difference


def _relative_error(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def _vjp_inputs(n=6, m=5, d=3, dv=2, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1.5, 1.5, (n, d)), rng.uniform(-1.5, 1.5, (m, d)), rng.normal(size=(m, dv)), rng.normal(size=(n, dv)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_attention_vjp_matches_central_differences(seed):
    Q, K, V, dO = _vjp_inputs(seed=seed)
    dQ, dK, dV = attention_vjp(Q, K, V, dO, block_size=2)
    assert _relative_error(dQ, central_difference(lambda X: np.sum(attention(X, K, V) * dO), Q)) < 1e-6
    assert _relative_error(dK, central_difference(lambda X: np.sum(attention(Q, X, V) * dO), K)) < 1e-6
    assert _relative_error(dV, central_difference(lambda X: np.sum(attention(Q, K, X) * dO), V)) < 1e-6


@pytest.mark.parametrize("n,d,B,eps", [(200, 4, 1.0, 1e-6), (150, 3, 1.5, 1e-4), (120, 2, 2.0, 1e-8)])
def test_fast_vjp_error_within_bound(n, d, B, eps):
    rng = np.random.default_rng(n)
    Q, K = rng.uniform(-B, B, (n, d)), rng.uniform(-B, B, (n + 9, d))
    V, dO = rng.normal(size=(n + 9, 3)), rng.normal(size=(n, 3))
    exact = attention_vjp(Q, K, V, dO)
    fast = attention_vjp_fast(Q, K, V, dO, eps=eps, bound=B)
    bounds = attention_vjp_error_bound(Q, K, V, dO, eps=eps, bound=B)
    for e, f, b in zip(exact, fast, bounds):
        assert f.shape == e.shape
        assert np.all(np.abs(f - e) <= b)
        assert np.max(b) < 1e3 * eps * max(1.0, np.max(np.abs(e)))  # the bound is not vacuous


def test_vjp_checks_its_inputs():
    with pytest.raises(ValueError, match="dO must have 2 columns"):
        Q, K, V, dO = _vjp_inputs()
        attention_vjp(Q, K, V, dO[:, :1] @ np.ones((1, 3)))


def test_vjp_of_values_near_the_float64_limit_is_not_nan():
    """``dO V^T - delta`` was ``inf - inf`` for values near 1.8e308; the exact gradient here is 0 for dQ and dK."""
    Q, K, V, dO = np.zeros((1, 2)), np.zeros((3, 2)), np.full((3, 1), 1.7e308), np.ones((1, 1))
    dQ, dK, dV = attention_vjp(Q, K, V, dO)
    assert np.array_equal(dQ, np.zeros((1, 2))) and np.array_equal(dK, np.zeros((3, 2)))
    np.testing.assert_allclose(dV, np.full((3, 1), 1 / 3))


def test_fast_vjp_whose_products_overflow_but_gradients_do_not():
    """``V ⊗ K`` of V ~ 1e300 and K ~ 1e10 overflowed inside the fast VJP (NaN, or a ValueError about an internal
    ``Y``) although every gradient is in range (fuzz suite); the products now run on inputs scaled by powers of two."""
    rng = np.random.default_rng(1)
    Q, K = rng.uniform(-1, 1, (4, 2)) * 1e-10, rng.uniform(-1, 1, (5, 2)) * 1e10
    V, dO = rng.uniform(-1, 1, (5, 2)) * 1e300, rng.uniform(-1, 1, (4, 2)) * 1e-300
    fast, exact, bound = attention_vjp_fast(Q, K, V, dO), attention_vjp(Q, K, V, dO), \
        attention_vjp_error_bound(Q, K, V, dO)
    for f, e, b in zip(fast, exact, bound):
        assert np.all(np.isfinite(f)) and np.all(np.abs(f - e) <= b)
