"""AttentionPolynomial: structure, named mechanisms, elimination width, validation, old names."""

import networkx as nx
import numpy as np
import pytest

from algorithms.poly_attention import (
    AttentionPolynomial,
    best_elimination_order,
    elimination_cost,
    path_attention_polynomial,
    poly_attention_exact,
    self_attention_polynomial,
    strassen_attention_polynomial,
    tensor_attention_polynomial,
    tensor_form,
    tree_attention_polynomial,
)


def test_named_mechanisms_have_the_papers_structure():
    # Lemma 2.3 of arXiv 2602.02422: special cases and their exact-time exponents.
    cases = {
        "self": (self_attention_polynomial(), 2, 2, True, 2),
        "tensor3": (tensor_attention_polynomial(3), 3, 3, False, 3),
        "tensor4": (tensor_attention_polynomial(4), 4, 4, False, 4),
        "strassen": (strassen_attention_polynomial(), 3, 2, False, 3),
        "path3": (path_attention_polynomial(3), 4, 2, True, 2),
    }
    for name, (h, t, k, tree, exponent) in cases.items():
        assert (h.t, h.degree, h.is_tree, h.cost_exponent) == (t, k, tree, exponent), name


def test_every_tree_polynomial_has_quadratic_exact_cost():
    rng = np.random.default_rng(0)
    for t in (2, 5, 8, 12):  # 12 > 8 exercises the greedy order
        tree = nx.from_prufer_sequence(list(rng.integers(0, t, size=t - 2))) if t > 2 else nx.path_graph(2)
        h = tree_attention_polynomial(tree, root=0)
        assert h.is_tree and h.t == t and h.cost_exponent == 2
    assert path_attention_polynomial(15).cost_exponent == 2


def test_cyclic_and_dense_graphs_cost_more():
    c4 = AttentionPolynomial.parse("x1x2 + x2x3 + x3x4 + x4x1")
    k4 = AttentionPolynomial(4, [(a, b) for a in range(1, 5) for b in range(a + 1, 5)])
    assert (c4.cost_exponent, c4.treewidth) == (3, 2)
    assert (k4.cost_exponent, k4.treewidth) == (4, 3)
    assert not c4.is_tree


def test_exhaustive_order_is_no_worse_than_any_order():
    h = AttentionPolynomial.parse("x1x2 + x2x3x4 + x4x5 + x5x1 + x3x6")
    order, exponent = best_elimination_order(h)
    import itertools

    assert exponent == min(elimination_cost(h, o) for o in itertools.permutations(range(2, 7)))
    assert elimination_cost(h, order) == exponent


def test_forest_is_a_tree_polynomial():
    h = AttentionPolynomial.parse("x1x2 + x3x4")
    assert h.is_tree and nx.number_connected_components(h.graph) == 2


def test_parse_and_str_round_trip():
    h = AttentionPolynomial.parse("x1*x2 + x2 x3 + x3x1")
    assert h == strassen_attention_polynomial()
    assert AttentionPolynomial.parse(str(h)) == h
    assert str(path_attention_polynomial(2)) == "x1x2 + x2x3"


def test_hypergraph_is_the_incidence_graph():
    h = AttentionPolynomial.parse("x1x2x3 + x3x4")
    H = h.hypergraph
    assert H.number_of_nodes() == 4 + 2 and H.number_of_edges() == 3 + 2
    assert nx.is_bipartite(H)


def test_tree_attention_relabels_with_the_root_as_query():
    kb = nx.Graph([("Sam", "city"), ("city", "country"), ("Sam", "job")])
    h = tree_attention_polynomial(kb, root="Sam")
    assert h.t == 4 and h.is_tree and len(h.variables_of(1)) == 2
    assert tree_attention_polynomial(nx.Graph([(1, 2), (2, 3)])) == path_attention_polynomial(2)


def test_tensor_form_reproduces_poly_attention_exactly():
    rng = np.random.default_rng(1)
    for text in ("x1x2 + x2x3 + x3x1", "x1x2 + x2x3", "x1x2x3 + x1x3"):
        h = AttentionPolynomial.parse(text)
        Xs = [rng.normal(size=(5, 2)) for _ in range(h.t)]
        Vs = [rng.normal(size=(5, 2)) for _ in range(h.t - 1)]
        direct = poly_attention_exact(h, Xs, Vs).output
        as_tensor = poly_attention_exact(tensor_attention_polynomial(h.t), tensor_form(h, Xs), Vs).output
        np.testing.assert_allclose(as_tensor, direct, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "t, monomials, message",
    [
        (1, [(1, 1)], "t"),
        (3, [(1, 2), ()], "non-empty"),
        (3, [(1, 2), (3,)], "degree 1"),
        (3, [(1, 1, 2), (2, 3)], "multilinear"),
        (3, [(1, 4), (2, 3)], "1..3"),
        (3, [(1, 2), (2, 1), (2, 3)], "repeated"),
        (3, [(2, 3)], "x1"),
        (4, [(1, 2), (2, 3)], "no monomial"),
        (3, [], "non-empty"),
    ],
)
def test_invalid_polynomials_raise(t, monomials, message):
    with pytest.raises(ValueError, match=message):
        AttentionPolynomial(t, monomials)


def test_invalid_constructor_arguments_raise():
    with pytest.raises(ValueError, match="k"):
        tensor_attention_polynomial(1)
    with pytest.raises(ValueError, match="r"):
        path_attention_polynomial(0)
    with pytest.raises(ValueError, match="forest"):
        tree_attention_polynomial(nx.cycle_graph(3))
    with pytest.raises(ValueError, match="forest"):
        tree_attention_polynomial(nx.empty_graph(3))
    with pytest.raises(ValueError, match="undirected"):
        tree_attention_polynomial(nx.DiGraph([(1, 2)]))
    with pytest.raises(ValueError, match="root"):
        tree_attention_polynomial(nx.path_graph(3), root=7)
    with pytest.raises(ValueError, match="monomial"):
        AttentionPolynomial.parse("x1x2 + y3")
    with pytest.raises(ValueError, match="string"):
        AttentionPolynomial.parse("")
    with pytest.raises(ValueError, match="permutation"):
        elimination_cost(strassen_attention_polynomial(), (2, 2))
    with pytest.raises(ValueError, match="t=3"):
        tensor_form(strassen_attention_polynomial(), [np.ones((2, 1))])


def test_old_constructor_names_are_aliases_of_the_polynomial_constructors():
    import algorithms.poly_attention as pa
    from algorithms.poly_attention import polynomial as old_module

    for old in ("self_attention", "tensor_attention", "strassen_attention", "path_attention", "tree_attention"):
        new = getattr(pa, f"{old}_polynomial")
        assert getattr(pa, old) is new and getattr(old_module, old) is new
    assert old_module.AttentionPolynomial is AttentionPolynomial
