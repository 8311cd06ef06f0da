"""The threshold table (algorithms.bounds.table): closed forms, the fitted constant, SETH exponents from the reductions."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from algorithms.bounds import AGGARWAL_ALMAN_CONSTANT, threshold_table
from reductions.gap_to_attention import (
    Gap3Instance,
    GapInstance,
    gap3_to_tensor_attention,
    gap_to_attention,
)


@pytest.fixture(scope="module")
def fitted_rows():
    """The default table: C = AGGARWAL_ALMAN_CONSTANT (sympy limits take seconds: computed once)."""
    return threshold_table(["matrix", "tensor", "degree-4"])


@pytest.fixture(scope="module")
def bare_rows():
    """The table with C = 1, the bare Theta-expression (what the README showed)."""
    return threshold_table(["matrix", "tensor", "degree-4"], constant=1)


def test_threshold_table_is_computed_for_each_mechanism(fitted_rows):
    rows = fitted_rows
    assert [r.k for r in rows] == [2, 3, 4]
    for r in rows:
        assert r.fast_exponent_small_B == 1
        assert r.hard_B_power == sp.Rational(1, r.k)
        lower, upper = r.fast_exponent_at_hard_B
        assert 1 < float(lower) <= float(upper)
        assert r.exact_exponent == r.k and r.seth_exponent == r.k


@pytest.mark.parametrize("rows_name, C", [("fitted_rows", AGGARWAL_ALMAN_CONSTANT), ("bare_rows", 1.0)])
def test_exponent_at_the_hard_entry_size_matches_the_closed_form_for_the_stated_constant(rows_name, C, request):
    # Issue 10, item 7: the table used C = 1 while C = 1.5 was fitted; its default is now the fitted constant.
    # At B* = ((k-1) ln n)^{1/k}: L = 2 (k-1) ln n > log(1/eps) = ln n, so g = C L = gamma ln n with
    # gamma = 2 C (k-1); d = ln n gives log r / ln n in [log(1 + gamma), 1 + log(1 + gamma)] (the j = d pieces of
    # (m/j)^j <= C(m, j) <= (e m/j)^j, the smaller ones here), plus 1 for n.
    for row in request.getfixturevalue(rows_name):
        gamma = 2 * C * (row.k - 1)
        lower, upper = (float(e) for e in row.fast_exponent_at_hard_B)
        assert row.constant == C
        assert lower == pytest.approx(1 + math.log(1 + gamma), rel=1e-12)
        assert upper == pytest.approx(2 + math.log(1 + gamma), rel=1e-12)
        assert row.fast_exponent_small_B == 1  # the upper-bound side does not depend on C


def test_default_constant_is_the_fitted_one_and_the_old_table_is_constant_1(fitted_rows, bare_rows):
    assert AGGARWAL_ALMAN_CONSTANT == 1.5
    fitted = [tuple(round(float(e), 3) for e in r.fast_exponent_at_hard_B) for r in fitted_rows]
    bare = [tuple(round(float(e), 3) for e in r.fast_exponent_at_hard_B) for r in bare_rows]
    assert fitted == [(2.386, 3.386), (2.946, 3.946), (3.303, 4.303)]
    assert bare == [(2.099, 3.099), (2.609, 3.609), (2.946, 3.946)]  # the README's old rows


@pytest.mark.parametrize("k", [2, 3])
def test_seth_exponent_is_traced_through_the_reduction_sizes(k, bare_rows):
    # Independent of the table's formula log(N^k) / log(N + 1): run the reduction on k sets of N vectors,
    # read the sequence length n off the attention matrices it builds, and evaluate log(N^k) / log n in mpmath.
    # SETH rules out N^{k-q} for the source problem, so an n^e attention algorithm needs e >= log(N^k) / log n.
    row = bare_rows[k - 2]  # the SETH exponent does not depend on C
    rng = np.random.default_rng(k)
    gaps = []
    for N in (2**4, 2**8, 2**12):
        sets = [rng.integers(0, 2, size=(N, 3)) for _ in range(k)]
        if k == 2:
            inst, _ = gap_to_attention(GapInstance(*sets, 0, 3))
            n = max(inst.Q.shape[0], inst.K.shape[0])
        else:
            inst, _ = gap3_to_tensor_attention(Gap3Instance(*sets, 0, 3))
            n = max(inst.Q.shape[0], inst.K1.shape[0], inst.K2.shape[0])
        assert n == N + 1  # the dummy key row
        with mpmath.workdps(30):
            gaps.append(abs(float(k * mpmath.log(N) / mpmath.log(n)) - float(row.seth_exponent)))
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 2e-4  # ~ k / (N ln N)


def test_seth_exponent_of_the_degree_4_representative_by_hand(bare_rows):
    # No degree-4 reduction is implemented: by hand, the 4-tensor mechanism on 4-set gap max-IP has one query
    # matrix of N rows and three key matrices of N + 1 rows (a dummy row each), so n = N + 1.
    row = bare_rows[2]
    with mpmath.workdps(60):
        values = [4 * mpmath.log(10**j) / mpmath.log(10**j + 1) for j in (3, 10, 40)]
    assert all(abs(float(v) - float(row.seth_exponent)) < 4 / (10**j * j) for v, j in zip(values, (3, 10, 40)))
