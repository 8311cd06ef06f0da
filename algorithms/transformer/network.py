"""Forward and backward pass of the m-layer transformer, exact or fast (one switch).

``forward(params, X, method=...)`` runs the model of :mod:`.model` and keeps what
the backward pass needs; ``backward(params, cache, dY)`` returns the gradient
of every weight (and of the input) by the chain rule written out layer by
layer, top to bottom, as in Liang, Sha, Shi, Song, Zhou 2024, Algorithm 1
(MultiGrad / SingleGrad):

* read-out and loss: ``dT_m = dY W_out^T``, ``dW_out = T_m^T dY``;
* MLP with residual: ``dZ = dT' + N'(Z)^T [((dT' W_2^T) o tanh'(H_1)) W_1^T]``;
* attention with residual: ``dT = dZ + N'(T)^T sum_l (dQ_l W_Q^l^T + dK_l W_K^l^T + dV_l W_V^l^T)``,
  with the head VJPs of :mod:`.head`, and ``dW_Q^l = N(T)^T dQ_l`` etc.
  (``N`` is the layer norm, or the identity when ``config.layer_norm`` is off.)

``method="exact"`` streams exact softmax attention (``O(n^2)`` per head);
``method="fast"`` replaces every attention matrix, in the forward *and* the
backward pass, by its polynomial-method low-rank approximation with certified
relative entry error ``eps`` on ``[-B^2, B^2]`` (the core's
:func:`~algorithms.polynomial_method.approximate_exp` with mechanism degree
``k = 2``) and applies the causal mask by prefix sums (``O(n r d_h^2)`` per
head, ``r = C(d_h + g, g)``).  Everything outside attention is exact and
``O(n d d_ff)``.  ``mode=`` is the older name of the same switch.

Fast mode checks that every per-head query and key entry is at most the
configured ``B`` and raises ``ValueError`` naming layer and head otherwise:
past ``B`` the polynomial is outside its certified interval and its error is
unbounded (``head_forward`` also checks the certified logit interval).  A ``B``
too large for float64 at ``eps`` raises ``Float64Limit`` (arithmetic, not the lower bound).  Both modes record the measured max-norms in ``cache.qk_norms``.

Namespaces.  Fast mode runs in the library of ``X`` (numpy, torch, CuPy,
``array-api-strict``; :mod:`algorithms._array`), on its device and in its
dtype: the weights (numpy, or of that library) are cast to it once per call,
and ``Y``, the caches, ``dX`` and every gradient are arrays of that kind.
float32 ``X`` stays float32: every head is certified with float32's rounding
(:func:`~algorithms.transformer.head.float32_approximation` picks ``P`` so that
:func:`~algorithms.transformer.head.head_entry_error` is at most ``eps`` on
``[-B^2, B^2]``, else ``Float32Limit``); the rest of the network is plain float32
arithmetic, as it is plain float64 arithmetic otherwise.
``cache.entry_error`` is the largest certified entry error of the heads.
Exact mode, :mod:`.depth`, :func:`~.model.flatten` and
:func:`~.model.sgd_step` are numpy (float64).

References
----------
.. [1] Y. Liang, Z. Sha, Z. Shi, Z. Song, Y. Zhou. Multi-layer transformers
   gradient can be approximated in almost linear time. arXiv:2408.13233,
   Algorithm 1, Lemmas H.2-H.4, J.3, K.2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from algorithms import _array
from algorithms._checks import as_fast_matrices, as_matrix, check_eps, check_positive_int, max_norm
from algorithms._display import short_repr
from algorithms.polynomial_method import ExpApproximation, approximate_exp
from algorithms.transformer.head import HeadCache, float32_approximation, head_forward, head_vjp
from algorithms.transformer.losses import LOSSES, cross_entropy_loss, mse_loss
from algorithms.transformer.model import LayerParams, Params, cast_params

__all__ = [
    "ForwardCache",
    "forward",
    "backward",
    "mse_loss",
    "cross_entropy_loss",
    "loss_and_grad",
    "attention_approximation",
]

_LN_EPS = 1e-5


@dataclass
class _LayerCache:
    T: np.ndarray
    A: np.ndarray  # attention input N(T)
    inv_std_A: np.ndarray | None
    heads: list[HeadCache]
    O: np.ndarray  # noqa: E741 (concatenated head outputs (n, h d_h), the paper's O)
    U: np.ndarray  # MLP input N(Z)
    inv_std: np.ndarray | None  # layer norm 1/sqrt(var + eps), (n, 1)
    H1: np.ndarray
    G1: np.ndarray


@dataclass
class ForwardCache:
    """What :func:`backward` needs.

    Attributes
    ----------
    X : (n, d) input
    layers : per-layer intermediate values
    T_final : (n, d) last hidden state ``T_m``
    approximation : ExpApproximation or None (exact mode)
    qk_norms : list of lists: ``qk_norms[i][l] = max(|Q_l|_inf, |K_l|_inf)`` in layer ``i``
    """

    X: np.ndarray
    layers: list[_LayerCache]
    T_final: np.ndarray
    approximation: ExpApproximation | None
    qk_norms: list[list[float]] = field(default_factory=list)

    @property
    def entry_error(self) -> float | None:
        """Fast mode: the largest certified relative entry error over all heads (in the working dtype)."""
        if self.approximation is None:
            return None
        return max(hc.entry_error for layer in self.layers for hc in layer.heads)

    def __repr__(self) -> str:
        mode = "exact" if self.approximation is None else f"fast, degree {self.approximation.degree}"
        return short_repr("ForwardCache", X=self.X, layers=len(self.layers), T_final=self.T_final, mode=mode)


def attention_approximation(bound: float, eps: float) -> ExpApproximation:
    """The certified ``P ~ exp`` on ``[-B^2, B^2]`` that fast mode uses: ``approximate_exp(B, 2, eps)``.

    Parameters
    ----------
    bound : float
        ``B``, the promised max-norm of per-head queries and keys.
    eps : float
        Relative error of every attention entry, in ``(0, 1)``.

    Returns
    -------
    ExpApproximation

    Raises
    ------
    ValueError
        If ``eps`` is outside ``(0, 1)`` or ``bound`` is not positive; ``Float64Limit``
        (a subclass) if no float64 polynomial reaches ``eps`` there: arithmetic, not the lower bound.

    Examples
    --------
    >>> attention_approximation(1.0, 1e-6).degree
    7
    """
    return approximate_exp(bound, 2, eps)


def _method(method: str | None, mode: str | None) -> str:
    """The ``method=`` switch, with ``mode=`` accepted as its older name."""
    if method is not None and mode is not None and method != mode:
        raise ValueError(f"method={method!r} and mode={mode!r} disagree; pass one of them")
    chosen = method if method is not None else mode if mode is not None else "exact"
    if chosen not in ("exact", "fast"):
        raise ValueError(f"method (or mode) must be 'exact' or 'fast', got {chosen!r}")
    return chosen


def _layer_norm(xp, Z):
    """``N(Z) = c / sqrt(mean(c^2) + eps)`` row by row, ``c = Z - mean(Z)``; rows with ``max|c| = s > 1`` are
    normalised as ``(c / s) / sqrt(mean((c / s)^2) + eps / s^2)`` (the same number), so ``c^2`` cannot overflow."""
    centred = Z - xp.mean(Z, axis=1, keepdims=True)
    s = xp.max(xp.abs(centred), axis=1, keepdims=True)
    s = xp.where(s > 1.0, s, xp.ones_like(s))
    t = centred / s
    inv_std = 1.0 / (s * xp.sqrt(xp.mean(t * t, axis=1, keepdims=True) + (_LN_EPS / s) / s))
    return centred * inv_std, inv_std


def _layer_norm_vjp(xp, U, inv_std, dU):
    """``dZ`` for ``U = N(Z)``: ``inv_std (dU - mean(dU) - U mean(dU o U))`` row by row."""
    return inv_std * (
        dU - xp.mean(dU, axis=1, keepdims=True) - U * xp.mean(dU * U, axis=1, keepdims=True)
    )


def _check_bound(name: str, A, bound: float) -> float:
    value = max_norm(A)
    if value > bound:
        raise ValueError(
            f"{name} has an entry of absolute value {value:.6g} above the configured bound "
            f"B={bound:g}: its logits may leave [-B^2, B^2], where fast mode's polynomial is "
            f"certified (use mode='exact', a larger config.bound, or smaller inputs/weights)"
        )
    return value


def _layer_forward(layer, T, config, approximation, block):
    c, dh = config, config.d_head
    xp = _array.namespace(T)
    A, inv_std_A = _layer_norm(xp, T) if c.layer_norm else (T, None)
    Qall, Kall, Vall = A @ layer.W_Q, A @ layer.W_K, A @ layer.W_V
    heads, outs, norms = [], [], []
    for head in range(c.heads):
        cols = slice(head * dh, (head + 1) * dh)
        Q, K, V = Qall[:, cols], Kall[:, cols], Vall[:, cols]
        if approximation is not None:
            q_norm = _check_bound(f"queries of head {head + 1}", Q, c.bound)
            norms.append(max(q_norm, _check_bound(f"keys of head {head + 1}", K, c.bound)))
        else:
            norms.append(max_norm(Q, K))
        try:
            out, hc = head_forward(Q, K, V, causal=c.causal, approximation=approximation, block=block)
        except ValueError as exc:
            raise ValueError(f"head {head + 1}: {exc}") from None
        heads.append(hc)
        outs.append(out)
    out = _array.concat(xp, outs)
    Z = T + out @ layer.W_O
    U, inv_std = _layer_norm(xp, Z) if c.layer_norm else (Z, None)
    H1 = U @ layer.W_1 + layer.b_1
    G1 = xp.tanh(H1)
    T_next = Z + G1 @ layer.W_2 + layer.b_2
    return T_next, _LayerCache(T, A, inv_std_A, heads, out, U, inv_std, H1, G1), norms


def forward(
    params: Params, X, *, method: str | None = None, eps: float = 1e-6, block: int = 128, mode: str | None = None
) -> tuple[np.ndarray, ForwardCache]:
    """Run the model: ``Y = T_m W_out``.

    Parameters
    ----------
    params : Params
    X : (n, d) array
        Input sequence (already embedded).  Fast mode: numpy or any Array-API
        array (module docstring: the result has its kind and dtype); exact
        mode: read as a numpy float64 array.
    method : {"exact", "fast"}
        Default ``"exact"``; ``mode`` is accepted as the older name.
    eps : float
        Fast mode: certified relative error of every attention entry.
    block : int
        Rows per block in the streamed attention.

    Returns
    -------
    Y : (n, d_out) array
    cache : ForwardCache

    Raises
    ------
    ValueError
        If ``X`` is not a finite ``(n, d)`` array, ``method`` is unknown,
        ``eps`` is outside ``(0, 1)``, or (fast mode) a per-head query or key
        entry exceeds ``config.bound`` (the message names layer and head).
    Float32Limit
        (a ``ValueError``) float32 ``X`` in fast mode where float32's rounding
        cannot certify ``eps`` (the message names the ``eps`` it reaches).

    Examples
    --------
    >>> from algorithms.transformer.model import TransformerConfig, init_params
    >>> cfg = TransformerConfig(d=4, heads=2, d_head=2, d_ff=8, layers=2, d_out=1)
    >>> p = init_params(cfg, np.random.default_rng(0))
    >>> X = np.random.default_rng(1).uniform(-1, 1, (16, 4))
    >>> Y, _ = forward(p, X); Yf, _ = forward(p, X, method="fast", eps=1e-8)
    >>> bool(np.abs(Y - Yf).max() < 1e-7)
    True

    Notes
    -----
    Exact ``O(m h n^2 d_h)``; fast ``O(m h n r d_h)``; plus ``O(m n d d_ff)``.
    """
    c = params.config
    method = _method(method, mode)
    approximation = None
    if method == "fast":
        X = as_fast_matrices(("X", X, None, c.d))[1][0]
        params = cast_params(params, X)
        if _array.dtype_name(X.dtype) == "float32":
            approximation = float32_approximation(c.bound, c.d_head, check_eps(eps), int(X.shape[0]),
                                                  block=check_positive_int("block", block))
        else:
            approximation = attention_approximation(c.bound, eps)
    else:
        X = as_matrix("X", X, cols=c.d)
    T, layers, norms = X, [], []
    for i, layer in enumerate(params.layers):
        try:
            T, cache, layer_norms = _layer_forward(layer, T, c, approximation, block)
        except ValueError as exc:
            raise ValueError(f"layer {i + 1}: {exc} (computed from X and params)") from None
        layers.append(cache)
        norms.append(layer_norms)
    return T @ params.W_out, ForwardCache(X, layers, T, approximation, norms)


def _layer_backward(layer: LayerParams, cache: _LayerCache, dT_next, config):
    dh = config.d_head
    xp = _array.namespace(dT_next)
    # MLP branch: T' = Z + tanh(U W_1 + b_1) W_2 + b_2
    dW_2, db_2 = cache.G1.T @ dT_next, xp.sum(dT_next, axis=0)
    dH1 = (dT_next @ layer.W_2.T) * (1.0 - cache.G1**2)
    dW_1, db_1 = cache.U.T @ dH1, xp.sum(dH1, axis=0)
    dU = dH1 @ layer.W_1.T
    dZ = dT_next + (_layer_norm_vjp(xp, cache.U, cache.inv_std, dU) if config.layer_norm else dU)
    # attention branch: Z = T + O W_O
    dW_O = cache.O.T @ dZ
    dO = dZ @ layer.W_O.T
    per_head = [head_vjp(hc, dO[:, head * dh : (head + 1) * dh]) for head, hc in enumerate(cache.heads)]
    dQall, dKall, dVall = (_array.concat(xp, [g[i] for g in per_head]) for i in range(3))
    A = cache.A
    dA = dQall @ layer.W_Q.T + dKall @ layer.W_K.T + dVall @ layer.W_V.T
    dT = dZ + (_layer_norm_vjp(xp, A, cache.inv_std_A, dA) if config.layer_norm else dA)
    grads = LayerParams(A.T @ dQall, A.T @ dKall, A.T @ dVall, dW_O, dW_1, db_1, dW_2, db_2)
    return dT, grads


def backward(params: Params, cache: ForwardCache, dY) -> tuple[Params, np.ndarray]:
    """Gradients of every weight and of the input, given ``dY = dL/dY``.

    Parameters
    ----------
    params : Params
    cache : ForwardCache
        From :func:`forward`; its mode (exact or fast) is used throughout.
    dY : (n, d_out) array
        Fast mode: of the forward's library (cast to its dtype).

    Returns
    -------
    grads : Params
        Same structure as ``params``; arrays of the forward's kind and dtype.
    dX : (n, d) array

    Raises
    ------
    ValueError
        If ``dY`` is not a finite ``(n, d_out)`` array.

    Examples
    --------
    >>> from algorithms.transformer.model import TransformerConfig, init_params
    >>> cfg = TransformerConfig(d=4, heads=2, d_head=2, d_ff=8, layers=2, d_out=1)
    >>> p = init_params(cfg, np.random.default_rng(0))
    >>> Y, cache = forward(p, np.ones((5, 4)))
    >>> grads, dX = backward(p, cache, np.ones_like(Y))
    >>> grads.layers[1].W_Q.shape, dX.shape
    ((4, 4), (5, 4))

    Notes
    -----
    Same cost as :func:`forward` up to a factor ``d_h + 2`` in attention.
    """
    n = int(cache.X.shape[0])
    if cache.approximation is None:
        dY = as_matrix("dY", dY, rows=n, cols=params.config.d_out)
    else:
        # with cache.X: one library per call (a numpy dY beside torch activations is refused)
        dY = as_fast_matrices(("dY", dY, n, params.config.d_out), ("X", cache.X),
                              dtype=_array.dtype_name(cache.X.dtype))[1][0]
        params = cast_params(params, cache.X)
    dW_out = cache.T_final.T @ dY
    dT = dY @ params.W_out.T
    grads: list[LayerParams] = []
    for layer, layer_cache in zip(reversed(params.layers), reversed(cache.layers)):
        dT, g = _layer_backward(layer, layer_cache, dT, params.config)
        grads.append(g)
    return Params(params.config, grads[::-1], dW_out), dT


def loss_and_grad(
    params: Params, X, target, *, loss: str = "mse", method: str | None = None, eps: float = 1e-6,
    block: int = 128, mode: str | None = None,
) -> tuple[float, Params]:
    """Loss value and the gradient of every weight (forward then backward).

    Parameters
    ----------
    params, X, method, eps, block, mode : as in :func:`forward`
    target : (n, d_out) array for ``"mse"``; integer labels ``(n,)`` for ``"cross_entropy"``
    loss : {"mse", "cross_entropy"}

    Returns
    -------
    value : float
    grads : Params

    Raises
    ------
    ValueError
        If ``loss`` is unknown, or as :func:`forward` and the loss functions.

    Examples
    --------
    >>> from algorithms.transformer.model import TransformerConfig, init_params
    >>> cfg = TransformerConfig(d=4, heads=2, d_head=2, d_ff=8, layers=1, d_out=3)
    >>> p = init_params(cfg, np.random.default_rng(0))
    >>> value, g = loss_and_grad(p, np.ones((5, 4)), np.zeros(5, dtype=int), loss="cross_entropy")
    >>> g.W_out.shape
    (4, 3)
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    Y, cache = forward(params, X, method=method, eps=eps, block=block, mode=mode)
    value, dY = LOSSES[loss](Y, target)
    grads, _ = backward(params, cache, dY)
    return value, grads
