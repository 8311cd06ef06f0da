"""Matrix attention: exact against the definition, fast within the error bound (E1)."""

import tracemalloc

import numpy as np
import pytest

from algorithms.attention import (
    attention,
    attention_error_bound,
    attention_fast,
    low_rank_attention,
)
from algorithms.polynomial_method import Float64Limit
from tests.conftest import reference_attention


def _inputs(n, m, d, B, dv=None, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-B, B, (n, d)), rng.uniform(-B, B, (m, d)), rng.uniform(-1, 1, (m, dv or d))


@pytest.mark.parametrize("block_size", [1, 3, 64, None])
def test_exact_attention_matches_the_definition(block_size):
    Q, K, V = _inputs(37, 29, 5, 1.5, dv=3)
    np.testing.assert_allclose(attention(Q, K, V, block_size=block_size), reference_attention(Q, K, V), rtol=1e-12, atol=1e-14)


def test_exact_attention_is_stable_for_huge_logits():
    """Logits around 1e5 overflow a naive exp; the row-max shift keeps the answer exact."""
    rng = np.random.default_rng(1)
    K = rng.normal(size=(50, 4))
    Q = 1e5 * K[[7, 3]]  # logits of order 1e5: a naive exp overflows to inf
    V = rng.normal(size=(50, 2))
    out = attention(Q, K, V)
    assert np.all(np.isfinite(out))
    winner = np.argmax(Q @ K.T, axis=1)  # the gaps between logits are ~1e4: softmax is one-hot
    np.testing.assert_allclose(out, V[winner], rtol=0, atol=1e-12)


def test_exact_attention_never_builds_the_n_by_n_matrix():
    n = 6000
    Q, K, V = _inputs(n, n, 4, 1.0)
    tracemalloc.start()
    attention(Q, K, V)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.25 * n * n * 8  # an n x n float64 matrix would be 288 MB


@pytest.mark.parametrize(
    "n,d,B,eps",
    [(300, 4, 1.0, 1e-6), (500, 2, 2.0, 1e-6), (200, 6, 1.0, 1e-4), (256, 4, 0.5, 1e-10), (400, 3, 2.5, 1e-3)],
)
def test_fast_attention_error_within_bound(n, d, B, eps):
    Q, K, V = _inputs(n, n + 17, d, B, seed=n)
    P = low_rank_attention(Q, K, eps=eps, bound=B)
    err = np.max(np.abs(P.apply(V) - attention(Q, K, V)))
    bound = attention_error_bound(P.entry_error, V)
    assert P.entry_error <= 1.01 * eps
    assert err <= bound
    assert bound <= 1.02 * eps * np.max(V.max(0) - V.min(0))


def test_fast_attention_error_shrinks_with_eps():
    Q, K, V = _inputs(300, 300, 4, 1.5, seed=3)
    exact = attention(Q, K, V)
    results = [attention(Q, K, V, method="fast", eps=e) for e in (1e-2, 1e-4, 1e-6, 1e-8)]
    errors = [np.max(np.abs(r.output - exact)) for r in results]
    bounds = [r.max_error_bound for r in results]
    assert all(e <= b for e, b in zip(errors, bounds))
    assert all(a > 10 * b for a, b in zip(bounds, bounds[1:]))  # the certificate shrinks with eps
    assert all(a > b for a, b in zip(errors, errors[1:])) and errors[0] > 1e5 * errors[-1]


def test_low_rank_factors_have_rank_c_d_plus_g_choose_g():
    Q, K, _ = _inputs(40, 30, 3, 1.0)
    P = low_rank_attention(Q, K, eps=1e-6, bound=1.0)
    assert P.U1.shape == (40, P.rank) and P.U2.shape == (30, P.rank)
    from math import comb

    assert P.rank == comb(3 + P.degree, P.degree)
    A = np.exp(Q @ K.T / 3)
    np.testing.assert_allclose(P.U1 @ P.U2.T, A, rtol=1.01e-6)
    np.testing.assert_allclose(P.dense(), A / A.sum(1, keepdims=True), rtol=2.1e-6)


def test_measured_bound_is_used_when_none_given():
    Q, K, V = _inputs(50, 50, 4, 0.3)
    assert low_rank_attention(Q, K).bound == pytest.approx(max(np.abs(Q).max(), np.abs(K).max()))


@pytest.mark.parametrize(
    "args,kwargs,match",
    [
        ((np.ones(3), np.ones((3, 2)), np.ones((3, 2))), {}, "Q must be a 2-d array"),
        ((np.ones((3, 2)), np.ones((3, 3)), np.ones((3, 2))), {}, "K must have 2 columns"),
        ((np.ones((3, 2)), np.ones((4, 2)), np.ones((3, 2))), {}, "V must have 4 rows"),
        ((np.full((3, 2), np.nan), np.ones((3, 2)), np.ones((3, 2))), {}, "Q must be finite"),
        ((np.ones((3, 2)), np.ones((3, 2)), np.array([[1, np.inf]] * 3)), {}, "V must be finite"),
        ((np.ones((0, 2)), np.ones((3, 2)), np.ones((3, 2))), {}, "Q must be non-empty"),
    ],
)
def test_malformed_input_raises_value_error_in_both_algorithms(args, kwargs, match):
    for algorithm in (attention, attention_fast):
        with pytest.raises(ValueError, match=match):
            algorithm(*args, **kwargs)


def test_fast_attention_refuses_entries_above_the_promised_bound():
    Q, K, V = _inputs(20, 20, 4, 1.0)
    K[3, 2] = 1.5
    with pytest.raises(ValueError, match=r"K has an entry of absolute value 1.5 above the promised bound B=1"):
        attention_fast(Q, K, V, bound=1.0)


def test_fast_attention_refuses_unbounded_regime_as_a_float64_limit_with_the_digits_needed():
    Q, K, V = _inputs(20, 20, 4, 5.0)
    with pytest.raises(Float64Limit, match=r"float64 limit, a practical limit .* not the lower bound.*logits certified "
                       r"in \[-16.\d+, 16.\d+\].*significant digits would do") as info:
        attention_fast(Q, K, V, bound=5.0)
    assert 16 < info.value.digits < 60 and "SETH" not in str(info.value)


@pytest.mark.parametrize("eps", [0, 1, -0.5, float("nan"), 2.0])
def test_fast_attention_rejects_eps_outside_unit_interval(eps):
    Q, K, V = _inputs(5, 5, 2, 1.0)
    with pytest.raises(ValueError, match="eps must lie in"):
        attention_fast(Q, K, V, eps=eps)


@pytest.mark.parametrize("bound", [0, -1.0, float("inf")])
def test_fast_attention_rejects_non_positive_bound(bound):
    Q, K, V = _inputs(5, 5, 2, 1.0)
    with pytest.raises(ValueError, match="bound must be a positive finite number"):
        attention_fast(Q, K, V, bound=bound)


def test_other_bad_parameters():
    Q, K, V = _inputs(5, 5, 2, 1.0)
    with pytest.raises(ValueError, match="block_size"):
        attention(Q, K, V, block_size=0)
    with pytest.raises(ValueError, match="entry_error"):
        attention_error_bound(1.0, V)
    with pytest.raises(ValueError, match="method must be 'exact' or 'fast'"):
        attention(Q, K, V, method="approximate")


def test_fast_method_returns_the_output_with_its_certificate():
    Q, K, V = _inputs(120, 90, 4, 1.0, dv=3, seed=5)
    res = attention(Q, K, V, method="fast", eps=1e-6, bound=1.0)
    P = low_rank_attention(Q, K, eps=1e-6, bound=1.0)
    np.testing.assert_array_equal(res.output, P.apply(V))
    assert (res.degree, res.rank, res.k, res.bound) == (P.degree, P.rank, 2, 1.0)
    assert res.logits == (P.bounds.lo, P.bounds.hi) and -1.0 <= res.logits[0] < res.logits[1] <= 1.0
    assert res.covered == P.plan.covered and not res.centred and res.precision == "float64"
    assert res.entry_error == P.entry_error and res.error_bound.shape == (3,)
    assert res.max_error_bound == pytest.approx(attention_error_bound(P.entry_error, V), rel=1e-15)
    assert np.all(np.abs(res.output - attention(Q, K, V)).max(axis=0) <= res.error_bound)


# ---------------------------------------------------------------------------- found by the fuzz suite (issue 13)
def test_values_near_the_float64_limit_average_to_a_finite_output():
    """The mean of 1.7e308 and 1.7e308 is 1.7e308: the streamed sum used to overflow to inf (exact and fast)."""
    Q, K, V = np.zeros((2, 2)), np.zeros((3, 2)), np.full((3, 2), 1.7e308)
    np.testing.assert_allclose(attention(Q, K, V), V[:2], rtol=1e-14)
    np.testing.assert_allclose(attention_fast(Q, K, V, bound=1.0), V[:2], rtol=1e-14)
    V[1] = -1.7e308
    np.testing.assert_allclose(attention(Q, K, V), np.full((2, 2), 1.7e308 / 3), rtol=1e-12)


@pytest.mark.parametrize("block_size", ["4", 2.5, 2.0, True, 0])
def test_block_size_must_be_a_positive_integer_not_converted(block_size):
    """``"4"`` and ``2.5`` used to be read as 4 and 2 by ``int()``."""
    with pytest.raises(ValueError, match="block_size must be a positive integer"):
        attention(np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 1)), block_size=block_size)


def test_fast_path_with_inputs_of_opposite_huge_magnitudes():
    """Q ~ 1e150 and K ~ 1e-150 give logits near 1, but the features q^g overflowed and k^g underflowed: NaN.
    The operator now balances Q and K by powers of two (logits unchanged exactly)."""
    rng = np.random.default_rng(0)
    Q, K, V = rng.uniform(-1, 1, (5, 2)) * 1e150, rng.uniform(-1, 1, (6, 2)) * 1e-150, rng.uniform(-1, 1, (6, 2))
    res = attention(Q, K, V, method="fast", eps=1e-6)
    assert np.all(np.abs(res.output - attention(Q, K, V)) <= res.error_bound)
