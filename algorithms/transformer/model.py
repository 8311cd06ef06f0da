"""Parameters of a minimal m-layer transformer and a certified bound on its attention logits.

Layer ``i`` (Liang, Sha, Shi, Song, Zhou 2024, Def. 1.3 with the residual
connections of their App. J and the heads of App. K) maps ``T_{i-1}`` to ``T_i``::

    Q_l = N(T) W_Q^l,  K_l = N(T) W_K^l,  V_l = N(T) W_V^l   (head l = 1..h, width d_h)
    Z   = T + [Att_1 | ... | Att_h] W_O,     Att_l = D_l^{-1} (M o exp(Q_l K_l^T / d_h)) V_l
    T'  = Z + tanh(N(Z) W_1 + b_1) W_2 + b_2

and the model outputs ``T_m W_out``.  ``N`` is the identity, or with
``layer_norm=True`` the layer norm ``N(z) = (z - mean z) / sqrt(var z + 1e-5)``
row by row, without learned gain or bias, in front of both sublayers (the
"pre-LN" transformer; in the paper's ``F = g_m o Attn_m o ... o g_1 o Attn_1 o g_0``
the norm is the last step of ``g_{i-1}``).  ``tanh`` is the smooth activation:
being bounded it keeps the a-priori logit bound below simple.

Bounded entries.  The fast mode needs every per-head query and key entry in
``[-B, B]`` so that every logit ``<q, k>/d_h`` lies in ``[-B^2, B^2]`` (docs/matrix-attention.md).
With ``nu(W) = max_j sum_i |W_ij|`` (so ``|x W|_inf <= nu(W) |x|_inf``) and
``|X|_inf <= x_0``, induction over layers gives (:func:`certified_qk_bounds`),
without layer norm::

    |Q_l|, |K_l| <= x_{i-1} max(nu(W_Q), nu(W_K)),
    x_i = x_{i-1} (1 + nu(W_V) nu(W_O)) + nu(W_2) + |b_2|_inf,

because attention rows are convex combinations (exact *and* fast: the
polynomial weights are positive and normalised), and ``|tanh| <= 1``.  This
grows geometrically with depth.  With layer norm every row of ``N(T)`` has
Euclidean norm at most ``sqrt(d)``, so by Cauchy-Schwarz, at every depth,

    |Q_l|, |K_l| <= sqrt(d) max_j ||W_Q[:, j]||_2  (resp. W_K),

which is nearly attained by random weights: use ``layer_norm=True`` for deep
models with meaningful attention in every layer.
:func:`init_params` scales each layer's ``W_Q, W_K`` down until this certified
bound is at most ``B``; the forward pass re-checks the measured entries and
raises ``ValueError`` when training (or an input) has pushed them above ``B``.

References
----------
.. [1] Y. Liang, Z. Sha, Z. Shi, Z. Song, Y. Zhou. Multi-layer transformers
   gradient can be approximated in almost linear time. arXiv:2408.13233,
   Def. 1.3, J.1-J.2, K.1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from algorithms._checks import check_positive_int
from algorithms._display import html_table
from algorithms._random import RandomLike, as_generator
from algorithms.budget import check_budget

__all__ = [
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
]


@dataclass(frozen=True)
class TransformerConfig:
    """Shapes and switches of the model.

    Attributes
    ----------
    d : int            model width
    heads : int        ``h``
    d_head : int       ``d_h`` (queries, keys and values of each head)
    d_ff : int         hidden width of the MLP
    layers : int       ``m``
    d_out : int        output width (regression targets or vocabulary size)
    causal : bool      causal mask in every attention
    layer_norm : bool  layer norm in front of the MLP
    bound : float      ``B``: promised max-norm of every per-head query and key

    Raises
    ------
    ValueError
        A size not a positive integer (``bool`` refused), ``causal`` or
        ``layer_norm`` not a bool, ``bound`` not a positive finite number
        (``None``, strings, NaN and infinity included).
    """

    d: int
    heads: int
    d_head: int
    d_ff: int
    layers: int
    d_out: int
    causal: bool = True
    layer_norm: bool = False
    bound: float = 1.0

    def __post_init__(self) -> None:
        for name in ("d", "heads", "d_head", "d_ff", "layers", "d_out"):
            check_positive_int(name, getattr(self, name))
        for name in ("causal", "layer_norm"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not _positive_finite(self.bound):
            raise ValueError(f"bound must be a positive finite number, got {self.bound!r}")

    @property
    def num_parameters(self) -> int:
        """Number of weights of :class:`Params` for this config (exact, a Python int)."""
        hd = self.heads * self.d_head
        per_layer = 4 * self.d * hd + 2 * self.d * self.d_ff + self.d_ff + self.d
        return self.layers * per_layer + self.d * self.d_out


def _positive_finite(value) -> bool:
    """A real number (not a bool, None, str ...) that is finite and > 0."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return False
    return bool(np.isfinite(value) and value > 0)


@dataclass
class LayerParams:
    """Weights of one layer (shapes for width ``d``, ``h`` heads of ``d_h``, MLP ``d_ff``).

    ``W_Q, W_K, W_V``: ``(d, h d_h)`` (head ``l`` is columns ``l d_h:(l+1) d_h``);
    ``W_O``: ``(h d_h, d)``; ``W_1``: ``(d, d_ff)``; ``b_1``: ``(d_ff,)``;
    ``W_2``: ``(d_ff, d)``; ``b_2``: ``(d,)``.
    """

    W_Q: np.ndarray
    W_K: np.ndarray
    W_V: np.ndarray
    W_O: np.ndarray
    W_1: np.ndarray
    b_1: np.ndarray
    W_2: np.ndarray
    b_2: np.ndarray

    def __repr__(self) -> str:
        """Shapes, never the weights."""
        return "LayerParams(" + ", ".join(f"{f.name} {getattr(self, f.name).shape}" for f in fields(self)) + ")"


@dataclass
class Params:
    """All weights: ``layers[i]`` for ``i = 0..m-1`` and the read-out ``W_out`` ``(d, d_out)``.

    Gradients are returned in the same structure.
    """

    config: TransformerConfig
    layers: list[LayerParams]
    W_out: np.ndarray

    def __repr__(self) -> str:
        """The config in one line and the weight count, never the weights (a notebook shows this)."""
        c = self.config
        return (f"Params({len(self.layers)} layers x {c.heads} heads of d_h={c.d_head}, d={c.d}, d_ff={c.d_ff}, "
                f"d_out={c.d_out}, causal={c.causal}, layer_norm={c.layer_norm}, B={c.bound:g}; "
                f"{c.num_parameters} weights; layers[0] = {self.layers[0]!r}; W_out {self.W_out.shape})"
                if self.layers else f"Params(no layers, W_out {self.W_out.shape})")

    def _repr_html_(self) -> str:
        """One row per layer: the shape and max |entry| of each weight."""
        names = [f.name for f in fields(LayerParams)]
        rows = [[i, *(f"{getattr(layer, n).shape} ≤{np.abs(getattr(layer, n)).max():.3g}" for n in names)]
                for i, layer in enumerate(self.layers)]
        return html_table(["layer", *names], rows, caption=f"Params: {self.config.num_parameters} weights, "
                          f"W_out {self.W_out.shape}")


def _nu(W: np.ndarray) -> float:
    """``max_j sum_i |W_ij|``: the operator norm of ``x -> x W`` in the max-norm."""
    return float(np.abs(W).sum(axis=0).max())


def certified_qk_bounds(params: Params, x_max: float = 1.0) -> list[float]:
    """A-priori bound on ``|Q_l|, |K_l|`` per layer for every input with ``|X|_inf <= x_max``.

    Parameters
    ----------
    params : Params
    x_max : float
        Bound on the input's entries.

    Returns
    -------
    list of float, one per layer (the module docstring's induction).

    Raises
    ------
    ValueError
        If ``x_max`` is not a positive finite number.

    Examples
    --------
    >>> cfg = TransformerConfig(d=4, heads=2, d_head=2, d_ff=8, layers=3, d_out=1, bound=1.0)
    >>> bounds = certified_qk_bounds(init_params(cfg, np.random.default_rng(0)))
    >>> len(bounds), bool(max(bounds) <= 1.0)
    (3, True)

    Notes
    -----
    Holds for the exact and the fast forward pass alike.  It ignores
    cancellations and is typically a few times larger than the measured
    max-norm; the forward pass reports the measured one.
    """
    if not _positive_finite(x_max):
        raise ValueError(f"x_max must be a positive finite number, got {x_max!r}")
    x, bounds = float(x_max), []
    for layer in params.layers:
        if params.config.layer_norm:
            columns = max(np.linalg.norm(layer.W_Q, axis=0).max(), np.linalg.norm(layer.W_K, axis=0).max())
            bounds.append(float(np.sqrt(params.config.d) * columns))
            continue
        bounds.append(x * max(_nu(layer.W_Q), _nu(layer.W_K)))
        x = x * (1 + _nu(layer.W_V) * _nu(layer.W_O)) + _nu(layer.W_2) + float(np.abs(layer.b_2).max())
    return bounds


def init_params(
    config: TransformerConfig,
    rng: RandomLike = None,
    x_max: float = 1.0,
    gain: float = 0.5,
    *,
    max_seconds: float | None = None,
    max_memory: float | None = None,
) -> Params:
    """Gaussian weights, with ``W_Q, W_K`` shrunk so that the certified logit bound holds.

    Parameters
    ----------
    config : TransformerConfig
    rng : int, numpy.random.Generator or None
        Randomness, as ``numpy.random.default_rng(rng)``: an int is a seed
        (``init_params(cfg, 0)``), a Generator is used (and advanced).
    x_max : float
        The inputs will satisfy ``|X|_inf <= x_max``.
    gain : float
        Scale of ``W_O`` and ``W_2`` relative to ``1/sqrt(fan_in)`` (keeps the
        residual stream from growing fast with depth).
    max_seconds, max_memory : float, optional
        Limits on the estimate (:mod:`algorithms.budget`; default those in
        force, 60 s and 2 GiB): ``8`` bytes and about ``20 ns`` a weight
        (:attr:`TransformerConfig.num_parameters`), checked before allocating.

    Returns
    -------
    Params
        With ``certified_qk_bounds(params, x_max)[i] <= config.bound`` for
        every layer ``i``.

    Raises
    ------
    ValueError
        If ``config`` is not a :class:`TransformerConfig`, ``rng`` not an int,
        a numpy ``Generator`` or ``None``, ``x_max`` or ``gain`` not a positive finite number, or
        the weights estimated above a limit
        (:class:`algorithms.budget.BudgetExceeded`).

    Examples
    --------
    >>> cfg = TransformerConfig(d=4, heads=2, d_head=2, d_ff=8, layers=2, d_out=3)
    >>> p = init_params(cfg, np.random.default_rng(0))
    >>> p.layers[0].W_Q.shape, p.layers[0].W_O.shape, p.W_out.shape
    ((4, 4), (4, 4), (4, 3))
    >>> bool(np.array_equal(init_params(cfg, 0).W_out, p.W_out))  # an int seeds default_rng
    True

    Notes
    -----
    ``W_Q, W_K, W_V, W_1 ~ N(0, 1/d)``, ``W_O ~ gain N(0, 1/(h d_h))``,
    ``W_2 ~ gain N(0, 1/d_ff)``, biases zero; then, layer by layer, ``W_Q`` and
    ``W_K`` are multiplied by ``min(1, B / bound_i)``.
    """
    if not isinstance(config, TransformerConfig):
        raise ValueError(f"config must be a TransformerConfig, got {type(config).__name__}")
    rng = as_generator(rng)
    for name, value in (("x_max", x_max), ("gain", gain)):
        if not _positive_finite(value):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    count = float(config.num_parameters)
    check_budget(f"init_params: {config.num_parameters:.4g} weights (d = {config.d}, d_ff = {config.d_ff}, "
                 f"{config.layers} layers)", count * 2e-8, count * 8 * 2, max_seconds=max_seconds,
                 max_memory=max_memory)
    c = config
    hd = c.heads * c.d_head

    def gauss(rows, cols, fan_in, factor=1.0):
        return factor * rng.standard_normal((rows, cols)) / np.sqrt(fan_in)

    layers = []
    for _ in range(c.layers):
        layers.append(
            LayerParams(
                W_Q=gauss(c.d, hd, c.d),
                W_K=gauss(c.d, hd, c.d),
                W_V=gauss(c.d, hd, c.d),
                W_O=gauss(hd, c.d, hd, gain),
                W_1=gauss(c.d, c.d_ff, c.d),
                b_1=np.zeros(c.d_ff),
                W_2=gauss(c.d_ff, c.d, c.d_ff, gain),
                b_2=np.zeros(c.d),
            )
        )
    params = Params(c, layers, gauss(c.d, c.d_out, c.d))
    # Shrinking W_Q, W_K of layer i does not change the bounds of later layers.
    for layer, bound in zip(params.layers, certified_qk_bounds(params, x_max)):
        shrink = min(1.0, c.bound / bound)
        layer.W_Q *= shrink
        layer.W_K *= shrink
    return params


def cast_params(params: Params, like) -> Params:
    """``params`` as arrays of the library, device and dtype of ``like`` (the fast transformer's input).

    numpy float64 ``like``: ``params`` itself.  Weights of another library
    travel through the host.

    Examples
    --------
    >>> cfg = TransformerConfig(d=2, heads=1, d_head=2, d_ff=2, layers=1, d_out=1)
    >>> cast_params(init_params(cfg, 0), np.ones((1, 2), dtype=np.float32)).W_out.dtype
    dtype('float32')
    """
    from algorithms import _array

    xp = _array.namespace(like)
    if _array.is_numpy(xp) and _array.dtype_name(like.dtype) == "float64":
        return params

    def cast(W):
        if _array.is_numpy(xp):
            return np.asarray(_array.to_numpy(W), dtype=like.dtype)
        if isinstance(W, np.ndarray) or _array.namespace(W) is not xp:
            return _array.from_numpy(xp, _array.to_numpy(W), like)
        return _array.astype(xp, W, like.dtype)

    layers = [LayerParams(*(cast(getattr(layer, f.name)) for f in fields(LayerParams))) for layer in params.layers]
    return Params(params.config, layers, cast(params.W_out))


def flatten(params: Params) -> np.ndarray:
    """All weights as one vector (layer by layer, fields in order, then ``W_out``)."""
    parts = [getattr(layer, f.name).ravel() for layer in params.layers for f in fields(LayerParams)]
    return np.concatenate(parts + [params.W_out.ravel()])


def unflatten(vector: np.ndarray, like: Params) -> Params:
    """Inverse of :func:`flatten`, with the shapes of ``like``.

    Raises
    ------
    ValueError
        If ``vector`` does not have exactly as many entries as ``like``.
    """
    vector = np.asarray(vector, dtype=float)
    if vector.shape != (flatten(like).size,):
        raise ValueError(f"vector must have shape ({flatten(like).size},), got {vector.shape}")
    pos, layers = 0, []
    for layer in like.layers:
        values = {}
        for f in fields(LayerParams):
            shape = getattr(layer, f.name).shape
            size = int(np.prod(shape))
            values[f.name] = vector[pos : pos + size].reshape(shape).copy()
            pos += size
        layers.append(LayerParams(**values))
    return Params(like.config, layers, vector[pos:].reshape(like.W_out.shape).copy())


def sgd_step(params: Params, grads: Params, lr: float) -> Params:
    """``params - lr * grads`` (a new :class:`Params`).

    Raises
    ------
    ValueError
        If ``lr`` is not a positive finite number.
    """
    if not _positive_finite(lr):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    return unflatten(flatten(params) - lr * flatten(grads), params)


def reconfigure(params: Params, **changes) -> Params:
    """The same weights under a config with ``changes`` (e.g. another ``bound`` or ``causal``).

    Raises
    ------
    ValueError
        If the new config is invalid (see :class:`TransformerConfig`).
    """
    return Params(replace(params.config, **changes), params.layers, params.W_out)
