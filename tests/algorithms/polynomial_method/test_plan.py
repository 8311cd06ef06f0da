"""The plan on the certified interval: centring only when cheaper, two refusal reasons never mixed up,
the mpmath path against exact attention, and the hostile inputs of issue 13 (items 2, 3, 5, 6)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.attention import attention, attention_fast, low_rank_attention
from algorithms.polynomial_method import (
    CostExceedsExact,
    FastPathUnavailable,
    Float64Limit,
    LogitBounds,
    PrecisionTooSlow,
    approximate_exp,
    feature_rank,
    plan_fast_path,
)
from algorithms.tensor_attention import tensor_attention, tensor_attention_fast
from algorithms.transformer.head import head_forward


def _plan(lo, hi, eps=1e-6, d=3, n=50, neg=None, absmax=None, **kw):
    b = LogitBounds(lo, hi, max(0.0, -lo) if neg is None else neg, max(abs(lo), abs(hi)) if absmax is None else absmax)
    return plan_fast_path(b, columns=d, k=2, eps=eps, n_query=n, n_keys=[n], d_v=1, **kw)


# ---------------------------------------------------------------------------- centring
def test_symmetric_inputs_keep_the_readme_numbers_and_are_not_centred():
    rng = np.random.default_rng(0)
    Q, K = rng.uniform(-1, 1, (4096, 4)), rng.uniform(-1, 1, (4096, 4))
    P = low_rank_attention(Q, K, eps=1e-6, bound=1.0)
    assert (P.degree, P.rank, P.centred, P.plan.covered) == (7, 330, False, (-1.0, 1.0))
    assert "centred" not in P.plan.alternatives  # c = 0: nothing to centre


@pytest.mark.parametrize("lo,hi,eps", [(0.0, 9.13, 3.3e-4), (2.0, 6.0, 1e-3), (-6.0, 0.0, 1e-4),
                                       (12.0, 12.5, 1e-6), (-3.0, 1.0, 1e-6)])
def test_centring_is_chosen_only_when_its_rank_is_smaller(lo, hi, eps):
    p = _plan(lo, hi, eps)
    ranks = {name: r for name, r in p.alternatives.items() if isinstance(r, int)}
    assert p.rank == min(ranks.values())  # the cheaper valid basis ...
    if p.centred:  # ... and centring only when strictly cheaper
        assert ranks["centred"] < ranks.get("uncentred", math.inf)
    assert p.feature_dim == 3 + p.centred and p.rank == feature_rank(p.feature_dim, p.degree)
    assert p.covered[0] <= lo and hi <= p.covered[1]


def test_far_from_zero_the_mpmath_plan_centres_and_matches_exact():
    """Logits near 60 +- 0.5: the uncentred basis would need ~2|c|/ln 10 = 52 more digits."""
    rng = np.random.default_rng(3)
    Q = np.hstack([np.full((6, 1), 10.0), rng.uniform(-0.5, 0.5, (6, 1))])
    K = np.hstack([np.full((7, 1), 12.0), rng.uniform(-0.5, 0.5, (7, 1))])
    V = rng.normal(size=(7, 2))
    res = attention(Q, K, V, method="fast", eps=1e-8, precision="mpmath")
    assert res.centred and res.precision == "mpmath" and 59 < res.logits[0] <= res.logits[1] < 61
    assert np.max(np.abs(res.output - attention(Q, K, V))) <= res.max_error_bound


# ---------------------------------------------------------------------------- the two reasons
def test_reasons_are_distinct_value_errors():
    for cls in (CostExceedsExact, Float64Limit, PrecisionTooSlow):
        assert issubclass(cls, FastPathUnavailable) and issubclass(cls, ValueError)
    assert not issubclass(CostExceedsExact, Float64Limit) and not issubclass(Float64Limit, CostExceedsExact)
    assert {CostExceedsExact.reason, Float64Limit.reason, PrecisionTooSlow.reason} == {"cost", "float64", "budget"}


def test_cost_refusal_names_both_flop_counts_in_any_precision():
    """Logits in [0, 9.1] at d = 32: the rank, not the arithmetic, stops the method."""
    for precision in ("float64", "mpmath"):
        with pytest.raises(CostExceedsExact, match=r"cost, the complexity phenomenon.*flops against") as info:
            _plan(0.0, 9.13, 3.3e-4, d=32, n=24, precision=precision)
        e = info.value
        assert e.fast_flops > e.exact_flops > 0 and e.degree >= 8 and e.rank >= math.comb(40, 8)
        assert not isinstance(e, Float64Limit) and "SETH" not in str(e) and "lower bound" not in str(e)


def test_float64_refusal_names_the_digits_and_is_not_a_cost_statement():
    rng = np.random.default_rng(1)
    Q, K, V = (rng.uniform(-5, 5, (20, 4)) for _ in range(3))
    with pytest.raises(Float64Limit, match=r"float64 limit.*not the lower bound.*significant digits") as info:
        attention_fast(Q, K, V, bound=5.0)
    assert not isinstance(info.value, CostExceedsExact) and 16 < info.value.digits < 60
    with pytest.raises(PrecisionTooSlow, match="time budget"):  # mpmath would do, but not in 30 s here
        attention_fast(Q, K, V, bound=5.0, precision="mpmath")
    with pytest.raises(Float64Limit, match=r"B=3 .*not the lower bound") as info:  # the worst-case interval too
        approximate_exp(3.0, 3, 1e-6)
    assert "SETH" not in str(info.value)


# ---------------------------------------------------------------------------- mpmath against exact
@pytest.mark.parametrize("seed", range(2))
def test_mpmath_runs_where_float64_refuses_and_stays_within_its_bound(seed):
    rng = np.random.default_rng(seed)
    Q, K, V = rng.uniform(-3, 3, (12, 2)), rng.uniform(-3, 3, (9, 2)), rng.normal(size=(9, 2))
    with pytest.raises(Float64Limit):
        attention(Q, K, V, method="fast", eps=1e-10)
    res = attention(Q, K, V, method="fast", eps=1e-10, precision="mpmath")
    err = np.abs(res.output - attention(Q, K, V)).max(axis=0)
    assert np.all(err <= res.error_bound) and res.entry_error <= 1e-10 and res.precision == "mpmath"


def test_mpmath_tensor_path_stays_within_its_bound():
    rng = np.random.default_rng(4)
    Q, K1, K2 = (rng.uniform(-2.2, 2.2, (5, 2)) for _ in range(3))
    V1, V2 = rng.normal(size=(5, 1)), rng.normal(size=(5, 1))
    with pytest.raises(Float64Limit):
        tensor_attention(Q, K1, K2, V1, V2, method="fast", eps=1e-9)
    res = tensor_attention(Q, K1, K2, V1, V2, method="fast", eps=1e-9, precision="mpmath")
    assert np.all(np.abs(res.output - tensor_attention(Q, K1, K2, V1, V2)).max(axis=0) <= res.error_bound)


# ---------------------------------------------------------------------------- issue 13, items 2, 3, 5, 6
def test_issue13_item2_a_huge_bound_gives_the_answer_not_an_overflow():
    one = np.ones((1, 1))
    np.testing.assert_array_equal(attention_fast(one, one, one, bound=1e200), [[1.0]])
    np.testing.assert_array_equal(tensor_attention_fast(one, one, one, one, one, bound=1e120), [[1.0]])
    with pytest.raises(CostExceedsExact):  # logits of 1e300 x 1e300: beyond float64, refused, never an OverflowError
        attention_fast(np.array([[1e300], [-1e300]]), np.array([[1e300]]), one)


def test_issue13_item3_zero_and_tiny_inputs_are_answered():
    V = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(attention_fast(np.zeros((2, 2)), np.zeros((3, 2)), V), [[2.0, 3.0]] * 2)
    tiny = np.full((2, 2), 1e-160)
    np.testing.assert_allclose(attention_fast(tiny, tiny[:1].repeat(3, 0), V), [[2.0, 3.0]] * 2)
    out = tensor_attention_fast(np.zeros((1, 2)), np.ones((3, 2)), np.ones((2, 2)), V, V[:2])
    np.testing.assert_allclose(out, tensor_attention(np.zeros((1, 2)), np.ones((3, 2)), np.ones((2, 2)), V, V[:2]))


def test_issue13_item5_apply_checks_value_rows_and_accepts_lists():
    op = low_rank_attention(np.zeros((1, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="V must have 2 rows"):
        op.apply(np.array([[0.0], [0.0], [9.0]]))
    for call in (op.matmul, lambda Y: op.product(Y)):
        with pytest.raises(ValueError, match="Y must have 2 rows"):
            call(np.ones((3, 1)))
    with pytest.raises(ValueError, match="Y must have 1 rows"):
        op.rmatmul(np.ones((2, 1)))
    np.testing.assert_allclose(op.apply([[1.0], [3.0]]), [[2.0]])  # a list is a matrix
    from algorithms.tensor_attention import low_rank_tensor_attention

    op3 = low_rank_tensor_attention(np.zeros((1, 1)), np.ones((2, 1)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="V2 must have 3 rows"):
        op3.apply(np.ones((2, 1)), np.ones((2, 1)))


def test_issue13_item6_head_forward_refuses_logits_outside_the_approximation():
    P = approximate_exp(1.0, 2, 1e-6)
    Q = np.array([[3.0], [-3.0]])
    with pytest.raises(ValueError, match=r"logits in \[-9, 9\].*outside \[-1, 1\].*B = 1"):
        head_forward(Q, Q, np.array([[1.0], [0.0]]), approximation=P)
    out, _ = head_forward(Q / 3, Q / 3, np.array([[1.0], [0.0]]), approximation=P)  # inside: runs
    exact, _ = head_forward(Q / 3, Q / 3, np.array([[1.0], [0.0]]))
    np.testing.assert_allclose(out, exact, atol=1e-6)


# ---------------------------------------------------------------------------- found by the fuzz suite (issue 13)
def test_cost_refusal_with_a_rank_above_float64():
    """Logits near 1e298 need a degree whose rank C(d+g, g) is an int above 1e308: it was an OverflowError."""
    Q = np.array([[0.6, 0.3, -0.3, -0.7]])
    K = np.array([[2e291, -5.5e299, 0.0, -7.2e252]])
    with pytest.raises(CostExceedsExact):
        attention(Q, K, np.ones((1, 1)), method="fast", eps=0.01)


def test_float64_refusal_at_half_width_60_is_quick():
    """The refusal reports the mpmath alternative; its truncation bound took ~15 s with mpmath.nsum (now ~1 s)."""
    import time

    Q = np.array([[3, 3, 0, 2], [0, 3, 3, 0], [3, 0, 1, 1]], dtype=np.uint8)
    K = np.array([[160, 0, 0, 0]], dtype=np.uint8)
    start = time.perf_counter()
    with pytest.raises(Float64Limit):
        attention(Q, K, np.ones((1, 1)), method="fast", eps=1e-4)
    assert time.perf_counter() - start < 8.0


def test_float64_refusal_at_half_width_100_is_quick():
    """At half-width ~102 the refusal built the mpmath plan to describe it: 7-13 s (a hang for the fuzz suite)."""
    import time

    start = time.perf_counter()
    with pytest.raises(Float64Limit) as info:
        attention(np.array([[-0.379]]), np.array([[0.0], [-539.5]]), np.zeros((2, 2)), method="fast", eps=1e-4)
    assert time.perf_counter() - start < 3.0
    assert "would need at least" in str(info.value) and info.value.digits > 16


def test_refusal_with_a_huge_logit_centre_is_quick_and_small():
    """One logit far from 0 (a small half-width about a huge centre) asked mpmath for 3e16 digits: MemoryError (fuzz)."""
    import time

    Q, K = np.array([[0.0, -0.0234, 0.0]]), np.array([[0.0, 2.0**62, 0.0]])  # one logit, -3.6e16
    start = time.perf_counter()
    with pytest.raises(Float64Limit) as info:
        attention(Q, K, np.ones((1, 1)), method="fast", eps=1e-8)
    assert time.perf_counter() - start < 3.0 and "would need at least" in str(info.value)
    with pytest.raises(PrecisionTooSlow, match="significant digits"):
        attention(Q, K, np.ones((1, 1)), method="fast", eps=1e-8, precision="mpmath")


def test_cost_refusal_at_a_half_width_near_float64s_largest_value():
    """sqrt(2 pi h) overflowed to inf for h ~ 4.6e307 and the refusal crashed with OverflowError (fuzz, seed 2)."""
    from algorithms.polynomial_method.bessel import degree_lower_bound

    assert degree_lower_bound(1.7e308, 1e-6) > 10**153
    Q, K = np.array([[1e154, 1e154]]), np.array([[-1e154, -1e154], [0.0, 0.0]])
    with pytest.raises(FastPathUnavailable):
        attention(Q, K, np.ones((2, 1)), method="fast", eps=1e-6)
