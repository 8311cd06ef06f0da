"""Poly-attention (Chakrabarti, Pitassi & Alman, arXiv 2602.02422, ICLR 2026).

Modules
-------
attention_polynomial
    :class:`AttentionPolynomial` ``h``, its (hyper)graph, elimination width and
    the named mechanisms (:func:`self_attention_polynomial`,
    :func:`tensor_attention_polynomial`, :func:`strassen_attention_polynomial`,
    :func:`tree_attention_polynomial`, :func:`path_attention_polynomial`).
exact
    The definition by brute force and exact evaluation by variable elimination.
fast
    The polynomial method for bounded entries (Thm 3.6): per-monomial feature
    maps, message passing on low-rank factors for trees.
table
    The mechanism table: exact cost, lower bound, entry threshold, tasks.
tasks
    Polyadic tasks, one module each: function composition, Match3, binary
    relation composition, polynomial root-finding; generators, answers,
    explicit one-layer weights.
polynomial
    The old module path, and the old constructor names ``self_attention``,
    ``tensor_attention``, ``strassen_attention``, ``path_attention``,
    ``tree_attention`` (aliases of the ``*_polynomial`` names, still exported
    here).

See docs/poly-attention.md.
"""

from .attention_polynomial import (
    AttentionPolynomial,
    best_elimination_order,
    elimination_cost,
    path_attention_polynomial,
    self_attention_polynomial,
    strassen_attention_polynomial,
    tensor_attention_polynomial,
    tensor_form,
    tree_attention_polynomial,
)
from .exact import (
    ExactResult,
    check_poly_inputs,
    poly_attention_bruteforce,
    poly_attention_exact,
)
from .fast import FastResult, fast_error_bound, poly_attention_fast, value_product_range
from .polynomial import (
    path_attention,
    self_attention,
    strassen_attention,
    tensor_attention,
    tree_attention,
)
from .table import MECHANISMS, markdown_table

__all__ = [
    "AttentionPolynomial",
    "best_elimination_order",
    "elimination_cost",
    "path_attention_polynomial",
    "self_attention_polynomial",
    "strassen_attention_polynomial",
    "tensor_attention_polynomial",
    "tree_attention_polynomial",
    "tensor_form",
    "path_attention",
    "self_attention",
    "strassen_attention",
    "tensor_attention",
    "tree_attention",
    "ExactResult",
    "check_poly_inputs",
    "poly_attention_bruteforce",
    "poly_attention_exact",
    "FastResult",
    "fast_error_bound",
    "poly_attention_fast",
    "value_product_range",
    "MECHANISMS",
    "markdown_table",
]
