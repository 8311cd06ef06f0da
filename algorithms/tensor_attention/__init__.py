"""Tensor attention, exact and fast by the tensor trick, with its gradients (docs/tensor-attention.md).

Modules
-------
forward
    ``tensor_attention(Q, K1, K2, V1, V2, method="exact" | "fast")`` (TAttC of
    Alman & Song, ICLR 2024), :func:`low_rank_tensor_attention` (the ``k = 3``
    low-rank operator ``U1 (U2 ⊘ U3)^T``), :func:`tensor_attention_fast` (the
    fast output alone), the bound (E1).
vjp
    Exact and fast vector-Jacobian products of all five inputs, with bounds.
loss
    The training loss of Liang, Shi, Song, Zhou (arXiv 2405.16411) and its
    gradient ``dL/dX``, exact and in ``n^{1+o(1)}`` (their Thm 5.2).

The Kronecker products ``⊘`` and ``⊗_row`` and the identities (I1)-(I4) live
in :mod:`algorithms.kron` (re-exported here).  Imports run one way:
``loss -> vjp -> forward``, and all three to the core.  ``LowRankTensorAttention``
is kept as a name for the core's
:class:`~algorithms.polynomial_method.LowRankOperator` (``k = 3``).

Examples
--------
>>> import numpy as np
>>> from algorithms.tensor_attention import tensor_attention
>>> rng = np.random.default_rng(0)
>>> Q, K1, K2, V1, V2 = (rng.uniform(-1, 1, (30, 4)) for _ in range(5))
>>> res = tensor_attention(Q, K1, K2, V1, V2, method="fast", eps=1e-6, bound=1.0)
>>> bool(np.all(np.abs(res.output - tensor_attention(Q, K1, K2, V1, V2)).max(0) <= res.error_bound))
True
"""

from algorithms.kron import column_kron, row_kron
from algorithms.polynomial_method import LowRankOperator as LowRankTensorAttention
from algorithms.tensor_attention.forward import (
    low_rank_tensor_attention,
    tensor_attention,
    tensor_attention_error_bound,
    tensor_attention_fast,
)
from algorithms.tensor_attention.loss import (
    tensor_attention_loss,
    tensor_attention_loss_grad,
    tensor_attention_loss_grad_error_bound,
    tensor_attention_loss_grad_fast,
)
from algorithms.tensor_attention.vjp import (
    tensor_attention_vjp,
    tensor_attention_vjp_error_bound,
    tensor_attention_vjp_fast,
)

__all__ = [
    "column_kron",
    "row_kron",
    "tensor_attention",
    "LowRankTensorAttention",
    "low_rank_tensor_attention",
    "tensor_attention_fast",
    "tensor_attention_error_bound",
    "tensor_attention_vjp",
    "tensor_attention_vjp_fast",
    "tensor_attention_vjp_error_bound",
    "tensor_attention_loss",
    "tensor_attention_loss_grad",
    "tensor_attention_loss_grad_fast",
    "tensor_attention_loss_grad_error_bound",
]
