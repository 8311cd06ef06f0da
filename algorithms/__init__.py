"""Attention with bounded entries: exact, and fast by the polynomial method.

The core (one home per concept):

polynomial_method
    The polynomial method of Alman & Song 2023: the certified ``P ~ exp`` on
    the logit interval ``[-B^k, B^k]`` of a mechanism of degree ``k``
    (:func:`approximate_exp`, :func:`polynomial_method_cost`), the feature maps,
    and the one low-rank operator ``A~ = U1 (U2 ⊘ ... ⊘ Uk)^T``
    (:class:`LowRankOperator`) that every fast algorithm runs; a fast output
    comes back as a :class:`FastResult` with its certificate.
error_bounds
    The error algebra: entry error, ``eta``, the value spread, the output
    bound (E1), the VJP bounds.
softmax
    The exact streaming (online) softmax every exact algorithm runs.
kron
    The Kronecker products ``⊘``, ``⊗_row`` and the identities (I1)-(I4).

The mechanisms (``method="exact" | "fast"`` on each entry point):

attention
    Matrix attention, its VJP and the training gradient of Alman & Song 2024.
tensor_attention
    Three-way (Kronecker) attention, VJPs and the training loss of Liang,
    Shi, Song, Zhou 2024 (the tensor trick).
transformer
    An m-layer multi-head transformer, forward and backward, exact and fast
    (Liang, Sha, Shi, Song, Zhou 2024).
poly_attention
    Attention defined by a polynomial over tokens (Chakrabarti, Pitassi,
    Alman 2026): exact by variable elimination, fast per monomial, tasks.

And the symbolic side: ``bounds`` (degree, rank and cost as sympy
expressions) and ``threshold`` (where the fast algorithms can exist).
Old paths ``algorithms.polynomial`` and ``algorithms.features`` are aliases of
:mod:`algorithms.polynomial_method` modules.  The mathematics is in docs/.

Submodules and names are imported on first use (importing sympy, networkx or
matplotlib for every ``import algorithms`` would cost about a second).

Examples
--------
>>> import algorithms
>>> algorithms.polynomial_method_cost(1.0, 2, 4, 1e-6)  # B = 1, k = 2 (matrix), d = 4, eps = 1e-6
(7, 330)
>>> "tensor_attention" in dir(algorithms)
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from algorithms import (
        attention,
        bounds,
        error_bounds,
        kron,
        poly_attention,
        polynomial_method,
        softmax,
        tensor_attention,
        threshold,
        transformer,
    )
    from algorithms.polynomial_method import (
        FastResult,
        LowRankOperator,
        approximate_exp,
        exp_approximation,
        polynomial_method_cost,
    )

__version__ = "0.2.0"

__all__ = [
    # the core
    "polynomial_method",
    "error_bounds",
    "softmax",
    "kron",
    "approximate_exp",
    "polynomial_method_cost",
    "exp_approximation",
    "LowRankOperator",
    "FastResult",
    # the mechanisms
    "attention",
    "tensor_attention",
    "transformer",
    "poly_attention",
    # bounds and the threshold map
    "bounds",
    "threshold",
]
_CORE = frozenset({"approximate_exp", "polynomial_method_cost", "exp_approximation", "LowRankOperator", "FastResult"})


def __getattr__(name: str):
    """Import a submodule, or a core name from :mod:`algorithms.polynomial_method`, on first use (PEP 562)."""
    if name in _CORE:
        return getattr(importlib.import_module("algorithms.polynomial_method"), name)
    if name in __all__:
        return importlib.import_module(f"algorithms.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
