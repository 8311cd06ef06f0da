"""Tensor attention: exact against brute force, fast within its bound (E1), bad input refused."""

from __future__ import annotations

import tracemalloc
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import algorithms.tensor_attention.forward as forward
from algorithms.kron import column_kron
from algorithms.polynomial_method import CostExceedsExact, Float64Limit
from algorithms.tensor_attention import (
    low_rank_tensor_attention,
    tensor_attention,
    tensor_attention_error_bound,
    tensor_attention_fast,
    tensor_attention_vjp,
    tensor_attention_vjp_error_bound,
    tensor_attention_vjp_fast,
)
from tests.conftest import reference_tensor_attention


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


# ---------------------------------------------------------------- exact
@pytest.mark.parametrize("n,n1,n2,d,dv", [(1, 1, 1, 1, 1), (7, 7, 7, 3, 3), (12, 5, 9, 4, 2), (3, 10, 2, 2, 5)])
def test_exact_matches_direct_einsum(n, n1, n2, d, dv):
    rng = np.random.default_rng(n + 10 * d)
    args = inputs(rng, n, n1, n2, d, dv, B=1.5)
    assert np.allclose(tensor_attention(*args), reference_tensor_attention(*args), rtol=1e-13, atol=1e-14)


def test_exact_equals_two_simplicial_softmax_by_loops():
    """Row i is sum over (j, k) of softmax of <q_i, k1_j ∘ k2_k>/d times v1_j ∘ v2_k."""
    rng = np.random.default_rng(7)
    Q, K1, K2, V1, V2 = inputs(rng, n=3, n1=4, n2=3, d=2, dv=2)
    T = tensor_attention(Q, K1, K2, V1, V2)
    for i in range(3):
        weights, values = [], []
        for j in range(4):
            for k in range(3):
                logit = sum(Q[i, c] * K1[j, c] * K2[k, c] for c in range(2)) / 2
                weights.append(np.exp(logit))
                values.append(V1[j] * V2[k])
        expected = sum(w * v for w, v in zip(weights, values)) / sum(weights)
        assert np.allclose(T[i], expected, rtol=1e-13, atol=1e-15)


def test_exact_is_stable_for_huge_logits():
    rng = np.random.default_rng(8)
    Q, K1, K2, V1, V2 = inputs(rng, n=5, n1=6, n2=4, d=2, dv=3, B=40.0)  # logits up to 3.2e4
    T = tensor_attention(Q, K1, K2, V1, V2)
    assert np.all(np.isfinite(T))
    assert np.allclose(T, reference_tensor_attention(Q, K1, K2, V1, V2), rtol=1e-10, atol=1e-12)


def test_exact_streaming_over_query_and_j1_blocks_changes_nothing(monkeypatch):
    rng = np.random.default_rng(9)
    args = inputs(rng, n=11, n1=13, n2=7, d=3, dv=2, B=2.0)
    whole = tensor_attention(*args)
    monkeypatch.setattr(forward, "_QUERY_BLOCK", 3)
    monkeypatch.setattr(forward, "_BLOCK_ENTRIES", 3 * 7 * 2)  # j1 blocks of 2
    assert forward._block_sizes(11, 13, 7) == (3, 2)
    assert np.allclose(tensor_attention(*args), whole, rtol=1e-13, atol=1e-15)
    dO = uniform(rng, (11, 2))
    blocked = tensor_attention_vjp(*args, dO)
    monkeypatch.undo()
    for a, b in zip(blocked, tensor_attention_vjp(*args, dO)):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- fast
def test_features_give_the_polynomial_of_the_trilinear_logit_with_rank_binomial():
    rng = np.random.default_rng(10)
    Q, K1, K2 = (uniform(rng, (50, 2)) for _ in range(3))
    P = low_rank_tensor_attention(Q, K1, K2, eps=1e-4, bound=1.0)
    A_tilde = P.U1 @ column_kron(P.U2, P.U3).T
    logits = Q @ column_kron(K1, K2).T / 2
    assert np.allclose(A_tilde, P.approximation(logits), rtol=1e-12)
    assert P.rank == comb(2 + P.degree, P.degree)
    assert np.linalg.matrix_rank(A_tilde) == P.rank  # exactly C(d+g, g), not C(3(g+d), 3g)
    rel = np.max(np.abs(A_tilde / np.exp(logits) - 1))
    assert rel <= P.entry_error


@pytest.mark.parametrize(
    "n,n1,n2,d,B,eps",
    [(20, 20, 20, 2, 1.0, 1e-3), (30, 25, 20, 3, 1.5, 1e-6), (25, 25, 25, 4, 0.8, 1e-9), (16, 16, 16, 4, 1.0, 1e-6)],
)
def test_fast_output_error_within_bound(n, n1, n2, d, B, eps):
    rng = np.random.default_rng(n * d)
    args = inputs(rng, n, n1, n2, d, d, B)
    info = tensor_attention(*args, method="fast", eps=eps, bound=B)
    err = np.max(np.abs(info.output - tensor_attention(*args)))
    bound = tensor_attention_error_bound(info.entry_error, args[3], args[4])
    lo, hi = info.logits  # certified from the data, inside [-B^3, B^3] and inside what P covers
    assert -(B**3) * (1 + 1e-12) <= lo <= hi <= B**3 * (1 + 1e-12)
    assert info.covered[0] <= lo and hi <= info.covered[1]
    assert info.entry_error <= 1.01 * eps  # certified for P, plus a float64 term
    assert err <= bound


def test_fast_error_bound_is_attained_within_a_small_factor_for_one_hot_values():
    """A value column that is 1 on one key pair and 0 elsewhere makes the bound nearly tight."""
    rng = np.random.default_rng(11)
    Q, K1, K2 = (uniform(rng, (40, 3)) for _ in range(3))
    V1, V2 = np.zeros((40, 1)), np.zeros((40, 1))
    V1[0], V2[0] = 1.0, 1.0
    info = tensor_attention(Q, K1, K2, V1, V2, method="fast", eps=1e-6)
    err = np.max(np.abs(info.output - tensor_attention(Q, K1, K2, V1, V2)))
    bound = tensor_attention_error_bound(info.entry_error, V1, V2)
    assert err <= bound
    assert err / np.max(tensor_attention(Q, K1, K2, V1, V2)) > bound / 100


def test_fast_never_builds_anything_of_size_n_squared():
    rng = np.random.default_rng(12)
    n = 4096
    args = inputs(rng, n, n, n, 4, 4)
    tracemalloc.start()
    tensor_attention_fast(*args, eps=1e-6)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < n * n * 8 / 4  # an n x n float64 array alone would be 134 MB


# ---------------------------------------------------------------- bad input
def test_bad_inputs_raise_value_errors_naming_the_parameter():
    rng = np.random.default_rng(16)
    Q, K1, K2, V1, V2 = inputs(rng, 4, 4, 4, 2, 2)
    dO = uniform(rng, (4, 2))
    bad = np.array(Q)
    bad[0, 0] = np.nan
    cases = [
        ((Q[0], K1, K2, V1, V2), "Q must be a 2-d array"),
        ((bad, K1, K2, V1, V2), "Q must be finite"),
        ((Q, K1[:, :1], K2, V1, V2), "K1 must have 2 columns"),
        ((Q, K1, K2[:, :1], V1, V2), "K2 must have 2 columns"),
        ((Q, K1, K2, V1[:3], V2), "V1 must have 4 rows"),
        ((Q, K1, K2, V1, V2[:3]), "V2 must have 4 rows"),
        ((Q, K1, K2, V1, V2[:, :1]), "V2 must have 2 columns"),
        ((Q, K1, K2, V1, "abc"), "V2 must be a real 2-d array"),
    ]
    for fn in (tensor_attention, tensor_attention_fast):
        for args, message in cases:
            with pytest.raises(ValueError, match=message):
                fn(*args)
    for fn in (tensor_attention_vjp, tensor_attention_vjp_fast, tensor_attention_vjp_error_bound):
        with pytest.raises(ValueError, match="dO must have 2 columns"):
            fn(Q, K1, K2, V1, V2, dO[:, :1])
        with pytest.raises(ValueError, match="dO must have 4 rows"):
            fn(Q, K1, K2, V1, V2, dO[:3])
    with pytest.raises(ValueError, match="method must be 'exact' or 'fast'"):
        tensor_attention(Q, K1, K2, V1, V2, method="tree")


@pytest.mark.parametrize("fn", [tensor_attention_fast, low_rank_tensor_attention, tensor_attention_vjp_fast])
def test_fast_rejects_bad_eps_and_entries_above_the_promised_bound(fn):
    rng = np.random.default_rng(17)
    Q, K1, K2, V1, V2 = inputs(rng, 4, 4, 4, 2, 2)
    args = {
        tensor_attention_fast: (Q, K1, K2, V1, V2),
        low_rank_tensor_attention: (Q, K1, K2),
        tensor_attention_vjp_fast: (Q, K1, K2, V1, V2, uniform(rng, (4, 2))),
    }[fn]
    for eps in (0.0, 1.0, -1e-3, float("nan")):
        with pytest.raises(ValueError, match="eps must lie in"):
            fn(*args, eps=eps)
    K1b = K1.copy()
    K1b[2, 1] = 3.0
    bad = tuple(K1b if a is K1 else a for a in args)
    with pytest.raises(ValueError, match="K1 has an entry of absolute value 3 above the promised bound"):
        fn(*bad, bound=1.0)
    with pytest.raises(ValueError, match="bound must be a positive"):
        fn(*args, bound=-1.0)


def test_fast_refuses_logits_too_wide_for_a_float64_polynomial():
    """A float64 limit, reported as such (with the digits that would do), never as the lower bound."""
    rng = np.random.default_rng(18)
    Q, K1, K2 = (uniform(rng, (4, 2), 3.0) for _ in range(3))
    with pytest.raises(Float64Limit, match=r"float64 limit.*not the lower bound.*significant digits") as info:
        low_rank_tensor_attention(Q, K1, K2, eps=1e-6, bound=3.0)
    assert not isinstance(info.value, CostExceedsExact) and info.value.digits > 16
    assert "SETH" not in str(info.value)


def test_error_bound_rejects_bad_input():
    with pytest.raises(ValueError, match="entry_error must lie in"):
        tensor_attention_error_bound(1.0, np.ones((2, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="V2 must have 1 columns"):
        tensor_attention_error_bound(0.1, np.ones((2, 1)), np.ones((2, 2)))


# ---------------------------------------------------------------- property-based
@settings(max_examples=50, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 8), n1=st.integers(1, 8), n2=st.integers(1, 8), d=st.integers(1, 4),
    dv=st.integers(1, 3), B=st.sampled_from([0.5, 1.0, 1.3]), seed=st.integers(0, 2**31),
)
def test_any_small_shape_exact_matches_einsum_and_fast_stays_within_bound(n, n1, n2, d, dv, B, seed):
    rng = np.random.default_rng(seed)
    args = inputs(rng, n, n1, n2, d, dv, B)
    exact = tensor_attention(*args)
    assert np.allclose(exact, reference_tensor_attention(*args), rtol=1e-12, atol=1e-14)
    info = tensor_attention(*args, method="fast", eps=1e-6, bound=B)
    T = info.output
    bound = tensor_attention_error_bound(info.entry_error, args[3], args[4])
    # (E1) is exact arithmetic on A~; float64 sums of length r + n1 + n2 add ulps of max |V|
    ulps = (info.rank + n1 + n2 + 8) * 2.0**-53 * np.max(np.abs(args[3])) * np.max(np.abs(args[4]))
    assert np.max(np.abs(T - exact)) <= bound + ulps


def test_products_of_huge_values_that_cancel_give_a_finite_output():
    """The mean of ``1e200 * 1e200`` and ``-1e200 * 1e200`` is 0: exact tensor attention used to return NaN."""
    Q, K = np.zeros((1, 2)), np.zeros((2, 2))
    V1, V2 = np.array([[1e200], [-1e200]]), np.array([[1e200], [1e200]])
    assert np.array_equal(tensor_attention(Q, K, K, V1, V2), np.zeros((1, 1)))
    assert np.array_equal(tensor_attention(Q, K, K, V1, V2, method="fast").output, np.zeros((1, 1)))
    assert np.all(np.isinf(tensor_attention(Q, K, K, np.abs(V1), V2)))  # the answer 1e400 itself overflows
