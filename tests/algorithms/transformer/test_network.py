"""The m-layer transformer of Liang et al. (arXiv 2408.13233): exact backward against finite differences, fast within bounds."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from algorithms.transformer import (
    LayerParams,
    TransformerConfig,
    attention_approximation,
    backward,
    certified_qk_bounds,
    cross_entropy_loss,
    flatten,
    forward,
    gradient_errors,
    init_params,
    layer_errors,
    loss_and_grad,
    mse_loss,
    paper_depth_bound,
    reconfigure,
    sgd_step,
    unflatten,
)
from tests.conftest import central_difference

RNG = np.random.default_rng(20240823)



def _small_model(layers=2, layer_norm=False, d_out=3, bound=1.0, causal=True, seed=0):
    cfg = TransformerConfig(
        d=4, heads=2, d_head=2, d_ff=6, layers=layers, d_out=d_out, causal=causal, layer_norm=layer_norm, bound=bound
    )
    params = init_params(cfg, np.random.default_rng(seed))
    # move biases off zero so their gradients are exercised
    for layer in params.layers:
        layer.b_1 += 0.1 * RNG.standard_normal(layer.b_1.shape)
        layer.b_2 += 0.1 * RNG.standard_normal(layer.b_2.shape)
    return params


@pytest.mark.parametrize(
    "layer_norm,loss", [(False, "mse"), (True, "cross_entropy"), (True, "mse")]
)
def test_exact_backward_equals_central_differences(layer_norm, loss):
    """2 layers, 2 heads, causal: every weight and the input, relative error < 1e-6."""
    params = _small_model(layer_norm=layer_norm)
    n = 7
    X = RNG.uniform(-1, 1, (n, 4))
    target = RNG.integers(0, 3, n) if loss == "cross_entropy" else RNG.standard_normal((n, 3))
    lossfn = cross_entropy_loss if loss == "cross_entropy" else mse_loss
    Y, cache = forward(params, X)
    value, dY = lossfn(Y, target)
    grads, dX = backward(params, cache, dY)

    def L(vector, X=X):
        return lossfn(forward(unflatten(vector, params), X)[0], target)[0]

    theta, h = flatten(params), 1e-5
    numeric = central_difference(L, theta, h)
    analytic = flatten(grads)
    assert np.linalg.norm(numeric - analytic) <= 1e-6 * np.linalg.norm(numeric)
    # per weight array too, so that a small array cannot hide in the total
    for name in ("W_Q", "W_K", "W_V", "W_O", "W_1", "b_1", "W_2", "b_2"):
        for i in range(2):
            a = getattr(grads.layers[i], name)
            num = getattr(unflatten(numeric, params).layers[i], name)
            assert np.linalg.norm(num - a) <= 1e-6 * np.linalg.norm(num) + 1e-12, (name, i)
    numeric_X = central_difference(lambda Z: L(theta, Z), X, h)
    assert np.linalg.norm(numeric_X - dX) <= 1e-6 * np.linalg.norm(numeric_X)


def test_exact_backward_noncausal_equals_central_differences():
    params = _small_model(causal=False, layer_norm=True)
    X, target = RNG.uniform(-1, 1, (6, 4)), RNG.standard_normal((6, 3))
    _, grads = loss_and_grad(params, X, target)
    theta, h = flatten(params), 1e-5
    numeric = central_difference(lambda v: mse_loss(forward(unflatten(v, params), X)[0], target)[0], theta, h)
    assert np.linalg.norm(numeric - flatten(grads)) <= 1e-6 * np.linalg.norm(numeric)


def test_fast_gradient_error_shrinks_with_eps_in_every_layer():
    cfg = TransformerConfig(d=8, heads=2, d_head=4, d_ff=16, layers=3, d_out=8, layer_norm=True)
    params = init_params(cfg, np.random.default_rng(1))
    X = RNG.uniform(-1, 1, (48, 8))
    previous = None
    for eps in (1e-2, 1e-4, 1e-6, 1e-8):
        out = gradient_errors(params, X, X, eps=eps)
        certified = attention_approximation(cfg.bound, eps).max_relative_error
        assert all(0 < e <= certified for e in out["relative"])  # each layer, relative to max |g|
        assert all(a <= out["bound"] for a in out["absolute"])  # inside the paper's bound
        if previous is not None:
            assert all(e < 0.05 * p for e, p in zip(out["absolute"], previous))
        previous = out["absolute"]


def test_fast_gradient_error_within_bound_causal_and_not():
    for causal in (True, False):
        params = _small_model(layers=2, layer_norm=True, causal=causal, d_out=4)
        X = RNG.uniform(-1, 1, (24, 4))
        out = gradient_errors(params, X, X, eps=1e-6)
        assert all(a <= out["bound"] for a in out["absolute"])
        assert all(r <= 1e-6 for r in out["relative"])


def test_fast_forward_never_allocates_an_n_by_n_matrix():
    cfg = TransformerConfig(d=8, heads=2, d_head=4, d_ff=16, layers=1, d_out=8, layer_norm=True)
    params = init_params(cfg, np.random.default_rng(2))
    n = 4096
    X = RNG.uniform(-1, 1, (n, 8))
    attention_approximation(cfg.bound, 1e-4)  # warm the cache outside the measurement
    tracemalloc.start()
    loss_and_grad(params, X, X, mode="fast", eps=1e-4, block=64)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < n * n * 8 / 4  # an n x n float64 array alone would be 128 MiB


def test_init_keeps_measured_logits_inside_the_certified_bound():
    for layer_norm in (False, True):
        cfg = TransformerConfig(d=8, heads=2, d_head=4, d_ff=16, layers=5, d_out=2, layer_norm=layer_norm, bound=0.8)
        params = init_params(cfg, np.random.default_rng(3), x_max=2.0)
        certified = certified_qk_bounds(params, x_max=2.0)
        assert max(certified) <= 0.8 + 1e-12
        X = RNG.uniform(-2, 2, (40, 8))
        X[0] = 2.0  # a row at the extreme
        _, cache = forward(params, X, mode="fast", eps=1e-4)  # must not raise
        for measured, bound in zip(cache.qk_norms, certified):
            assert max(measured) <= bound


def test_fast_mode_raises_when_logits_leave_the_bound():
    params = _small_model(layer_norm=False)
    X = RNG.uniform(-1, 1, (6, 4))
    params.layers[1].W_K *= 50.0  # training pushed the keys of layer 2 up
    with pytest.raises(ValueError, match=r"layer 2: keys of head \d .* above the configured bound B=1"):
        forward(params, X, mode="fast")
    _, cache = forward(params, X, mode="exact")  # exact mode only reports
    assert max(cache.qk_norms[1]) > 1.0
    with pytest.raises(ValueError, match=r"layer 1: queries of head 1"):
        forward(params, 100 * X, mode="fast")


def test_flatten_unflatten_and_sgd_step():
    params = _small_model()
    again = unflatten(flatten(params), params)
    np.testing.assert_array_equal(flatten(again), flatten(params))
    moved = sgd_step(params, params, 0.5)
    np.testing.assert_allclose(flatten(moved), 0.5 * flatten(params))
    assert reconfigure(params, bound=2.0).config.bound == 2.0


def test_paper_depth_bound_instantiation():
    # m = 1: eps n d ; each further layer multiplies by (n d + 1) h n^2 d d_h
    assert paper_depth_bound(1e-3, n=4, d=2, d_head=1, heads=2, layers=1) == pytest.approx(1e-3 * 8)
    assert paper_depth_bound(1e-3, n=4, d=2, d_head=1, heads=2, layers=3) == pytest.approx(1e-3 * 8 * (9 * 2 * 16 * 2) ** 2)


def test_method_is_the_same_switch_as_mode():
    params = _small_model()
    X = RNG.uniform(-1, 1, (9, 4))
    for method in ("exact", "fast"):
        np.testing.assert_array_equal(forward(params, X, method=method)[0], forward(params, X, mode=method)[0])


def test_bad_inputs_raise_value_errors_naming_the_parameter():
    params = _small_model()
    X = RNG.uniform(-1, 1, (5, 4))
    cases = [
        (lambda: TransformerConfig(d=0, heads=1, d_head=1, d_ff=1, layers=1, d_out=1), "d must"),
        (lambda: TransformerConfig(d=2, heads=1, d_head=1, d_ff=1, layers=1, d_out=1, bound=-1.0), "bound"),
        (lambda: init_params(params.config, RNG, x_max=0.0), "x_max"),
        (lambda: init_params(params.config, RNG, gain=np.inf), "gain"),
        (lambda: certified_qk_bounds(params, x_max=-1.0), "x_max"),
        (lambda: forward(params, X[:, :3]), "X must have 4 columns"),
        (lambda: forward(params, np.full((5, 4), np.nan)), "X must be finite"),
        (lambda: forward(params, X, mode="fastest"), "mode"),
        (lambda: forward(params, X, method="fastest"), "method"),
        (lambda: forward(params, X, method="fast", mode="exact"), "disagree"),
        (lambda: forward(params, X, mode="fast", eps=1.5), "eps"),
        (lambda: backward(params, forward(params, X)[1], np.ones((4, 3))), "dY must have 5 rows"),
        (lambda: loss_and_grad(params, X, X, loss="hinge"), "loss"),
        (lambda: mse_loss(np.ones((5, 3)), np.ones((5, 2))), "target"),
        (lambda: cross_entropy_loss(np.ones((5, 3)), np.zeros(5)), "labels must be an integer"),
        (lambda: cross_entropy_loss(np.ones((5, 3)), np.array([0, 1, 2, 3, 0])), "labels must lie"),
        (lambda: sgd_step(params, params, 0.0), "lr"),
        (lambda: unflatten(np.zeros(3), params), "vector"),
        (lambda: attention_approximation(0.0, 1e-3), "bound"),
        (lambda: attention_approximation(1.0, 0.0), "eps"),
        (lambda: layer_errors(params, _small_model(layers=1)), "same number of layers"),
        (lambda: paper_depth_bound(1e-3, n=0, d=1, d_head=1, heads=1, layers=1), "n must"),
        (lambda: paper_depth_bound(2.0, n=1, d=1, d_head=1, heads=1, layers=1), "eps"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


def test_layer_params_gradients_have_the_weights_shapes():
    params = _small_model()
    _, grads = loss_and_grad(params, RNG.uniform(-1, 1, (5, 4)), RNG.standard_normal((5, 3)))
    for p, g in zip(params.layers, grads.layers):
        for name in LayerParams.__dataclass_fields__:
            assert getattr(p, name).shape == getattr(g, name).shape


def test_a_layer_error_names_the_arguments_it_comes_from():
    """``forward`` on X ~ 1e200 said only "layer 1: head 1: Q and K: ... overflow": no argument of forward (fuzz)."""
    cfg = TransformerConfig(d=2, heads=1, d_head=2, d_ff=2, layers=1, d_out=1)
    params = init_params(cfg, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^layer 1: .*overflow.*\(computed from X and params\)$"):
        forward(params, np.full((3, 2), 1e200))


def test_layer_norm_of_huge_rows_is_the_layer_norm_of_the_rows_scaled_down():
    """c^2 overflowed past |c| ~ 1e154 and the row normalised to 0 (fuzz suite); N is scale-invariant up to eps."""
    import warnings

    from algorithms.transformer.network import _layer_norm

    rng = np.random.default_rng(0)
    Z = rng.uniform(-1e3, 1e3, (4, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge, _ = _layer_norm(np, Z * 2.0**900)
    np.testing.assert_allclose(huge, _layer_norm(np, Z)[0], rtol=1e-9)
