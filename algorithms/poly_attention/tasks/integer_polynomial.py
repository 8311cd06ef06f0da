"""Integer polynomials ``p(y_1, ..., y_t)`` as ``{exponent tuple: coefficient}``: parse, square, evaluate.

The data structure of :mod:`~algorithms.poly_attention.tasks.root_finding`,
whose head reads its attention polynomial off the supports of ``p^2``.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["Exponent", "parse_polynomial", "evaluate_polynomial", "square", "support"]

Exponent = tuple[int, ...]


def parse_polynomial(p, t: int | None = None) -> dict[Exponent, int]:
    """An integer polynomial ``p(y_1..y_t)`` as ``{exponent tuple: coefficient}``.

    Parameters
    ----------
    p : dict ``{(a_1, ..., a_t): c}`` with integer ``a_j >= 0`` and integer
        ``c``, or a string / sympy expression in ``y1, ..., yt`` with integer
        coefficients (e.g. ``"y1*y2 - y3"``).
    t : number of variables; default the tuple length (dict) or the largest
        index ``yj`` that occurs (expression).

    Raises
    ------
    ValueError
        Exponent tuples of unequal length or with negative entries, a
        non-integer coefficient, an unreadable expression, ``t < 2``, or ``p``
        identically zero.

    Examples
    --------
    >>> parse_polynomial("y1 + y2 - 3") == {(1, 0): 1, (0, 1): 1, (0, 0): -3}
    True
    """
    if isinstance(p, dict):
        terms = {}
        for a, c in p.items():
            a = tuple(a)
            if not all(isinstance(e, (int, np.integer)) and e >= 0 for e in a):
                raise ValueError(f"exponents must be non-negative integers, got {a}")
            if not isinstance(c, (int, np.integer)):
                raise ValueError(f"coefficients must be integers, got {c!r} for {a}")
            terms[tuple(int(e) for e in a)] = terms.get(tuple(int(e) for e in a), 0) + int(c)
        lengths = {len(a) for a in terms}
        if len(lengths) > 1:
            raise ValueError(f"exponent tuples must all have length t, got lengths {sorted(lengths)}")
        t0 = lengths.pop() if lengths else 0
        if t is not None and t0 != t:
            raise ValueError(f"exponent tuples have length {t0}, expected t={t}")
        t = t0
    else:
        import sympy

        try:
            expr = sympy.sympify(p)
        except (sympy.SympifyError, TypeError) as exc:
            raise ValueError(f"cannot read the polynomial {p!r}") from exc
        names = {s.name for s in expr.free_symbols}
        if not all(re.fullmatch(r"y[1-9]\d*", s) for s in names):
            raise ValueError(f"p may use only the variables y1, y2, ...; got {sorted(names)}")
        t = max([int(s[1:]) for s in names] + [t or 0])
        if t < 2:
            raise ValueError(f"p must have t >= 2 variables (y1 is the query's), got {p!r}")
        syms = sympy.symbols(f"y1:{t + 1}")
        try:
            poly = sympy.Poly(sympy.expand(expr), *syms)
        except sympy.PolynomialError as exc:
            raise ValueError(f"p must be a polynomial, got {p!r}") from exc
        terms = {}
        for a, c in poly.terms():
            if not c.is_integer:
                raise ValueError(f"coefficients must be integers, got {c} for y^{a}")
            terms[tuple(a)] = int(c)
    terms = {a: c for a, c in terms.items() if c != 0}
    if t < 2:
        raise ValueError(f"p must have t >= 2 variables (y1 is the query's), got t={t}")
    if not terms:
        raise ValueError("p is identically zero")
    return terms


def square(p: dict[Exponent, int]) -> dict[Exponent, int]:
    """``p^2`` by expanding the product (exact integer coefficients)."""
    out: dict[Exponent, int] = {}
    for a, c in p.items():
        for b, e in p.items():
            ab = tuple(x + y for x, y in zip(a, b, strict=True))
            out[ab] = out.get(ab, 0) + c * e
    return {a: c for a, c in out.items() if c != 0}


def support(a: Exponent) -> frozenset[int]:
    """Variables (numbered from 1) with a positive exponent."""
    return frozenset(j + 1 for j, e in enumerate(a) if e > 0)


def evaluate_polynomial(p: dict[Exponent, int], Y) -> np.ndarray:
    """``p(Y_1, ..., Y_t)`` for broadcastable arrays ``Y_j`` (integers stay exact in int64)."""
    t = len(next(iter(p)))
    if len(Y) != t:
        raise ValueError(f"Y must hold t={t} arrays, one per variable, got {len(Y)}")
    total = 0
    for a, c in p.items():
        term = c
        for Yj, e in zip(Y, a, strict=True):
            if e:
                term = term * np.asarray(Yj) ** e
        total = total + term
    return np.asarray(total)
