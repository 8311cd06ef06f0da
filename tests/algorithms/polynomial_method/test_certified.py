"""The certified approximation for a mechanism: interval [-B^k, B^k], degree and rank, refusal naming B."""

import math

import numpy as np
import pytest

from algorithms.polynomial_method import (
    approximate_exp,
    exp_approximation,
    feature_rank,
    logit_half_width,
    polynomial_method_cost,
    truncation_degree,
)


@pytest.mark.parametrize("B,k", [(1.0, 2), (1.5, 2), (1.0, 3), (1.2, 3), (0.9, 4)])
def test_approximate_exp_is_the_certified_polynomial_on_minus_B_to_the_k(B, k):
    P = approximate_exp(B, k, 1e-6)
    assert (P.lo, P.hi) == (-(B**k), B**k)
    assert P is exp_approximation(-(B**k), B**k, 1e-6)  # the same cached certificate
    assert P.max_relative_error <= 1e-6


def test_half_width_counts_columns_and_scale():
    assert logit_half_width(2.0, 3) == 8.0
    assert logit_half_width(2.0, 3, columns=4, scale=0.5) == 16.0  # a (d, d^2) tensor-loss logit: (m/d) B^3


def test_cost_is_degree_and_rank_of_the_certificate():
    g, r = polynomial_method_cost(1.5, 2, 4, 1e-6)
    assert g == approximate_exp(1.5, 2, 1e-6).degree and r == feature_rank(4, g) == math.comb(4 + g, g)


@pytest.mark.parametrize("B,k,eps", [(1.0, 2, 1e-6), (1.5, 2, 1e-8), (1.2, 3, 1e-4), (2.0, 2, 1e-3)])
def test_uncertified_cost_is_the_chebyshev_lower_bound(B, k, eps):
    g_lower, _ = polynomial_method_cost(B, k, 3, eps, certified=False)
    assert g_lower == truncation_degree(B**k, eps) <= polynomial_method_cost(B, k, 3, eps)[0]


def test_refusal_names_the_entry_bound_and_the_mechanism():
    with pytest.raises(ValueError, match=r"entries bounded by B=3 put the trilinear logits in \[-27, 27\], too wide"):
        approximate_exp(3.0, 3, 1e-6)
    with pytest.raises(ValueError, match=r"entries bounded by B=5 put the bilinear logits in \[-25, 25\]"):
        approximate_exp(5.0, 2, 1e-6)
    with pytest.raises(ValueError, match=r"B=5 .* 2\^-53 e\^\(2h\)"):  # the quick float64 screen
        polynomial_method_cost(5.0, 2, 4, 1e-6)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: approximate_exp(0.0, 2, 1e-6), "bound must be a positive finite number"),
        (lambda: approximate_exp(np.inf, 2, 1e-6), "bound must be a positive finite number"),
        (lambda: approximate_exp(1.0, 0, 1e-6), "k .* must be a positive integer"),
        (lambda: approximate_exp(1.0, 2, 1.5), "eps must lie in"),
        (lambda: polynomial_method_cost(1.0, 2, 0, 1e-6), "d must be a positive integer"),
        (lambda: truncation_degree(-1.0, 1e-6), "half_width"),
    ],
)
def test_bad_arguments_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()
