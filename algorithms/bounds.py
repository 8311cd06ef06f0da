"""Symbolic bounds of the polynomial method, their limits, and their numerical certificates.

The fast algorithms of :mod:`algorithms.attention` rest on four quantities.
Each is kept here as a sympy expression, with the theorem it comes from, so a
notebook can print it and a test can evaluate it (SPEC §1, §3, §5, §7):

1. **Logit interval.**  With every entry of every input bounded by ``B``, a
   degree-``k`` logit ``<q, k_1 o ... o k_{k-1}> / d`` lies in
   ``[-B^k, B^k]``: length ``L = 2 B^k`` (``k = 2`` matrix attention, ``k = 3``
   tensor attention, ``k`` a degree-``k`` poly-attention).
2. **Degree** ``g(L, eps) = C max(L, log(1/eps) / log(log(1/eps) / L))`` for
   relative error ``eps`` of ``e^x`` on an interval of length ``L``
   (Aggarwal & Alman 2022, Thm 1.2; only a ``Theta``, so ``C`` is fitted
   against the degrees :func:`algorithms.polynomial.exp_approximation`
   actually certifies: :data:`AGGARWAL_ALMAN_CONSTANT`).
3. **Rank** ``r = C(d + g, g)`` of the feature maps (Alman & Song 2023,
   Lemma 3.1 states the looser ``C(2(g + d), 2g)``), and **time** ``n r d``.
4. **Output error** of the normalised fast output, in terms of ``eps`` and ``B``.

The threshold (SPEC §7): with ``d = Theta(log n)`` and ``eps = n^{-Theta(1)}``,
the fast time is ``n^{1+o(1)}`` exactly when ``log r / log n -> 0``, i.e. when
``B = o((log n)^{1/k})``; at ``B = Theta((log n)^{1/k})`` the exponent stays
above 1 and SETH forbids ``n^{k-q}``.  :func:`asymptotic_exponent` computes the
limit with sympy; :func:`threshold_table` puts both sides next to each other.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214 (Thm 1.3 upper bound, Thm 1.4 lower bound, Lemma 3.1 rank).
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? Generalizing
   matrix softmax attention to Kronecker computation. ICLR 2024, arXiv:2310.04064
   (tensor threshold ``(log n)^{1/3}``).
.. [3] A. Aggarwal, J. Alman. Optimal-degree polynomial approximations for
   exponentials and Gaussian kernel density estimation. CCC 2022,
   arXiv:2205.06249 (Thm 1.2).
.. [4] T. Chakrabarti, T. Pitassi, J. Alman. Poly-attention. ICLR 2026,
   arXiv:2602.02422 (Thm 3.6, threshold ``(log n)^{1/k}`` for degree ``k``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from algorithms._checks import check_eps
from algorithms.polynomial import chebyshev_truncation_error, exp_approximation

__all__ = [
    "n", "d", "B", "eps", "L", "g", "N",
    "AGGARWAL_ALMAN_CONSTANT",
    "DEGREE_GRID",
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
    "DegreeCertificate",
    "true_relative_error",
    "degree_certificates",
    "fit_aggarwal_alman_constant",
]

n, d, B, L, g, N = sp.symbols("n d B L g N", positive=True)
eps = sp.Symbol("epsilon", positive=True)
_gap = sp.Symbol("delta", positive=True)

#: The ``(L, eps)`` grid on which :data:`AGGARWAL_ALMAN_CONSTANT` is fitted
#: (intervals ``[-L/2, L/2]``; points where float64 cannot reach ``eps`` are
#: recorded as infeasible and left out of the fit).
DEGREE_GRID: tuple[tuple[float, ...], tuple[float, ...]] = (
    (1.0, 2.0, 4.0, 8.0, 16.0),
    (1e-2, 1e-4, 1e-6, 1e-8),
)

#: Smallest ``C`` with ``C * g_AA(L, eps) >= g_code(L, eps)`` on
#: :data:`DEGREE_GRID`, where ``g_AA`` is :func:`aggarwal_alman_degree_expr`
#: with ``C = 1`` and ``g_code`` the degree certified by
#: :func:`algorithms.polynomial.exp_approximation`.  Reproduce with
#: ``fit_aggarwal_alman_constant(degree_certificates(*DEGREE_GRID))``
#: (checked by ``tests/test_bounds.py``).  With it, ``C g_AA / g_code`` ranges
#: from 1.00 (``L = 16, eps = 1e-6``: ``g = 24``) to 2.26 (``L = 1, eps = 1e-2``:
#: ``g = 2``) on the grid (table in ``notebooks/04_threshold.ipynb``, §3).
AGGARWAL_ALMAN_CONSTANT = 1.5

_KINDS = {"matrix": 2, "tensor": 3}


def mechanism_degree(kind: str | int) -> int:
    """The logit degree ``k`` of a mechanism: matrix 2, tensor 3, ``"degree-k"`` or ``k``.

    Raises
    ------
    ValueError
        If ``kind`` is not ``"matrix"``, ``"tensor"``, ``"degree-<k>"`` or an
        integer ``k >= 2``.

    Examples
    --------
    >>> mechanism_degree("tensor"), mechanism_degree("degree-4"), mechanism_degree(5)
    (3, 4, 5)
    """
    if isinstance(kind, (int, np.integer)) and not isinstance(kind, bool):
        k = int(kind)
    elif isinstance(kind, str) and kind in _KINDS:
        k = _KINDS[kind]
    elif isinstance(kind, str) and kind.startswith("degree-") and kind[7:].isdigit():
        k = int(kind[7:])
    else:
        raise ValueError(
            f"kind must be 'matrix', 'tensor', 'degree-<k>' or an integer k >= 2, got {kind!r}"
        )
    if k < 2:
        raise ValueError(f"kind must have logit degree k >= 2, got {kind!r}")
    return k


def logit_interval_length(B: sp.Expr, k: int = 2) -> sp.Expr:
    """``L = 2 B^k``: logits of a degree-``k`` mechanism lie in ``[-B^k, B^k]``.

    ``|<q, k_1 o ... o k_{k-1}>| / d <= d B^k / d`` (SPEC §1, §3, §5).

    Examples
    --------
    >>> logit_interval_length(B, 3)
    2*B**3
    """
    return 2 * sp.sympify(B) ** k


def aggarwal_alman_degree_expr(L: sp.Expr, eps: sp.Expr, constant: float = 1) -> sp.Expr:
    """Degree ``g(L, eps)`` for relative error ``eps`` of ``e^x`` on an interval of length ``L``.

    ``g = C max(L, log(1/eps) / log(max(e, log(1/eps) / L)))``.

    Parameters
    ----------
    L, eps : sympy expressions or numbers (``L > 0``, ``0 < eps < 1``).
    constant : the ``C`` of the ``Theta`` (:data:`AGGARWAL_ALMAN_CONSTANT`
        is the value fitted against the certified degrees).

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> aggarwal_alman_degree_expr(L, eps)
    Max(L, log(1/epsilon)/log(Max(E, log(1/epsilon)/L)))
    >>> round(float(aggarwal_alman_degree_expr(2, 1e-6)), 3)
    7.148

    Notes
    -----
    Aggarwal & Alman prove ``Theta(max(L, log(1/eps) / log(log(1/eps)/L)))``
    is both sufficient and necessary.  Relative error is invariant under
    shifting the interval (``e^{x+c} = e^c e^x``), so only ``L`` matters.  The
    inner ``max(e, .)`` is our convention where ``log(1/eps)/L <= e``: there
    ``L >= log(1/eps)/e`` dominates up to a constant and the second term is
    read as ``log(1/eps)``; it matches
    :func:`algorithms.polynomial.aggarwal_alman_degree`.

    References
    ----------
    .. [1] Aggarwal & Alman, arXiv:2205.06249, Thm 1.2.
    """
    log_inv = sp.log(1 / sp.sympify(eps))
    return constant * sp.Max(L, log_inv / sp.log(sp.Max(sp.E, log_inv / L)))


def feature_rank_expr(d: sp.Expr, g: sp.Expr) -> sp.Expr:
    """``r = C(d + g, g)``: multi-indices ``alpha in N^d`` with ``|alpha| <= g``.

    Examples
    --------
    >>> feature_rank_expr(4, 7)
    330
    """
    return sp.binomial(d + g, g)


def paper_rank_expr(d: sp.Expr, g: sp.Expr) -> sp.Expr:
    """The rank Alman & Song state: ``C(2(g + d), 2g)`` (arXiv:2302.13214, Lemma 3.1).

    It is at least :func:`feature_rank_expr` (a ``g``-subset of ``d + g``
    items, doubled, is a ``2g``-subset of ``2(d + g)`` items: the map is
    injective), so the looser statement is still a valid bound.

    Examples
    --------
    >>> paper_rank_expr(4, 7)
    319770
    """
    return sp.binomial(2 * (g + d), 2 * g)


def _log_rank_pieces(d: sp.Expr, g: sp.Expr) -> tuple[list[sp.Expr], list[sp.Expr]]:
    m = d + g
    lower = [g * sp.log(m / g), d * sp.log(m / d)]
    upper = [g * sp.log(sp.E * m / g), d * sp.log(sp.E * m / d)]
    return lower, upper


def log_rank_bounds(d: sp.Expr, g: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Lower and upper bounds on ``log r = log C(d + g, g)`` that sympy can send to a limit.

    ``max(g log((d+g)/g), d log((d+g)/d)) <= log C(d+g, g) <= min(g log(e(d+g)/g), d log(e(d+g)/d))``.

    From ``(m/j)^j <= C(m, j) <= (e m/j)^j`` (the upper one is Stirling's
    ``j! >= (j/e)^j``) with ``m = d + g`` and ``j = g`` or ``j = d``
    (``C(m, g) = C(m, d)``).  The ``j = g`` pieces are sharp when ``g << d``
    (the upper-bound side), the ``j = d`` pieces when ``g >> d``.  Every piece
    is increasing in ``g``, which :func:`asymptotic_exponent` uses to take
    limits branch by branch.

    Examples
    --------
    >>> lo, hi = log_rank_bounds(4, 7)
    >>> bool(float(lo) <= math.log(330) <= float(hi))
    True
    >>> log_rank_bounds(d, g)[0]
    Max(d*log((d + g)/d), g*log((d + g)/g))
    """
    lower, upper = _log_rank_pieces(d, g)
    return sp.Max(*lower), sp.Min(*upper)


def fast_time_expr(n: sp.Expr, d: sp.Expr, r: sp.Expr) -> sp.Expr:
    """``n r d``: time of the polynomial method (Alman & Song 2023, Thm 1.3; tensor trick for k = 3).

    Examples
    --------
    >>> fast_time_expr(n, d, feature_rank_expr(d, g))
    d*n*binomial(d + g, g)
    """
    return n * r * d


def exact_time_expr(n: sp.Expr, d: sp.Expr, k: int = 2) -> sp.Expr:
    """``n^k d``: exact attention over all ``(k-1)``-tuples of keys.

    Examples
    --------
    >>> exact_time_expr(n, d, 3)
    d*n**3
    """
    return n**k * d


def exact_flops_expr(n: sp.Expr, d: sp.Expr, k: int = 2) -> sp.Expr:
    """Floating-point operations of exact attention: ``n^k (4 d + 2)``.

    Logits ``2 d`` per (query, key tuple), ``exp`` and row sum ``2``, the
    weighted sum of values ``2 d``; lower-order terms (``n^{k-1} d`` to form
    ``K1 o K2``) are dropped.

    Examples
    --------
    >>> exact_flops_expr(n, d)
    n**2*(4*d + 2)
    """
    return n**k * (4 * d + 2)


def fast_flops_expr(n: sp.Expr, d: sp.Expr, r: sp.Expr, k: int = 2) -> sp.Expr:
    """Floating-point operations of the polynomial method: ``n r (2k(d + 1) + k + 1)``.

    Features: ``2 n r`` for ``phi(Q)`` (monomials, weights) and ``n r`` for
    each of the ``k - 1`` key maps; ``U_j^T [V_j, 1]`` costs ``2 n r (d + 1)``
    for each key side and ``U_1 (.)`` another ``2 n r (d + 1)``.

    Examples
    --------
    >>> fast_flops_expr(n, d, 330)
    330*n*(4*d + 7)
    """
    return n * r * (2 * k * (d + 1) + k + 1)


def output_error_expr(eps: sp.Expr, B: sp.Expr, k: int = 2) -> sp.Expr:
    """Worst ``||T - Att||_inf`` when every entry of ``A`` has relative error ``<= eps``.

    ``2 B^{k-1} eps / (1 + sqrt(1 - eps^2))  (= B^{k-1} eps + O(eps^3))``.

    Parameters
    ----------
    eps : relative error of every unnormalised entry, ``0 < eps < 1``.
    B : max-norm bound of the value matrices.
    k : logit degree; the values of a degree-``k`` mechanism are entrywise
        products of ``k - 1`` value rows, bounded by ``B^{k-1}``.

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> output_error_expr(eps, B)
    2*B*epsilon/(sqrt(1 - epsilon**2) + 1)

    Notes
    -----
    Our derivation (the SPEC leaves the constant open).  Row ``i`` of the
    output is a convex combination of the values; with exact weights ``w_j``
    and ``A~_ij = A_ij (1 + delta_j)`` the approximate weights are
    ``w_j (1 + delta_j) / (1 + sum_l w_l delta_l)``.  The difference of the two
    combinations is linear in ``v``, so it is largest with ``v`` two-valued,
    ``R = max v - min v`` apart, and ``delta = +eps`` on the high values,
    ``-eps`` on the rest.  With mass ``p`` on the high values it is
    ``R * 2 eps p (1 - p) / (1 - eps + 2 eps p)``, maximal at
    ``p = (sqrt(1 - eps^2) - 1 + eps) / (2 eps)`` with value
    ``R (1 - sqrt(1 - eps^2)) / eps = R eps / (1 + sqrt(1 - eps^2))``,
    attained (sharp); the second form is the one returned, as it does not
    cancel when evaluated at small ``eps``.  ``R <= 2 B^{k-1}``.
    It is at most ``eps R / 2 / (1 - eps)``, half the bound (E1) in
    :mod:`algorithms.attention`.

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Sec. 3 (states ``O(eps B)``).
    """
    return 2 * sp.sympify(B) ** (k - 1) * eps / (1 + sp.sqrt(1 - eps**2))


def hard_instance_bound_expr(k: int = 2, gap: sp.Expr = _gap) -> sp.Expr:
    """Entry bound ``s`` the gap reduction into attention needs: ``((k-1) log n / gap)^{1/k}``.

    The reduction (SPEC §1 lower bound, §3; papers/tensor-and-gradient.md §5.2)
    scales 0/1 vectors of dimension ``m = d`` by ``s``, so logits are
    ``beta <a, b, ...>`` with ``beta = s^k / m``; a yes pair beats the
    ``n^{k-1}`` far tuples when ``beta Delta > (k - 1) log n``.  With gap
    ``Delta = gap * m`` this is solved here for ``s`` (sympy ``solve``).
    ``gap <= 1`` (``Delta <= m``), so ``B = (log n)^{1/k}`` with ``gap = 1`` is
    the lowest the curve can go; the hardness results take ``gap = Theta(1)``.

    Examples
    --------
    >>> hard_instance_bound_expr(2, 1)
    sqrt(log(n))
    >>> hard_instance_bound_expr(3, 1)
    2**(1/3)*log(n)**(1/3)
    """
    s, m = sp.symbols("s m", positive=True)
    beta = s**k / m
    roots = sp.solve(sp.Eq(beta * _gap * m, (k - 1) * sp.log(n)), s)
    # sympy cannot know log(n) > 0; keep the root that is real and positive for n > 1.
    (solution,) = [r for r in roots if r.subs({n: sp.E, _gap: 1}).is_positive]
    return solution.subs(_gap, gap)


def _as_expr(f: sp.Expr | Callable | float) -> sp.Expr:
    return sp.sympify(f(n) if callable(f) else f)


def _degree_branches(B_of_n: sp.Expr, eps_of_n: sp.Expr, k: int, constant: float) -> list[sp.Expr]:
    """The two terms of ``max`` in the degree, with the inner ``max(e, .)`` resolved at ``n -> oo``."""
    Ln = logit_interval_length(B_of_n, k)
    log_inv = sp.log(1 / eps_of_n)
    rho = sp.limit(log_inv / Ln, n, sp.oo)
    if not (rho.is_extended_real and rho.is_extended_nonnegative):
        raise ValueError(f"log(1/eps)/L has no limit as n -> oo (got {rho}); cannot resolve the degree")
    second = log_inv / sp.log(log_inv / Ln) if (rho is sp.oo or rho > sp.E) else log_inv
    return [constant * Ln, constant * second]


def time_exponent_expr(
    kind: str | int,
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
    k = mechanism_degree(kind)
    B_n, d_n, e_n = _as_expr(B_of_n), _as_expr(d_of_n), _as_expr(eps_of_n)
    gn = aggarwal_alman_degree_expr(logit_interval_length(B_n, k), e_n, constant)
    F = log_rank_bounds(d_n, gn)[0 if rank_bound == "lower" else 1]
    return (sp.log(n) + sp.log(d_n) + F) / sp.log(n)


def asymptotic_exponent(
    kind: str | int,
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
    kind : ``"matrix"`` (``k = 2``), ``"tensor"`` (``k = 3``), ``"degree-k"`` or ``k``.
    B_of_n, d_of_n, eps_of_n : sympy expressions in :data:`n` (or callables
        taking the symbol ``n``): the entry bound, head dimension and accuracy.
    constant : the ``C`` in the degree (``1``: the bare ``Theta``-expression;
        whether the limit is 1 does not depend on it).
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
        If ``kind`` or ``rank_bound`` is not recognised, or if the limits do
        not exist.

    Examples
    --------
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
    k = mechanism_degree(kind)
    if rank_bound not in ("upper", "lower"):
        raise ValueError(f"rank_bound must be 'upper' or 'lower', got {rank_bound!r}")
    B_n, d_n, e_n = _as_expr(B_of_n), _as_expr(d_of_n), _as_expr(eps_of_n)
    branch_limits = []
    for g_b in _degree_branches(B_n, e_n, k, constant):
        pieces = _log_rank_pieces(d_n, g_b)[0 if rank_bound == "lower" else 1]
        limits = []
        for F in pieces:
            value = sp.limit((sp.log(n) + sp.log(d_n) + F) / sp.log(n), n, sp.oo)
            if not value.is_extended_real:
                raise ValueError(f"the limit does not exist (sympy returned {value})")
            limits.append(value)
        # lower bound: the larger piece; upper bound: the smaller piece.
        branch_limits.append(sp.Max(*limits) if rank_bound == "lower" else sp.Min(*limits))
    return sp.simplify(sp.Max(*branch_limits))


# ------------------------------------------------------------------ threshold table
@dataclass(frozen=True)
class ThresholdRow:
    """One mechanism on both sides of its threshold (SPEC §7).

    Attributes
    ----------
    mechanism : name; k : logit degree.
    small_B : the entry bound ``(log n)^{1/k} / log log n`` (upper-bound side).
    fast_exponent_small_B : the limit of :func:`asymptotic_exponent` there (1).
    hard_B : :func:`hard_instance_bound_expr` with gap 1.
    hard_B_power : ``lim log(hard_B) / log log n`` (``1/k``).
    fast_exponent_at_hard_B : ``(lower, upper)`` limits at ``B = hard_B``.
    exact_exponent : ``lim log(n^k d) / log n`` (``k``).
    seth_exponent : the exponent ruled out by SETH, traced through the
        reduction's blow-up: ``N^k`` time for ``k``-set gap max-IP on ``N``
        vectors, an attention instance with ``n = N + 1`` rows.
    """

    mechanism: str
    k: int
    small_B: sp.Expr
    fast_exponent_small_B: sp.Expr
    hard_B: sp.Expr
    hard_B_power: sp.Expr
    fast_exponent_at_hard_B: tuple[sp.Expr, sp.Expr]
    exact_exponent: sp.Expr
    seth_exponent: sp.Expr


def threshold_table(
    kinds: Sequence[str | int] = ("matrix", "tensor", "degree-4"),
    d_of_n: sp.Expr | Callable = sp.log(n),
    eps_of_n: sp.Expr | Callable = 1 / n,
) -> list[ThresholdRow]:
    """Both sides of the bounded-entry threshold, every entry computed by sympy.

    Parameters
    ----------
    kinds : mechanisms (see :func:`mechanism_degree`).
    d_of_n, eps_of_n : head dimension and accuracy as functions of ``n``
        (default ``d = log n``, ``eps = 1/n``).

    Returns
    -------
    list of :class:`ThresholdRow`

    Examples
    --------
    >>> row = threshold_table(["matrix"])[0]
    >>> row.fast_exponent_small_B, row.hard_B_power, row.seth_exponent
    (1, 1/2, 2)

    Notes
    -----
    Upper-bound side: ``B = (log n)^{1/k} / log log n = o((log n)^{1/k})``
    gives exponent 1.  Lower-bound side: the hard instance needs
    ``B = ((k-1) log n)^{1/k}`` (gap 1), where the polynomial method's
    exponent is bounded away from 1 and SETH rules out ``n^{k-q}`` (Alman &
    Song 2023 Thm 1.4 for ``k = 2``, 2024 for ``k = 3``, Chakrabarti et al.
    Thm 3.6 for degree ``k``; for ``k >= 4`` we take the ``k``-tensor
    mechanism ``x_1 ... x_k`` as the degree-``k`` representative, whose
    source problem is ``k``-set gap max-IP).
    """
    rows = []
    for kind in kinds:
        k = mechanism_degree(kind)
        small = sp.log(n) ** sp.Rational(1, k) / sp.log(sp.log(n))
        hard = hard_instance_bound_expr(k, 1)
        at_hard = tuple(
            asymptotic_exponent(k, hard, d_of_n, eps_of_n, rank_bound=side) for side in ("lower", "upper")
        )
        d_n = _as_expr(d_of_n)
        rows.append(
            ThresholdRow(
                mechanism=kind if isinstance(kind, str) else f"degree-{k}",
                k=k,
                small_B=small,
                fast_exponent_small_B=asymptotic_exponent(k, small, d_of_n, eps_of_n),
                hard_B=hard,
                hard_B_power=sp.limit(sp.log(hard) / sp.log(sp.log(n)), n, sp.oo),
                fast_exponent_at_hard_B=at_hard,
                exact_exponent=sp.limit(sp.log(exact_time_expr(n, d_n, k)) / sp.log(n), n, sp.oo),
                seth_exponent=sp.limit(sp.log(N**k) / sp.log(N + 1), N, sp.oo),
            )
        )
    return rows


# ------------------------------------------------------------- degree certificates
@dataclass(frozen=True)
class DegreeCertificate:
    """Three degrees for relative error ``eps`` of ``e^x`` on ``[-L/2, L/2]``.

    Attributes
    ----------
    L, eps : the interval length and target.
    formula_degree : ``AGGARWAL_ALMAN_CONSTANT * g_AA(L, eps)`` (real).
    code_degree : the degree :func:`exp_approximation` certifies, or ``None``
        where float64 cannot reach ``eps``.
    certified_error : its ``max_relative_error`` (``nan`` if infeasible).
    true_error : max relative error of its float64 coefficients measured by
        :func:`true_relative_error` (mpmath, 50 digits, an independent grid).
    bessel_lower, bessel_upper : the Chebyshev–Bessel truncation error
        ``E_g(L/2) = 2 sum_{k>g} I_k(L/2)`` times ``e^{-L/2}`` and ``e^{L/2}``:
        the truncation's relative error lies between them.
    """

    L: float
    eps: float
    formula_degree: float
    code_degree: int | None
    certified_error: float
    true_error: float
    bessel_lower: float
    bessel_upper: float


def true_relative_error(
    coefficients: np.ndarray, lo: float, hi: float, points: int = 2001, dps: int = 50
) -> float:
    """``max |P(x) - e^x| / e^x`` over ``points`` equispaced ``x`` in ``[lo, hi]``, in mpmath.

    The float64 coefficients are taken exactly and ``P`` is evaluated by
    Horner's rule at ``dps`` digits, so the figure is the error of the
    polynomial itself, free of float64 evaluation rounding.

    Examples
    --------
    >>> e = true_relative_error(np.array([1.0, 1.0, 0.5]), -0.1, 0.1)
    >>> bool(1.5e-4 < e < 1.8e-4)
    True
    """
    with mpmath.workdps(dps):
        coefs = [mpmath.mpf(float(a)) for a in coefficients][::-1]
        lo_m, hi_m = mpmath.mpf(float(lo)), mpmath.mpf(float(hi))
        worst = mpmath.mpf(0)
        for i in range(points):
            x = lo_m + (hi_m - lo_m) * i / (points - 1)
            worst = max(worst, abs(mpmath.polyval(coefs, x) * mpmath.exp(-x) - 1))
        return float(worst)


def degree_certificates(
    L_values: Sequence[float],
    eps_values: Sequence[float],
    constant: float = AGGARWAL_ALMAN_CONSTANT,
    points: int = 2001,
) -> list[DegreeCertificate]:
    """The degree table: formula, certified code degree, and their true errors on a grid.

    Parameters
    ----------
    L_values : interval lengths ``L > 0`` (intervals ``[-L/2, L/2]``).
    eps_values : targets in ``(0, 1)``.
    constant : ``C`` of the Aggarwal–Alman formula.
    points : grid size of :func:`true_relative_error`.

    Returns
    -------
    list of :class:`DegreeCertificate`, ``L`` major.

    Raises
    ------
    ValueError
        If some ``L <= 0`` or some ``eps`` is outside ``(0, 1)``.

    Examples
    --------
    >>> (c,) = degree_certificates([2.0], [1e-6])
    >>> c.code_degree, bool(c.true_error <= c.certified_error <= 1e-6)
    (7, True)

    Notes
    -----
    Cost: one :func:`exp_approximation` per cell (cached; about a second for
    ``L = 16``) plus ``points`` 50-digit evaluations.
    """
    for L_ in L_values:
        if not (np.isfinite(L_) and L_ > 0):
            raise ValueError(f"L_values must be positive finite numbers, got {L_!r}")
    for e in eps_values:
        check_eps(e, "eps_values")
    table = []
    for L_ in L_values:
        h = L_ / 2
        for e in eps_values:
            formula = float(aggarwal_alman_degree_expr(L_, e, constant))
            try:
                p = exp_approximation(-h, h, e)
            except ValueError:
                table.append(DegreeCertificate(L_, e, formula, None, math.nan, math.nan, math.nan, math.nan))
                continue
            tail = chebyshev_truncation_error(h, p.degree)
            table.append(
                DegreeCertificate(
                    L_, e, formula, p.degree, p.max_relative_error,
                    true_relative_error(p.coefficients, -h, h, points),
                    tail * math.exp(-h), tail * math.exp(h),
                )
            )
    return table


def fit_aggarwal_alman_constant(certificates: Sequence[DegreeCertificate]) -> float:
    """Smallest ``C`` with ``C g_AA(L, eps) >= code_degree`` over the feasible certificates.

    The certificates' own ``formula_degree`` is ignored: ``g_AA`` is
    recomputed with ``C = 1``.  Rounded up to 4 decimals.

    Raises
    ------
    ValueError
        If no certificate is feasible.

    Examples
    --------
    >>> fit_aggarwal_alman_constant(degree_certificates([2.0], [1e-6]))
    0.9793
    """
    ratios = [
        c.code_degree / float(aggarwal_alman_degree_expr(c.L, c.eps))
        for c in certificates
        if c.code_degree is not None
    ]
    if not ratios:
        raise ValueError("certificates must contain at least one feasible (L, eps) point")
    return math.ceil(max(ratios) * 1e4) / 1e4
