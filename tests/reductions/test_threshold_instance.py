"""Thresholds and tolerances in float64: no overflow, no silent wrong answer, a ValueError where float64 cannot decide."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.attention import attention
from algorithms.tensor_attention import tensor_attention
from reductions.gap import (
    Gap3Instance,
    GapInstance,
    HammingGapInstance,
    gap_answer,
    max_inner_product,
    min_hamming_distance,
    planted_gap_instance,
    to_hamming,
)
from reductions.gap_to_attention import (
    gap3_to_tensor_attention,
    gap_to_attention,
    hamming_to_attention,
)
from reductions.ov_to_attention import AttentionInstance
from reductions.threshold_instance import ThresholdInstance, check_margin, separation


def _weight_rows(rng, N, m, w):
    X = np.zeros((N, m), dtype=np.uint8)
    X[np.arange(N)[:, None], np.argsort(rng.random((N, m)), axis=1)[:, :w]] = 1
    return X


@pytest.fixture(scope="module")
def large():
    """N = 1000 vectors a side in m = 200 dimensions, rows of weight 115 (max inner product ~ 80)."""
    rng = np.random.default_rng(10)
    return _weight_rows(rng, 1000, 200, 115), _weight_rows(rng, 1000, 200, 115)


# ---------------------------------------------------------------------------- the reproducers of issue 10
def test_gap_to_attention_at_t_lo_99_refuses_with_a_value_error_naming_t_lo(large):
    A, B = large
    with pytest.raises(ValueError, match=r"cannot be decided in float64.*t_lo=99.*t_lo <= 84\.58"):
        gap_to_attention(GapInstance(A, B, 99, 100))


def test_hamming_to_attention_at_near_90_refuses_instead_of_answering_no(large):
    A, B = large
    with pytest.raises(ValueError, match=r"cannot be decided in float64.*t_near=90.*yes-rows"):
        hamming_to_attention(HammingGapInstance(A, B, 90, 91))


def test_tensor_form_refuses_where_its_outputs_underflow():
    rng = np.random.default_rng(0)
    A, B, C = (rng.integers(0, 2, (10, 200)) for _ in range(3))
    with pytest.raises(ValueError, match=r"t_lo=150.*t_lo <= "):
        gap3_to_tensor_attention(Gap3Instance(A, B, C, 150, 151))


def test_no_overflow_for_any_threshold_only_results_or_value_errors(large):
    """Every (t_lo, t_hi) of the large instance: a finite threshold and tolerance > 0, or a ValueError."""
    A, B = large
    accepted = refused = 0
    for t_lo in range(0, 200, 3):
        for gap in (1, 7, 60):
            if t_lo + gap > 200:
                continue
            for build, src in ((gap_to_attention, GapInstance(A, B, t_lo, t_lo + gap)),
                               (hamming_to_attention, HammingGapInstance(A, B, t_lo, t_lo + gap))):
                try:
                    inst, _ = build(src)
                except ValueError as exc:
                    assert "cannot be decided in float64" in str(exc)
                    refused += 1
                    continue
                assert np.isfinite(inst.threshold) and inst.threshold > 0
                assert 0 < inst.tolerance < inst.threshold and 0 < inst.eps < 1
                accepted += 1
    assert accepted > 50 and refused > 50


# ---------------------------------------------------------------------------- both directions, large and planted
def test_large_instances_are_decided_correctly_in_both_directions_near_the_float64_limit(large):
    """Thresholds just below and just above the optimum; the accepted ones near y ~ e^{-700}."""
    A, B = large
    v, i, _ = max_inner_product(A, B)
    rows = [i, (i + 1) % 1000, (i + 2) % 1000]  # the optimal row and two others: enough to decide
    near_limit = 0
    for t_lo, t_hi in ((v - 1, v), (v, v + 1)):
        src = GapInstance(A[rows], B, t_lo, t_hi)
        inst, decode = gap_to_attention(src)
        y = attention(inst.Q, inst.K, inst.V)
        yes = gap_answer(src)
        assert inst.decide(y) is yes and (decode(y) is not None) is yes
        near_limit += inst.beta * t_lo + math.log(1000) > 650
    assert near_limit == 2  # both decided with outputs ~ e^{-660}, close to float64's e^{-708}
    h, i, _ = min_hamming_distance(A, B)
    for t_near, t_far in ((h, h + 1), (h - 1, h)):
        src = HammingGapInstance(A[[i, (i + 5) % 1000]], B, t_near, t_far)
        inst, decode = hamming_to_attention(src)
        y = attention(inst.Q, inst.K, inst.V)
        yes = gap_answer(src)
        assert inst.decide(y) is yes and (decode(y) is not None) is yes


def test_random_instances_with_unit_gaps_are_decided_or_refused_never_wrong():
    """Every 0/1 instance meets a unit-gap promise: thresholds straddle the optimum, high and low."""
    rng = np.random.default_rng(3)
    counts = {"yes": 0, "no": 0, "refused": 0}
    for trial in range(60):
        m, p = int(rng.integers(20, 400)), rng.uniform(0.2, 0.8)
        A, B = (rng.random((5, m)) < p).astype(int), (rng.random((int(rng.integers(2, 40)), m)) < p).astype(int)
        v, h = max_inner_product(A, B)[0], min_hamming_distance(A, B)[0]
        cases = [(gap_to_attention, GapInstance, v - 1, v), (gap_to_attention, GapInstance, v, v + 1),
                 (hamming_to_attention, HammingGapInstance, h, h + 1), (hamming_to_attention, HammingGapInstance, h - 1, h)]
        for build, kind, lo, hi in cases:
            if lo < 0 or hi > m:
                continue
            src = kind(A, B, lo, hi)
            try:
                inst, decode = build(src, margin=float(rng.choice([1.5, 4.0, 100.0])))
            except ValueError:
                counts["refused"] += 1
                continue
            y = attention(inst.Q, inst.K, inst.V)
            yes = gap_answer(src)
            assert inst.decide(y) is yes and (decode(y) is not None) is yes
            counts["yes" if yes else "no"] += 1
    assert min(counts.values()) >= 10


@pytest.mark.parametrize("margin", [1 + 1e-6, 1 + 1e-3])
def test_margins_close_to_one_still_decide_planted_instances(margin):
    for seed in range(4):
        yes = seed % 2 == 0
        src, _ = planted_gap_instance(16, 24, 6, 3, 6, yes=yes, seed=seed)
        for inst, decode in (gap_to_attention(src, margin=margin), hamming_to_attention(to_hamming(src), margin=margin)):
            y = attention(inst.Q, inst.K, inst.V)
            assert inst.decide(y) is yes and (decode(y) is not None) is yes


def test_a_margin_within_rounding_of_one_is_refused_naming_margin():
    src, _ = planted_gap_instance(8, 24, 6, 3, 6, yes=True, seed=0)
    with pytest.raises(ValueError, match=r"margin=1\.0000000000000.*raise margin"):
        gap_to_attention(src, margin=1 + 1e-14)


def test_tensor_form_decides_both_directions_at_large_logits():
    rng = np.random.default_rng(4)
    for yes in (True, False):
        A, B, C = (rng.integers(0, 2, (4, 60)) for _ in range(3))
        v = int(np.einsum("il,jl,kl->ijk", A, B, C).max())
        src = Gap3Instance(A, B, C, *((v - 1, v) if yes else (v, v + 1)))
        inst, decode = gap3_to_tensor_attention(src)
        y = tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)
        assert inst.decide(y) is yes is gap_answer(src) and (decode(y) is not None) is yes


# ---------------------------------------------------------------------------- the tolerance, as restated
def test_tolerance_is_n_to_the_minus_one_plus_t_lo_over_gap():
    """tolerance * N_b * (margin N_b)^{t_lo/Delta} stays within constant factors of (1 - 1/margin)/2."""
    A = np.ones((1, 60), int)
    for N_b in (4, 64, 1024):
        for t_lo, t_hi in ((0, 6), (6, 12), (20, 24), (40, 41)):
            inst, _ = gap_to_attention(GapInstance(A, np.ones((N_b, 60), int), t_lo, t_hi))
            scaled = inst.tolerance * N_b * (4 * N_b) ** (t_lo / (t_hi - t_lo))
            assert 0.5 * (1 - 1 / 4) / 2 <= scaled <= (1 - 1 / 4) / 2 * 1.0001


# ---------------------------------------------------------------------------- the instance type
def test_threshold_instance_extends_attention_instance_instead_of_repeating_it():
    own = [f for f in ThresholdInstance.__dataclass_fields__ if f not in AttentionInstance.__dataclass_fields__]
    assert issubclass(ThresholdInstance, AttentionInstance) and own == ["eps", "form"]


def test_separation_in_log_space_matches_the_direct_formula():
    t, tol, eps = separation(math.log(0.1), math.log(0.5), underflow="", margin=4.0, d=3, n=4, logit=1.0)
    assert (t, tol) == pytest.approx((0.3, 0.2)) and eps == pytest.approx(2 * 0.2 / (1 + 0.04))
    t, tol, _ = separation(-2000.0, -700.0, underflow="", margin=4.0, d=3, n=4, logit=1.0)
    assert t == pytest.approx(math.exp(-700) / 2) and tol == pytest.approx(math.exp(-700) / 2)
    with pytest.raises(ValueError, match="^too small$"):
        separation(-2000.0, -710.0, underflow="too small", margin=4.0, d=3, n=4, logit=1.0)


@pytest.mark.parametrize("margin", ["4", b"4", True])
def test_margin_must_be_a_number_not_a_string(margin):
    """``margin="4"`` was read as 4.0 by ``float()`` (fuzz suite)."""
    with pytest.raises(ValueError, match="margin must be a finite number > 1"):
        check_margin(margin)
