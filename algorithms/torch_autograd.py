"""Train with the fast paths: ``torch.autograd.Function``s whose backward is the closed-form fast gradient.

:func:`fast_attention` and :func:`fast_tensor_attention` take torch tensors
(CPU or CUDA, float32 or float64) and return a tensor that autograd
differentiates.  The forward pass is the polynomial method
(:func:`algorithms.attention.attention_fast`,
:func:`algorithms.tensor_attention.tensor_attention_fast`); the backward pass is
*not* autograd through it but the fast vector-Jacobian product of the exact
attention formulas with ``f~`` in place of ``f``
(:func:`algorithms.attention.attention_vjp_fast`,
:func:`algorithms.tensor_attention.tensor_attention_vjp_fast`), ``O(n r d^2)``
time and no ``n x n`` matrix.  So the gradients are within the certified VJP
bounds of the gradients of *exact* attention
(:func:`algorithms.attention.attention_vjp_error_bound`), which the tests check
against torch autograd of exact attention.

torch is an optional dependency (``pip install 'bounded-entries[torch]'``); it
is imported when one of these functions is first called.  Inputs are 2-d
(``(n, d)``); loop over batch and head dimensions outside.  float32 inputs are
certified in float32 (:class:`~algorithms.polynomial_method.Float32Limit`
refuses an ``eps`` below float32's reach).

Examples
--------
>>> import pytest; torch = pytest.importorskip("torch")
>>> g = torch.Generator().manual_seed(0)
>>> Q, K, V = (torch.rand(64, 4, generator=g, dtype=torch.float64, requires_grad=True) for _ in range(3))
>>> fast_attention(Q, K, V, eps=1e-6).sum().backward()
>>> Q.grad.shape
torch.Size([64, 4])

References
----------
.. [1] J. Alman, Z. Song. The fine-grained complexity of gradient computation for
   training large language models. NeurIPS 2024, arXiv:2402.04497, App. D.
.. [2] Y. Liang, Z. Shi, Z. Song, Y. Zhou. Tensor attention training: provably
   efficient learning of higher-order transformers. arXiv:2405.16411, Thm 5.2.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["fast_attention", "fast_tensor_attention"]


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is installed for the tests
        raise ImportError("algorithms.torch_autograd needs torch: pip install 'bounded-entries[torch]'") from None
    return torch


@lru_cache(maxsize=1)
def _functions():
    """Define the two ``autograd.Function`` classes (torch imported only now)."""
    torch = _torch()
    from algorithms.attention import attention_fast, attention_vjp_fast
    from algorithms.tensor_attention import tensor_attention_fast, tensor_attention_vjp_fast

    class FastAttention(torch.autograd.Function):
        """``D~^{-1} U1 (U2^T V)`` forward; :func:`attention_vjp_fast` backward."""

        @staticmethod
        def forward(ctx, Q, K, V, eps, bound):
            ctx.save_for_backward(Q, K, V)
            ctx.eps, ctx.bound = eps, bound
            return attention_fast(Q.detach(), K.detach(), V.detach(), eps, bound)

        @staticmethod
        def backward(ctx, dO):
            Q, K, V = ctx.saved_tensors
            grads = attention_vjp_fast(Q.detach(), K.detach(), V.detach(), dO.detach(), ctx.eps, ctx.bound)
            return (*grads, None, None)

    class FastTensorAttention(torch.autograd.Function):
        """``D~^{-1} U1 [(U2^T V1) ∘ (U3^T V2)]`` forward; :func:`tensor_attention_vjp_fast` backward."""

        @staticmethod
        def forward(ctx, Q, K1, K2, V1, V2, eps, bound):
            ctx.save_for_backward(Q, K1, K2, V1, V2)
            ctx.eps, ctx.bound = eps, bound
            return tensor_attention_fast(*(X.detach() for X in (Q, K1, K2, V1, V2)), eps, bound)

        @staticmethod
        def backward(ctx, dO):
            inputs = [X.detach() for X in ctx.saved_tensors]
            grads = tensor_attention_vjp_fast(*inputs, dO.detach(), ctx.eps, ctx.bound)
            return (*grads, None, None)

    return FastAttention, FastTensorAttention


def fast_attention(Q, K, V, eps: float = 1e-6, bound: float | None = None):
    """Fast matrix attention of torch tensors, differentiable by its closed-form fast gradient.

    Parameters
    ----------
    Q : (n, d) tensor
    K : (m, d) tensor
    V : (m, d_v) tensor
        Same device and dtype (float32 or float64; CPU or CUDA).
    eps : float
        Relative error of every entry of the approximate attention matrix, in (0, 1).
    bound : float, optional
        The promised max-norm ``B`` of ``Q`` and ``K`` (default: measured each call).

    Returns
    -------
    (n, d_v) tensor, ``requires_grad`` when an input does.  Its gradients are
    :func:`~algorithms.attention.attention_vjp_fast` at the upstream gradient.

    Raises
    ------
    ValueError
        As :func:`algorithms.attention.attention_fast` (bad shapes, non-finite
        entries, entries above ``bound``, or a refusal of the fast path).
    ImportError
        torch is not installed.
    """
    return _functions()[0].apply(Q, K, V, eps, bound)


def fast_tensor_attention(Q, K1, K2, V1, V2, eps: float = 1e-6, bound: float | None = None):
    """Fast tensor attention of torch tensors, differentiable by its closed-form fast gradient (five inputs).

    Parameters
    ----------
    Q, K1, K2, V1, V2 : tensors as in :func:`algorithms.tensor_attention.tensor_attention`.
    eps, bound : as in :func:`fast_attention` (``B`` bounds ``Q``, ``K1``, ``K2``).

    Returns
    -------
    (n, d_v) tensor; its gradients are :func:`~algorithms.tensor_attention.tensor_attention_vjp_fast`.

    Raises
    ------
    ValueError
        As :func:`algorithms.tensor_attention.tensor_attention_fast`.
    ImportError
        torch is not installed.
    """
    return _functions()[1].apply(Q, K1, K2, V1, V2, eps, bound)
