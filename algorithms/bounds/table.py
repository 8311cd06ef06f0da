"""The threshold table: both sides of the bounded-entry threshold, each entry a sympy limit.

For each mechanism (logit degree ``k``): on the upper-bound side
``B = (log n)^{1/k} / log log n`` the fast algorithm's exponent is 1; at the
entry size the hard instance needs, ``B* = ((k-1) ln n)^{1/k}``, it stays above
1 (bracketed by the two rank bounds of
:func:`~algorithms.bounds.expressions.log_rank_bounds`), next to the exact
exponent ``k`` and the exponent SETH rules out (see docs/threshold.md).

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214 (Thm 1.3, Thm 1.4).
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064.
.. [3] T. Chakrabarti, T. Pitassi, J. Alman. Poly-attention. ICLR 2026,
   arXiv:2602.02422 (Thm 3.6).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from .expressions import (
    AGGARWAL_ALMAN_CONSTANT,
    SYMBOLS,
    exact_time_expr,
    hard_instance_bound_expr,
    mechanism_degree,
)
from .limits import _as_expr, asymptotic_exponent

__all__ = ["ThresholdRow", "ThresholdTable", "threshold_table"]

_n, _N = SYMBOLS.n, SYMBOLS.N


@dataclass(frozen=True)
class ThresholdRow:
    """One mechanism on both sides of its threshold (see docs/threshold.md).

    Attributes
    ----------
    mechanism : name; k : logit degree.
    small_B : the entry bound ``(log n)^{1/k} / log log n`` (upper-bound side).
    fast_exponent_small_B : the limit of :func:`asymptotic_exponent` there (1).
    hard_B : :func:`hard_instance_bound_expr` with gap 1.
    hard_B_power : ``lim log(hard_B) / log log n`` (``1/k``).
    fast_exponent_at_hard_B : ``(lower, upper)`` limits at ``B = hard_B``.
    constant : the ``C`` of the degree ``C g_AA(L, eps)`` used for both limits.
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
    constant: float
    exact_exponent: sp.Expr
    seth_exponent: sp.Expr

    def __repr__(self) -> str:
        """One line: the mechanism, its two entry sizes and the exponents there."""
        lo, hi = self.fast_exponent_at_hard_B
        return (f"ThresholdRow({self.mechanism}, k={self.k}: B = {self.small_B} -> exponent "
                f"{self.fast_exponent_small_B}; B* = {self.hard_B} -> [{float(lo):.3f}, {float(hi):.3f}]; "
                f"exact {self.exact_exponent}, SETH {self.seth_exponent}; C = {self.constant:g})")


class ThresholdTable(list):
    """The list of :class:`ThresholdRow` that :func:`threshold_table` returns, shown as a table in notebooks."""

    _HEADERS = ("mechanism", "small B", "exponent", "hard B*", "B* ~ (log n)^", "fast exponent at B* (lower, upper)",
                "exact", "SETH")

    def _cells(self, row: ThresholdRow, latex: bool) -> list[str]:
        def show(e):
            return f"${sp.latex(e)}$" if latex else str(e)

        lo, hi = row.fast_exponent_at_hard_B
        return [row.mechanism, show(row.small_B), show(row.fast_exponent_small_B), show(row.hard_B),
                show(row.hard_B_power), f"{float(lo):.3f}, {float(hi):.3f}", show(row.exact_exponent),
                show(row.seth_exponent)]

    def __repr__(self) -> str:
        lines = [" | ".join(self._HEADERS)] + [" | ".join(self._cells(r, False)) for r in self]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from algorithms._display import html_table

        constant = f", C = {self[0].constant:g}" if self else ""
        return html_table(self._HEADERS, [self._cells(r, False) for r in self],
                          caption=f"threshold_table: d = log n, eps = 1/n{constant}")

    def _repr_markdown_(self) -> str:
        """Markdown with the expressions in LaTeX (Jupyter renders it with MathJax)."""
        head = "| " + " | ".join(self._HEADERS) + " |\n|" + "---|" * len(self._HEADERS)
        return head + "".join("\n| " + " | ".join(self._cells(r, True)) + " |" for r in self)


def threshold_table(
    ks: Sequence[str | int] = ("matrix", "tensor", "degree-4"),
    d_of_n: sp.Expr | Callable = sp.log(_n),
    eps_of_n: sp.Expr | Callable = 1 / _n,
    constant: float = AGGARWAL_ALMAN_CONSTANT,
) -> list[ThresholdRow]:
    """Both sides of the bounded-entry threshold, every entry computed by sympy.

    Parameters
    ----------
    ks : the mechanisms' logit degrees ``k``, or their names (see
        :func:`~algorithms.bounds.expressions.mechanism_degree`).
    d_of_n, eps_of_n : head dimension and accuracy as functions of ``n``
        (default ``d = log n``, ``eps = 1/n``).
    constant : the ``C`` of the Aggarwal–Alman degree ``C g_AA(L, eps)``;
        default :data:`~algorithms.bounds.expressions.AGGARWAL_ALMAN_CONSTANT`
        (1.5), the value fitted against the degrees the code certifies.

    Returns
    -------
    ThresholdTable
        A list of :class:`ThresholdRow` (one per mechanism) that a notebook
        shows as a table.

    Examples
    --------
    >>> row = threshold_table(["matrix"])[0]
    >>> row.fast_exponent_small_B, row.hard_B_power, row.seth_exponent, row.constant
    (1, 1/2, 2, 1.5)
    >>> [round(float(e), 3) for e in row.fast_exponent_at_hard_B]  # 1 + log 4, 2 + log 4
    [2.386, 3.386]

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

    The constant ``C`` does not change the upper-bound side (the limit is 1
    for every ``C``) but does change the exponent at ``B*``: there
    ``L = 2 (k-1) ln n`` dominates ``log(1/eps) = ln n``, so
    ``g = gamma ln n`` with ``gamma = 2 C (k-1)``, and with ``d = ln n`` the two
    rank bounds give ``1 + log(1 + gamma)`` and ``2 + log(1 + gamma)``.  The
    default is the fitted ``C = 1.5``; ``constant=1`` gives the bare
    ``Theta``-expression of :func:`asymptotic_exponent`'s default.
    """
    C = sp.nsimplify(constant)  # 3/2, not 1.5: the limits stay exact (1 + log 4, not a float)
    rows = ThresholdTable()
    for name in ks:
        k = mechanism_degree(name)
        small = sp.log(_n) ** sp.Rational(1, k) / sp.log(sp.log(_n))
        hard = hard_instance_bound_expr(k, 1)
        at_hard = tuple(
            asymptotic_exponent(k, hard, d_of_n, eps_of_n, constant=C, rank_bound=side)
            for side in ("lower", "upper")
        )
        d_n = _as_expr(d_of_n)
        rows.append(
            ThresholdRow(
                mechanism=name if isinstance(name, str) else f"degree-{k}",
                k=k,
                small_B=small,
                fast_exponent_small_B=asymptotic_exponent(k, small, d_of_n, eps_of_n, constant=C),
                hard_B=hard,
                hard_B_power=sp.limit(sp.log(hard) / sp.log(sp.log(_n)), _n, sp.oo),
                fast_exponent_at_hard_B=at_hard,
                constant=float(constant),
                exact_exponent=sp.limit(sp.log(exact_time_expr(_n, d_n, k)) / sp.log(_n), _n, sp.oo),
                seth_exponent=sp.limit(sp.log(_N**k) / sp.log(_N + 1), _N, sp.oo),
            )
        )
    return rows
