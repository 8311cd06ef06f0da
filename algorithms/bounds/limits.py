"""Asymptotic exponents of the polynomial method, by sympy ``limit``.

The threshold (see docs/threshold.md): with ``d = Theta(log n)`` and
``eps = n^{-Theta(1)}``, the fast time ``n r d`` is ``n^{1+o(1)}`` exactly when
``log r / log n -> 0``, i.e. when ``B = o((log n)^{1/k})``; at
``B = Theta((log n)^{1/k})`` the exponent stays above 1.
:func:`asymptotic_exponent` computes ``lim log(time) / log n`` with sympy,
``B``, ``d`` and ``eps`` given as functions of ``n``;
:func:`time_exponent_expr` is the expression it sends to the limit.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214 (Thm 1.3).
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (tensor, ``k = 3``).
.. [3] T. Chakrabarti, T. Pitassi, J. Alman. Poly-attention. ICLR 2026,
   arXiv:2602.02422 (Thm 3.6, degree ``k``).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .expressions import (
    SYMBOLS,
    _log_rank_pieces,
    aggarwal_alman_degree_expr,
    log_rank_bounds,
    logit_interval_length,
    mechanism_degree,
)

__all__ = ["time_exponent_expr", "asymptotic_exponent"]

_n = SYMBOLS.n


def _as_expr(f: sp.Expr | Callable | float) -> sp.Expr:
    return sp.sympify(f(_n) if callable(f) else f)


def _degree_branches(B_of_n: sp.Expr, eps_of_n: sp.Expr, k: int, constant: float) -> list[sp.Expr]:
    """The two terms of ``max`` in the degree, with the inner ``max(e, .)`` resolved at ``n -> oo``."""
    Ln = logit_interval_length(B_of_n, k)
    log_inv = sp.log(1 / eps_of_n)
    rho = sp.limit(log_inv / Ln, _n, sp.oo)
    if not (rho.is_extended_real and rho.is_extended_nonnegative):
        raise ValueError(f"log(1/eps)/L has no limit as n -> oo (got {rho}); cannot resolve the degree")
    second = log_inv / sp.log(log_inv / Ln) if (rho is sp.oo or rho > sp.E) else log_inv
    return [constant * Ln, constant * second]


def time_exponent_expr(
    k: str | int,
    B_of_n: sp.Expr | Callable,
    d_of_n: sp.Expr | Callable,
    eps_of_n: sp.Expr | Callable,
    *,
    constant: float = 1,
    rank_bound: str = "upper",
) -> sp.Expr:
    """``(log n + log d + F(g)) / log n``, ``g`` the Aggarwal–Alman degree: what is sent to the limit.

    ``F`` is the upper (``rank_bound="upper"``) or lower bound on ``log r``
    of :func:`log_rank_bounds`.  Returned unevaluated for display.

    Examples
    --------
    >>> time_exponent_expr("matrix", 1, 4, sp.Rational(1, 100), rank_bound="lower")
    (log(n) + log(4) + 4*log(1 + log(100)/4))/log(n)
    """
    k = mechanism_degree(k)
    B_n, d_n, e_n = _as_expr(B_of_n), _as_expr(d_of_n), _as_expr(eps_of_n)
    gn = aggarwal_alman_degree_expr(logit_interval_length(B_n, k), e_n, constant)
    F = log_rank_bounds(d_n, gn)[0 if rank_bound == "lower" else 1]
    return (sp.log(_n) + sp.log(d_n) + F) / sp.log(_n)


def asymptotic_exponent(
    k: str | int,
    B_of_n: sp.Expr | Callable,
    d_of_n: sp.Expr | Callable,
    eps_of_n: sp.Expr | Callable,
    *,
    constant: float = 1,
    rank_bound: str = "upper",
) -> sp.Expr:
    """``lim_{n -> oo} log(time) / log n`` for the fast algorithm, computed by sympy ``limit``.

    Parameters
    ----------
    k : the mechanism's logit degree, or its name: ``"matrix"`` (2),
        ``"tensor"`` (3), ``"degree-<k>"`` (see :func:`mechanism_degree`).
    B_of_n, d_of_n, eps_of_n : sympy expressions in ``SYMBOLS.n`` (or callables
        taking that symbol): the entry bound, head dimension and accuracy.
    constant : the ``C`` in the degree (default ``1``: the bare
        ``Theta``-expression).  Whether the limit is 1 does not depend on it;
        a limit above 1 does (``g = C gamma log n`` at the threshold), which is
        why :func:`~algorithms.bounds.table.threshold_table` passes the fitted
        :data:`~algorithms.bounds.expressions.AGGARWAL_ALMAN_CONSTANT`.
    rank_bound : ``"upper"`` uses the upper bound on ``log r`` of
        :func:`log_rank_bounds` (then the result bounds the exponent of the
        time from above), ``"lower"`` its lower bound (a bound from below).

    Returns
    -------
    sympy.Expr
        The limit (``1`` means ``n^{1+o(1)}``); may be ``oo``.

    Raises
    ------
    ValueError
        If ``k`` or ``rank_bound`` is not recognised, or if the limits do
        not exist.

    Examples
    --------
    >>> n = SYMBOLS.n
    >>> asymptotic_exponent("matrix", sp.sqrt(sp.log(n)) / sp.log(sp.log(n)), sp.log(n), 1 / n)
    1
    >>> float(asymptotic_exponent("matrix", sp.sqrt(sp.log(n)), sp.log(n), 1 / n)) > 1
    True

    Notes
    -----
    What is computed, exactly: the time model is ``T(n) = n r d`` with
    ``r = C(d + g, g)`` and ``g = C max(L, log(1/eps)/log(max(e, log(1/eps)/L)))``,
    ``L = 2 B^k`` (:func:`aggarwal_alman_degree_expr`, ``g`` taken real, not
    rounded up: the rounding changes ``log r`` by ``O(log(d+g))``, which is
    ``o(log n)`` when ``d`` is polylogarithmic).  A binomial with symbolic
    ``g`` cannot go through ``limit``, so ``log r`` is replaced by one of the
    bounds of :func:`log_rank_bounds` (a max, resp. min, of two pieces).
    Every piece ``F(g)`` is increasing in ``g``, so ``F(max(a, b)) =
    max(F(a), F(b))``, and the limit of a maximum (minimum) is the maximum
    (minimum) of the limits; the inner ``max(e, log(1/eps)/L)`` is decided
    by the limit ``rho`` of ``log(1/eps)/L`` (eventually one side when
    ``rho != e``; at ``rho = e`` both agree to first order).  So the result is
    ``max_b max_i (resp. min_i) lim (log n + log d + F_i(g_b)) / log n`` over
    the two branches ``g_b`` of the degree and the two pieces ``F_i`` of the
    bound, each of the four limits taken by sympy.

    With ``d = c log n`` and ``eps = n^{-c'}``: ``B = o((log n)^{1/k})`` gives
    ``g = o(log n)`` and the limit 1 (Alman & Song 2023, Thm 1.3);
    ``B = Theta((log n)^{1/k})`` gives ``g = Theta(log n)`` and a limit
    above 1 for both bounds (and, for large constants, above the exact ``k``).

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Thm 1.3 and Sec. 3.
    .. [2] Alman & Song, arXiv:2310.04064 (tensor, ``k = 3``).
    .. [3] Chakrabarti, Pitassi & Alman, arXiv:2602.02422, Thm 3.6 (degree ``k``).
    """
    k = mechanism_degree(k)
    if rank_bound not in ("upper", "lower"):
        raise ValueError(f"rank_bound must be 'upper' or 'lower', got {rank_bound!r}")
    B_n, d_n, e_n = _as_expr(B_of_n), _as_expr(d_of_n), _as_expr(eps_of_n)
    branch_limits = []
    for g_b in _degree_branches(B_n, e_n, k, constant):
        pieces = _log_rank_pieces(d_n, g_b)[0 if rank_bound == "lower" else 1]
        limits = []
        for F in pieces:
            value = sp.limit((sp.log(_n) + sp.log(d_n) + F) / sp.log(_n), _n, sp.oo)
            if not value.is_extended_real:
                raise ValueError(f"the limit does not exist (sympy returned {value})")
            limits.append(value)
        # lower bound: the larger piece; upper bound: the smaller piece.
        branch_limits.append(sp.Max(*limits) if rank_bound == "lower" else sp.Min(*limits))
    return sp.simplify(sp.Max(*branch_limits))
