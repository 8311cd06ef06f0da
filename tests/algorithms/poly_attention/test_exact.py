"""Exact poly-attention: elimination == brute force == the dedicated special-case algorithms."""

import itertools

import numpy as np
import pytest

from algorithms.attention import attention
from algorithms.poly_attention import (
    AttentionPolynomial,
    path_attention,
    poly_attention_bruteforce,
    poly_attention_exact,
    self_attention,
    strassen_attention,
    tensor_attention,
    tree_attention,
)


def random_polynomial(rng, t):
    """A random valid attention polynomial on t variables (monomials of degree 2..t)."""
    subsets = [s for k in range(2, t + 1) for s in itertools.combinations(range(1, t + 1), k)]
    while True:
        chosen = [subsets[i] for i in rng.choice(len(subsets), size=min(len(subsets), int(rng.integers(1, 5))), replace=False)]
        try:
            return AttentionPolynomial(t, chosen)
        except ValueError:
            continue  # some variable unused or x1 missing: draw again


def random_inputs(rng, h, n, d=3, dv=2, scale=1.0):
    Xs = [scale * rng.normal(size=(n, d)) for _ in range(h.t)]
    Vs = [rng.normal(size=(n, dv)) for _ in range(h.t - 1)]
    return Xs, Vs


def test_exact_equals_bruteforce_on_random_polynomials():
    rng = np.random.default_rng(0)
    seen = set()
    for trial in range(60):
        t, n = int(rng.integers(2, 5)), int(rng.integers(1, 9))
        h = random_polynomial(rng, t)
        seen.add(str(h))
        Xs, Vs = random_inputs(rng, h, n, d=int(rng.integers(1, 4)))
        np.testing.assert_allclose(
            poly_attention_exact(h, Xs, Vs).output, poly_attention_bruteforce(h, Xs, Vs), rtol=1e-10, atol=1e-12
        )
    assert len(seen) >= 25  # the draw really covers many different polynomials


def test_exact_is_stable_for_huge_logits():
    # logits of size ~1e4: exp would overflow without the log-domain elimination
    rng = np.random.default_rng(1)
    for h in (strassen_attention(), tensor_attention(3), path_attention(3), AttentionPolynomial.parse("x1x2+x2x3x4+x4x1")):
        Xs, Vs = random_inputs(rng, h, 6, scale=60.0)
        out = poly_attention_exact(h, Xs, Vs).output
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(out, poly_attention_bruteforce(h, Xs, Vs), rtol=1e-9, atol=1e-12)


def test_every_elimination_order_gives_the_same_output():
    rng = np.random.default_rng(2)
    h = AttentionPolynomial.parse("x1x2 + x2x3 + x3x4 + x4x1")
    Xs, Vs = random_inputs(rng, h, 5)
    outputs = [poly_attention_exact(h, Xs, Vs, order=o) for o in itertools.permutations((2, 3, 4))]
    for res in outputs:
        np.testing.assert_allclose(res.output, outputs[0].output, rtol=1e-12, atol=1e-14)
    assert {res.cost_exponent for res in outputs} == {3}


def test_self_attention_equals_matrix_attention():
    rng = np.random.default_rng(3)
    Q, K, V = rng.normal(size=(20, 4)), rng.normal(size=(20, 4)), rng.normal(size=(20, 3))
    res = poly_attention_exact(self_attention(), [Q, K], [V])
    np.testing.assert_allclose(res.output, attention(Q, K, V), rtol=1e-12, atol=1e-14)
    assert res.cost_exponent == 2


def test_three_hyperedge_equals_tensor_attention():
    ta = pytest.importorskip("algorithms.tensor_attention")
    rng = np.random.default_rng(4)
    Q, K1, K2 = (rng.normal(size=(9, 3)) for _ in range(3))
    V1, V2 = rng.normal(size=(9, 2)), rng.normal(size=(9, 2))
    res = poly_attention_exact(tensor_attention(3), [Q, K1, K2], [V1, V2])
    np.testing.assert_allclose(res.output, ta.tensor_attention(Q, K1, K2, V1, V2), rtol=1e-10, atol=1e-12)
    assert res.cost_exponent == 3


def test_three_hyperedge_equals_kronecker_formula():
    # tensor attention D^{-1} exp(Q (K1 ⊘ K2)^T / d) (V1 ⊘ V2), written out with the column-wise Kronecker product
    rng = np.random.default_rng(5)
    n, d = 7, 3
    Q, K1, K2 = (rng.normal(size=(n, d)) for _ in range(3))
    V1, V2 = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    K12 = (K1[:, None, :] * K2[None, :, :]).reshape(n * n, d)
    V12 = (V1[:, None, :] * V2[None, :, :]).reshape(n * n, 2)
    A = np.exp(Q @ K12.T / d)
    expected = A @ V12 / A.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(poly_attention_exact(tensor_attention(3), [Q, K1, K2], [V1, V2]).output, expected, rtol=1e-12)


def test_strassen_equals_matrix_product_formula():
    # Kozachinskiy et al. Thm 4.1: numerator_i = (X diag(v) Y diag(w) Z)_ii, denominator (X Y Z)_ii
    rng = np.random.default_rng(6)
    n, d = 10, 4
    F, G, H = (rng.normal(size=(n, d)) for _ in range(3))
    v, w = rng.normal(size=(n, 2)), rng.normal(size=(n, 2))
    X, Y, Z = np.exp(F @ G.T / d), np.exp(G @ H.T / d), np.exp(H @ F.T / d)
    den = np.diag(X @ Y @ Z)
    num = np.column_stack([np.diag(X @ np.diag(v[:, c]) @ Y @ np.diag(w[:, c]) @ Z) for c in range(2)])
    res = poly_attention_exact(strassen_attention(), [F, G, H], [v, w])
    np.testing.assert_allclose(res.output, num / den[:, None], rtol=1e-12)
    assert res.cost_exponent == 3


def test_path_equals_the_authors_tree_formula():
    # tree_attention_simple (authors' code): P23 = (e^{S12} o v2) @ (e^{S23} @ V3); R = e^{S12} @ rowsum(e^{S23})
    rng = np.random.default_rng(7)
    n, d = 30, 3
    Q1, Q2, Q3 = (rng.normal(size=(n, d)) for _ in range(3))
    V2, V3 = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
    E12, E23 = np.exp(Q1 @ Q2.T / d), np.exp(Q2 @ Q3.T / d)
    P23 = (E12 * V2[:, 0]) @ (E23 @ V3)
    R = E12 @ E23.sum(axis=1)
    res = poly_attention_exact(path_attention(2), [Q1, Q2, Q3], [V2, V3])
    np.testing.assert_allclose(res.output[:, 0], P23[:, 0] / R, rtol=1e-12)
    assert res.cost_exponent == 2


def test_branching_tree_on_larger_n_matches_its_message_passing_cost():
    import networkx as nx

    rng = np.random.default_rng(8)
    h = tree_attention(nx.Graph([(1, 2), (1, 3), (3, 4), (3, 5)]))
    Xs, Vs = random_inputs(rng, h, 7)
    res = poly_attention_exact(h, Xs, Vs)
    assert res.cost_exponent == 2
    np.testing.assert_allclose(res.output, poly_attention_bruteforce(h, Xs, Vs), rtol=1e-10)


def test_bad_inputs_raise():
    h = path_attention(2)
    rng = np.random.default_rng(9)
    Xs, Vs = random_inputs(rng, h, 4)
    for f in (poly_attention_exact, poly_attention_bruteforce):
        with pytest.raises(ValueError, match="AttentionPolynomial"):
            f("x1x2", Xs, Vs)
        with pytest.raises(ValueError, match="Xs must be a list of t=3"):
            f(h, Xs[:2], Vs)
        with pytest.raises(ValueError, match="Vs must be a list of t-1=2"):
            f(h, Xs, Vs[:1])
        with pytest.raises(ValueError, match="finite"):
            f(h, [Xs[0], Xs[1], np.full((4, 3), np.nan)], Vs)
        with pytest.raises(ValueError, match="row counts"):
            f(h, [Xs[0], Xs[1], np.ones((5, 3))], Vs)
        with pytest.raises(ValueError, match="same number of columns"):
            f(h, [Xs[0], Xs[1], np.ones((4, 2))], Vs)
        with pytest.raises(ValueError, match="same number of columns"):
            f(h, Xs, [Vs[0], np.ones((4, 5))])
        with pytest.raises(ValueError, match="2-d"):
            f(h, [Xs[0], Xs[1], np.ones(4)], Vs)
    with pytest.raises(ValueError, match="permutation"):
        poly_attention_exact(h, Xs, Vs, order=(2,))
    big = tensor_attention(4)
    Xb, Vb = random_inputs(rng, big, 80)
    with pytest.raises(ValueError, match="too large for brute force"):
        poly_attention_bruteforce(big, Xb, Vb)


def test_streaming_in_small_blocks_gives_the_same_output(monkeypatch):
    import algorithms.poly_attention.exact as exact_module

    rng = np.random.default_rng(10)
    for h in (path_attention(3), strassen_attention(), AttentionPolynomial.parse("x1x2 + x2x3x4 + x4x1")):
        Xs, Vs = random_inputs(rng, h, 7)
        whole = poly_attention_exact(h, Xs, Vs).output
        monkeypatch.setattr(exact_module, "_BLOCK_ENTRIES", 10)  # one row of the first kept variable per block
        blocked = poly_attention_exact(h, Xs, Vs).output
        monkeypatch.undo()
        np.testing.assert_allclose(blocked, whole, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(blocked, poly_attention_bruteforce(h, Xs, Vs), rtol=1e-10)
