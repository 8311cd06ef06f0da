"""Poly-attention (Chakrabarti, Pitassi & Alman, arXiv 2602.02422, ICLR 2026).

Modules
-------
polynomial
    :class:`AttentionPolynomial` ``h``, its (hyper)graph, elimination width and
    the named mechanisms (self, tensor, Strassen, tree, path attention).
exact
    The definition by brute force and exact evaluation by variable elimination.
fast
    The polynomial method for bounded entries (Thm 3.6): per-monomial feature
    maps, message passing on low-rank factors for trees.
table
    The mechanism table: exact cost, lower bound, entry threshold, tasks.
tasks
    Function composition and Match3: generators, answers, explicit weights.
"""

from .exact import (
    ExactResult,
    check_poly_inputs,
    poly_attention_bruteforce,
    poly_attention_exact,
)
from .fast import FastResult, fast_error_bound, poly_attention_fast, value_product_range
from .polynomial import (
    AttentionPolynomial,
    best_elimination_order,
    elimination_cost,
    path_attention,
    self_attention,
    strassen_attention,
    tensor_attention,
    tensor_form,
    tree_attention,
)
from .table import MECHANISMS, markdown_table

__all__ = [
    "AttentionPolynomial",
    "best_elimination_order",
    "elimination_cost",
    "path_attention",
    "self_attention",
    "strassen_attention",
    "tensor_attention",
    "tree_attention",
    "tensor_form",
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
