"""Tensor attention: Kronecker identities, exact against brute force, fast within its bound, VJPs."""

from __future__ import annotations

import itertools
import tracemalloc
from math import comb

import numpy as np
import pytest

import algorithms.tensor_attention as ta
from algorithms.tensor_attention import (
    column_kron,
    low_rank_tensor_attention,
    row_kron,
    tensor_attention,
    tensor_attention_error_bound,
    tensor_attention_fast,
    tensor_attention_vjp,
    tensor_attention_vjp_error_bound,
    tensor_attention_vjp_fast,
)


def uniform(rng, shape, B=1.0):
    return rng.uniform(-B, B, shape)


def direct(Q, K1, K2, V1, V2):
    """Brute force by einsum over all (i, j1, j2) at once (row max subtracted)."""
    S = np.einsum("il,jl,kl->ijk", Q, K1, K2) / Q.shape[1]
    A = np.exp(S - S.max(axis=(1, 2), keepdims=True))
    return np.einsum("ijk,jl,kl->il", A, V1, V2) / A.sum(axis=(1, 2))[:, None]


def inputs(rng, n=6, n1=5, n2=4, d=3, dv=2, B=1.0):
    return (
        uniform(rng, (n, d), B),
        uniform(rng, (n1, d), B),
        uniform(rng, (n2, d), B),
        uniform(rng, (n1, dv)),
        uniform(rng, (n2, dv)),
    )


# ---------------------------------------------------------------- Kronecker identities
def test_column_kron_row_j1_n2_plus_j2_is_entrywise_product():
    rng = np.random.default_rng(0)
    A, B = uniform(rng, (3, 4)), uniform(rng, (5, 4))
    C = column_kron(A, B)
    assert C.shape == (15, 4)
    for j1, j2 in itertools.product(range(3), range(5)):
        assert np.array_equal(C[j1 * 5 + j2], A[j1] * B[j2])
    for l in range(4):
        assert np.array_equal(C[:, l], np.kron(A[:, l], B[:, l]))


def test_row_kron_row_i_is_kron_of_rows():
    rng = np.random.default_rng(1)
    A, B = uniform(rng, (4, 2)), uniform(rng, (4, 3))
    R = row_kron(A, B)
    for i in range(4):
        assert np.array_equal(R[i], np.kron(A[i], B[i]))


def test_identity_I1_values_factor_through_column_kron():
    rng = np.random.default_rng(2)
    K1, K2, V1, V2 = uniform(rng, (5, 3)), uniform(rng, (4, 3)), uniform(rng, (5, 3)), uniform(rng, (4, 3))
    lhs = column_kron(K1, K2).T @ column_kron(V1, V2)
    assert np.allclose(lhs, (K1.T @ V1) * (K2.T @ V2), atol=1e-14)


def test_identity_I2_weights_factor_out_of_column_kron():
    rng = np.random.default_rng(3)
    A2, A3, X2, X3 = uniform(rng, (5, 3)), uniform(rng, (4, 3)), uniform(rng, (3, 2)), uniform(rng, (3, 2))
    lhs = column_kron(A2 @ X2, A3 @ X3)
    assert np.allclose(lhs, np.kron(A2, A3) @ column_kron(X2, X3), atol=1e-14)


def test_identity_I3_hadamard_of_low_rank_is_row_kron():
    rng = np.random.default_rng(4)
    U1, V1, U2, V2 = uniform(rng, (6, 2)), uniform(rng, (7, 2)), uniform(rng, (6, 3)), uniform(rng, (7, 3))
    lhs = (U1 @ V1.T) * (U2 @ V2.T)
    assert np.allclose(lhs, row_kron(U1, U2) @ row_kron(V1, V2).T, atol=1e-14)


def test_identity_I4_column_kron_against_kron_needs_no_n_squared():
    rng = np.random.default_rng(5)
    Ub, Uc, A2, A3 = uniform(rng, (5, 4)), uniform(rng, (6, 4)), uniform(rng, (5, 3)), uniform(rng, (6, 3))
    lhs = column_kron(Ub, Uc).T @ np.kron(A2, A3)
    assert np.allclose(lhs, row_kron(Ub.T @ A2, Uc.T @ A3), atol=1e-14)


def test_swap_rule_keeps_value_factor_in_column_kron_form():
    """``(U2 ⊘ U3) ⊗_row (V1 ⊘ V2) = (U2 ⊗_row V1) ⊘ (U3 ⊗_row V2)``: f∘q stays in ⊘ form."""
    rng = np.random.default_rng(6)
    U2, U3, V1, V2 = uniform(rng, (4, 3)), uniform(rng, (5, 3)), uniform(rng, (4, 2)), uniform(rng, (5, 2))
    lhs = row_kron(column_kron(U2, U3), column_kron(V1, V2))
    rhs = column_kron(row_kron(U2, V1), row_kron(U3, V2))
    assert np.allclose(lhs, rhs, atol=1e-15)


# ---------------------------------------------------------------- exact
@pytest.mark.parametrize("n,n1,n2,d,dv", [(1, 1, 1, 1, 1), (7, 7, 7, 3, 3), (12, 5, 9, 4, 2), (3, 10, 2, 2, 5)])
def test_exact_matches_direct_einsum(n, n1, n2, d, dv):
    rng = np.random.default_rng(n + 10 * d)
    args = inputs(rng, n, n1, n2, d, dv, B=1.5)
    assert np.allclose(tensor_attention(*args), direct(*args), rtol=1e-13, atol=1e-14)


def test_exact_equals_two_simplicial_softmax_by_loops():
    """Row i is sum over (j, k) of softmax of <q_i, k1_j ∘ k2_k>/d times v1_j ∘ v2_k."""
    rng = np.random.default_rng(7)
    Q, K1, K2, V1, V2 = inputs(rng, n=3, n1=4, n2=3, d=2, dv=2)
    T = tensor_attention(Q, K1, K2, V1, V2)
    for i in range(3):
        weights, values = [], []
        for j in range(4):
            for k in range(3):
                logit = sum(Q[i, l] * K1[j, l] * K2[k, l] for l in range(2)) / 2
                weights.append(np.exp(logit))
                values.append(V1[j] * V2[k])
        expected = sum(w * v for w, v in zip(weights, values)) / sum(weights)
        assert np.allclose(T[i], expected, rtol=1e-13, atol=1e-15)


def test_exact_is_stable_for_huge_logits():
    rng = np.random.default_rng(8)
    Q, K1, K2, V1, V2 = inputs(rng, n=5, n1=6, n2=4, d=2, dv=3, B=40.0)  # logits up to 3.2e4
    T = tensor_attention(Q, K1, K2, V1, V2)
    assert np.all(np.isfinite(T))
    assert np.allclose(T, direct(Q, K1, K2, V1, V2), rtol=1e-10, atol=1e-12)


def test_exact_streaming_over_query_and_j1_blocks_changes_nothing(monkeypatch):
    rng = np.random.default_rng(9)
    args = inputs(rng, n=11, n1=13, n2=7, d=3, dv=2, B=2.0)
    whole = tensor_attention(*args)
    monkeypatch.setattr(ta, "_QUERY_BLOCK", 3)
    monkeypatch.setattr(ta, "_BLOCK_ENTRIES", 3 * 7 * 2)  # j1 blocks of 2
    assert ta._block_sizes(11, 13, 7) == (3, 2)
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
    T, info = tensor_attention_fast(*args, eps=eps, bound=B, return_info=True)
    err = np.max(np.abs(T - tensor_attention(*args)))
    bound = tensor_attention_error_bound(info.entry_error, args[3], args[4])
    assert info.half_width == pytest.approx(B**3)
    assert info.entry_error <= 1.01 * eps  # certified for P, plus a float64 term
    assert err <= bound


def test_fast_error_bound_is_attained_within_a_small_factor_for_one_hot_values():
    """A value column that is 1 on one key pair and 0 elsewhere makes the bound nearly tight."""
    rng = np.random.default_rng(11)
    Q, K1, K2 = (uniform(rng, (40, 3)) for _ in range(3))
    V1, V2 = np.zeros((40, 1)), np.zeros((40, 1))
    V1[0], V2[0] = 1.0, 1.0
    T, info = tensor_attention_fast(Q, K1, K2, V1, V2, eps=1e-6, return_info=True)
    err = np.max(np.abs(T - tensor_attention(Q, K1, K2, V1, V2)))
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


# ---------------------------------------------------------------- gradients
def _fd_vjp(args, dO, h=1e-6):
    grads = []
    for a in range(5):
        g = np.empty_like(args[a])
        for idx in np.ndindex(*args[a].shape):
            plus = [x.copy() for x in args]
            minus = [x.copy() for x in args]
            plus[a][idx] += h
            minus[a][idx] -= h
            g[idx] = np.sum((tensor_attention(*plus) - tensor_attention(*minus)) * dO) / (2 * h)
        grads.append(g)
    return grads


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
    rng = np.random.default_rng(18)
    Q, K1, K2 = (uniform(rng, (4, 2), 3.0) for _ in range(3))
    with pytest.raises(ValueError, match=r"trilinear logits in \[-27, 27\], too wide"):
        low_rank_tensor_attention(Q, K1, K2, eps=1e-6, bound=3.0)


def test_kron_helpers_and_error_bound_reject_bad_input():
    with pytest.raises(ValueError, match="B must have 2 columns"):
        column_kron(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="B must have 2 rows"):
        row_kron(np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="entry_error must lie in"):
        tensor_attention_error_bound(1.0, np.ones((2, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="V2 must have 1 columns"):
        tensor_attention_error_bound(0.1, np.ones((2, 1)), np.ones((2, 2)))


# ---------------------------------------------------------------- property-based
from hypothesis import given, settings
from hypothesis import strategies as st


@settings(max_examples=50, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 8), n1=st.integers(1, 8), n2=st.integers(1, 8), d=st.integers(1, 4),
    dv=st.integers(1, 3), B=st.sampled_from([0.5, 1.0, 1.3]), seed=st.integers(0, 2**31),
)
def test_any_small_shape_exact_matches_einsum_and_fast_stays_within_bound(n, n1, n2, d, dv, B, seed):
    rng = np.random.default_rng(seed)
    args = inputs(rng, n, n1, n2, d, dv, B)
    exact = tensor_attention(*args)
    assert np.allclose(exact, direct(*args), rtol=1e-12, atol=1e-14)
    T, info = tensor_attention_fast(*args, eps=1e-6, bound=B, return_info=True)
    bound = tensor_attention_error_bound(info.entry_error, args[3], args[4])
    # (E1) is exact arithmetic on A~; float64 sums of length r + n1 + n2 add ulps of max |V|
    ulps = (info.rank + n1 + n2 + 8) * 2.0**-53 * np.max(np.abs(args[3])) * np.max(np.abs(args[4]))
    assert np.max(np.abs(T - exact)) <= bound + ulps
