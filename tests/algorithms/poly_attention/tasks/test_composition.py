"""r-fold composition: one path-attention head is 100% correct; one-hop self-attention is not."""

import numpy as np
import pytest

from algorithms.poly_attention.tasks import (
    CompositionInstance,
    composition_weights,
    random_composition,
    self_attention_one_hop,
    solve_composition,
)


def test_composition_answer_and_chain_on_a_knowledge_base():
    # people -> city -> country:  Sam lives in Toronto, Toronto is in Canada
    people, _cities, countries = ["Sam", "Ana", "Li"], ["Toronto", "Lyon", "Osaka"], ["Canada", "France", "Japan"]
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


def test_composition_inputs_are_validated():
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
