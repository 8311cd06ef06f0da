"""The training loss of Alman & Song 2024: closed-form gradient against finite differences, fast within bounds."""

import numpy as np
import pytest

from algorithms.attention import (
    attention_loss,
    attention_loss_grad,
    attention_loss_grad_error_bound,
    attention_loss_grad_fast,
)
from tests.conftest import central_difference


def _relative_error(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def _loss_inputs(n=7, d=3, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    A1, A2, A3, E = (rng.uniform(-1, 1, (n, d)) for _ in range(4))
    return A1, A2, A3, E, scale * rng.uniform(-1, 1, (d, d)), rng.uniform(-1, 1, (d, d))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_gradient_matches_central_differences(seed):
    A1, A2, A3, E, X, Y = _loss_inputs(seed=seed)
    G = attention_loss_grad(A1, A2, A3, E, X, Y)
    fd = central_difference(lambda Z: attention_loss(A1, A2, A3, E, Z, Y), X)
    assert _relative_error(G, fd) < 1e-6


def test_loss_gradient_equals_the_papers_closed_form():
    """AS24a Lemma C.7 written out densely: f, h, c, q = c h^T, p, dL/dX = A1^T p A2 / d."""
    A1, A2, A3, E, X, Y = _loss_inputs(n=9, d=4, seed=4)
    d = 4
    A = np.exp(A1 @ X @ A2.T / d)
    f = A / A.sum(axis=1, keepdims=True)
    h = A3 @ Y
    c = f @ h - E
    q = c @ h.T
    fq = f * q
    p = fq - fq.sum(axis=1, keepdims=True) * f
    np.testing.assert_allclose(attention_loss_grad(A1, A2, A3, E, X, Y), A1.T @ p @ A2 / d, rtol=1e-12, atol=1e-14)
    assert attention_loss(A1, A2, A3, E, X, Y) == pytest.approx(0.5 * np.sum(c**2), rel=1e-13)


@pytest.mark.parametrize("n,d,eps", [(256, 4, 1e-6), (180, 3, 1e-3)])
def test_fast_loss_gradient_error_within_bound(n, d, eps):
    A1, A2, A3, E, X, Y = _loss_inputs(n=n, d=d, seed=n, scale=0.7)
    exact = attention_loss_grad(A1, A2, A3, E, X, Y)
    fast = attention_loss_grad_fast(A1, A2, A3, E, X, Y, eps=eps)
    bound = attention_loss_grad_error_bound(A1, A2, A3, E, X, Y, eps=eps)
    assert np.all(np.abs(fast - exact) <= bound)
    assert np.max(bound) < 1e3 * eps * n  # not vacuous: O(eps) per unit of the sums over n rows


def test_fast_gradients_error_shrinks_with_eps():
    A1, A2, A3, E, X, Y = _loss_inputs(n=200, d=4, seed=11)
    exact = attention_loss_grad(A1, A2, A3, E, X, Y)
    errs = [np.max(np.abs(attention_loss_grad_fast(A1, A2, A3, E, X, Y, eps=e) - exact)) for e in (1e-2, 1e-5, 1e-8)]
    assert errs[0] > 10 * errs[1] > 100 * errs[2]


def test_loss_gradient_checks_its_inputs():
    A1, A2, A3, E, X, Y = _loss_inputs()
    with pytest.raises(ValueError, match="X must have 3 columns"):
        attention_loss_grad(A1, A2, A3, E, np.ones((3, 2)), Y)
    with pytest.raises(ValueError, match="E must have 7 rows"):
        attention_loss_grad(A1, A2, A3, E[:4], X, Y)
    with pytest.raises(ValueError, match="A3 must have 7 rows"):
        attention_loss(A1, A2, A3[:3], E, X, Y)
    with pytest.raises(ValueError, match="Y must be finite"):
        attention_loss_grad_fast(A1, A2, A3, E, X, np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="A1 X has an entry .* above the promised bound"):
        attention_loss_grad_fast(A1, A2, A3, E, 10 * X, Y, bound=1.0)


def test_loss_grad_with_values_near_the_float64_limit_is_not_nan():
    """``c h^T - delta`` was ``inf - inf`` for ``A3 Y`` near 1e300 (fuzz suite); here every logit is 0 and dL/dX = 0."""
    ones = np.ones((2, 1))
    G = attention_loss_grad(ones, np.zeros((2, 1)), ones, np.zeros((2, 1)), np.zeros((1, 1)), np.array([[1e300]]))
    assert np.array_equal(G, np.zeros((1, 1)))


def test_an_overflowing_product_is_named():
    """``A1 X`` above float64's range was reported as "Q must be finite" (no such argument; fuzz suite)."""
    big = np.full((2, 2), 1e200)
    with pytest.raises(ValueError, match="A1 X must be finite"):
        attention_loss_grad_fast(big, np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), big, np.eye(2))


def test_loss_grad_error_bound_is_never_nan():
    """An overflowed factor times an exact 0 made the bound NaN (fuzz suite); infinity is the safe bound there."""
    A1 = np.array([[1e-150, 0.0], [2e-150, 0.0]])
    args = (A1, np.array([[1e149, 0.0], [-1e149, 0.0]]), np.ones((2, 2)), np.zeros((2, 2)), np.eye(2) * 1e-300,
            np.full((2, 2), 1e300))
    assert not np.any(np.isnan(attention_loss_grad_error_bound(*args)))


def test_fast_loss_grad_with_tiny_values_and_a_large_target():
    """``A3 Y`` ~ 1e-301 beside E ~ 1: scaling c by the values' power of two overflowed E to inf (fuzz suite)."""
    rng = np.random.default_rng(4)
    A1, A2, E = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (3, 2)) * 1e-150, rng.uniform(-1, 1, (3, 2))
    A3, X, Y = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (2, 2)), rng.uniform(-1, 1, (2, 2)) * 1e-301
    args = (A1, A2, A3, E, X, Y)
    G = attention_loss_grad_fast(*args)
    assert np.all(np.isfinite(G))
    assert np.all(np.abs(G - attention_loss_grad(*args)) <= attention_loss_grad_error_bound(*args) + 1e-300)


def test_fast_loss_grad_with_a_subnormal_a1_keeps_its_digits():
    """A1 of subnormals (2^-1074 = 5e-324): A1^T dQ lost every digit before the scaling back (fuzz suite)."""
    rng = np.random.default_rng(5)
    A1 = rng.integers(-3, 4, (4, 3)) * 5e-324
    A2, A3 = rng.uniform(-1, 1, (4, 3)) * 1e-151, rng.uniform(-1, 1, (4, 3)) * 1e299
    E, X, Y = rng.uniform(-1, 1, (4, 3)) * 1e299, rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, (3, 3)) * 1e-300
    args = (A1, A2, A3, E, X, Y)
    G, exact = attention_loss_grad_fast(*args), attention_loss_grad(*args)
    assert np.max(np.abs(exact)) > 0
    assert np.all(np.abs(G - exact) <= attention_loss_grad_error_bound(*args) + 1e-12 * np.max(np.abs(exact)))
