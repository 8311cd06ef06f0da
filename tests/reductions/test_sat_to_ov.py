"""Williams' split and list: satisfiability and model counts preserved, blow-up as documented."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import reductions.sat_to_ov
from reductions.cnf import (
    CNF,
    count_models,
    planted_kcnf,
    random_kcnf,
    solve,
    unsatisfiable_kcnf,
)
from reductions.ov import (
    count_orthogonal_pairs,
    count_orthogonal_tuples,
    find_orthogonal_pair,
    find_orthogonal_tuple,
)
from reductions.sat_to_ov import partition, sat_to_kov, sat_to_ov

# k = 3 threshold ~ 4.27, k = 4 threshold ~ 9.93: ratios straddle both
RATIOS = {3: (2.0, 3.5, 4.27, 5.0, 6.5), 4: (6.0, 8.5, 9.93, 11.5, 14.0)}


def random_formulas(count: int, n_range: tuple[int, int], seed: int):
    rng = np.random.default_rng(seed)
    for t in range(count):
        k = 3 + t % 2
        n = int(rng.integers(max(k, n_range[0]), n_range[1] + 1))
        ratio = RATIOS[k][t // 2 % 5]
        yield random_kcnf(n, max(1, round(ratio * n)), k, seed=seed * 100_000 + t)


def check_ov_side(f: CNF) -> bool:
    """Both directions: orthogonal pairs <-> models (counted), and the decoded pair satisfies f."""
    inst, decode = sat_to_ov(f)
    models = count_models(f)
    assert count_orthogonal_pairs(inst.A, inst.B) == models
    x = decode(find_orthogonal_pair(inst.A, inst.B))
    assert (x is None) == (models == 0) == (solve(f) is None)
    assert x is None or f.satisfies(x)
    return models > 0


def test_docstring_examples_run():
    assert doctest.testmod(reductions.sat_to_ov).failed == 0


def test_sat_to_ov_preserves_satisfiability_on_thousands_of_random_kcnfs():
    """3000 random 3-/4-CNFs with 4..12 variables across the threshold, plus 200 with 13..16."""
    outcomes = [check_ov_side(f) for f in random_formulas(3000, (4, 12), seed=1)]
    outcomes += [check_ov_side(f) for f in random_formulas(200, (13, 16), seed=2)]
    assert 0.2 < np.mean(outcomes) < 0.9  # both answers well represented


@pytest.mark.parametrize("k", [3, 4])
def test_sat_to_kov_preserves_model_count(k):
    for t, f in enumerate(random_formulas(300, (k, 10), seed=10 + k)):
        inst, decode = sat_to_kov(f, k)
        models = count_models(f)
        assert count_orthogonal_tuples(inst.sets) == models
        x = decode(find_orthogonal_tuple(inst.sets))
        assert (x is None) == (models == 0)
        assert x is None or f.satisfies(x)


@pytest.mark.parametrize("seed", range(40))
def test_planted_yes_and_no_formulas(seed):
    n, k = 6 + seed % 10, 3 + seed % 2
    f, hidden = planted_kcnf(n, round(RATIOS[k][4] * n), k, seed=seed)
    assert check_ov_side(f)
    inst, decode = sat_to_ov(f)
    h = (n + 1) // 2
    i = sum(hidden[v] << (v - 1) for v in range(1, h + 1))
    j = sum(hidden[v] << (v - 1 - h) for v in range(h + 1, n + 1))
    assert not np.any(inst.A[i] & inst.B[j])  # the hidden assignment is an orthogonal pair
    assert decode((i, j)) == hidden
    g = unsatisfiable_kcnf(n, 2**k + n, k, seed=seed)
    assert not check_ov_side(g)
    inst3, _ = sat_to_kov(g, 3)
    assert find_orthogonal_tuple(inst3.sets) is None


@pytest.mark.parametrize("n", range(14))
@pytest.mark.parametrize("k", [2, 3, 4])
def test_blow_up_matches_docstring(n, k):
    """N_t = 2^{|V_t|}, |V_t| in {ceil(n/k), floor(n/k)} (larger first), dimension m = M clauses."""
    M = 3 * n + 1
    f = random_kcnf(n, M, min(3, n), seed=n) if n else CNF(0, ((),))
    inst, _ = sat_to_kov(f, k)
    sizes = [math.ceil(n / k)] * (n % k) + [n // k] * (k - n % k)
    assert inst.sizes == tuple(2**s for s in sizes)
    assert inst.m == f.num_clauses
    assert sum(len(p) for p in partition(n, k)) == n
    if k == 2:
        ov, _ = sat_to_ov(f)
        assert ov.A.shape == (2 ** math.ceil(n / 2), f.num_clauses)
        assert ov.B.shape == (2 ** (n // 2), f.num_clauses)


def test_edge_formulas():
    empty_clause, no_clauses = CNF(3, ((1,), ())), CNF(3, ())
    assert not check_ov_side(empty_clause)
    inst, decode = sat_to_ov(no_clauses)
    assert inst.m == 0 and count_orthogonal_pairs(inst.A, inst.B) == 8
    assert no_clauses.satisfies(decode((3, 1)))
    zero_vars, _ = sat_to_ov(CNF(0, ()))
    assert zero_vars.A.shape == (1, 0) and zero_vars.B.shape == (1, 0)


def test_decoder_rejects_what_is_not_an_orthogonal_pair():
    f = CNF(4, ((1, 3), (-2, -4), (2, 4)))
    inst, decode = sat_to_ov(f)
    assert decode(None) is None
    bad = next((i, j) for i in range(4) for j in range(4) if np.any(inst.A[i] & inst.B[j]))
    with pytest.raises(ValueError, match="not orthogonal"):
        decode(bad)
    with pytest.raises(ValueError, match="tuple of 2 indices"):
        decode((0, 1, 2))
    with pytest.raises(ValueError, match="outside 0..3"):
        decode((4, 0))


def test_bad_arguments():
    with pytest.raises(ValueError, match="k must be >= 2"):
        sat_to_kov(CNF(2, ()), 1)
    with pytest.raises(ValueError, match="cnf must be a CNF"):
        sat_to_ov("p cnf 1 1\n1 0\n")
    with pytest.raises(ValueError, match="num_vars"):
        partition(-1, 2)
