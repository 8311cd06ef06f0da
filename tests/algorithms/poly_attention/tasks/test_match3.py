"""Match3: two Strassen heads (or two 3-tensor heads) are 100% correct."""

import itertools

import numpy as np
import pytest

from algorithms.poly_attention.tasks import (
    Match3Instance,
    match3_weights,
    random_match3,
    solve_match3,
)


def test_match3_labels_match_a_direct_search():
    inst = random_match3(7, 11, np.random.default_rng(2))
    direct = [any((inst.p[i] + a + b) % 11 == 0 for a, b in itertools.product(inst.p, repeat=2)) for i in range(7)]
    assert list(inst.labels) == direct


def test_two_strassen_heads_solve_match3():
    rng = np.random.default_rng(3)
    correct = total = positives = 0
    for _ in range(40):
        n = int(rng.integers(6, 14))
        inst = random_match3(n, int(rng.choice([2 * n - 2, 37, 8 * n])), rng)
        pred = solve_match3(inst)
        correct += int((pred == inst.labels).sum())
        total += n
        positives += int(inst.labels.sum())
    assert correct == total
    assert positives >= 0.1 * total and total - positives >= 0.1 * total  # both labels common: the test can fail


def test_two_tensor_heads_solve_match3():
    rng = np.random.default_rng(4)
    for _ in range(5):
        inst = random_match3(8, 14, rng)
        assert np.array_equal(solve_match3(inst, mechanism="tensor"), inst.labels)


def test_match3_inputs_are_validated():
    with pytest.raises(ValueError, match="m must"):
        Match3Instance(np.array([1]), 1)
    with pytest.raises(ValueError, match="values in 1..4"):
        Match3Instance(np.array([0, 1]), 5)
    with pytest.raises(ValueError, match="1-d integer"):
        Match3Instance(np.array([1.5]), 5)
    with pytest.raises(ValueError, match="n must"):
        random_match3(0, 5)
    with pytest.raises(ValueError, match="m must"):
        random_match3(3, 1)
    with pytest.raises(ValueError, match="mechanism"):
        solve_match3(random_match3(3, 5, 0), mechanism="self")
    with pytest.raises(ValueError, match="target"):
        match3_weights(random_match3(3, 5, 0), 0)
