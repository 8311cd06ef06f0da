"""decide_sat: SAT decided through attention, tensor attention and the gradient agrees with brute force."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import reductions.pipeline
from algorithms.polynomial_method import CostExceedsExact, Float64Limit
from reductions.cnf import CNF, planted_kcnf, random_kcnf, solve, unsatisfiable_kcnf
from reductions.pipeline import FastPathRefused, decide_sat, fast_path_rank

VIAS = ("attention", "tensor_attention", "gradient")
RATIOS = {3: (2.0, 3.5, 4.27, 5.0, 6.5), 4: (6.0, 8.5, 9.93, 11.5, 14.0)}


def formulas(count: int, n_lo: int, n_hi: int, seed: int):
    rng = np.random.default_rng(seed)
    for t in range(count):
        k = 3 + t % 2
        n = int(rng.integers(max(k, n_lo), n_hi + 1))
        yield random_kcnf(n, max(1, round(RATIOS[k][t // 2 % 5] * n)), k, seed=seed * 10_000 + t)


def agrees_with_brute_force(f: CNF, via: str, algorithm: str = "exact") -> bool:
    sat, x, trace = decide_sat(f, via=via, algorithm=algorithm)
    truth = solve(f)
    assert sat == (truth is not None)
    assert (x is None) == (not sat)
    assert x is None or f.satisfies(x)
    assert trace.names[-1] == "verify" and trace.via == via and trace.algorithm == algorithm
    return sat


def test_docstring_examples_run():
    assert doctest.testmod(reductions.pipeline).failed == 0


def test_decide_sat_via_attention_agrees_with_brute_force_on_1200_random_kcnfs():
    outcomes = [agrees_with_brute_force(f, "attention") for f in formulas(1000, 3, 12, seed=1)]
    outcomes += [agrees_with_brute_force(f, "attention") for f in formulas(200, 13, 16, seed=2)]
    assert 0.2 < np.mean(outcomes) < 0.9


def test_decide_sat_via_tensor_attention_agrees_with_brute_force():
    outcomes = [agrees_with_brute_force(f, "tensor_attention") for f in formulas(300, 3, 12, seed=3)]
    outcomes += [agrees_with_brute_force(f, "tensor_attention") for f in formulas(20, 13, 15, seed=4)]
    assert 0.2 < np.mean(outcomes) < 0.9


def test_decide_sat_via_gradient_agrees_with_brute_force():
    outcomes = [agrees_with_brute_force(f, "gradient") for f in formulas(80, 3, 10, seed=5)]
    assert 0.2 < np.mean(outcomes) < 0.9


@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("seed", range(8))
def test_planted_yes_and_no_formulas(via, seed):
    n, k = 6 + seed, 3 + seed % 2
    f, hidden = planted_kcnf(n, round(RATIOS[k][4] * n), k, seed=seed)
    assert agrees_with_brute_force(f, via)
    assert not agrees_with_brute_force(unsatisfiable_kcnf(n, 2**k + 2 * n, k, seed=seed), via)


@pytest.mark.parametrize("f", [CNF(0, ()), CNF(3, ()), CNF(2, ((),)), CNF(1, ((1,), (-1,))), CNF(1, ((1,),))])
@pytest.mark.parametrize("via", VIAS)
def test_edge_formulas(f, via):
    agrees_with_brute_force(f, via)


@pytest.mark.parametrize("n", [4, 7, 10])
def test_chain_blow_up_matches_the_docstrings(n):
    """n_vars -> N_a = 2^ceil(n/2) queries, N_b + 1 keys, d = M, B = sqrt(M (ln(2 N_b) + 1))."""
    f = random_kcnf(n, 4 * n, 3, seed=n)
    _, _, trace = decide_sat(f)
    N_a, N_b, M = 2 ** math.ceil(n / 2), 2 ** (n // 2), f.num_clauses
    assert trace["sat_to_ov"].sizes == dict(n_vars=n, clauses=M, N_a=N_a, N_b=N_b, m=M)
    att = trace["ov_to_attention"].sizes
    assert (att["n"], att["n_keys"], att["d"]) == (N_a, N_b + 1, M)
    assert att["B"] == pytest.approx(math.sqrt(M * (math.log(2 * N_b) + 1)))
    _, _, trace3 = decide_sat(f, via="tensor_attention")
    sizes = [math.ceil(n / 3)] * (n % 3) + [n // 3] * (3 - n % 3)
    assert trace3["sat_to_3ov"].sizes["sizes"] == tuple(2**s for s in sizes)
    N_b, N_c = 2 ** sizes[1], 2 ** sizes[2]
    assert trace3["3ov_to_tensor_attention"].sizes["B"] == pytest.approx((M * (math.log(2 * N_b * N_c) + 1)) ** (1 / 3))


def test_against_a_real_solver_on_larger_formulas():
    pysat = pytest.importorskip("pysat.solvers")
    answers = []
    for t in range(8):
        n = 20 + t % 3
        f = random_kcnf(n, round((3.8 if t % 2 else 4.8) * n), 3, seed=100 + t)
        with pysat.Solver(name="minisat22", bootstrap_with=[list(c) for c in f.clauses]) as s:
            truth = s.solve()
        for via in ("attention", "tensor_attention"):
            sat, x, _ = decide_sat(f, via=via)
            assert sat == truth and (x is None or f.satisfies(x))
        answers.append(truth)
    assert 0 < sum(answers) < len(answers)  # both answers occur


# ----- the fast path: refused at the reduction's scale, correct where it can run ----------------


@pytest.mark.parametrize("via", ["attention", "tensor_attention", "gradient"])
def test_fast_path_refuses_at_the_reductions_entry_bound_for_cost(via):
    """On the certified interval [-beta w, 0] the reason is the rank (cost), not float64."""
    f = random_kcnf(10, 40, 3, seed=0)
    with pytest.raises(FastPathRefused, match=r"fast path refused \(cost\): the instance has entries B=") as info:
        decide_sat(f, via=via, algorithm="fast")
    assert isinstance(info.value, ValueError) and info.value.reason == "cost"
    assert isinstance(info.value.__cause__, CostExceedsExact)
    cause = info.value.__cause__
    assert cause.fast_flops > 1e10 * cause.exact_flops  # both flop counts are in the exception
    upper_bound = "arXiv:2310.04064" if via == "tensor_attention" else "Alman & Song 2023, Thm 1.3"
    assert upper_bound in str(info.value) and "flops against" in str(info.value)
    assert "Thm 1.4" not in str(info.value) and "SETH" not in str(info.value)  # not the lower bound
    assert info.value.trace.names[-1] == "fast-check" and info.value.trace.stages[-1].note == "refused"


def test_fast_path_refusal_for_float64_is_its_own_reason():
    """A 4-variable formula: rank small enough to run, logits [-12.3, 0] too wide for float64 at eps = 1e-6."""
    f = CNF(4, ((1, 2, 3), (-1, 2, 4), (1, -3, -4), (2, 3, 4)))
    with pytest.raises(FastPathRefused, match=r"fast path refused \(float64 limit\)") as info:
        decide_sat(f, algorithm="fast", eps=1e-6, max_rank=10**6)
    assert info.value.reason == "float64" and isinstance(info.value.__cause__, Float64Limit)
    assert "significant digits would do" in str(info.value) and "Thm 1.4" not in str(info.value)


def test_fast_path_refuses_when_the_rank_exceeds_max_rank():
    f = CNF(2, ((1,), (-2,)))
    with pytest.raises(FastPathRefused, match=r"\(cost\).*rank r=C\(d\+g, g\)=\d+ with d=2, above max_rank=10"):
        decide_sat(f, algorithm="fast", max_rank=10)


def test_a_fast_routine_refusing_on_its_own_becomes_fast_path_refused(monkeypatch):
    import algorithms.attention

    def refuse(*args, **kwargs):
        raise ValueError("A1 X has an entry above the promised bound")

    monkeypatch.setattr(algorithms.attention, "attention_fast", refuse)
    with pytest.raises(FastPathRefused, match="refused by attention: A1 X has an entry"):
        decide_sat(CNF(2, ((1,), (-2,))), algorithm="fast")
    monkeypatch.setattr(algorithms.attention, "attention", refuse)
    with pytest.raises(ValueError, match="A1 X") as info:  # exact: the error passes through unchanged
        decide_sat(CNF(2, ((1,), (-2,))))
    assert not isinstance(info.value, FastPathRefused)


TINY = [
    CNF(2, ((1,), (-2,))),
    CNF(2, ((1,), (-1,))),
    CNF(2, ((1, 2), (-1, -2))),
    CNF(1, ((1,),)),
    CNF(1, ((1,), (-1,))),
]


@pytest.mark.parametrize("f", TINY)
def test_fast_gradient_route_runs_on_the_smallest_formulas_at_a_far_larger_rank(f):
    """The gradient instance scales entries by sqrt(D/d) and has head dimension D = d + 2(d_v + 1) + b."""
    sat, x, trace = decide_sat(f, via="gradient", algorithm="fast", eps=1e-2, max_rank=10**5)
    assert sat == (solve(f) is not None) and (x is None or f.satisfies(x))
    sizes = trace["ov_to_attention"].sizes
    assert sizes["B_gradient"] > sizes["B"] and sizes["D_gradient"] == sizes["d"] + 4 + min(sizes["n"], sizes["d"])
    _, _, plain = decide_sat(f, via="attention", algorithm="fast", eps=1e-2)
    assert trace["fast-check"].sizes["r"] >= 10 * plain["fast-check"].sizes["r"]


@pytest.mark.parametrize("f", TINY)
@pytest.mark.parametrize("via", ["attention", "tensor_attention"])
def test_fast_path_agrees_with_exact_where_it_can_run(f, via):
    sat, x, trace = decide_sat(f, via=via, algorithm="fast")
    exact_sat, _, _ = decide_sat(f, via=via)
    assert sat == exact_sat == (solve(f) is not None)
    assert x is None or f.satisfies(x)
    g, r = trace["fast-check"].sizes["g"], trace["fast-check"].sizes["r"]
    B = trace["fast-check"].sizes["B"]
    d = 2 if f.num_clauses == 2 else 1
    assert r == math.comb(d + g, g)  # certified interval [-beta w, 0]: no centring coordinate
    # ... and no more than the worst-case interval [-B^k, B^k] would need
    assert g <= fast_path_rank(B, d, 1e-6, 3 if via == "tensor_attention" else 2)[0]


# ----- certificates and bad arguments -------------------------------------------------------------


def test_a_wrong_decoded_pair_is_caught_by_the_certificate(monkeypatch):
    import reductions.ov_to_attention as ova

    real = ova.ov_to_attention

    def lying(A, B):
        inst, _ = real(A, B)
        return inst, lambda out: (0, 0)

    monkeypatch.setattr(ova, "ov_to_attention", lying)
    with pytest.raises(RuntimeError, match="not a solution"):
        decide_sat(CNF(2, ((1,), (2,))))  # assignment (0, 0) = all false falsifies it


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(cnf="p cnf 1 1\n1 0\n"), "cnf must be a CNF"),
        (dict(via="softmax"), "via must be one of"),
        (dict(algorithm="approximate"), "algorithm must be one of"),
        (dict(eps=0.0), "eps must lie in"),
        (dict(eps=1.5), "eps must lie in"),
        (dict(max_rank=0), "max_rank must be"),
    ],
)
def test_bad_arguments_raise_naming_the_parameter(kwargs, fragment):
    args = dict(cnf=CNF(1, ((1,),))) | kwargs
    with pytest.raises(ValueError, match=fragment):
        decide_sat(**args)


def test_trace_prints_every_stage():
    _, _, trace = decide_sat(CNF(3, ((1, -2), (2, 3))))
    text = str(trace)
    assert all(name in text for name in trace.names) and "ms" in text
    assert trace.seconds > 0
    with pytest.raises(KeyError):
        trace["nope"]


def test_the_docstring_does_not_sell_a_float64_refusal_as_the_lower_bound():
    doc = " ".join(reductions.pipeline.__doc__.split())
    assert "point of" not in doc and "not a bug" not in doc
    assert "Thm 1.3" in doc  # the upper bound is Thm 1.3 ...
    assert "Neither refusal is Alman & Song's lower bound (Thm 1.4)" in doc  # ... and 1.4 the lower bound


@pytest.mark.parametrize("via", ["gap", "tensor_gap"])
def test_decide_sat_via_gap_agrees_with_brute_force(via):
    """decide_sat(via='gap') runs the MA-protocol chain; it agrees with brute force both ways."""
    from reductions.cnf import random_kcnf, solve

    for seed in range(12):
        f = random_kcnf(4, 4, 3, seed=seed)
        sat, x, trace = decide_sat(f, via=via)
        assert sat == (solve(f) is not None)
        assert x is None or f.satisfies(x)
        assert trace.names[-1] == "verify" and trace.via == via


def test_decide_sat_via_gap_refuses_fast_and_large_formulas():
    from reductions.cnf import CNF

    with pytest.raises(ValueError, match="exact attention only"):
        decide_sat(CNF(2, [(1, 2)]), via="gap", algorithm="fast")
    with pytest.raises(ValueError, match="max_work"):
        decide_sat(CNF(40, [(1, 2)]), via="gap")
