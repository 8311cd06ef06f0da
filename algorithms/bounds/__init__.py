"""Symbolic bounds of the polynomial method and the threshold, as sympy expressions and limits.

Modules
-------
expressions
    The four quantities: logit interval ``L = 2 B^k``, Aggarwal–Alman degree
    ``g(L, eps)``, rank ``C(d + g, g)`` with time and flop counts, output
    error; the hard instance's entry size; the symbols :data:`SYMBOLS`.
limits
    ``lim log(time) / log n`` by sympy ``limit`` (:func:`asymptotic_exponent`).
table
    :func:`threshold_table`: both sides of the threshold for each mechanism.

The degree certificates that fit :data:`AGGARWAL_ALMAN_CONSTANT` live in
:mod:`algorithms.degree_certificates`; the finite-size threshold map in
:mod:`algorithms.threshold`.  The symbols ``n, d, B, eps, L, g, N`` are not
exported one by one (a star import would overwrite a caller's ``n``): use
``n, d, B, eps, L, g, N = SYMBOLS`` (see docs/threshold.md).

Examples
--------
>>> from algorithms.bounds import SYMBOLS, feature_rank_expr
>>> feature_rank_expr(SYMBOLS.d, 2)
binomial(d + 2, 2)
"""

from .expressions import (
    AGGARWAL_ALMAN_CONSTANT,
    SYMBOLS,
    Symbols,
    aggarwal_alman_degree_expr,
    exact_flops_expr,
    exact_time_expr,
    fast_flops_expr,
    fast_time_expr,
    feature_rank_expr,
    hard_instance_bound_expr,
    log_rank_bounds,
    logit_interval_length,
    mechanism_degree,
    output_error_expr,
    paper_rank_expr,
)
from .limits import asymptotic_exponent, time_exponent_expr
from .table import ThresholdRow, threshold_table

__all__ = [
    "SYMBOLS",
    "Symbols",
    "AGGARWAL_ALMAN_CONSTANT",
    "mechanism_degree",
    "logit_interval_length",
    "aggarwal_alman_degree_expr",
    "feature_rank_expr",
    "paper_rank_expr",
    "log_rank_bounds",
    "fast_time_expr",
    "exact_time_expr",
    "fast_flops_expr",
    "exact_flops_expr",
    "output_error_expr",
    "hard_instance_bound_expr",
    "time_exponent_expr",
    "asymptotic_exponent",
    "ThresholdRow",
    "threshold_table",
]
