"""Fast poly-attention (polynomial method, Thm 3.6): within its certified bound of the exact output."""

import networkx as nx
import numpy as np
import pytest

from algorithms.poly_attention import (
    AttentionPolynomial,
    path_attention,
    poly_attention_exact,
    poly_attention_fast,
    strassen_attention,
    tensor_attention,
    tree_attention,
    value_product_range,
)
from algorithms.polynomial_method import Float64Limit

MECHANISMS = [
    path_attention(2),
    path_attention(4),
    tree_attention(nx.Graph([(1, 2), (1, 3), (3, 4), (3, 5)])),
    AttentionPolynomial.parse("x1x2 + x3x4"),  # forest
    strassen_attention(),
    tensor_attention(3),
    AttentionPolynomial.parse("x1x2 + x2x3x4 + x4x1"),
]


def bounded_inputs(rng, h, n, B, d=2, dv=2):
    Xs = [rng.uniform(-B, B, size=(n, d)) for _ in range(h.t)]
    Vs = [rng.normal(size=(n, dv)) for _ in range(h.t - 1)]
    return Xs, Vs


@pytest.mark.parametrize("h", MECHANISMS, ids=str)
def test_fast_error_within_bound(h):
    rng = np.random.default_rng(0)
    Xs, Vs = bounded_inputs(rng, h, 24, B=1.0)
    exact = poly_attention_exact(h, Xs, Vs).output
    for eps in (1e-3, 1e-6):
        res = poly_attention_fast(h, Xs, Vs, eps=eps, bound=1.0)
        err = np.abs(res.output - exact).max(axis=0)
        assert np.all(err <= res.error_bound)
        assert res.entry_error <= eps
        assert res.method == ("tree" if h.is_tree else "network")


def test_error_bound_tracks_eps():
    # the bound is not vacuous: it scales with eps, and the measured error falls with it
    rng = np.random.default_rng(1)
    h = strassen_attention()
    Xs, Vs = bounded_inputs(rng, h, 20, B=1.5)
    exact = poly_attention_exact(h, Xs, Vs).output
    errs, bounds = [], []
    for eps in (1e-2, 1e-5, 1e-8):
        res = poly_attention_fast(h, Xs, Vs, eps=eps)
        errs.append(np.abs(res.output - exact).max())
        bounds.append(res.error_bound.max())
    assert bounds[0] > bounds[1] > bounds[2] and errs[0] > errs[2]
    assert all(e <= b for e, b in zip(errs, bounds))


def test_tree_message_passing_equals_the_network_contraction():
    rng = np.random.default_rng(2)
    h = tree_attention(nx.Graph([(1, 2), (2, 3), (2, 4), (1, 5)]))
    Xs, Vs = bounded_inputs(rng, h, 30, B=1.0)
    tree = poly_attention_fast(h, Xs, Vs, method="tree")
    net = poly_attention_fast(h, Xs, Vs, method="network")
    np.testing.assert_allclose(tree.output, net.output, rtol=1e-10, atol=1e-12)


def test_fast_tree_attention_on_long_sequences():
    # n = 1500: the exact O(n^2) tree algorithm is still feasible as a reference
    rng = np.random.default_rng(3)
    h = path_attention(2)
    Xs, Vs = bounded_inputs(rng, h, 1500, B=0.8, d=2, dv=1)
    res = poly_attention_fast(h, Xs, Vs, eps=1e-6)
    err = np.abs(res.output - poly_attention_exact(h, Xs, Vs).output).max()
    assert err <= res.error_bound.max()


def test_degree_depends_on_monomial_degree_not_on_t():
    """Each monomial's degree is set by its own certified interval; with entries +-B filling the
    worst case, [-B^3, B^3] is wider than [-B^2, B^2], and t (the number of positions) does not enter."""
    rng = np.random.default_rng(4)
    B = 1.6
    X = B * rng.choice([-1.0, 1.0], size=(10, 2))
    X[0], X[1] = B, -B  # logits reach +-B^s exactly
    Vs = [rng.normal(size=(10, 2)) for _ in range(5)]
    path2 = poly_attention_fast(path_attention(2), [X] * 3, Vs[:2], eps=1e-4, bound=B)
    path6 = poly_attention_fast(path_attention(6), [X] * 7, Vs + Vs[:1], eps=1e-4, bound=B)
    tensor = poly_attention_fast(tensor_attention(3), [X] * 3, Vs[:2], eps=1e-4, bound=B)
    assert set(path6.degrees) == {2} and set(tensor.degrees) == {3}
    assert path6.logits == path2.logits == pytest.approx((-(B**2), B**2), rel=1e-12)
    assert tensor.logits == pytest.approx((-(B**3), B**3), rel=1e-12)
    assert tensor.degrees[3] > path6.degrees[2]
    assert path6.degrees[2] - path2.degrees[2] <= 1  # only eps / m per factor changes with t


def test_value_product_range_contains_every_product():
    rng = np.random.default_rng(5)
    Vs = [rng.normal(size=(6, 3)) for _ in range(3)]
    lo, hi = value_product_range(Vs)
    prods = (Vs[0][:, None, None, :] * Vs[1][None, :, None, :] * Vs[2][None, None, :, :]).reshape(-1, 3)
    assert np.all(prods >= lo - 1e-12) and np.all(prods <= hi + 1e-12)
    np.testing.assert_allclose(prods.min(axis=0), lo)  # interval products are attained for independent factors
    np.testing.assert_allclose(prods.max(axis=0), hi)


def test_bad_arguments_raise():
    rng = np.random.default_rng(6)
    h = strassen_attention()
    Xs, Vs = bounded_inputs(rng, h, 5, B=1.0)
    for eps in (0.0, 1.0, -1e-3, float("nan")):
        with pytest.raises(ValueError, match="eps"):
            poly_attention_fast(h, Xs, Vs, eps=eps)
    with pytest.raises(ValueError, match="above the promised bound"):
        poly_attention_fast(h, Xs, Vs, bound=0.5)
    with pytest.raises(ValueError, match="method"):
        poly_attention_fast(h, Xs, Vs, method="magic")
    with pytest.raises(ValueError, match="tree polynomial"):
        poly_attention_fast(h, Xs, Vs, method="tree")
    with pytest.raises(ValueError, match="Vs must be"):
        poly_attention_fast(h, Xs, Vs[:1])
    big = [2.5 * np.array([[1.0, 1.0], [-1.0, -1.0]] * 2 + [[1.0, -1.0]])] * 3  # logits fill [-15.6, 15.6]
    with pytest.raises(Float64Limit, match="float64 limit.*not the lower bound"):
        poly_attention_fast(tensor_attention(3), big, Vs, eps=1e-6)


def test_logits_beyond_float64_are_a_cost_refusal():
    """Inputs near 1e298 made the certified interval [-inf, inf]; with poly-attention's flop limit switched off
    the planner went on and failed with "cannot convert float NaN to integer" (fuzz suite)."""
    from algorithms.poly_attention import AttentionPolynomial
    from algorithms.polynomial_method import CostExceedsExact

    h = AttentionPolynomial.parse("x1x2 + x3x4")
    Xs = [np.full((2, 3), 1e298)] * 4
    with pytest.raises(CostExceedsExact):
        poly_attention_fast(h, Xs, [np.ones((2, 1))] * 3)
