"""OV and k-OV: brute force against a pure-Python reference, planted instances, input checks."""

from __future__ import annotations

import doctest
import itertools
import re

import numpy as np
import pytest

import reductions.ov
from reductions.ov import (
    KOVInstance,
    OVInstance,
    count_orthogonal_pairs,
    count_orthogonal_tuples,
    find_orthogonal_pair,
    find_orthogonal_tuple,
    planted_kov,
    planted_ov,
    random_kov,
    random_ov,
)


def reference_tuples(sets) -> list[tuple[int, ...]]:
    """Pure Python: every tuple with no coordinate where all vectors are 1, in lexicographic order."""
    sets = [np.asarray(X).tolist() for X in sets]
    m = len(sets[0][0])
    return [
        t
        for t in itertools.product(*(range(len(X)) for X in sets))
        if not any(all(X[i][c] for X, i in zip(sets, t)) for c in range(m))
    ]


def test_docstring_examples_run():
    assert doctest.testmod(reductions.ov).failed == 0


@pytest.mark.parametrize("seed", range(60))
def test_find_orthogonal_pair_matches_reference(seed):
    rng = np.random.default_rng(seed)
    N, m = rng.integers(1, 12, size=2)
    inst = random_ov(int(N), int(m), p=0.6, seed=seed)
    A, B = inst.A, inst.B[: 1 + seed % int(N)]  # N_a != N_b too
    ref = reference_tuples([A, B])
    assert find_orthogonal_pair(A, B) == (ref[0] if ref else None)
    assert count_orthogonal_pairs(A, B) == len(ref)


@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("seed", range(25))
def test_find_orthogonal_tuple_matches_reference(k, seed):
    inst = random_kov(k, 1 + seed % 5, 2 + seed % 7, p=0.7, seed=seed)
    ref = reference_tuples(inst.sets)
    assert find_orthogonal_tuple(inst.sets) == (ref[0] if ref else None)
    assert count_orthogonal_tuples(inst.sets) == len(ref)


def test_two_set_k_ov_is_ov():
    inst = random_ov(9, 5, p=0.6, seed=4)
    assert find_orthogonal_tuple([inst.A, inst.B]) == find_orthogonal_pair(inst.A, inst.B)


def test_pair_search_crosses_row_blocks():
    """Rows of A are scanned in blocks of 2048; the only orthogonal pair sits in the second block."""
    A = np.ones((2100, 4), dtype=np.uint8)
    A[2090] = [1, 0, 0, 0]
    B = np.array([[1, 1, 0, 0], [0, 1, 1, 1]])
    assert find_orthogonal_pair(A, B) == (2090, 1)
    assert count_orthogonal_pairs(A, B) == 1


@pytest.mark.parametrize("seed", range(40))
def test_planted_ov_has_exactly_the_planted_answer(seed):
    N, m = 2 + seed % 9, 3 + seed % 6
    yes, pair = planted_ov(N, m, orthogonal=True, seed=seed)
    assert count_orthogonal_pairs(yes.A, yes.B) == 1 and find_orthogonal_pair(yes.A, yes.B) == pair
    no, none = planted_ov(N, m, orthogonal=False, seed=seed)
    assert none is None and count_orthogonal_pairs(no.A, no.B) == 0


@pytest.mark.parametrize("k", [3, 4])
@pytest.mark.parametrize("seed", range(15))
def test_planted_kov_has_exactly_the_planted_answer(k, seed):
    N, m = 1 + seed % 5, k + seed % 5
    yes, t = planted_kov(k, N, m, orthogonal=True, seed=seed)
    assert reference_tuples(yes.sets) == [t]
    no, none = planted_kov(k, N, m, orthogonal=False, seed=seed)
    assert none is None and reference_tuples(no.sets) == []


@pytest.mark.parametrize(
    "A, B, fragment",
    [
        ([1, 0], [[1, 0]], "A must be a 2-d"),
        ([[1, 0]], [[1, 0, 1]], "B must have 2 columns"),
        ([[1, 2]], [[1, 0]], "A must hold only 0/1"),
        ([[1, 0]], [[0.5, 0]], "B must hold only 0/1"),
        ([[1, 0]], [["a", "b"]], "B must hold only 0/1"),
        (np.zeros((0, 2)), [[1, 0]], "A must have at least one row"),
    ],
)
def test_bad_ov_input_raises_naming_the_parameter(A, B, fragment):
    with pytest.raises(ValueError, match=fragment):
        find_orthogonal_pair(A, B)
    with pytest.raises(ValueError, match=fragment):
        OVInstance(A, B)


def test_bad_kov_input_raises_naming_the_set():
    with pytest.raises(ValueError, match="at least 2"):
        KOVInstance(([[1]],))
    with pytest.raises(ValueError, match=r"sets\[2\] must have 2 columns"):
        find_orthogonal_tuple([[[1, 0]], [[0, 1]], [[1, 1, 1]]])
    with pytest.raises(ValueError, match=r"sets\[1\] must hold only 0/1"):
        count_orthogonal_tuples([[[1, 0]], [[3, 1]]])


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: random_ov(0, 3), "N must be"),
        (lambda: random_ov(3, 0), "m must be"),
        (lambda: random_ov(3, 3, p=1.5), "p must lie"),
        (lambda: planted_ov(3, 3, True, p=-0.1), "p must lie"),
        (lambda: random_kov(1, 3, 3), "k must be"),
        (lambda: planted_kov(1, 3, 3, True), "k must be"),
    ],
)
def test_generators_reject_bad_sizes(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda: planted_ov(None, 3, True, seed=0), "N must be a positive integer, got None"),
    (lambda: random_ov(3, "4", seed=0), "m must be a positive integer, got '4'"),
    (lambda: planted_ov(3, 2, True, "x", seed=0), "p must lie in [0, 1] (a number), got 'x'"),
    (lambda: random_kov(2.0, 3, 3, seed=0), "k must be an integer >= 2, got 2.0"),
    (lambda: planted_ov(10**6, 100, True, seed=0), "above the limit"),  # 10^14 pair products while planting
])
def test_generators_refuse_non_integer_and_huge_sizes(call, fragment):
    """Found by the fuzz suite: ``None``, ``"4"`` or ``"x"`` raised ``TypeError`` (``'<' not supported ...``)."""
    with pytest.raises(ValueError, match=re.escape(fragment)):
        call()
