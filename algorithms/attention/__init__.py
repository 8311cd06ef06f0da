"""Matrix attention, exact and fast, with its gradients (docs/matrix-attention.md, docs/gradient.md).

Modules
-------
forward
    ``attention(Q, K, V, method="exact" | "fast")`` (AttC / AAttC of Alman &
    Song 2023), :func:`low_rank_attention` (the ``k = 2`` low-rank operator),
    :func:`attention_fast` (the fast output alone), the bound (E1).
vjp
    Exact and fast vector-Jacobian products with entrywise error bounds.
loss
    The training loss of Alman & Song 2024 and its gradient ``dL/dX``, exact
    and in ``n^{1+o(1)}``.

Imports run one way: ``loss -> vjp -> forward`` and all three to the core
(:mod:`algorithms.polynomial_method`, :mod:`algorithms.error_bounds`,
:mod:`algorithms.softmax`).  Kept names: ``LowRankAttention`` is the core's
:class:`~algorithms.polynomial_method.LowRankOperator` (what
:func:`low_rank_attention` returns, ``k = 2``) and ``normalised_output_error`` is
:func:`algorithms.error_bounds.output_error`, the bound (E1).

Examples
--------
>>> import numpy as np
>>> from algorithms.attention import attention, low_rank_attention, attention_error_bound
>>> rng = np.random.default_rng(0)
>>> Q, K, V = (rng.uniform(-1, 1, (300, 4)) for _ in range(3))
>>> P = low_rank_attention(Q, K, eps=1e-6, bound=1.0)
>>> err = np.max(np.abs(P.apply(V) - attention(Q, K, V)))
>>> bool(err <= attention_error_bound(P.entry_error, V))
True
"""

from algorithms.attention.forward import (
    attention,
    attention_error_bound,
    attention_fast,
    low_rank_attention,
)
from algorithms.attention.loss import (
    attention_loss,
    attention_loss_grad,
    attention_loss_grad_error_bound,
    attention_loss_grad_fast,
)
from algorithms.attention.vjp import (
    attention_vjp,
    attention_vjp_error_bound,
    attention_vjp_fast,
)
from algorithms.error_bounds import output_error as normalised_output_error
from algorithms.polynomial_method import LowRankOperator as LowRankAttention

__all__ = [
    "attention",
    "attention_fast",
    "low_rank_attention",
    "LowRankAttention",
    "attention_error_bound",
    "normalised_output_error",
    "attention_vjp",
    "attention_vjp_fast",
    "attention_vjp_error_bound",
    "attention_loss",
    "attention_loss_grad",
    "attention_loss_grad_fast",
    "attention_loss_grad_error_bound",
]
