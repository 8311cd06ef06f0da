"""The checker itself: each direction caught on its own, shrinking vs iterables, reports, size claims, the other modes.

Every broken reduction here has exactly one planted defect, and the test
asserts that the checker names that direction (and only it, where the defect
cannot show elsewhere) with a small counterexample.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from reductions.cnf import CNF, solve
from reductions.gap import Gap3Instance, GapInstance, HammingGapInstance
from reductions.ov import KOVInstance, OVInstance
from reductions.sat_to_ov import sat_to_ov
from reductions.testing import (
    ReductionError,
    SizeClaim,
    at_most,
    check_family_reduction,
    check_function_reduction,
    check_reduction,
    format_instance,
)
from reductions.testing.adapters import solve_ov, verify_sat
from reductions.testing.claims import sat_to_ov_sizes
from reductions.testing.strategies import cnfs

N = 60  # enough for every planted defect below to show


def _extra_column(value: int):
    """SAT -> OV with one more coordinate holding ``value`` in every vector of A and B."""

    def reduce(f):
        inst, decode = sat_to_ov(f)
        return OVInstance(np.hstack([inst.A, np.full((inst.N_a, 1), value)]),
                          np.hstack([inst.B, np.full((inst.N_b, 1), value)])), decode

    return reduce


def never_yes(f):
    """Completeness defect: an all-ones coordinate makes every pair non-orthogonal."""
    return _extra_column(1)(f)


def always_yes(f):
    """Soundness defect: a zero row appended to A is orthogonal to every row of B."""
    inst, decode = sat_to_ov(f)
    return OVInstance(np.vstack([inst.A, np.zeros((1, inst.m))]), inst.B), decode


def wrong_decoder(f):
    """Certificate defect: the right instance, the decoded assignment negated."""
    inst, decode = sat_to_ov(f)
    return inst, lambda pair: {v: not b for v, b in decode(pair).items()}


def test_completeness_defect_is_named_yes_to_yes_with_the_smallest_formula():
    with pytest.raises(ReductionError) as err:
        check_reduction(never_yes, solve, solve_ov, cnfs(), max_examples=N)
    e = err.value
    assert [f.direction for f in e.failures] == ["yes -> yes"]
    assert (e.instance.num_vars, e.instance.num_clauses) == (1, 0)
    assert e.shrunk and "shrunk by hypothesis" in str(e) and "p cnf 1 0" in str(e)


def test_soundness_defect_is_named_no_to_no_only():
    with pytest.raises(ReductionError) as err:
        check_reduction(always_yes, solve, solve_ov, cnfs(), max_examples=N)
    e = err.value
    assert [f.direction for f in e.failures] == ["no -> no"]
    assert e.instance.num_vars == 1 and e.instance.num_clauses <= 2 and solve(e.instance) is None


def test_certificate_defect_is_named_certificate_only():
    with pytest.raises(ReductionError) as err:
        check_reduction(wrong_decoder, solve, solve_ov, cnfs(), max_examples=N)
    e = err.value
    assert [f.direction for f in e.failures] == ["certificate"]
    assert (e.instance.num_vars, e.instance.num_clauses) == (1, 1)
    assert not verify_sat(e.instance, wrong_decoder(e.instance)[1](solve_ov(sat_to_ov(e.instance)[0])))


def test_wrong_size_claim_is_named_size():
    n, M = sympy.symbols("n M")
    claim = SizeClaim({"N_a": 2 ** sympy.floor(n / 2), "m": M}, lambda f: {"n": f.num_vars, "M": f.num_clauses},
                      lambda f, inst: {"N_a": inst.N_a, "m": inst.m})
    with pytest.raises(ReductionError) as err:
        check_reduction(sat_to_ov, solve, solve_ov, cnfs(), sizes=claim, max_examples=N)
    assert err.value.direction == "size" and err.value.instance.num_vars == 1
    assert "N_a = 2, but the claim N_a == 2**floor(n/2) gives 1 at n = 1" in err.value.detail


def test_the_right_size_claim_holds_and_is_reported():
    report = check_reduction(sat_to_ov, solve, solve_ov, cnfs(max_vars=5), sizes=sat_to_ov_sizes(), max_examples=N)
    assert report.tried == N and report.yes + report.no == N and report.yes > 5 and report.no > 5
    assert report.largest_source["n"] <= 5 and report.largest_target["N_a"] == 2 ** -(-report.largest_source["n"] // 2)
    assert "passed every direction" in str(report)


def test_an_exception_in_a_stage_is_an_error_naming_the_stage():
    def fragile(f):
        if f.num_clauses > 2:
            raise RuntimeError("too many clauses")
        return sat_to_ov(f)

    with pytest.raises(ReductionError) as err:
        check_reduction(fragile, solve, solve_ov, cnfs(), max_examples=N)
    # hypothesis shrinks locally: to 3 clauses, or to a planted 4-clause unsatisfiable core it cannot split
    assert err.value.direction == "error" and err.value.instance.num_clauses in (3, 4)
    assert "reduce raised RuntimeError: too many clauses" in err.value.detail


def test_reduce_must_return_a_target_and_a_decoder():
    with pytest.raises(ReductionError, match="reduce must return \\(target, decode\\)"):
        check_reduction(lambda f: sat_to_ov(f)[0], solve, solve_ov, cnfs(), max_examples=5)


def test_a_verify_that_rejects_the_source_solver_is_a_setup_failure():
    with pytest.raises(ReductionError) as err:
        check_reduction(sat_to_ov, solve, solve_ov, cnfs(), verify=lambda f, x: False, max_examples=N)
    assert err.value.direction == "setup"


def test_iterables_report_the_first_failing_instance_as_is():
    formulas = [CNF(2, [(1, 2)]), CNF(3, [(1,), (-1,), (2, 3)]), CNF(1, [(1,), (-1,)])]
    with pytest.raises(ReductionError) as err:
        check_reduction(always_yes, solve, solve_ov, formulas)
    assert err.value.instance is formulas[1] and not err.value.shrunk and err.value.tried == 2
    assert "first failing instance (2 instances tried" in str(err.value)
    assert check_reduction(always_yes, solve, solve_ov, iter(formulas), max_examples=1).tried == 1


@pytest.mark.parametrize("bad", [5, "p cnf 1 0", None])
def test_instances_must_be_a_strategy_or_an_iterable(bad):
    with pytest.raises(TypeError, match="instances must be a hypothesis strategy or an iterable"):
        check_reduction(sat_to_ov, solve, solve_ov, bad)


def test_reduction_error_is_an_assertion_error():
    assert issubclass(ReductionError, AssertionError)


def test_unknown_source_types_are_noted_when_no_verify_is_given():
    def halve(x):  # "is x even?" -> "is x/2 an integer?"; certificate: x itself
        return x / 2, lambda half: int(half * 2)

    report = check_reduction(halve, lambda x: x if x % 2 == 0 else None,
                             lambda t: t if float(t).is_integer() else None, range(10))
    assert (report.tried, report.yes, report.no) == (10, 5, 5)
    assert "only checked to be non-None" in report.notes[0]


# ---------------------------------------------------------------------------- size claims
def test_size_claim_names_a_missing_parameter_and_a_missing_size():
    claim = SizeClaim({"m": sympy.Symbol("M") + sympy.Symbol("k")}, lambda f: {"M": f.num_clauses},
                      lambda f, inst: {"m": inst.m})
    with pytest.raises(ValueError, match=r"uses \['k'\], which parameters\(source\) does not give"):
        claim.expected(CNF(1, []))
    claim = SizeClaim({"m": sympy.Symbol("M")}, lambda f: {"M": f.num_clauses}, lambda f, inst: {})
    with pytest.raises(ReductionError, match="gives no size 'm'"):
        check_reduction(sat_to_ov, solve, solve_ov, [CNF(1, [])], sizes=claim)


def test_bounds_and_real_claims_use_their_relation_and_tolerance():
    x = sympy.Symbol("x")
    claim = SizeClaim({"a": at_most(sympy.sqrt(x)), "b": sympy.log(x)}, lambda s: {"x": s},
                      lambda s, t: {"a": t[0], "b": t[1]})
    assert claim.violations(2, {"a": 1.4142135623730951, "b": 0.6931471805599453}) == []
    assert claim.violations(2, {"a": 1.0, "b": 0.69314718056 * (1 + 1e-12)}) == []
    assert len(claim.violations(2, {"a": 1.5, "b": 0.7})) == 2


# ---------------------------------------------------------------------------- family and value modes
def _family(extra_yes: bool, empty: bool = False, bad_decode: bool = False):
    def reduce(f):
        inst, decode = sat_to_ov(f)
        targets = [] if empty else [("copy", inst)]
        if extra_yes:
            targets.append(("zero row", OVInstance(np.zeros((1, max(inst.m, 1))), np.zeros((1, max(inst.m, 1))))))
        return targets, (lambda key, pair: {1: True} if bad_decode else decode(pair) if key == "copy" else None)

    return reduce


def test_family_mode_checks_each_direction():
    assert check_family_reduction(_family(False), solve, solve_ov, cnfs(), max_examples=N).tried == N
    with pytest.raises(ReductionError) as err:
        check_family_reduction(_family(True), solve, solve_ov, cnfs(), max_examples=N)
    assert err.value.direction == "no -> no" and "target 'zero row' (of 2) is YES" in err.value.detail
    with pytest.raises(ReductionError) as err:
        check_family_reduction(_family(False, empty=True), solve, solve_ov, cnfs(), max_examples=N)
    assert err.value.direction == "yes -> yes" and "none of the 0 targets" in err.value.detail
    with pytest.raises(ReductionError) as err:
        check_family_reduction(_family(False, bad_decode=True), solve, solve_ov, cnfs(), max_examples=N)
    assert err.value.direction == "certificate"


def test_value_mode_compares_within_the_tolerance():
    def doubled(x):
        return x, lambda v: 2 * v

    ok = check_function_reduction(doubled, lambda x: 2.0 * x, lambda t: t, [1.0, 2.5, np.array([1.0, 3.0])])
    assert ok.tried == 3 and ok.mode == "value"
    with pytest.raises(ReductionError) as err:
        check_function_reduction(doubled, lambda x: 2.0 * x + 1e-6, lambda t: t, [1.0])
    assert err.value.direction == "value" and "largest error 1.000e-06" in err.value.detail
    assert check_function_reduction(doubled, lambda x: 2.0 * x + 1e-6, lambda t: t, [1.0],
                                    atol=lambda s, t: 1e-5).tried == 1
    with pytest.raises(ReductionError, match="got shape"):
        check_function_reduction(doubled, lambda x: np.zeros(3), lambda t: t, [np.zeros(2)])
    with pytest.raises(ReductionError, match="non-finite"):
        check_function_reduction(doubled, lambda x: 1.0, lambda t: t, [np.nan])
    with pytest.raises(ReductionError, match="got True, expected False"):
        check_function_reduction(lambda x: (x, bool), lambda x: False, lambda t: t, [1])


# ---------------------------------------------------------------------------- printing
def test_instances_print_in_their_own_format():
    kov = format_instance(KOVInstance(([[1, 0]], [[0, 1]], [[1, 1]])))
    assert kov.startswith("3-OV instance, 0/1 rows") and "X_3\n1 1" in kov
    assert "t_lo = 0, t_hi = 1" in format_instance(GapInstance([[1]], [[1]], 0, 1))
    assert "t_near = 0, t_far = 1" in format_instance(HammingGapInstance([[1]], [[1]], 0, 1))
    assert "\nC\n1" in format_instance(Gap3Instance([[1]], [[1]], [[1]], 0, 1))
    assert "(empty row: m = 0)" in format_instance(OVInstance(np.zeros((1, 0)), np.zeros((1, 0))))
    Q = np.array([[0.1]])
    assert "Q = np.array([[0.1]])" in format_instance((Q, Q, Q))
    assert format_instance(7) == "7"
