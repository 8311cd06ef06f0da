"""Gap max-IP, gap 3-max-IP and gap Hamming closest pair: instances, brute force, planted generators."""

from __future__ import annotations

import numpy as np
import pytest

from reductions.gap import (
    Gap3Instance,
    GapInstance,
    HammingGapInstance,
    gap_answer,
    max_inner_product,
    max_inner_product3,
    min_hamming_distance,
    planted_gap3_instance,
    planted_gap_instance,
    to_hamming,
)

AT = dict(N=24, m=32, w=6, t_lo=3, t_hi=6)
AT3 = dict(N=6, m=24, w=6, t_lo=1, t_hi=5)


@pytest.mark.parametrize("yes", [True, False])
def test_planted_gap_instances_keep_their_promise(yes):
    for seed in range(10):
        src, pair = planted_gap_instance(**AT, yes=yes, seed=seed)
        value = max_inner_product(src.A, src.B)[0]
        assert gap_answer(src) is yes
        assert (value == AT["t_hi"]) if yes else (value <= AT["t_lo"])
        assert set(src.A.sum(1)) == set(src.B.sum(1)) == {AT["w"]}
        if yes:
            assert int(src.A[pair[0]] @ src.B[pair[1]]) == AT["t_hi"]
        src3, triple = planted_gap3_instance(**AT3, yes=yes, seed=seed)
        value3 = max_inner_product3(src3.A, src3.B, src3.C)[0]
        assert gap_answer(src3) is yes
        assert (value3 == AT3["t_hi"]) if yes else (value3 <= AT3["t_lo"])


def test_brute_force_solvers_agree_with_definitions():
    rng = np.random.default_rng(0)
    A, B, C = rng.integers(0, 2, (5, 7)), rng.integers(0, 2, (4, 7)), rng.integers(0, 2, (3, 7))
    G = A @ B.T
    assert max_inner_product(A, B)[0] == G.max()
    v, i, j, k = max_inner_product3(A, B, C)
    assert v == max(int(np.sum(a * b * c)) for a in A for b in B for c in C) == np.sum(A[i] * B[j] * C[k])
    H = np.array([[np.sum(a != b) for b in B] for a in A])
    assert min_hamming_distance(A, B)[0] == H.min()


def test_to_hamming_maps_inner_products_to_distances():
    src, _ = planted_gap_instance(**AT, yes=True, seed=3)
    ham = to_hamming(src)
    w = AT["w"]
    assert (ham.t_near, ham.t_far) == (2 * (w - AT["t_hi"]), 2 * (w - AT["t_lo"]))
    assert min_hamming_distance(ham.A, ham.B)[0] == 2 * w - 2 * max_inner_product(src.A, src.B)[0]
    assert gap_answer(ham) is True


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: GapInstance([[1, 0]], [[1, 0]], 1, 1), "0 <= t_lo < t_hi <= m"),
        (lambda: GapInstance([[1, 0]], [[1, 0]], 0, 3), "0 <= t_lo < t_hi <= m"),
        (lambda: GapInstance([[1, 0]], [[1, 0, 0]], 0, 1), "B must have 2 columns"),
        (lambda: Gap3Instance([[1, 0]], [[1, 0]], [[2, 0]], 0, 1), "C must hold only 0/1"),
        (lambda: HammingGapInstance([[1, 0]], [[1, 0]], 2, 1), "0 <= t_near < t_far <= m"),
        (lambda: planted_gap_instance(4, 10, 3, 2, 4, yes=True), "t_lo < t_hi <= w <= m"),
        (lambda: planted_gap_instance(0, 10, 3, 1, 2, yes=True), "N >= 1"),
        (lambda: planted_gap_instance(4, 10, 8, 1, 2, yes=True), "w - t_hi <= m - w"),
        (lambda: planted_gap_instance(10, 4, 2, 0, 2, yes=False, seed=0), "too dense"),
        (lambda: to_hamming(GapInstance([[1, 0]], [[1, 1]], 0, 1)), "same weight"),
        (lambda: gap_answer(GapInstance([[1, 1, 1]], [[1, 1, 0]], 1, 3)), "promise"),
    ],
)
def test_bad_input_raises_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()
