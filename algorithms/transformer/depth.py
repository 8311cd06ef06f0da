"""Error of fast gradients per layer, and the depth bound of Liang et al. with its constants made explicit.

Liang, Sha, Shi, Song, Zhou (arXiv 2408.13233) bound the error of the fast
gradient by induction over layers (their Lemmas H.3, H.4, J.3, K.2; see
docs/multilayer.md): each attention matrix gets entrywise
error ``eps / poly(n)``, and going down one layer multiplies the gradient
error by at most

* ``n d poly(n)``            per matrix product (Lemma H.4),
* ``n d poly(n) + 1``        through the residual connection (Lemma J.3),
* ``h n^2 d d_h poly(n)``    through the h heads (Lemma K.2).

The polynomials are never specified.  We instantiate every ``poly(n)`` as
``1`` (the most favourable reading, so the result is a *lower envelope* of
what the lemmas allow) and compose the per-layer factors as

    kappa = (n d + 1) * h n^2 d d_h,          bound(m) = eps * kappa^(m - 1) * kappa_top,

with ``kappa_top = n d`` for the top layer (H.3: one product after the exact
``dL/dAttn``).  This is a statement about the paper's proof, not about the
algorithm: :func:`gradient_errors` measures the real error, which grows by a
small constant factor per layer (see bench/transformer.py).

References
----------
.. [1] Y. Liang, Z. Sha, Z. Shi, Z. Song, Y. Zhou. Multi-layer transformers
   gradient can be approximated in almost linear time. arXiv:2408.13233,
   Lemmas H.3, H.4, J.3, K.2.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from algorithms._checks import check_eps, check_positive_int
from algorithms.transformer.model import LayerParams, Params
from algorithms.transformer.network import loss_and_grad

__all__ = ["paper_depth_bound", "layer_errors", "gradient_errors"]


def paper_depth_bound(eps: float, n: int, d: int, d_head: int, heads: int, layers: int) -> float:
    """The paper's bound on ``max |g~ - g|`` after ``layers`` layers, every ``poly(n) := 1``.

    Parameters
    ----------
    eps : float
        Relative entry error of each attention matrix.
    n, d, d_head, heads, layers : int
        Sequence length, model width, head width, heads, depth ``m``.

    Returns
    -------
    float
        ``eps * (n d) * kappa^(m-1)`` with ``kappa = (n d + 1) h n^2 d d_h``
        (module docstring); ``inf`` on float overflow.

    Raises
    ------
    ValueError
        If ``eps`` is outside ``(0, 1)`` or a size is not a positive integer.

    Examples
    --------
    >>> paper_depth_bound(1e-6, n=16, d=8, d_head=4, heads=2, layers=1)
    0.000128
    >>> f"{paper_depth_bound(1e-6, n=16, d=8, d_head=4, heads=2, layers=2):.3g}"
    '271'
    """
    check_eps(eps)
    for name, value in (("n", n), ("d", d), ("d_head", d_head), ("heads", heads), ("layers", layers)):
        check_positive_int(name, value)
    kappa = (n * d + 1.0) * heads * float(n) ** 2 * d * d_head
    with np.errstate(over="ignore"):
        return float(eps * n * d * np.float64(kappa) ** (layers - 1))


def layer_errors(approx: Params, exact: Params) -> list[float]:
    """``max |g~ - g|`` over all weights of each layer (layer 1 first).

    Raises
    ------
    ValueError
        If the two gradients have different numbers of layers.
    """
    if len(approx.layers) != len(exact.layers):
        raise ValueError(
            f"approx and exact must have the same number of layers, got {len(approx.layers)} and {len(exact.layers)}"
        )
    return [
        max(float(np.max(np.abs(getattr(a, f.name) - getattr(e, f.name)))) for f in fields(LayerParams))
        for a, e in zip(approx.layers, exact.layers)
    ]


def gradient_errors(params: Params, X, target, *, eps: float = 1e-6, loss: str = "mse") -> dict:
    """Fast vs exact gradients of one model on one input, layer by layer.

    Parameters
    ----------
    params : Params
    X, target : as in :func:`algorithms.transformer.network.loss_and_grad`
    eps : float
    loss : {"mse", "cross_entropy"}

    Returns
    -------
    dict with ``absolute`` (list, ``max |g~ - g|`` per layer), ``relative``
    (list, divided by ``max |g|`` of that layer) and ``bound`` (the paper's
    bound for this depth, :func:`paper_depth_bound`).

    Raises
    ------
    ValueError
        As :func:`algorithms.transformer.network.forward`.

    Examples
    --------
    >>> from algorithms.transformer.model import TransformerConfig, init_params
    >>> cfg = TransformerConfig(d=4, heads=2, d_head=2, d_ff=8, layers=2, d_out=4)
    >>> p = init_params(cfg, np.random.default_rng(0))
    >>> X = np.random.default_rng(1).uniform(-1, 1, (16, 4))
    >>> out = gradient_errors(p, X, X, eps=1e-6)
    >>> all(a <= b for a, b in zip(out["absolute"], [out["bound"]] * 2))
    True
    """
    check_eps(eps)
    _, exact = loss_and_grad(params, X, target, loss=loss, method="exact")
    _, fast = loss_and_grad(params, X, target, loss=loss, method="fast", eps=eps)
    absolute = layer_errors(fast, exact)
    scale = [max(float(np.max(np.abs(getattr(e, f.name)))) for f in fields(LayerParams)) for e in exact.layers]
    c = params.config
    n = np.shape(X)[0]
    return {
        "absolute": absolute,
        "relative": [a / s for a, s in zip(absolute, scale)],
        "bound": paper_depth_bound(eps, n, c.d, c.d_head, c.heads, c.layers),
    }
