"""Alias of :mod:`algorithms.polynomial_method.exp_approximation` (the old import path).

``from algorithms.polynomial import exp_approximation`` keeps working; new code
imports from :mod:`algorithms.polynomial_method`, whose
:func:`~algorithms.polynomial_method.approximate_exp` maps an entry bound ``B``
and a mechanism degree ``k`` to the certified polynomial on ``[-B^k, B^k]``.
"""

from algorithms.polynomial_method.exp_approximation import (
    MAX_DEGREE,
    ExpApproximation,
    aggarwal_alman_degree,
    certify_relative_error,
    chebyshev_truncation_error,
    exp_approximation,
    truncation_degree,
)

__all__ = [
    "ExpApproximation",
    "exp_approximation",
    "chebyshev_truncation_error",
    "truncation_degree",
    "aggarwal_alman_degree",
    "certify_relative_error",
    "MAX_DEGREE",
]
