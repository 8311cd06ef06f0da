"""The threshold table (algorithms.bounds.table)."""

import sympy as sp

from algorithms.bounds import threshold_table


def test_threshold_table_is_computed_for_each_mechanism():
    rows = threshold_table(["matrix", "tensor", "degree-4"])
    assert [r.k for r in rows] == [2, 3, 4]
    for r in rows:
        assert r.fast_exponent_small_B == 1
        assert r.hard_B_power == sp.Rational(1, r.k)
        lower, upper = r.fast_exponent_at_hard_B
        assert 1 < float(lower) <= float(upper)
        assert r.exact_exponent == r.k and r.seth_exponent == r.k
