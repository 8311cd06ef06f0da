"""Polynomial root-finding: one head with h read off p^2 is 100% correct; it runs as a 3-tensor head and decides Match3."""

import itertools

import numpy as np
import pytest

from algorithms.poly_attention import (
    poly_attention_exact,
    self_attention_polynomial,
    strassen_attention_polynomial,
    tensor_attention_polynomial,
    tensor_form,
)
from algorithms.poly_attention.tasks import (
    RootFindingInstance,
    evaluate_polynomial,
    parse_polynomial,
    random_match3,
    random_relations,
    random_root_finding,
    relation_composition_weights,
    root_finding_polynomial,
    root_finding_weights,
    solve_root_finding,
)


def test_root_finding_labels_match_a_direct_search():
    inst = random_root_finding("y1*y2 - y3", 6, -3, 3, np.random.default_rng(8))
    y = [int(v) for v in inst.y]
    direct = [any(a * b - c == 0 for b, c in itertools.product(y, repeat=2)) for a in y]
    assert inst.labels.tolist() == direct


def test_attention_polynomial_is_read_off_the_support_of_p_squared():
    def same(h, g):
        return h.t == g.t and set(h.monomials) == set(g.monomials)
    assert same(root_finding_polynomial("y1 + y2 + y3 - 5")[0], strassen_attention_polynomial())  # Match3
    assert same(root_finding_polynomial("y1*y2 - y3")[0], tensor_attention_polynomial(3))
    assert str(root_finding_polynomial("y1 + y2 - y3*y4")[0]) == "x1x2 + x1x3x4 + x2x3x4"
    assert same(root_finding_polynomial("y1 - 2*y2")[0], self_attention_polynomial())
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
        out = poly_attention_exact(tensor_attention_polynomial(3), tensor_form(h, Xs), Vs).output
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


def test_root_finding_inputs_are_validated():
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
