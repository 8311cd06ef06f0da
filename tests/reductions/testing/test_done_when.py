"""Issue 15's 'done when': reductions broken on purpose are caught, with a tiny counterexample, in seconds.

Each broken reduction is written here the way a user would write their own
(a few lines over the library's pieces), next to its correct version, which
passes: the checker tells the two apart, and says which direction broke.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from reductions.cnf import CNF, solve
from reductions.ov_to_attention import AttentionInstance
from reductions.sat_to_ov import sat_to_ov
from reductions.testing import ReductionError, check_reduction
from reductions.testing.adapters import certificate_decoder, solve_attention, solve_ov
from reductions.testing.strategies import cnfs, ov_instances

SECONDS = 5.0  # "under a few seconds": measured ~0.1 s each on the 2-core test machine


def sat_to_ov_dropping_a_clause(f: CNF):
    """Williams' reduction with the last clause forgotten."""
    return sat_to_ov(CNF(f.num_vars, f.clauses[:-1]))


def my_ov_to_attention(beta_of=lambda N_b: math.log(2 * N_b) + 1, dummy: bool = True):
    """OV -> attention as in docs/matrix-attention.md: ``Q = -s A``, ``K = [s B; 0]``, ``V = e_dummy``.

    ``beta_of(N_b)`` sets the logit scale (correct: ``ln(2 N_b) + 1``);
    ``dummy=False`` forgets the zero key (``V`` then marks the last real key).
    """

    def reduce(ov):
        A, B = ov.A.astype(float), ov.B.astype(float)
        N_b, m = B.shape
        beta = beta_of(N_b)
        s = math.sqrt(beta * m)
        K = np.vstack([s * B, np.zeros((1, m))]) if dummy else s * B
        V = np.zeros((K.shape[0], 1))
        V[-1] = 1.0
        threshold = (0.5 + 1 / (1 + 1 / (2 * math.e))) / 2  # between y_yes <= 1/2 and y_no >= 2e/(2e+1)
        target = AttentionInstance(-s * A, K, V, max(ov.N_a, K.shape[0]), m, s, beta, threshold, 0.0)

        def decode(output):
            for i in np.flatnonzero(output[:, 0] < threshold):
                partners = np.flatnonzero(B @ A[i] == 0)
                if partners.size:
                    return int(i), int(partners[0])
            return None

        return target, certificate_decoder(decode)

    reduce.__name__ = "my_ov_to_attention" + ("" if dummy else "_without_the_dummy_key")
    return reduce


def _caught(reduce, source_solve, target_solve, instances) -> tuple[ReductionError, float]:
    start = time.perf_counter()
    with pytest.raises(ReductionError) as err:
        check_reduction(reduce, source_solve, target_solve, instances)
    return err.value, time.perf_counter() - start


def test_sat_to_ov_with_a_clause_dropped_is_caught_on_one_variable():
    err, seconds = _caught(sat_to_ov_dropping_a_clause, solve, solve_ov, cnfs(max_vars=8, max_clauses=12))
    # Both directions are broken; hypothesis reports the one it met (often both), each shrunk on its own:
    # no -> no on {x1, -x1} (unsatisfiable, satisfiable without its last clause), certificate on {x1}.
    assert {f.direction for f in err.failures} <= {"no -> no", "certificate"}
    for f in err.failures:
        assert f.instance.num_vars == 1 and f.instance.num_clauses <= 2
        assert (solve(f.instance) is None) == (f.direction == "no -> no")
    assert "CNF in DIMACS:\np cnf 1 " in str(err)
    assert seconds < SECONDS


@pytest.mark.parametrize("beta_of", [lambda N_b: math.log(N_b), lambda N_b: 0.5], ids=["ln N_b", "one half"])
def test_ov_to_attention_with_a_too_small_beta_is_caught_on_one_vector_each(beta_of):
    err, seconds = _caught(my_ov_to_attention(beta_of), solve_ov, solve_attention, ov_instances(max_n=6, max_m=6))
    assert err.direction == "no -> no"
    assert (err.instance.N_a, err.instance.N_b, err.instance.m) == (1, 1, 1)  # A = [1], B = [1]: no pair
    assert "OV instance, 0/1 rows (N_a = 1, N_b = 1, m = 1):\nA\n1\nB\n1" in str(err)
    assert seconds < SECONDS


def test_ov_to_attention_without_the_dummy_key_is_caught_on_one_vector_each():
    err, seconds = _caught(my_ov_to_attention(dummy=False), solve_ov, solve_attention, ov_instances(max_n=6))
    assert err.direction == "yes -> yes"
    assert (err.instance.N_a, err.instance.N_b) == (1, 1) and err.instance.m <= 1
    assert seconds < SECONDS


def test_the_correct_versions_pass(check_reduction, reduction_examples):
    assert check_reduction(sat_to_ov, solve, solve_ov, cnfs(max_vars=8, max_clauses=12)).tried == reduction_examples
    report = check_reduction(my_ov_to_attention(), solve_ov, solve_attention, ov_instances(max_n=6, max_m=6))
    assert report.yes > 0 and report.no > 0
