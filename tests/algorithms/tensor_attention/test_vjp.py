"""Tensor attention gradients: exact VJP against finite differences and the dense formula, fast within bounds."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.kron import column_kron
from algorithms.tensor_attention import (
    tensor_attention,
    tensor_attention_vjp,
    tensor_attention_vjp_error_bound,
    tensor_attention_vjp_fast,
)
from tests.conftest import central_difference


def uniform(rng, shape, B=1.0):
    return rng.uniform(-B, B, shape)


def inputs(rng, n=6, n1=5, n2=4, d=3, dv=2, B=1.0):
    return (
        uniform(rng, (n, d), B),
        uniform(rng, (n1, d), B),
        uniform(rng, (n2, d), B),
        uniform(rng, (n1, dv)),
        uniform(rng, (n2, dv)),
    )


# ---------------------------------------------------------------- gradients
def _fd_vjp(args, dO, h=1e-6):
    def pairing(a):
        return lambda X: np.sum(tensor_attention(*args[:a], X, *args[a + 1 :]) * dO)

    return [central_difference(pairing(a), args[a], h) for a in range(5)]


@pytest.mark.parametrize("n,n1,n2,d,dv", [(4, 4, 4, 2, 2), (3, 5, 4, 3, 2)])
def test_exact_vjp_matches_central_finite_differences(n, n1, n2, d, dv):
    rng = np.random.default_rng(13 + d)
    args = inputs(rng, n, n1, n2, d, dv, B=1.5)
    dO = uniform(rng, (n, dv))
    for g, fd in zip(tensor_attention_vjp(*args, dO), _fd_vjp(args, dO)):
        assert np.max(np.abs(g - fd)) / np.max(np.abs(fd)) < 1e-6


def test_exact_dQ_equals_dense_softmax_jacobian_formula():
    rng = np.random.default_rng(14)
    Q, K1, K2, V1, V2 = inputs(rng, 5, 4, 6, 3, 2)
    dO = uniform(rng, (5, 2))
    KK, VV = column_kron(K1, K2), column_kron(V1, V2)
    S = Q @ KK.T / 3
    f = np.exp(S - S.max(axis=1, keepdims=True))
    f /= f.sum(axis=1, keepdims=True)
    q = dO @ VV.T
    F = f * q - np.sum(f * q, axis=1, keepdims=True) * f
    dQ, dK1, dK2, dV1, dV2 = tensor_attention_vjp(Q, K1, K2, V1, V2, dO)
    assert np.allclose(dQ, F @ KK / 3, atol=1e-14)
    dKK = F.T @ Q / 3  # gradient w.r.t. the rows of K1 ⊘ K2
    assert np.allclose(dK1, np.einsum("jkm,km->jm", dKK.reshape(4, 6, 3), K2), atol=1e-14)
    assert np.allclose(dV2, np.einsum("jkl,jl->kl", (f.T @ dO).reshape(4, 6, 2), V1), atol=1e-14)


@pytest.mark.parametrize(
    "n,n1,n2,d,dv,B,eps",
    [(15, 15, 15, 2, 2, 1.0, 1e-4), (20, 12, 17, 3, 2, 1.2, 1e-6), (12, 12, 12, 4, 4, 1.0, 1e-8)],
)
def test_fast_vjp_error_within_bound(n, n1, n2, d, dv, B, eps):
    rng = np.random.default_rng(15 + n)
    args = inputs(rng, n, n1, n2, d, dv, B)
    dO = uniform(rng, (n, dv))
    fast = tensor_attention_vjp_fast(*args, dO, eps=eps, bound=B)
    exact = tensor_attention_vjp(*args, dO)
    bounds = tensor_attention_vjp_error_bound(*args, dO, eps=eps, bound=B)
    for a, b, bound in zip(fast, exact, bounds):
        assert a.shape == b.shape == bound.shape
        assert np.all(np.abs(a - b) <= bound + 1e-15)
        assert np.max(bound) < 20 * eps * max(1.0, np.max(np.abs(b)))  # the bound is of order eps




def test_vjp_of_huge_values_is_not_nan():
    """``dO (V1 ⊘ V2)^T - delta`` was ``inf - inf`` for values ~1e200 (fuzz suite); here dQ, dK1, dK2 are 0."""
    Q, K = np.zeros((1, 2)), np.zeros((2, 2))
    V1, V2, dO = np.array([[1e200], [1e200]]), np.array([[1e200], [1e200]]), np.ones((1, 1))
    dQ, dK1, dK2, dV1, dV2 = tensor_attention_vjp(Q, K, K, V1, V2, dO)
    assert not any(np.any(np.isnan(G)) for G in (dQ, dK1, dK2, dV1, dV2))
    assert np.array_equal(dQ, np.zeros((1, 2))) and np.array_equal(dK1, np.zeros((2, 2)))


def test_fast_vjp_with_inputs_of_opposite_huge_magnitudes():
    """K1 ~ 1e-300 against K2 ~ 1e299 (logits near 1): the fast VJP's products ``V ⊗ K`` overflowed to NaN, and
    scaling factors applied one at a time underflowed a 1e-197 gradient to 0 (fuzz suite)."""
    rng = np.random.default_rng(3)
    Q, K1, K2 = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, (4, 2)) * 1e-300, rng.uniform(-1, 1, (4, 2)) * 1e299
    V1, V2, dO = rng.uniform(-1, 1, (4, 1)) * 1e-300, rng.uniform(-1, 1, (4, 1)) * 1e149, rng.uniform(-1, 1, (3, 1))
    fast = tensor_attention_vjp_fast(Q, K1, K2, V1, V2, dO)
    exact = tensor_attention_vjp(Q, K1, K2, V1, V2, dO)
    bound = tensor_attention_vjp_error_bound(Q, K1, K2, V1, V2, dO)
    for f, e, b in zip(fast, exact, bound):
        assert np.all(np.isfinite(f)) and np.all(np.abs(f - e) <= b + 1e-12 * np.abs(e))
