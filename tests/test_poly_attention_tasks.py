"""Polyadic tasks: the explicit one-layer constructions are 100% correct; one-hop self-attention is not."""

import itertools

import numpy as np
import pytest

from algorithms.poly_attention import (
    poly_attention_exact,
    self_attention,
    strassen_attention,
    tensor_attention,
    tensor_form,
)
from algorithms.poly_attention.tasks import (
    CompositionInstance,
    Match3Instance,
    RelationInstance,
    RootFindingInstance,
    composition_weights,
    evaluate_polynomial,
    parse_polynomial,
    random_composition,
    random_match3,
    random_relations,
    random_root_finding,
    relation_composition_weights,
    root_finding_polynomial,
    root_finding_weights,
    self_attention_one_hop,
    self_attention_relation_lookup,
    solve_composition,
    solve_match3,
    solve_relation_composition,
    solve_root_finding,
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


# ------------------------------------------------- binary relation composition
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
    assert set(h.monomials) == set(strassen_attention().monomials)
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


# ------------------------------------------------------ polynomial root-finding
def test_root_finding_labels_match_a_direct_search():
    inst = random_root_finding("y1*y2 - y3", 6, -3, 3, np.random.default_rng(8))
    y = [int(v) for v in inst.y]
    direct = [any(a * b - c == 0 for b, c in itertools.product(y, repeat=2)) for a in y]
    assert inst.labels.tolist() == direct


def test_attention_polynomial_is_read_off_the_support_of_p_squared():
    same = lambda h, g: h.t == g.t and set(h.monomials) == set(g.monomials)
    assert same(root_finding_polynomial("y1 + y2 + y3 - 5")[0], strassen_attention())  # Match3
    assert same(root_finding_polynomial("y1*y2 - y3")[0], tensor_attention(3))
    assert str(root_finding_polynomial("y1 + y2 - y3*y4")[0]) == "x1x2 + x1x3x4 + x2x3x4"
    assert same(root_finding_polynomial("y1 - 2*y2")[0], self_attention())
    h, where = root_finding_polynomial({(1, 0, 0): 1, (0, 1, 0): -1})  # y3 unused: joined to x1
    assert str(h) == "x1x2 + x1x3"
    assert where == {(1, 1, 0): (1, 2), (0, 2, 0): (1, 2)}  # y1^2 and the constant are dropped


@pytest.mark.parametrize(
    "p, low, high, sizes",
    [
        ("y1 + y2 + y3 - 10", -5, 12, (5, 10)),  # Match3 without the modulus: Strassen attention
        ("y1*y2 - y3", 1, 12, (5, 10)),  # degree 2: one 3-tensor head
        ("y1 + y2 - y3*y4", 1, 12, (4, 7)),  # 4 variables: x1x2 + x1x3x4 + x2x3x4
        ("y1 - 2*y2", 1, 8, (5, 10)),  # a tree: one self-attention head
    ],
)
def test_one_head_solves_polynomial_root_finding(p, low, high, sizes):
    rng = np.random.default_rng(9)
    total = positives = 0
    for _ in range(20):
        inst = random_root_finding(p, int(rng.integers(*sizes)), low, high, rng)
        pred, residual = solve_root_finding(inst)
        assert np.array_equal(pred, inst.labels)
        assert np.all(np.where(inst.labels, residual <= 0.25, residual >= 0.75))  # the proved margin
        total += inst.n
        positives += int(inst.labels.sum())
    assert 0.2 * total <= positives <= 0.8 * total  # both answers common: the test can fail


def test_the_head_reads_off_a_root_and_the_logit_is_minus_K_p_squared():
    inst = RootFindingInstance(np.array([2, 3, 6, 7, 12]), "y1*y2 - y3")
    h, Xs, Vs = root_finding_weights(inst)
    from algorithms.poly_attention.exact import poly_attention_bruteforce

    yhat = poly_attention_bruteforce(h, Xs, Vs)
    # query y = 2: the roots are (3, 6) and (6, 12); the tie-break picks the larger code (l2, l3) = (2, 4)
    assert np.allclose(yhat[0], [6, 12], atol=1e-6)
    # the logits of query 0 are exactly -K p^2 + G code + const, with K > 2 G (N - 1): fit K, G, const
    y, n, d = inst.y, 5, Xs[0].shape[1]
    rows, logits = [], []
    for a, b in itertools.product(range(n), repeat=2):
        logits.append(sum(Xs[0][0, c] * Xs[1][a, c] * Xs[2][b, c] for c in range(d)) / d)
        rows.append([-float(2 * y[a] - y[b]) ** 2, a * n + b, 1.0])
    (K, G, const) = np.linalg.lstsq(np.array(rows), np.array(logits), rcond=None)[0]
    assert np.allclose(np.array(rows) @ [K, G, const], logits, rtol=0, atol=1e-6 * np.abs(logits).max())
    assert G > np.log(4 * n * n) and K > 2 * G * (n * n - 1)


def test_three_variable_task_heads_run_as_one_3_tensor_head():
    rng = np.random.default_rng(11)
    relations = random_relations(4, rng=rng)
    roots = random_root_finding("y1 + y2 + y3 - 10", 7, -5, 12, rng)
    for weights, inst, read in [
        (relation_composition_weights, relations, lambda out: out[:, 0] > 0.5),
        (root_finding_weights, roots, lambda out: np.abs(roots.y + out[:, 0] + out[:, 1] - 10) < 0.5),
    ]:
        h, Xs, Vs = weights(inst)
        out = poly_attention_exact(tensor_attention(3), tensor_form(h, Xs), Vs).output
        assert np.array_equal(read(out), inst.labels)


def test_two_root_finding_heads_decide_match3():
    rng = np.random.default_rng(10)
    for _ in range(5):
        inst = random_match3(8, 13, rng)
        hit = np.zeros(8, dtype=bool)
        for target in (13, 26):
            hit |= solve_root_finding(RootFindingInstance(inst.p, f"y1 + y2 + y3 - {target}"))[0]
        assert np.array_equal(hit, inst.labels)


def test_evaluate_polynomial_is_exact_on_integers():
    p = parse_polynomial("3*y1**2*y2 - y2 + 7")
    assert int(evaluate_polynomial(p, [np.int64(4), np.int64(-2)])) == 3 * 16 * (-2) + 2 + 7
    with pytest.raises(ValueError, match="t=2 arrays"):
        evaluate_polynomial(p, [np.int64(4)])


def test_relation_and_root_finding_inputs_are_validated():
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
    for text, message in [
        ("y1/2 + y2", "integers"),
        ("x + y1", "only the variables"),
        ("y1 - 3", "t >= 2"),
        ("y1 +* 2", "cannot read"),
        ("sin(y1) + y2", "polynomial"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_polynomial(text)
    with pytest.raises(ValueError, match="length t"):
        parse_polynomial({(1, 0): 1, (0, 0, 1): 1})
    with pytest.raises(ValueError, match="expected t=3"):
        parse_polynomial({(1, 0): 1}, t=3)
    with pytest.raises(ValueError, match="non-negative"):
        parse_polynomial({(1, -1): 1})
    with pytest.raises(ValueError, match="coefficients"):
        parse_polynomial({(1, 1): 0.5})
    with pytest.raises(ValueError, match="zero"):
        parse_polynomial({(1, 1): 0})
    with pytest.raises(ValueError, match="1-d integer"):
        RootFindingInstance(np.array([1.5, 2.0]), "y1 - y2")
    with pytest.raises(ValueError, match="n must"):
        random_root_finding("y1 - y2", 0, 1, 3)
    with pytest.raises(ValueError, match="low and high"):
        random_root_finding("y1 - y2", 3, 4, 1)
    with pytest.raises(ValueError, match="too large for the brute-force"):
        _ = RootFindingInstance(np.arange(200), "y1 + y2 + y3 + y4").labels
    with pytest.raises(ValueError, match="int64"):
        _ = RootFindingInstance(np.array([2**40, 1]), "y1*y2 - y1**2").labels
    with pytest.raises(ValueError, match="float64"):
        root_finding_weights(RootFindingInstance(np.array([10**6, 3, 10**5]), "y1*y2 - y3"))
