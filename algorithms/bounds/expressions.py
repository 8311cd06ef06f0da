"""The four quantities of the polynomial method, as sympy expressions.

The fast algorithms rest on four quantities.  Each is kept here as a sympy
expression, with the theorem it comes from, so a notebook can print it and a
test can evaluate it (see docs/polynomial-method.md and docs/threshold.md):

1. **Logit interval.**  With every entry of every input bounded by ``B``, a
   degree-``k`` logit ``<q, k_1 o ... o k_{k-1}> / d`` lies in
   ``[-B^k, B^k]``: length ``L = 2 B^k`` (``k = 2`` matrix attention, ``k = 3``
   tensor attention, ``k`` a degree-``k`` poly-attention).
2. **Degree** ``g(L, eps) = C max(L, log(1/eps) / log(log(1/eps) / L))`` for
   relative error ``eps`` of ``e^x`` on an interval of length ``L``
   (Aggarwal & Alman 2022, Thm 1.2; only a ``Theta``, so ``C`` is fitted
   against the degrees :func:`algorithms.polynomial.exp_approximation`
   actually certifies: :data:`AGGARWAL_ALMAN_CONSTANT`, fitted by
   :mod:`algorithms.degree_certificates`).
3. **Rank** ``r = C(d + g, g)`` of the feature maps (Alman & Song 2023,
   Lemma 3.1 states the looser ``C(2(g + d), 2g)``), and **time** ``n r d``.
4. **Output error** of the normalised fast output, in terms of ``eps`` and ``B``.

The symbols are the fields of :data:`SYMBOLS` (``n, d, B, eps, L, g, N``),
deliberately not module-level names: ``from algorithms.bounds import *``
must not overwrite a caller's ``n`` or ``d``.

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

from typing import NamedTuple

import numpy as np
import sympy as sp

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
]


class Symbols(NamedTuple):
    """The sympy symbols the expressions are written in (all positive).

    Attributes
    ----------
    n : sequence length.
    d : head dimension.
    B : entry bound (max-norm of the inputs).
    eps : relative error of the polynomial (printed ``epsilon``).
    L : length of the logit interval.
    g : degree of the polynomial.
    N : vectors per set of a gap instance (the reduction's source size).

    Examples
    --------
    >>> n, d, B, eps, L, g, N = SYMBOLS
    >>> SYMBOLS.eps, (n * d).is_positive
    (epsilon, True)
    """

    n: sp.Symbol
    d: sp.Symbol
    B: sp.Symbol
    eps: sp.Symbol
    L: sp.Symbol
    g: sp.Symbol
    N: sp.Symbol


#: The symbols of every expression of :mod:`algorithms.bounds`; unpack with
#: ``n, d, B, eps, L, g, N = SYMBOLS`` or read ``SYMBOLS.n``.
SYMBOLS = Symbols(
    *sp.symbols("n d B", positive=True), sp.Symbol("epsilon", positive=True), *sp.symbols("L g N", positive=True)
)
_n = SYMBOLS.n
_gap = sp.Symbol("delta", positive=True)

#: Smallest ``C`` with ``C * g_AA(L, eps) >= g_code(L, eps)`` on
#: :data:`algorithms.degree_certificates.DEGREE_GRID`, where ``g_AA`` is
#: :func:`aggarwal_alman_degree_expr` with ``C = 1`` and ``g_code`` the degree
#: certified by :func:`algorithms.polynomial.exp_approximation`.  Reproduce with
#: ``fit_aggarwal_alman_constant(degree_certificates(*DEGREE_GRID))``
#: (:mod:`algorithms.degree_certificates`, checked by its tests).  With it,
#: ``C g_AA / g_code`` ranges from 1.00 (``L = 16, eps = 1e-6``: ``g = 24``) to
#: 2.26 (``L = 1, eps = 1e-2``: ``g = 2``) on the grid (table in
#: ``notebooks/04_threshold.ipynb``, §3).
AGGARWAL_ALMAN_CONSTANT = 1.5

_NAMED = {"matrix": 2, "tensor": 3}


def mechanism_degree(k: str | int) -> int:
    """The logit degree ``k`` of a mechanism, given as ``k`` or by name: matrix 2, tensor 3, ``"degree-k"``.

    Raises
    ------
    ValueError
        If ``k`` is not ``"matrix"``, ``"tensor"``, ``"degree-<k>"`` or an
        integer ``k >= 2``.

    Examples
    --------
    >>> mechanism_degree("tensor"), mechanism_degree("degree-4"), mechanism_degree(5)
    (3, 4, 5)
    """
    if isinstance(k, (int, np.integer)) and not isinstance(k, bool):
        value = int(k)
    elif isinstance(k, str) and k in _NAMED:
        value = _NAMED[k]
    elif isinstance(k, str) and k.startswith("degree-") and k[7:].isdigit():
        value = int(k[7:])
    else:
        raise ValueError(f"k must be 'matrix', 'tensor', 'degree-<k>' or an integer k >= 2, got {k!r}")
    if value < 2:
        raise ValueError(f"k (the mechanism's logit degree) must be >= 2, got {k!r}")
    return value


def logit_interval_length(B: sp.Expr, k: int = 2) -> sp.Expr:
    """``L = 2 B^k``: logits of a degree-``k`` mechanism lie in ``[-B^k, B^k]``.

    ``|<q, k_1 o ... o k_{k-1}>| / d <= d B^k / d`` (see docs/matrix-attention.md,
    docs/tensor-attention.md and docs/poly-attention.md).

    Examples
    --------
    >>> logit_interval_length(SYMBOLS.B, 3)
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
    >>> aggarwal_alman_degree_expr(SYMBOLS.L, SYMBOLS.eps)
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
    >>> import math
    >>> lo, hi = log_rank_bounds(4, 7)
    >>> bool(float(lo) <= math.log(330) <= float(hi))
    True
    >>> log_rank_bounds(SYMBOLS.d, SYMBOLS.g)[0]
    Max(d*log((d + g)/d), g*log((d + g)/g))
    """
    lower, upper = _log_rank_pieces(d, g)
    return sp.Max(*lower), sp.Min(*upper)


def fast_time_expr(n: sp.Expr, d: sp.Expr, r: sp.Expr) -> sp.Expr:
    """``n r d``: time of the polynomial method (Alman & Song 2023, Thm 1.3; tensor trick for k = 3).

    Examples
    --------
    >>> n, d, B, eps, L, g, N = SYMBOLS
    >>> fast_time_expr(n, d, feature_rank_expr(d, g))
    d*n*binomial(d + g, g)
    """
    return n * r * d


def exact_time_expr(n: sp.Expr, d: sp.Expr, k: int = 2) -> sp.Expr:
    """``n^k d``: exact attention over all ``(k-1)``-tuples of keys.

    Examples
    --------
    >>> exact_time_expr(SYMBOLS.n, SYMBOLS.d, 3)
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
    >>> exact_flops_expr(SYMBOLS.n, SYMBOLS.d)
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
    >>> fast_flops_expr(SYMBOLS.n, SYMBOLS.d, 330)
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
    >>> output_error_expr(SYMBOLS.eps, SYMBOLS.B)
    2*B*epsilon/(sqrt(1 - epsilon**2) + 1)

    Notes
    -----
    Our derivation (the paper states ``O(eps B)`` only; see
    docs/polynomial-method.md, "(E1)").  Row ``i`` of the
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
    This is the bound (E1) that the fast algorithms report,
    ``eps' (max v - min v) / (1 + sqrt(1 - eps'^2))`` (see
    docs/polynomial-method.md, "(E1)"), evaluated at the largest spread the
    values can have, ``R = 2 B^{k-1}``: the same bound, not a multiple of it.

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Sec. 3 (states ``O(eps B)``).
    """
    return 2 * sp.sympify(B) ** (k - 1) * eps / (1 + sp.sqrt(1 - eps**2))


def hard_instance_bound_expr(k: int = 2, gap: sp.Expr = _gap) -> sp.Expr:
    """Entry bound ``s`` the gap reduction into attention needs: ``((k-1) log n / gap)^{1/k}``.

    The reduction (see docs/matrix-attention.md, 'Lower bound', and
    docs/tensor-attention.md) scales 0/1 vectors of dimension ``m = d`` by ``s``, so logits are
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
    roots = sp.solve(sp.Eq(beta * _gap * m, (k - 1) * sp.log(_n)), s)
    # sympy cannot know log(n) > 0; keep the root that is real and positive for n > 1.
    (solution,) = [r for r in roots if r.subs({_n: sp.E, _gap: 1}).is_positive]
    return solution.subs(_gap, gap)


