"""One attention head, causal or not: exact against the dense definition, fast within certified bounds."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.attention import attention, attention_vjp
from algorithms.transformer import attention_approximation, head_forward, head_vjp
from tests.conftest import central_difference, reference_attention

RNG = np.random.default_rng(20240823)



@pytest.mark.parametrize("causal", [True, False])
def test_exact_head_equals_dense_softmax(causal):
    n, dh = 29, 3
    Q, K, V = (RNG.standard_normal((n, dh)) * 2 for _ in range(3))
    out, _ = head_forward(Q, K, V, causal=causal, block=7)
    np.testing.assert_allclose(out, reference_attention(Q, K, V, causal=causal), rtol=0, atol=1e-13)


def test_exact_head_is_stable_for_huge_logits():
    n, dh = 8, 2
    Q, K, V = RNG.standard_normal((n, dh)) * 100, RNG.standard_normal((n, dh)) * 100, RNG.standard_normal((n, dh))
    out, cache = head_forward(Q, K, V)
    dQ, dK, dV = head_vjp(cache, np.ones((n, dh)))
    assert np.all(np.isfinite(out)) and all(np.all(np.isfinite(g)) for g in (dQ, dK, dV))


def test_noncausal_exact_head_agrees_with_the_attention_module():
    n, dh = 20, 4
    Q, K, V, dO = (RNG.standard_normal((n, dh)) for _ in range(4))
    out, cache = head_forward(Q, K, V, causal=False, block=6)
    np.testing.assert_allclose(out, attention(Q, K, V), rtol=0, atol=1e-13)
    for mine, theirs in zip(head_vjp(cache, dO), attention_vjp(Q, K, V, dO)):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("causal", [True, False])
def test_fast_head_forward_within_certified_bound(causal):
    # Relative entry error e' on exp gives |T - Att| <= e' (max v - min v) / (1 - e') per
    # column (algorithms.attention, (E1)); masking removes the same entries on both sides.
    n, dh, B = 64, 4, 1.0
    for eps in (1e-2, 1e-4, 1e-6):
        approx = attention_approximation(B, eps)
        Q, K = RNG.uniform(-B, B, (n, dh)), RNG.uniform(-B, B, (n, dh))
        V = RNG.standard_normal((n, dh))
        exact, _ = head_forward(Q, K, V, causal=causal)
        fast, _ = head_forward(Q, K, V, causal=causal, approximation=approx, block=16)
        e = approx.max_relative_error
        bound = e * (V.max(axis=0) - V.min(axis=0)) / (1 - e)
        assert np.all(np.abs(fast - exact).max(axis=0) <= bound)
        assert np.abs(fast - exact).max() > 0  # the approximation is really used


@pytest.mark.parametrize("causal", [True, False])
def test_fast_head_vjp_within_derived_bound(causal):
    # Entry error e' on exp gives |P~ - P| <= eta P with eta = 2e'/(1-e') (masking removes the
    # same entries on both sides).  With w_i = max_j |<dO_i, V_j>|, as in
    # algorithms.attention.attention_vjp_error_bound: |dS~ - dS| <= eta (2 + eta) w_i P_ij, so
    # |dQ~ - dQ| <= eta(2+eta) w_i max_j |K_jm| / d,  |dK~ - dK| <= eta(2+eta) [P^T (w o |Q|)] / d,
    # |dV~ - dV| <= eta [P^T |dO|].  P is formed densely here (small n) as the reference.
    n, dh, B = 48, 4, 1.0
    Q, K = RNG.uniform(-B, B, (n, dh)), RNG.uniform(-B, B, (n, dh))
    V, dO = RNG.standard_normal((n, dh)), RNG.standard_normal((n, dh))
    S = Q @ K.T / dh
    if causal:
        S = np.where(np.tril(np.ones((n, n))) > 0, S, -np.inf)
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    _, exact_cache = head_forward(Q, K, V, causal=causal)
    exact = head_vjp(exact_cache, dO)
    for eps in (1e-3, 1e-6):
        approx = attention_approximation(B, eps)
        _, cache = head_forward(Q, K, V, causal=causal, approximation=approx, block=16)
        dQ, dK, dV = head_vjp(cache, dO)
        e = approx.max_relative_error
        eta = 2 * e / (1 - e)
        w = np.abs(dO @ V.T).max(axis=1)
        bound_Q = eta * (2 + eta) * np.outer(w, np.abs(K).max(axis=0)) / dh
        bound_K = eta * (2 + eta) * P.T @ (w[:, None] * np.abs(Q)) / dh
        bound_V = eta * P.T @ np.abs(dO)
        for got, want, bound in zip((dQ, dK, dV), exact, (bound_Q, bound_K, bound_V)):
            assert np.all(np.abs(got - want) <= bound + 1e-14)


def test_head_vjp_equals_central_differences():
    n, dh, h = 9, 3, 1e-6
    Q, K, V, dO = (RNG.standard_normal((n, dh)) for _ in range(4))
    _, cache = head_forward(Q, K, V, block=4)
    analytic = head_vjp(cache, dO)
    inputs = [Q, K, V]

    def pairing(which):
        return lambda X: np.sum(reference_attention(*inputs[:which], X, *inputs[which + 1 :], causal=True) * dO)

    for which in range(3):
        numeric = central_difference(pairing(which), inputs[which], h)
        assert np.linalg.norm(numeric - analytic[which]) <= 1e-6 * np.linalg.norm(numeric)


def test_head_rejects_bad_input():
    X = RNG.uniform(-1, 1, (5, 4))
    cases = [
        (lambda: head_forward(X, X[:, :2], X), "K must have 4 columns"),
        (lambda: head_forward(X, X, X[:3]), "row counts"),
        (lambda: head_forward(X, X, X, block=0), "block"),
        (lambda: head_vjp(head_forward(X, X, X)[1], np.ones((5, 2))), "dO must have 4 columns"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize("block", [True, 2.0, "2", 0])
def test_block_must_be_a_positive_integer(block):
    """``block=True`` was accepted as 1 (bool is an int): refused like the other non-integers (fuzz suite)."""
    with pytest.raises(ValueError, match="block must be a positive integer"):
        head_forward(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), block=block)


def test_overflowing_logits_name_q_and_k():
    """The refusal of logits above float64's range named no argument (fuzz suite)."""
    big = np.full((2, 2), 1e200)
    with pytest.raises(ValueError, match="^Q and K: the logits"):
        head_forward(big, big, np.ones((2, 2)))
