"""Binary relation composition: one Strassen head is 100% correct; one self-attention lookup is not."""

import numpy as np
import pytest

from algorithms.poly_attention import strassen_attention_polynomial
from algorithms.poly_attention.tasks import (
    RelationInstance,
    random_relations,
    relation_composition_weights,
    self_attention_relation_lookup,
    solve_relation_composition,
)


def test_relation_composition_answers_match_a_direct_search():
    inst = random_relations(5, rng=np.random.default_rng(5))
    A, B = inst.A, inst.B
    direct = [[any(A[i, k] and B[k, j] for k in range(5)) for j in range(5)] for i in range(5)]
    assert inst.answers.tolist() == direct
    assert inst.labels.tolist() == [v for row in direct for v in row]


def test_one_strassen_head_solves_binary_relation_composition():
    rng = np.random.default_rng(6)
    total = positives = 0
    for _ in range(40):
        m = int(rng.integers(2, 7))
        inst = random_relations(m, rng=rng, same=bool(rng.integers(2)))
        pred, raw = solve_relation_composition(inst)
        assert np.array_equal(pred, inst.labels)
        # the margin proved in relation_composition_weights: >= 3/4 on yes, <= 1/4 on no
        assert np.all(np.where(inst.labels, raw >= 0.75, raw <= 0.25))
        total += m * m
        positives += int(inst.labels.sum())
    assert 0.2 * total <= positives <= 0.8 * total  # both answers common: the test can fail


def test_relation_composition_weights_are_a_strassen_head():
    h, Xs, Vs = relation_composition_weights(random_relations(3, rng=0))
    assert set(h.monomials) == set(strassen_attention_polynomial().monomials)
    assert [X.shape for X in Xs] == [(9, 11)] * 3 and [V.shape for V in Vs] == [(9, 1)] * 2


def test_one_head_self_attention_lookups_decide_the_wrong_relation():
    # demonstration, not a proof: a single-key score reads one token, so the row lookup decides
    # exists e: A_ie = B_ie = 1 and the column lookup exists c: A_cj = B_cj = 1, not B o A
    rng = np.random.default_rng(7)
    wrong = total = 0
    for _ in range(30):
        inst = random_relations(int(rng.integers(3, 7)), rng=rng)
        m, AB = inst.m, inst.A * inst.B
        row = self_attention_relation_lookup(inst, "row").reshape(m, m)
        col = self_attention_relation_lookup(inst, "column").reshape(m, m)
        assert np.array_equal(row, np.repeat(AB.any(axis=1)[:, None], m, axis=1))
        assert np.array_equal(col, np.repeat(AB.any(axis=0)[None, :], m, axis=0))
        wrong += int(min((row != inst.answers).sum(), (col != inst.answers).sum()))
        total += m * m
    assert wrong >= 0.15 * total  # far from the Strassen head's 100%


def test_relation_inputs_are_validated():
    with pytest.raises(ValueError, match="square"):
        RelationInstance(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="entries in"):
        RelationInstance(np.full((2, 2), 2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="same shape"):
        RelationInstance(np.zeros((2, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="m must"):
        random_relations(0)
    with pytest.raises(ValueError, match="density"):
        random_relations(3, density=1.5)
    with pytest.raises(ValueError, match="side"):
        self_attention_relation_lookup(random_relations(2, rng=0), side="diagonal")
