"""A minimal m-layer transformer whose gradients run exactly or in almost linear time.

Liang, Sha, Shi, Song, Zhou (arXiv 2408.13233) show that the gradient of every
layer of an m-layer transformer (multi-head attention, causal mask, residual
connections, an MLP) can be approximated in ``n^{1+o(1)}`` time when the
attention logits are bounded: every attention matrix, in the forward and the
backward pass, is replaced by the polynomial-method low-rank factorisation of
Alman & Song (2023), and the causal mask by prefix sums over its factors.
This package makes that executable (docs/multilayer.md); its heads run the
core's low-rank operator (:mod:`algorithms.polynomial_method`) and exact
streaming softmax (:mod:`algorithms.softmax`).

Modules
-------
lowrank
    ``(M o U1 U2^T) H`` by prefix sums, literal and blocked.
head
    One attention head (causal or not): exact streamed and fast low-rank,
    forward and vector-Jacobian product.
losses
    Mean squared error and cross-entropy with ``dL/dY``.
model
    Config, weights, initialisation with a certified logit bound.
network
    ``forward`` / ``backward`` over the layers, losses.
depth
    Fast-vs-exact gradient error per layer and the paper's depth bound.

Examples
--------
>>> import numpy as np
>>> from algorithms.transformer import TransformerConfig, init_params, loss_and_grad
>>> cfg = TransformerConfig(d=8, heads=2, d_head=4, d_ff=16, layers=2, d_out=8)
>>> params = init_params(cfg, np.random.default_rng(0))
>>> X = np.random.default_rng(1).uniform(-1, 1, (32, 8))
>>> _, exact = loss_and_grad(params, X, X, method="exact")
>>> _, fast = loss_and_grad(params, X, X, method="fast", eps=1e-6)
>>> bool(np.abs(fast.layers[0].W_Q - exact.layers[0].W_Q).max() < 1e-6)
True
"""

from algorithms.transformer.depth import (
    gradient_errors,
    layer_errors,
    paper_depth_bound,
)
from algorithms.transformer.head import (
    HeadCache,
    PolynomialFactors,
    float32_approximation,
    head_entry_error,
    head_forward,
    head_vjp,
)
from algorithms.transformer.lowrank import (
    ArrayFactors,
    lowrank_product,
    masked_lowrank_product,
)
from algorithms.transformer.model import (
    LayerParams,
    Params,
    TransformerConfig,
    cast_params,
    certified_qk_bounds,
    flatten,
    init_params,
    reconfigure,
    sgd_step,
    unflatten,
)
from algorithms.transformer.network import (
    ForwardCache,
    attention_approximation,
    backward,
    cross_entropy_loss,
    forward,
    loss_and_grad,
    mse_loss,
)

__all__ = [
    "ArrayFactors",
    "lowrank_product",
    "masked_lowrank_product",
    "HeadCache",
    "PolynomialFactors",
    "head_forward",
    "head_vjp",
    "head_entry_error",
    "float32_approximation",
    "TransformerConfig",
    "LayerParams",
    "Params",
    "init_params",
    "certified_qk_bounds",
    "cast_params",
    "flatten",
    "unflatten",
    "sgd_step",
    "reconfigure",
    "ForwardCache",
    "attention_approximation",
    "forward",
    "backward",
    "mse_loss",
    "cross_entropy_loss",
    "loss_and_grad",
    "paper_depth_bound",
    "layer_errors",
    "gradient_errors",
]
