"""Degree certificates: the degrees the code certifies, against the Aggarwal–Alman formula.

For relative error ``eps`` of ``e^x`` on ``[-L/2, L/2]``, three degrees side by
side: the formula ``C g_AA(L, eps)``
(:func:`algorithms.bounds.aggarwal_alman_degree_expr`, Aggarwal & Alman 2022,
Thm 1.2), the degree :func:`algorithms.polynomial_method.approximate_exp` certifies,
and the true error of its float64 coefficients, measured in mpmath at 50
digits, between the Chebyshev–Bessel truncation bounds.
:func:`fit_aggarwal_alman_constant` recovers
:data:`algorithms.bounds.AGGARWAL_ALMAN_CONSTANT` from the grid
:data:`DEGREE_GRID` (see docs/polynomial-method.md).

References
----------
.. [1] A. Aggarwal, J. Alman. Optimal-degree polynomial approximations for
   exponentials and Gaussian kernel density estimation. CCC 2022,
   arXiv:2205.06249 (Thm 1.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import mpmath
import numpy as np

from algorithms._checks import check_eps
from algorithms.bounds import AGGARWAL_ALMAN_CONSTANT, aggarwal_alman_degree_expr
from algorithms.polynomial_method import approximate_exp, chebyshev_truncation_error

__all__ = [
    "DEGREE_GRID",
    "DegreeCertificate",
    "DegreeTable",
    "true_relative_error",
    "degree_certificates",
    "fit_aggarwal_alman_constant",
]

#: The ``(L, eps)`` grid on which :data:`algorithms.bounds.AGGARWAL_ALMAN_CONSTANT`
#: is fitted (intervals ``[-L/2, L/2]``; points where float64 cannot reach
#: ``eps`` are recorded as infeasible and left out of the fit).
DEGREE_GRID: tuple[tuple[float, ...], tuple[float, ...]] = (
    (1.0, 2.0, 4.0, 8.0, 16.0),
    (1e-2, 1e-4, 1e-6, 1e-8),
)


@dataclass(frozen=True)
class DegreeCertificate:
    """Three degrees for relative error ``eps`` of ``e^x`` on ``[-L/2, L/2]``.

    Attributes
    ----------
    L, eps : the interval length and target.
    formula_degree : ``AGGARWAL_ALMAN_CONSTANT * g_AA(L, eps)`` (real).
    code_degree : the degree :func:`~algorithms.polynomial_method.approximate_exp` certifies, or ``None``
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

    def __repr__(self) -> str:
        """One line: the three degrees and the two errors."""
        if self.code_degree is None:
            return (f"DegreeCertificate(L={self.L:g}, eps={self.eps:g}: C g_AA = {self.formula_degree:.1f}, "
                    f"no float64 polynomial reaches eps)")
        return (f"DegreeCertificate(L={self.L:g}, eps={self.eps:g}: C g_AA = {self.formula_degree:.1f}, "
                f"code g = {self.code_degree}, certified {self.certified_error:.2e} >= true {self.true_error:.2e})")


class DegreeTable(list):
    """The list of :class:`DegreeCertificate` that :func:`degree_certificates` returns, shown as a table."""

    _HEADERS = ("L", "eps", "C g_AA", "g (code)", "certified error", "true error (50 digits)")

    def _rows(self):
        for c in self:
            if c.code_degree is None:
                yield [f"{c.L:g}", f"{c.eps:g}", f"{c.formula_degree:.1f}", "float64 cannot reach eps", "", ""]
            else:
                yield [f"{c.L:g}", f"{c.eps:g}", f"{c.formula_degree:.1f}", c.code_degree,
                       f"{c.certified_error:.2e}", f"{c.true_error:.2e}"]

    def __repr__(self) -> str:
        return f"DegreeTable({len(self)} certificates)\n" + "\n".join(" | ".join(map(str, r)) for r in self._rows())

    def _repr_html_(self) -> str:
        from algorithms._display import html_table

        return html_table(self._HEADERS, self._rows(), caption=f"{len(self)} degree certificates")


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
    DegreeTable
        A list of :class:`DegreeCertificate`, ``L`` major, shown as a table in notebooks.

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
    Cost: one :func:`~algorithms.polynomial_method.approximate_exp` per cell (cached; about a second for
    ``L = 16``) plus ``points`` 50-digit evaluations.
    """
    for L_ in L_values:
        if not (np.isfinite(L_) and L_ > 0):
            raise ValueError(f"L_values must be positive finite numbers, got {L_!r}")
    for e in eps_values:
        check_eps(e, "eps_values")
    table = DegreeTable()
    for L_ in L_values:
        h = L_ / 2
        for e in eps_values:
            formula = float(aggarwal_alman_degree_expr(L_, e, constant))
            try:
                p = approximate_exp(h, 1, e)  # k = 1: the interval [-h, h] itself
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
