"""OV -> attention and 3-OV -> tensor attention: both directions against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.attention import attention
from algorithms.tensor_attention import tensor_attention
from reductions.ov import (
    find_orthogonal_pair,
    find_orthogonal_tuple,
    planted_kov,
    planted_ov,
)
from reductions.ov_to_attention import kov_to_tensor_attention, ov_to_attention


def _check_pair(A, B, pair):
    """``pair`` is None exactly when brute force finds none, else it is orthogonal."""
    truth = find_orthogonal_pair(A, B)
    if truth is None:
        assert pair is None
    else:
        i, j = pair
        assert int(np.dot(np.asarray(A)[i], np.asarray(B)[j])) == 0


def _check_triple(A, B, C, triple):
    truth = find_orthogonal_tuple([A, B, C])
    if truth is None:
        assert triple is None
    else:
        i, j, k = triple
        assert int(np.sum(np.asarray(A)[i] * np.asarray(B)[j] * np.asarray(C)[k])) == 0


def test_ov_to_attention_decides_ov_on_random_instances():
    rng = np.random.default_rng(0)
    seen = {True: 0, False: 0}
    for _ in range(300):
        N_a, N_b, m = rng.integers(1, 12), rng.integers(1, 12), rng.integers(1, 9)
        A = (rng.random((N_a, m)) < rng.uniform(0.2, 0.8)).astype(int)
        B = (rng.random((N_b, m)) < rng.uniform(0.2, 0.8)).astype(int)
        inst, decode = ov_to_attention(A, B)
        pair = decode(attention(inst.Q, inst.K, inst.V))
        _check_pair(A, B, pair)
        seen[pair is not None] += 1
    assert min(seen.values()) > 30  # both answers are exercised


@pytest.mark.parametrize("orthogonal", [True, False])
def test_ov_to_attention_on_planted_instances(orthogonal):
    for seed in range(40):
        ov, planted = planted_ov(12, 10, orthogonal=orthogonal, seed=seed)
        inst, decode = ov_to_attention(ov.A, ov.B)
        pair = decode(attention(inst.Q, inst.K, inst.V))
        assert (pair is not None) == orthogonal
        if orthogonal:
            assert pair == planted  # planted_ov makes the planted pair the only one


def test_ov_output_is_one_over_one_plus_row_mass():
    """y_i = 1/(1 + sum_j exp(-beta <a_i, b_j>)), computed here independently of the library."""
    rng = np.random.default_rng(1)
    A, B = rng.integers(0, 2, (7, 5)), rng.integers(0, 2, (9, 5))
    inst, _ = ov_to_attention(A, B)
    S = np.exp(-inst.beta * (A @ B.T)).sum(axis=1)
    np.testing.assert_allclose(attention(inst.Q, inst.K, inst.V)[:, 0], 1 / (1 + S), rtol=1e-12)


def test_ov_decoder_tolerates_adversarial_error_below_tolerance():
    for seed in range(30):
        ov, _ = planted_ov(10, 8, orthogonal=seed % 2 == 0, seed=seed)
        inst, decode = ov_to_attention(ov.A, ov.B)
        y = attention(inst.Q, inst.K, inst.V)
        # push every row toward the threshold by 0.99 * tolerance
        push = np.where(y < inst.threshold, 1.0, -1.0) * 0.99 * inst.tolerance
        _check_pair(ov.A, ov.B, decode(y + push))


def test_ov_to_attention_blow_up_matches_docstring():
    for N_a, N_b, m in [(5, 9, 7), (20, 3, 12), (1, 1, 1), (64, 64, 18)]:
        rng = np.random.default_rng(N_a + N_b + m)
        A, B = rng.integers(0, 2, (N_a, m)), rng.integers(0, 2, (N_b, m))
        A[0, 0] = B[0, 0] = 1  # some entry is 1, so B is attained
        inst, _ = ov_to_attention(A, B)
        beta = math.log(2 * N_b) + 1
        assert inst.Q.shape == (N_a, m) and inst.K.shape == (N_b + 1, m) and inst.V.shape == (N_b + 1, 1)
        assert (inst.n, inst.d) == (max(N_a, N_b + 1), m)
        assert inst.beta == pytest.approx(beta)
        assert inst.B == pytest.approx(math.sqrt(m * beta))
        assert np.max(np.abs(inst.Q)) <= inst.B + 1e-12 and np.max(np.abs(inst.K)) <= inst.B + 1e-12


def test_ov_entries_grow_like_log_n_at_m_log_n():
    """Built instances with m = 2 log2 N: B / log n stays flat, B / sqrt(log n) grows."""
    ratios = []
    for N in [2**4, 2**8, 2**12, 2**16]:
        m = int(2 * math.log2(N))
        inst, _ = ov_to_attention(np.ones((1, m), int), np.ones((N, m), int))
        ratios.append((inst.B / math.log(inst.n), inst.B / math.sqrt(math.log(inst.n))))
    by_log = [r[0] for r in ratios]
    assert max(by_log) / min(by_log) < 1.5
    assert ratios[-1][1] > 1.5 * ratios[0][1]


def test_ov_zero_dimension_every_pair_is_orthogonal():
    inst, decode = ov_to_attention(np.zeros((3, 0)), np.zeros((2, 0)))
    assert inst.d == 1
    assert decode(attention(inst.Q, inst.K, inst.V)) == (0, 0)


@pytest.mark.parametrize(
    "A, B, match",
    [
        ([[1, 2]], [[1, 0]], "A must hold only 0/1"),
        ([[1, 0]], [[1, 0, 1]], "B must have 2 columns"),
        ([1, 0], [[1, 0]], "A must be a 2-d"),
        (np.zeros((0, 2)), [[1, 0]], "A must have at least one row"),
    ],
)
def test_ov_to_attention_rejects_bad_input(A, B, match):
    with pytest.raises(ValueError, match=match):
        ov_to_attention(A, B)


def test_ov_decoder_rejects_bad_output():
    inst, decode = ov_to_attention([[1, 0], [0, 1]], [[1, 1]])
    with pytest.raises(ValueError, match="output must have 2 rows"):
        decode(np.zeros((3, 1)))
    with pytest.raises(ValueError, match="output must be finite"):
        decode(np.array([[np.nan], [0.0]]))


# ---------------------------------------------------------------------------- tensor
def test_kov_to_tensor_attention_decides_3ov_on_random_instances():
    rng = np.random.default_rng(2)
    seen = {True: 0, False: 0}
    for _ in range(120):
        N_a, N_b, N_c, m = (int(x) for x in rng.integers(1, 7, 4))
        p = rng.uniform(0.4, 0.9)
        A, B, C = ((rng.random((N, m)) < p).astype(int) for N in (N_a, N_b, N_c))
        inst, decode = kov_to_tensor_attention(A, B, C)
        triple = decode(tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2))
        _check_triple(A, B, C, triple)
        seen[triple is not None] += 1
    assert min(seen.values()) > 15


@pytest.mark.parametrize("orthogonal", [True, False])
def test_kov_to_tensor_attention_on_planted_instances(orthogonal):
    for seed in range(20):
        kov, planted = planted_kov(3, 6, 8, orthogonal=orthogonal, seed=seed)
        inst, decode = kov_to_tensor_attention(*kov.sets)
        triple = decode(tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2))
        assert (triple is not None) == orthogonal
        if orthogonal:
            assert triple == planted


def test_tensor_output_matches_einsum_reference():
    """y_i = 1/(S_i + N_b + N_c + 1) with S_i over real pairs, computed independently."""
    rng = np.random.default_rng(3)
    A, B, C = rng.integers(0, 2, (4, 5)), rng.integers(0, 2, (6, 5)), rng.integers(0, 2, (3, 5))
    inst, _ = kov_to_tensor_attention(A, B, C)
    S = np.exp(-inst.beta * np.einsum("il,jl,kl->ijk", A, B, C)).sum(axis=(1, 2))
    y = tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)[:, 0]
    np.testing.assert_allclose(y, 1 / (S + 6 + 3 + 1), rtol=1e-12)


def test_kov_decoder_tolerates_adversarial_error_below_tolerance():
    for seed in range(16):
        kov, _ = planted_kov(3, 5, 6, orthogonal=seed % 2 == 0, seed=seed)
        inst, decode = kov_to_tensor_attention(*kov.sets)
        y = tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)
        push = np.where(y < inst.threshold, 1.0, -1.0) * 0.99 * inst.tolerance
        _check_triple(*kov.sets, decode(y + push))


def test_kov_blow_up_matches_docstring():
    rng = np.random.default_rng(4)
    A, B, C = rng.integers(0, 2, (5, 9)), rng.integers(0, 2, (7, 9)), rng.integers(0, 2, (2, 9))
    A[0, 0] = 1
    inst, _ = kov_to_tensor_attention(A, B, C)
    beta = math.log(2 * 7 * 2) + 1
    assert (inst.n, inst.d) == (8, 9)
    assert inst.K1.shape == (8, 9) and inst.K2.shape == (3, 9) and inst.V1.shape == (8, 1)
    assert inst.B == pytest.approx((9 * beta) ** (1 / 3))
    assert inst.tolerance == pytest.approx((1 / (10 + 1 / (2 * math.e)) - 1 / 11) / 2)


def test_kov_rejects_bad_input():
    with pytest.raises(ValueError, match="C must have 2 columns"):
        kov_to_tensor_attention([[1, 0]], [[1, 0]], [[1]])
    with pytest.raises(ValueError, match="B must hold only 0/1"):
        kov_to_tensor_attention([[1, 0]], [[3, 0]], [[1, 0]])
    inst, decode = kov_to_tensor_attention([[1, 0]], [[1, 0]], [[1, 0]])
    with pytest.raises(ValueError, match="output must have 1 rows"):
        decode(np.zeros((2, 1)))
