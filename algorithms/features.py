"""Alias of :mod:`algorithms.polynomial_method.features` (the old import path).

``from algorithms.features import feature_rank`` keeps working; new code imports
from :mod:`algorithms.polynomial_method`.
"""

from algorithms.polynomial_method.features import (
    feature_rank,
    key_features,
    monomial_exponents,
    monomials,
    multinomial_weights,
    query_features,
)

__all__ = [
    "feature_rank",
    "monomial_exponents",
    "multinomial_weights",
    "monomials",
    "query_features",
    "key_features",
]
