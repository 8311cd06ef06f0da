"""The shared strategies keep their promises: planted answers hold, DIMACS cases say what a parser must do,
hostile arrays and parameters are what they claim to be.

Answers are checked against the brute-force solvers; the parameter
strategies against the project's own input contracts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from algorithms._checks import check_bound, check_eps
from reductions.attention_to_gradient import _check_block
from reductions.cnf import read_dimacs, solve
from reductions.gap import gap_answer
from reductions.ov import find_orthogonal_pair, find_orthogonal_tuple
from reductions.testing import strategies as s
from reductions.testing._dimacs_text import DEFECTS
from reductions.testing._hostile import _view

FAST = settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@FAST
@given(st.sampled_from(["random", "satisfiable", "unsatisfiable", "edge"]), st.sampled_from([None, 2, 3]), st.data())
def test_cnfs_plant_their_answer_and_keep_their_bounds(kind, k, data):
    f = data.draw(s.cnfs(max_vars=6, max_clauses=10, k=k, kind=kind))
    assert 1 <= f.num_vars <= 6 and f.num_clauses <= 10
    if kind == "satisfiable":
        assert solve(f) is not None
    if kind == "unsatisfiable":
        assert solve(f) is None
    if k is not None and kind != "edge":
        assert all(len(c) == k == len({abs(lit) for lit in c}) for c in f.clauses)


SEARCH = settings(max_examples=2000, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("case, holds", [
    ("empty clause", lambda f: () in f.clauses),
    ("tautology", lambda f: any(-lit in c for c in f.clauses for lit in c)),
    ("duplicate literal", lambda f: any(len(set(c)) < len(c) for c in f.clauses)),
    ("unused variable", lambda f: len({abs(lit) for c in f.clauses for lit in c}) < f.num_vars),
])
def test_edge_cnfs_reach_every_edge_case(case, holds):
    find(s.cnfs(kind="edge", max_vars=5), holds, settings=SEARCH)  # raises NoSuchExample if unreachable


@pytest.mark.parametrize("kwargs, match", [({"kind": "odd"}, "kind must be one of"), ({"k": 9}, "k must lie in"),
                                           ({"kind": "unsatisfiable", "k": 3, "max_clauses": 7}, "2\\*\\*k = 8"),
                                           ({"min_vars": 7}, "min_vars <= max_vars")])
def test_cnfs_refuse_impossible_requests(kwargs, match):
    with pytest.raises(ValueError, match=match):
        s.cnfs(**kwargs)


@FAST
@given(st.booleans(), st.data())
def test_ov_instances_plant_their_answer(orthogonal, data):
    inst = data.draw(s.ov_instances(orthogonal=orthogonal, max_n=4, max_m=4))
    assert (find_orthogonal_pair(inst.A, inst.B) is not None) == orthogonal


@FAST
@given(st.integers(2, 4), st.booleans(), st.data())
def test_kov_instances_plant_their_answer(k, orthogonal, data):
    inst = data.draw(s.kov_instances(k=k, orthogonal=orthogonal, max_n=2, max_m=4))
    assert inst.k == k and (find_orthogonal_tuple(inst.sets) is not None) == orthogonal


@FAST
@given(st.sampled_from(["max-ip", "hamming", "tensor"]), st.booleans(), st.data())
def test_gap_instances_keep_the_promise_on_the_side_asked(form, yes, data):
    assert gap_answer(data.draw(s.gap_instances(form=form, yes=yes, max_n=3, max_m=5))) == yes  # raises if broken


@FAST
@given(st.floats(0.1, 5.0), st.data())
def test_attention_inputs_respect_the_bound(bound, data):
    Q, K, V = data.draw(s.attention_inputs(bound=bound))
    assert max(np.abs(Q).max(), np.abs(K).max()) <= bound and np.abs(V).max() <= 1.0
    Q, K1, K2, V1, V2 = data.draw(s.tensor_attention_inputs(bound=bound))
    assert max(np.abs(Q).max(), np.abs(K1).max(), np.abs(K2).max()) <= bound


# ---------------------------------------------------------------------------- DIMACS text
@FAST
@given(s.dimacs_texts())
def test_valid_dimacs_texts_parse_to_their_formula(case):
    assert case.valid and case.defect is None and read_dimacs(case.text) == case.formula


@pytest.mark.parametrize("defect", DEFECTS)
def test_malformed_dimacs_is_refused_with_a_value_error(defect):
    @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(s.malformed_dimacs(defect))
    def refused(case):
        assert not case.valid and case.defect == defect
        with pytest.raises(ValueError):
            read_dimacs(case.text)

    refused()


def test_malformed_dimacs_names_unknown_defects():
    with pytest.raises(ValueError, match="defect must be one of"):
        s.malformed_dimacs("typo")


# ---------------------------------------------------------------------------- hostile arrays and parameters
@FAST
@given(st.sampled_from(s.VIEWS), st.data())
def test_every_layout_holds_the_same_values(view, data):
    shape = data.draw(s.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    dtype = np.dtype(data.draw(st.sampled_from(["float64", "int32", "complex128", "bool"])))
    A = data.draw(s.hostile_arrays(shapes=st.just(shape), dtype=st.just(dtype), views=("contiguous",)))
    V = _view(A, view)
    assert isinstance(V, list) == (view == "list") and A.flags.c_contiguous
    assert np.array_equal(np.asarray(V, dtype=dtype), A, equal_nan=dtype.kind in "fc")
    if view in ("strided", "reversed", "transposed") and A.ndim > 1 and min(A.shape) > 1:
        assert not V.flags.c_contiguous
    assert V.flags.writeable == (view not in ("broadcast", "readonly")) if view != "list" else True


def _is_array(A) -> bool:
    return isinstance(A, np.ndarray)


@pytest.mark.parametrize("case, holds", [
    ("a list", lambda A: isinstance(A, list)),
    ("0-d", lambda A: _is_array(A) and A.ndim == 0),
    ("1-d", lambda A: _is_array(A) and A.ndim == 1),
    ("3-d", lambda A: _is_array(A) and A.ndim == 3),
    ("empty", lambda A: _is_array(A) and A.size == 0),
    ("NaN", lambda A: _is_array(A) and A.dtype.kind == "f" and bool(np.isnan(A).any())),
    ("inf", lambda A: _is_array(A) and A.dtype.kind == "f" and bool(np.isinf(A).any())),
    ("huge", lambda A: _is_array(A) and A.dtype == np.float64 and bool((np.abs(A[np.isfinite(A)]) > 1e250).any())),
    ("tiny", lambda A: _is_array(A) and A.dtype == np.float64 and bool(((np.abs(A) < 1e-250) & (A != 0)).any())),
    ("read-only", lambda A: _is_array(A) and not A.flags.writeable),
    ("non-contiguous", lambda A: _is_array(A) and not A.flags.c_contiguous),
    *((f"dtype {k}", lambda A, k=k: _is_array(A) and A.dtype.kind == k) for k in "fiubcO"),
])
def test_hostile_arrays_reach_the_edges(case, holds):
    find(s.hostile_arrays(), holds, settings=SEARCH)


@FAST
@given(s.magnitudes())
def test_magnitudes_span_the_float_range(x):
    assert 1e-300 <= abs(x) <= 1e300


@FAST
@given(s.labelled(s.eps_values))
def test_eps_values_sit_on_the_side_of_check_eps_they_claim(pair):
    value, valid = pair
    if valid:
        assert check_eps(value) == value
    else:
        with pytest.raises((ValueError, TypeError)):
            check_eps(value)


@FAST
@given(s.labelled(s.bounds))
def test_bounds_sit_on_the_side_of_check_bound_they_claim(pair):
    value, valid = pair
    if valid:
        assert check_bound(value, X=np.zeros((1, 1))) == value
    else:
        with pytest.raises((ValueError, TypeError)):
            check_bound(value, X=np.zeros((1, 1)))


@FAST
@given(s.labelled(s.block_sizes))
def test_block_sizes_sit_on_the_side_of_the_block_check_they_claim(pair):
    value, valid = pair
    if valid:
        assert _check_block(value, 4) == value
    else:
        with pytest.raises((ValueError, TypeError)):
            _check_block(value, 4)


@FAST
@given(s.labelled(s.seeds))
def test_seeds_sit_on_the_side_of_default_rng_they_claim(pair):
    value, valid = pair
    if valid:
        np.random.default_rng(value)
    else:
        with pytest.raises((ValueError, TypeError)):
            np.random.default_rng(value)


def test_example_is_reproducible():
    assert s.example(s.cnfs(), seed=7) == s.example(s.cnfs(), seed=7)
    assert math.isfinite(s.example(s.magnitudes(), seed=1))


@given(data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_scaled_arrays_keep_shape_dtype_and_magnitude(data):
    scale = data.draw(st.sampled_from(s.SCALES))
    name = data.draw(st.sampled_from(["float64", "int32", "bool"]))
    A = data.draw(s.scaled_arrays((2, 3), scales=(scale,), names=(name,), views=("contiguous", "strided")))
    assert A.shape == (2, 3) and A.dtype == np.dtype(name)
    assert np.all(np.abs(A.astype(float)) <= max(scale, 1.0 if name == "bool" else scale))
