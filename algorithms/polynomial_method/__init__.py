"""The polynomial method: one home for every fast algorithm of this package.

Alman & Song (NeurIPS 2023) turn ``exp(Q K^T / d)`` into a low-rank matrix in
three steps; matrix, tensor, poly-attention and the multi-layer transformer all
run these three steps through this package:

1. :mod:`.interval`, :mod:`.plan`, :mod:`.exp_approximation` and
   :mod:`.certified`: the logit interval the data fill, certified in
   ``O(n d)`` (never from the ``n^2`` logits), and a polynomial ``P`` with
   ``|P(x) - e^x| <= eps e^x`` there (Chebyshev truncation, converted and
   certified in mpmath; centred when that is cheaper; Aggarwal & Alman 2022
   for the optimal degree).  :func:`fast_operator` is what the fast paths
   run; :func:`approximate_exp` and :func:`polynomial_method_cost` give the
   polynomial for the worst-case interval ``[-B^k, B^k]``.  When the fast
   path cannot run it says why (:mod:`.refusal`): :class:`CostExceedsExact`
   (the complexity phenomenon) or :class:`Float64Limit` (the arithmetic;
   ``precision="mpmath"``, :mod:`.mp`, runs past it at toy sizes).
2. :mod:`.features`: feature maps ``phi``, ``psi`` with
   ``P(scale <q, k2 ∘ ... ∘ kk>) = phi(q) · (psi(k2) ∘ ... ∘ psi(kk))``,
   rank ``r = C(d + g, g)``.
3. :mod:`.low_rank`: the operator ``A~ = U1 (U2 ⊘ ... ⊘ Uk)^T`` and its
   normalised products in ``O(n r d)``, streamed in blocks of one policy.

:class:`FastResult` (:mod:`.result`) carries a fast output with its
certificate; the bounds themselves live in :mod:`algorithms.error_bounds`.
The mathematics is in docs/polynomial-method.md.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Sec. 3.
.. [2] A. Aggarwal, J. Alman. Optimal-degree polynomial approximations for
   exponentials and Gaussian kernel density estimation. CCC 2022, arXiv:2205.06249.
"""

from algorithms.polynomial_method.certified import (
    approximate_exp,
    fast_operator,
    logit_half_width,
    polynomial_method_cost,
)
from algorithms.polynomial_method.exp_approximation import (
    MAX_DEGREE,
    ExpApproximation,
    aggarwal_alman_degree,
    certify_relative_error,
    chebyshev_truncation_error,
    exp_approximation,
    truncation_degree,
)
from algorithms.polynomial_method.features import (
    feature_rank,
    key_features,
    monomial_exponents,
    monomials,
    multinomial_weights,
    query_features,
)
from algorithms.polynomial_method.interval import LogitBounds, logit_bounds
from algorithms.polynomial_method.low_rank import LowRankOperator, block_rows
from algorithms.polynomial_method.mp import MpExpApproximation, mp_exp_approximation
from algorithms.polynomial_method.plan import PRECISIONS, FastPlan, plan_fast_path
from algorithms.polynomial_method.refusal import (
    ArithmeticLimit,
    CostExceedsExact,
    FastPathUnavailable,
    Float32Limit,
    Float64Limit,
    PrecisionTooSlow,
    exact_flops,
    fast_flops,
)
from algorithms.polynomial_method.result import FastResult, fast_result

__all__ = [
    "approximate_exp",
    "fast_operator",
    "LogitBounds",
    "logit_bounds",
    "FastPlan",
    "plan_fast_path",
    "PRECISIONS",
    "FastPathUnavailable",
    "CostExceedsExact",
    "Float64Limit",
    "Float32Limit",
    "ArithmeticLimit",
    "PrecisionTooSlow",
    "fast_flops",
    "exact_flops",
    "MpExpApproximation",
    "mp_exp_approximation",
    "logit_half_width",
    "polynomial_method_cost",
    "ExpApproximation",
    "exp_approximation",
    "chebyshev_truncation_error",
    "truncation_degree",
    "aggarwal_alman_degree",
    "certify_relative_error",
    "MAX_DEGREE",
    "feature_rank",
    "monomial_exponents",
    "multinomial_weights",
    "monomials",
    "query_features",
    "key_features",
    "LowRankOperator",
    "block_rows",
    "FastResult",
    "fast_result",
]
