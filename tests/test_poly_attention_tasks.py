"""Polyadic tasks: the explicit one-layer constructions are 100% correct; one-hop self-attention is not."""

import itertools

import numpy as np
import pytest

from algorithms.poly_attention.tasks import (
    CompositionInstance,
    Match3Instance,
    composition_weights,
    random_composition,
    random_match3,
    solve_composition,
    solve_match3,
    self_attention_one_hop,
)


def test_composition_answer_and_chain_on_a_knowledge_base():
    # people -> city -> country:  Sam lives in Toronto, Toronto is in Canada
    people, cities, countries = ["Sam", "Ana", "Li"], ["Toronto", "Lyon", "Osaka"], ["Canada", "France", "Japan"]
    lives_in = [0, 1, 2]  # Sam->Toronto, Ana->Lyon, Li->Osaka
    is_in = [0, 1, 2]
    inst = CompositionInstance(np.array([lives_in, is_in]), x=people.index("Sam"))
    assert countries[inst.answer] == "Canada"
    assert inst.chain() == [0, 3 + 0]
    assert list(inst.tokens) == [0, 1, 2, 0, 1, 2, 0]
    assert solve_composition(inst)[0] == countries.index("Canada")


@pytest.mark.parametrize("r", [1, 2, 3, 4])
def test_path_attention_solves_r_fold_composition(r):
    rng = np.random.default_rng(r)
    for _ in range(15):
        inst = random_composition(int(rng.integers(3, 8)), r, rng)
        pred, raw = solve_composition(inst)
        assert pred == inst.answer
        assert abs(raw - inst.answer) < 0.35  # the margin proved in composition_weights


def test_composition_weights_have_the_documented_shape():
    inst = random_composition(5, 3, np.random.default_rng(0))
    h, Xs, Vs = composition_weights(inst)
    assert str(h) == "x1x2 + x2x3 + x3x4"
    assert [X.shape for X in Xs] == [(16, 9)] * 4 and [V.shape for V in Vs] == [(16, 1)] * 3


def test_one_hop_self_attention_is_a_lookup_but_not_a_composition():
    # demonstration, not a proof: the natural one-layer constructions follow one pointer only
    rng = np.random.default_rng(1)
    n, trials = 8, 150
    hits = np.zeros(2)
    for _ in range(trials):
        inst = random_composition(n, 2, rng)
        looked_up = [self_attention_one_hop(inst, block) for block in (0, 1)]
        assert looked_up == [inst.functions[0, inst.x], inst.functions[1, inst.x]]
        hits += [v == inst.answer for v in looked_up]
    assert np.all(hits / trials < 0.35)  # chance level is about 1/n to 2/n, far from 100%


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


def test_task_inputs_are_validated():
    with pytest.raises(ValueError, match="functions"):
        CompositionInstance(np.array([0, 1]), 0)
    with pytest.raises(ValueError, match="values in 0..1"):
        CompositionInstance(np.array([[0, 2]]), 0)
    with pytest.raises(ValueError, match="x must"):
        CompositionInstance(np.array([[0, 1]]), 2)
    with pytest.raises(ValueError, match="positive integers"):
        random_composition(0, 2)
    with pytest.raises(ValueError, match="C must"):
        composition_weights(random_composition(3, 1, 0), C=-1.0)
    with pytest.raises(ValueError, match="block"):
        self_attention_one_hop(random_composition(3, 1, 0), block=1)
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
    from algorithms.poly_attention.tasks import match3_weights

    with pytest.raises(ValueError, match="target"):
        match3_weights(random_match3(3, 5, 0), 0)
