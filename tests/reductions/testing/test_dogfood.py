"""Every reduction of the project through the toolkit, with its size claim (issue 15's dogfood).

Decision reductions go through ``check_reduction`` (one target) or
``check_family_reduction`` (the MA-protocol families: OV is the OR over the
targets), on strategies that plant both yes and no instances; function
reductions (forward attention read off the gradient, gap max-IP decided by
gradient calls) through ``check_function_reduction``.  The number of
instances is the ``reduction_examples`` fixture (conftest: 25 in ``make
test``, 300 with ``BOUNDED_ENTRIES_SLOW=1``, or ``--reduction-examples N``).
"""

from __future__ import annotations

import functools

import pytest

from algorithms.attention import attention
from algorithms.tensor_attention import tensor_attention
from reductions.attention_to_gradient import attention_via_gradient, tensor_attention_via_gradient
from reductions.cnf import solve
from reductions.gap import gap_answer
from reductions.ov_to_gap import kov_to_gap3, ov_to_gap
from reductions.sat_to_ov import sat_to_kov, sat_to_ov
from reductions.testing import adapters, claims
from reductions.testing import strategies as s

DECISION = {
    "SAT -> OV": (sat_to_ov, solve, adapters.solve_ov, s.cnfs(max_vars=8, max_clauses=12), claims.sat_to_ov_sizes()),
    "SAT -> 3-OV": (functools.partial(sat_to_kov, k=3), solve, adapters.solve_kov, s.cnfs(max_vars=8, max_clauses=12),
                    claims.sat_to_kov_sizes(3)),
    "SAT -> 4-OV": (functools.partial(sat_to_kov, k=4), solve, adapters.solve_kov, s.cnfs(max_vars=9, max_clauses=12),
                    claims.sat_to_kov_sizes(4)),
    "OV -> attention": (adapters.ov_to_attention, adapters.solve_ov, adapters.solve_attention,
                        s.ov_instances(max_n=6, max_m=5), claims.ov_to_attention_sizes()),
    "3-OV -> tensor attention": (adapters.kov_to_tensor_attention, adapters.solve_kov, adapters.solve_attention,
                                 s.kov_instances(k=3, max_n=4), claims.kov_to_tensor_attention_sizes()),
    "gap max-IP -> attention": (adapters.gap_to_attention, adapters.solve_gap, adapters.solve_attention,
                                s.gap_instances(form="max-ip", max_n=5), claims.gap_to_attention_sizes()),
    "gap Hamming -> attention": (adapters.hamming_to_attention, adapters.solve_gap, adapters.solve_attention,
                                 s.gap_instances(form="hamming", max_n=5), claims.hamming_to_attention_sizes()),
    "gap 3-max-IP -> tensor attention": (adapters.gap3_to_tensor_attention, adapters.solve_gap,
                                         adapters.solve_attention, s.gap_instances(form="tensor", max_n=3),
                                         claims.gap3_to_tensor_attention_sizes()),
}

FAMILY = {  # the default T is 1 (one instance, no advice) for m <= 3; T = 2 makes q^(k(T-1)) > 1 instances
    "OV -> gap max-IP (MA)": (ov_to_gap, adapters.solve_ov, adapters.solve_gap, s.ov_instances(max_n=3, max_m=4),
                              claims.ov_to_gap_sizes(2)),
    "OV -> gap max-IP (MA, T = 2)": (functools.partial(ov_to_gap, T=2), adapters.solve_ov, adapters.solve_gap,
                                     s.ov_instances(max_n=3, max_m=4), claims.ov_to_gap_sizes(2, T=2)),
    "3-OV -> gap 3-max-IP (MA, T = 2)": (functools.partial(kov_to_gap3, T=2), adapters.solve_kov, adapters.solve_gap,
                                         s.kov_instances(k=3, max_n=2, max_m=3), claims.ov_to_gap_sizes(3, T=2)),
}


def exact_attention(source):
    return attention(*source)


def exact_tensor_attention(source):
    return tensor_attention(*source)


def attention_via_gradient_calls(source):
    return attention_via_gradient(*source)


def tensor_attention_via_gradient_calls(source):
    return tensor_attention_via_gradient(*source)


VALUE = {
    "attention -> gradient (blocks)": (adapters.attention_to_gradient, exact_attention, adapters.gradients,
                                       s.attention_inputs(), claims.attention_to_gradient_sizes()),
    "attention_via_gradient": (adapters.as_target, exact_attention, attention_via_gradient_calls,
                               s.attention_inputs(), None),
    "tensor attention -> gradient (blocks)": (adapters.tensor_attention_to_gradient, exact_tensor_attention,
                                              adapters.gradients, s.tensor_attention_inputs(),
                                              claims.tensor_attention_to_gradient_sizes()),
    "tensor_attention_via_gradient": (adapters.as_target, exact_tensor_attention, tensor_attention_via_gradient_calls,
                                      s.tensor_attention_inputs(), None),
    "gap_via_gradient (max-IP)": (adapters.as_target, gap_answer, adapters.gap_answer_via_gradient,
                                  s.gap_instances(form="max-ip", max_n=3, max_m=4), None),
    "gap_via_gradient (3-max-IP)": (adapters.as_target, gap_answer, adapters.gap_answer_via_gradient,
                                    s.gap_instances(form="tensor", max_n=2, max_m=3), None),
}


@pytest.mark.parametrize("name", list(DECISION))
def test_decision_reduction_passes_every_direction_and_its_size_claim(name, check_reduction, reduction_examples):
    reduce, source_solve, target_solve, instances, sizes = DECISION[name]
    report = check_reduction(reduce, source_solve, target_solve, instances, sizes=sizes)
    print(name, "|", report)
    assert report.tried == reduction_examples and report.yes > 0 and report.no > 0
    assert set(sizes.claims) <= set(report.largest_target) and not report.notes


@pytest.mark.parametrize("name", list(FAMILY))
def test_family_reduction_answers_the_or_over_its_targets(name, check_family_reduction, reduction_examples):
    reduce, source_solve, target_solve, instances, sizes = FAMILY[name]
    report = check_family_reduction(reduce, source_solve, target_solve, instances, sizes=sizes)
    print(name, "|", report)
    assert report.tried == reduction_examples and report.yes > 0 and report.no > 0
    assert report.largest_target["instances"] > 1 or "T = 2" not in name


@pytest.mark.parametrize("name", list(VALUE))
def test_function_reduction_computes_the_source_value(name, check_function_reduction, reduction_examples):
    reduce, source_value, target_value, instances, sizes = VALUE[name]
    report = check_function_reduction(reduce, source_value, target_value, instances, sizes=sizes, atol=1e-9,
                                      rtol=1e-9)
    print(name, "|", report)
    assert report.tried == reduction_examples
    if source_value is gap_answer:
        assert report.yes > 0 and report.no > 0
