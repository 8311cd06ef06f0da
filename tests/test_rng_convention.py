"""One randomness convention: ``rng: int | numpy.random.Generator | None``, ``seed=`` kept as an alias (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms._random import as_generator
from algorithms.transformer import TransformerConfig, init_params
from reductions.cnf import planted_kcnf, random_kcnf, unsatisfiable_kcnf
from reductions.gap import disjoint_gap_instance, planted_gap3_instance, planted_gap_instance
from reductions.ov import planted_kov, planted_ov, random_kov, random_ov

CFG = TransformerConfig(d=4, heads=2, d_head=2, d_ff=8, layers=2, d_out=3)


def canonical(value):
    """Something comparable with == for every return type below."""
    if isinstance(value, tuple):
        return tuple(canonical(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "__dataclass_fields__"):
        return tuple(canonical(getattr(value, f)) for f in value.__dataclass_fields__)
    if isinstance(value, dict):
        return sorted(value.items())
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


GENERATORS = {
    "random_kcnf": lambda **kw: random_kcnf(8, 30, 3, **kw),
    "planted_kcnf": lambda **kw: planted_kcnf(8, 30, 3, **kw),
    "unsatisfiable_kcnf": lambda **kw: unsatisfiable_kcnf(8, 20, 3, **kw),
    "random_ov": lambda **kw: random_ov(6, 8, **kw),
    "planted_ov": lambda **kw: planted_ov(6, 8, orthogonal=True, **kw),
    "random_kov": lambda **kw: random_kov(3, 4, 6, **kw),
    "planted_kov": lambda **kw: planted_kov(3, 4, 8, orthogonal=True, **kw),
    "planted_gap_instance": lambda **kw: planted_gap_instance(8, 24, 6, 3, 6, yes=True, **kw),
    "disjoint_gap_instance": lambda **kw: disjoint_gap_instance(6, 6, 3, yes=True, **kw),
    "planted_gap3_instance": lambda **kw: planted_gap3_instance(5, 24, 6, 1, 5, yes=True, **kw),
    "init_params": lambda **kw: init_params(CFG, **kw),
}


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_int_generator_and_seed_alias_agree(name):
    make = GENERATORS[name]
    by_int = canonical(make(rng=7))
    assert canonical(make(rng=np.random.default_rng(7))) == by_int
    if name != "init_params":  # init_params never had seed=
        assert canonical(make(seed=7)) == by_int
    assert canonical(make(rng=8)) != by_int


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_a_generator_is_used_and_advanced(name):
    g = np.random.default_rng(3)
    first, second = canonical(GENERATORS[name](rng=g)), canonical(GENERATORS[name](rng=g))
    assert first == canonical(GENERATORS[name](rng=np.random.default_rng(3))) and second != first


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("bad", [1.5, "0", True, -1])
def test_bad_randomness_is_a_value_error_naming_the_parameter(name, bad):
    with pytest.raises(ValueError, match=r"rng must be"):
        GENERATORS[name](rng=bad)


def test_giving_both_rng_and_seed_is_refused():
    with pytest.raises(ValueError, match="give rng or its alias seed, not both"):
        random_kcnf(8, 30, 3, rng=1, seed=1)
    with pytest.raises(ValueError, match="seed must be"):
        random_ov(4, 4, seed=2.5)


def test_positional_seeds_still_work():
    assert random_kcnf(8, 30, 3, 5) == random_kcnf(8, 30, 3, seed=5)
    assert canonical(random_ov(4, 6, 0.5, 2)) == canonical(random_ov(4, 6, seed=2))
    assert canonical(init_params(CFG, 0)) == canonical(init_params(CFG, np.random.default_rng(0)))


def test_none_draws_fresh_entropy():
    assert as_generator(None).integers(2**62) != as_generator(None).integers(2**62)
