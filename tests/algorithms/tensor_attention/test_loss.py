"""The tensor attention training loss (Liang et al. 2405.16411): closed-form gradient and the fast one."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from algorithms.tensor_attention import (
    column_kron,
    tensor_attention,
    tensor_attention_loss,
    tensor_attention_loss_grad,
    tensor_attention_loss_grad_error_bound,
    tensor_attention_loss_grad_fast,
)
from tests.conftest import central_difference


def uniform(rng, shape, B=1.0):
    return rng.uniform(-B, B, shape)


def problem(rng, n=5, n1=4, n2=3, d=2, dv=2, B=1.0):
    A1, A2, A3 = uniform(rng, (n, d), B), uniform(rng, (n1, d), B), uniform(rng, (n2, d), B)
    A4, A5, E = uniform(rng, (n1, d)), uniform(rng, (n2, d)), uniform(rng, (n, dv))
    return A1, A2, A3, A4, A5, E


def dense_gradient(A1, A2, A3, A4, A5, E, X, Y):
    """``(1/d) A1^T F (A2 ⊗ A3)`` with every n x n² matrix built from numpy.kron."""
    d = A1.shape[1]
    S = A1 @ X @ np.kron(A2, A3).T / d
    f = np.exp(S - S.max(axis=1, keepdims=True))
    f /= f.sum(axis=1, keepdims=True)
    h = np.kron(A4, A5) @ Y
    c = f @ h - E
    q = c @ h.T
    F = f * q - np.sum(f * q, axis=1, keepdims=True) * f
    return A1.T @ F @ np.kron(A2, A3) / d


def test_loss_with_factored_weights_is_tensor_attention_of_the_factors():
    rng = np.random.default_rng(0)
    A1, A2, A3, A4, A5, E = problem(rng, 6, 5, 4, 3, 3)
    X1, X2, X3 = (uniform(rng, (3, 3)) for _ in range(3))
    Y1, Y2 = uniform(rng, (3, 3)), uniform(rng, (3, 3))
    T = tensor_attention(A1 @ X1, A2 @ X2, A3 @ X3, A4 @ Y1, A5 @ Y2)
    factored = tensor_attention_loss(A1, A2, A3, A4, A5, E, (X1, X2, X3), (Y1, Y2))
    X, Y = X1 @ column_kron(X2, X3).T, column_kron(Y1, Y2)
    assert factored == pytest.approx(0.5 * np.sum((T - E) ** 2), rel=1e-13)
    assert tensor_attention_loss(A1, A2, A3, A4, A5, E, X, Y) == pytest.approx(factored, rel=1e-13)


@pytest.mark.parametrize("n,n1,n2,d,dv", [(4, 4, 4, 2, 2), (3, 4, 2, 3, 1)])
def test_loss_gradient_matches_central_finite_differences(n, n1, n2, d, dv):
    rng = np.random.default_rng(n + d)
    A = problem(rng, n, n1, n2, d, dv, B=1.5)
    X, Y = uniform(rng, (d, d * d)), uniform(rng, (d * d, dv))
    G = tensor_attention_loss_grad(*A, X, Y)
    fd = central_difference(lambda Z: tensor_attention_loss(*A, Z, Y), X, 1e-6)
    assert G.shape == (d, d * d)
    assert np.max(np.abs(G - fd)) / np.max(np.abs(fd)) < 1e-6


def test_loss_gradient_equals_the_dense_closed_form_of_lemma_4_1():
    rng = np.random.default_rng(1)
    A = problem(rng, 6, 5, 4, 3, 3)
    X, Y = uniform(rng, (3, 9)), uniform(rng, (9, 3))
    assert np.allclose(tensor_attention_loss_grad(*A, X, Y), dense_gradient(*A, X, Y), atol=1e-13)
    Xf = tuple(uniform(rng, (3, 2)) for _ in range(3))
    Yf = (uniform(rng, (3, 3)), uniform(rng, (3, 3)))
    Xd, Yd = Xf[0] @ column_kron(Xf[1], Xf[2]).T, column_kron(*Yf)
    assert np.allclose(tensor_attention_loss_grad(*A, Xf, Yf), dense_gradient(*A, Xd, Yd), atol=1e-13)


@pytest.mark.parametrize(
    "n,d,m,B,eps",
    [(20, 2, 2, 1.0, 1e-6), (16, 3, 3, 1.0, 1e-4), (12, 4, 4, 0.9, 1e-8), (18, 2, 3, 1.2, 1e-6)],
)
def test_fast_loss_gradient_error_within_bound_for_factored_weights(n, d, m, B, eps):
    rng = np.random.default_rng(n + 7 * d)
    A = problem(rng, n, n, n, d, d)
    Xf = tuple(uniform(rng, (d, m), 1.0) for _ in range(3))
    Yf = (uniform(rng, (d, d)), uniform(rng, (d, d)))
    scale = B / max(np.max(np.abs(a @ x)) for a, x in zip(A[:3], Xf))
    Xf = tuple(scale * x for x in Xf)  # max |A_i X_i| = B exactly
    fast = tensor_attention_loss_grad_fast(*A, Xf, Yf, eps=eps, bound=B)
    exact = tensor_attention_loss_grad(*A, Xf, Yf)
    bound = tensor_attention_loss_grad_error_bound(*A, Xf, Yf, eps=eps, bound=B)
    assert fast.shape == exact.shape == bound.shape == (d, d * d)
    assert np.all(np.abs(fast - exact) <= bound + 1e-15)
    assert np.max(bound) < 100 * eps * max(1.0, np.max(np.abs(exact)))


def test_fast_loss_gradient_within_bound_for_unfactored_weights():
    """A plain (d, d²) X is factored trivially (m = d²): logits in [-d B³, d B³]."""
    rng = np.random.default_rng(2)
    A = problem(rng, 10, 9, 8, 2, 2, B=0.8)
    X, Y = uniform(rng, (2, 4), 0.8), uniform(rng, (4, 2))
    fast = tensor_attention_loss_grad_fast(*A, X, Y, eps=1e-6)
    bound = tensor_attention_loss_grad_error_bound(*A, X, Y, eps=1e-6)
    assert np.all(np.abs(fast - tensor_attention_loss_grad(*A, X, Y)) <= bound + 1e-15)


def test_fast_loss_gradient_never_builds_anything_of_size_n_squared():
    rng = np.random.default_rng(3)
    n, d = 2048, 4
    A = problem(rng, n, n, n, d, d)
    Xf = tuple(uniform(rng, (d, d), 1 / d) for _ in range(3))  # |A_i X_i| <= 1
    Yf = (uniform(rng, (d, d)), uniform(rng, (d, d)))
    tracemalloc.start()
    tensor_attention_loss_grad_fast(*A, Xf, Yf, eps=1e-6)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < n * n * 8  # one n x n float64 array would be 34 MB


def test_loss_functions_reject_malformed_input_naming_the_parameter():
    rng = np.random.default_rng(4)
    A = problem(rng, 4, 4, 4, 2, 2)
    X, Y = uniform(rng, (2, 4)), uniform(rng, (4, 2))
    Xf = tuple(uniform(rng, (2, 2)) for _ in range(3))
    Yf = (uniform(rng, (2, 2)), uniform(rng, (2, 2)))
    cases = [
        ((A[0][:, :1],) + A[1:] + (X, Y), "A2 must have 1 columns"),
        (A[:3] + (A[3][:3],) + A[4:] + (X, Y), "A4 must have 4 rows"),
        (A[:4] + (A[4][:, :1],) + A[5:] + (X, Y), "A5 must have 2 columns"),
        (A[:5] + (A[5][:, :1], X, Y), "E must have 2 columns"),
        (A + (X[:, :3], Y), "X must have 4 columns"),
        (A + (X, Y[:3]), "Y must have 4 rows"),
        (A + (Xf[:2], Y), "tuple \\(X1, X2, X3\\), got 2 factors"),
        (A + ((Xf[0], Xf[1][:, :1], Xf[2]), Y), "X2 must have 2 columns"),
        (A + (Xf, Yf[:1]), "tuple \\(Y1, Y2\\), got 1 factors"),
        (A + (Xf, (Yf[0], Yf[1][:1])), "Y2 must have 2 rows"),
        (A + (np.full((2, 4), np.inf), Y), "X must be finite"),
    ]
    fns = (
        tensor_attention_loss,
        tensor_attention_loss_grad,
        tensor_attention_loss_grad_fast,
        tensor_attention_loss_grad_error_bound,
    )
    for fn in fns:
        for args, message in cases:
            with pytest.raises(ValueError, match=message):
                fn(*args)
    for fn in fns[2:]:
        with pytest.raises(ValueError, match="eps must lie in"):
            fn(*A, Xf, Yf, eps=2.0)
        with pytest.raises(ValueError, match="A1 X1 has an entry of absolute value .* above the promised bound"):
            fn(*A, tuple(10 * x for x in Xf), Yf, bound=1.0)
        with pytest.raises(ValueError, match="A2 has an entry"):
            fn(A[0], 5 * A[1], *A[2:], X / 100, Y, bound=1.0)
