"""Size claims: a reduction's declared blow-up as sympy expressions, checked against the instances it builds.

A reduction's docstring says, e.g., "``N_a = 2^{ceil(n/2)}``, ``m = M``".  A
:class:`SizeClaim` holds that sentence in executable form: ``claims`` maps a
size name to a sympy expression in the *source's* parameters (or to
:func:`at_most` of one, for an upper bound); ``parameters(source)`` gives the
values of those parameters; ``measure(source, target)`` reads the actual
sizes off the target.  Called as ``claim(source, target)`` it returns the
actual sizes (so it is the ``sizes`` argument of
:func:`~reductions.testing.check_reduction`), and :meth:`SizeClaim.violations`
lists every size that breaks its claim.

Integer claims are compared exactly; real ones (``B = sqrt(m (ln(2 N_b) + 1))``)
to a relative ``rtol`` (default ``1e-9``: float64 rounding of a few operations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import sympy

__all__ = ["SizeClaim", "Bound", "at_most", "at_least"]


class Bound(NamedTuple):
    """A one-sided claim: the actual size is ``<=`` (``relation="<="``) or ``>=`` the expression."""

    relation: str
    expr: sympy.Expr


def at_most(expr) -> Bound:
    """Claim ``actual <= expr``.

    Examples
    --------
    >>> at_most(sympy.Symbol("m") + 1)
    Bound(relation='<=', expr=m + 1)
    """
    return Bound("<=", sympy.sympify(expr))


def at_least(expr) -> Bound:
    """Claim ``actual >= expr``."""
    return Bound(">=", sympy.sympify(expr))


def _number(value: sympy.Expr) -> int | float:
    if value.is_Integer:
        return int(value)
    if value.is_number:
        return float(sympy.N(value, 30))
    raise ValueError(f"the claim did not evaluate to a number: {value}")


@dataclass(frozen=True)
class SizeClaim:
    """A reduction's declared sizes, as sympy expressions in the source's parameters.

    Parameters
    ----------
    claims : ``{size name: sympy expression or at_most(expr) / at_least(expr)}``;
        the expression's free symbols are looked up *by name* in ``parameters(source)``.
    parameters : ``source -> {symbol name: value}``.
    measure : ``(source, target) -> {size name: actual value}``; every name
        of ``claims`` must be there (extra names are only reported).
    rtol : relative tolerance for claims that are not integers.

    Raises
    ------
    ValueError
        (from :meth:`violations`) a claim whose symbol ``parameters`` does not
        give, or a claimed size that ``measure`` does not return.

    Examples
    --------
    >>> n, M = sympy.symbols("n M", integer=True, nonnegative=True)
    >>> from reductions.cnf import CNF
    >>> from reductions.sat_to_ov import sat_to_ov
    >>> claim = SizeClaim({"N_a": 2**sympy.ceiling(n / 2), "m": M},
    ...                   parameters=lambda f: {"n": f.num_vars, "M": f.num_clauses},
    ...                   measure=lambda f, inst: {"N_a": inst.N_a, "m": inst.m})
    >>> f = CNF(3, [(1, -2), (3,)])
    >>> target, _ = sat_to_ov(f)
    >>> claim(f, target), claim.violations(f, claim(f, target))
    ({'N_a': 4, 'm': 2}, [])
    """

    claims: Mapping[str, Any]
    parameters: Callable[[Any], Mapping[str, Any]]
    measure: Callable[[Any, Any], Mapping[str, Any]]
    rtol: float = 1e-9

    def __call__(self, source, target) -> dict[str, Any]:
        return dict(self.measure(source, target))

    def expected(self, source) -> dict[str, tuple[str, int | float]]:
        """``{size name: (relation, value)}``: each claim evaluated at ``source``'s parameters."""
        params = dict(self.parameters(source))
        out = {}
        for name, claim in self.claims.items():
            relation, expr = (claim.relation, claim.expr) if isinstance(claim, Bound) else ("==", claim)
            expr = sympy.sympify(expr)
            missing = sorted(s.name for s in expr.free_symbols if s.name not in params)
            if missing:
                raise ValueError(f"size claim {name} = {expr} uses {missing}, which parameters(source) does not "
                                 f"give (it gives {sorted(params)})")
            out[name] = relation, _number(expr.subs({s: params[s.name] for s in expr.free_symbols}))
        return out

    def violations(self, source, actual: Mapping[str, Any]) -> list[str]:
        """One line per size that breaks its claim (empty when the claim holds)."""
        params = dict(self.parameters(source))
        out = []
        for name, (relation, value) in self.expected(source).items():
            if name not in actual:
                raise ValueError(f"measure(source, target) gives no size {name!r} (it gives {sorted(actual)})")
            got = actual[name]
            slack = 0 if isinstance(value, int) and float(got) == int(got) else self.rtol * max(1.0, abs(value))
            ok = {"==": abs(got - value) <= slack, "<=": got <= value + slack, ">=": got >= value - slack}[relation]
            if not ok:
                claim = self.claims[name]
                expr = claim.expr if isinstance(claim, Bound) else claim
                shown = ", ".join(f"{k} = {v}" for k, v in params.items())
                out.append(f"{name} = {got}, but the claim {name} {relation} {expr} gives {value} at {shown}")
        return out
