"""Masked low-rank products by prefix sums (Liang et al. 2024, Lemma I.3) equal the dense masked products."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.transformer import (
    ArrayFactors,
    PolynomialFactors,
    attention_approximation,
    lowrank_product,
    masked_lowrank_product,
)

RNG = np.random.default_rng(20240823)


def _dense_masked(U1, U2, causal=True):
    A = U1 @ U2.T
    return np.tril(A) if causal else A




@pytest.mark.parametrize("transpose", [False, True])
def test_prefix_sum_product_equals_dense_masked_product(transpose):
    for n, r, k in [(1, 3, 2), (17, 5, 3), (40, 2, 1)]:
        U1, U2, H = RNG.standard_normal((n, r)), RNG.standard_normal((n, r)), RNG.standard_normal((n, k))
        dense = _dense_masked(U1, U2)
        want = (dense.T if transpose else dense) @ H
        got = masked_lowrank_product(U1, U2, H, transpose=transpose)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("block", [1, 3, 16, 100])
def test_blocked_product_equals_dense_masked_product(causal, transpose, block):
    n, r, k = 37, 6, 4
    U1, U2, H = RNG.standard_normal((n, r)), RNG.standard_normal((n, r)), RNG.standard_normal((n, k))
    dense = _dense_masked(U1, U2, causal)
    want = (dense.T if transpose else dense) @ H
    got = lowrank_product(ArrayFactors(U1, U2), H, causal=causal, transpose=transpose, block=block)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_polynomial_factors_give_the_masked_polynomial_matrix():
    n, dh = 30, 3
    Q, K = RNG.uniform(-1, 1, (n, dh)), RNG.uniform(-1, 1, (n, dh))
    approx = attention_approximation(1.0, 1e-6)
    H = RNG.standard_normal((n, 2))
    S = Q @ K.T / dh
    dense = np.tril(approx(S))  # P applied entrywise, then masked
    got = lowrank_product(PolynomialFactors(Q, K, approx, 1.0 / dh), H, block=8)
    np.testing.assert_allclose(got, dense @ H, rtol=1e-12, atol=1e-12)


def test_lowrank_products_reject_bad_input():
    cases = [
        (lambda: ArrayFactors(np.ones((3, 2)), np.ones((3, 3))), "U2 must have 2 columns"),
        (lambda: ArrayFactors(np.ones((3, 2)), np.ones((4, 2))), "row counts"),
        (lambda: lowrank_product(ArrayFactors(np.ones((3, 2)), np.ones((3, 2))), np.ones((4, 1))), "H must have 3 rows"),
        (lambda: lowrank_product(ArrayFactors(np.ones((3, 2)), np.ones((3, 2))), np.ones((3, 1)), block=0), "block"),
        (lambda: masked_lowrank_product(np.ones((3, 2)), np.ones((3, 2)), np.ones((2, 1))), "row counts"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
