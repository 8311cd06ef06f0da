"""TransformerConfig and init_params on hostile arguments (issue 13, item 15): clear ValueErrors, no MemoryError."""

import time

import numpy as np
import pytest

from algorithms.budget import BudgetExceeded
from algorithms.transformer import TransformerConfig, init_params

BASE = dict(d=4, heads=2, d_head=2, d_ff=8, layers=2, d_out=1)


@pytest.mark.parametrize("change, message", [
    (dict(bound=None), "bound must be a positive finite number, got None"),
    (dict(bound="1"), "bound must be a positive finite number, got '1'"),
    (dict(bound=float("nan")), "bound must be a positive finite number, got nan"),
    (dict(bound=float("inf")), "bound must be a positive finite number"),
    (dict(bound=True), "bound must be a positive finite number, got True"),
    (dict(d=True), "d must be a positive integer, got True"),
    (dict(d=4.0), "d must be a positive integer, got 4.0"),
    (dict(layers=float("nan")), "layers must be a positive integer, got nan"),
    (dict(causal="yes"), "causal must be True or False"),
    (dict(layer_norm=None), "layer_norm must be True or False"),
])
def test_bad_configs_name_the_field(change, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        TransformerConfig(**{**BASE, **change})


def test_huge_models_are_refused_before_allocating():
    start = time.perf_counter()
    with pytest.raises(BudgetExceeded, match=r"init_params: .* weights \(d = 1000000000"):
        init_params(TransformerConfig(**{**BASE, "d": 10**9}), np.random.default_rng(0))
    assert time.perf_counter() - start < 0.5
    cfg = TransformerConfig(**{**BASE, "d": 4096, "d_ff": 4096, "layers": 4})  # 268 M weights, 4 GiB
    with pytest.raises(BudgetExceeded, match="max_memory"):
        init_params(cfg, np.random.default_rng(0))
    assert cfg.num_parameters == 4 * (4 * 4096 * 4 + 2 * 4096 * 4096 + 4096 + 4096) + 4096


def test_init_params_checks_its_other_arguments():
    cfg = TransformerConfig(**BASE)
    with pytest.raises(ValueError, match="rng must be None, a non-negative int or a numpy.random.Generator"):
        init_params(cfg, "0")
    with pytest.raises(ValueError, match="config must be a TransformerConfig"):
        init_params(dict(BASE), np.random.default_rng(0))
    for name in ("x_max", "gain"):
        with pytest.raises(ValueError, match=f"{name} must be a positive finite number"):
            init_params(cfg, np.random.default_rng(0), **{name: None})
    p = init_params(cfg, np.random.default_rng(0))
    assert sum(np.size(w) for layer in p.layers for w in vars(layer).values()) + p.W_out.size == cfg.num_parameters
