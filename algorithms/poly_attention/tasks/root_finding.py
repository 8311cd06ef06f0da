"""Polynomial root-finding by one poly-attention head whose ``h`` is read off ``p^2``.

Token ``l1`` answers whether ``p(y_l1, y_l2, ..., y_lt) = 0`` for some tokens
(Chakrabarti, Pitassi & Alman, arXiv 2602.02422, Thm 3.7).  One head whose
``h`` is read off the support of ``p^2`` (:func:`root_finding_polynomial`,
:func:`root_finding_weights`); Match3 without the modulus is
``p = y1 + y2 + y3 - m``.

The weights are our own reconstruction, proved in the docstring (see
docs/poly-attention.md).  Their entries are ``poly(n)``: far above the
``(log n)^{1/k}`` threshold of the fast algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..attention_polynomial import AttentionPolynomial
from ..exact import poly_attention_exact
from .integer_polynomial import evaluate_polynomial, parse_polynomial, square, support

__all__ = [
    "RootFindingInstance",
    "random_root_finding",
    "root_finding_polynomial",
    "root_finding_weights",
    "solve_root_finding",
]


@dataclass(frozen=True)
class RootFindingInstance:
    """Token values ``y_l`` (integers) and a fixed integer polynomial ``p(y_1..y_t)``.

    Token ``l1`` answers 1 iff some ``l2..lt`` (repeats allowed, ``l1``
    included) give ``p(y_l1, y_l2, ..., y_lt) = 0``: polynomial root-finding
    over the set ``S`` of token values (Chakrabarti, Pitassi & Alman, arXiv
    2602.02422, Thm 3.7).  Match3 without the modulus is ``p = y1 + y2 + y3 - m``.

    Examples
    --------
    >>> inst = RootFindingInstance(np.array([1, 2, 5]), "y1 + y2 - y3")
    >>> inst.labels.tolist()  # 1 + 1 - 2 = 0; 2 + y2 is never in S; 5 + y2 > 5
    [True, False, False]
    """

    y: np.ndarray
    p: dict

    def __post_init__(self) -> None:
        y = np.asarray(self.y)
        if y.ndim != 1 or y.size == 0 or not np.issubdtype(y.dtype, np.integer):
            raise ValueError("y must be a non-empty 1-d integer array")
        object.__setattr__(self, "y", y.astype(np.int64))
        object.__setattr__(self, "p", parse_polynomial(self.p))

    @property
    def t(self) -> int:
        return len(next(iter(self.p)))

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def labels(self) -> np.ndarray:
        """Brute force over the ``n^t`` tuples: ``exists l2..lt: p(y_l1, y_l2, ...) = 0``."""
        n, t = self.n, self.t
        if n**t > 10**7:
            raise ValueError(f"n^t = {n}^{t} is too large for the brute-force labels (limit 1e7)")
        R = int(np.abs(self.y).max())
        if sum(abs(c) * R ** sum(a) for a, c in self.p.items()) >= 2**62:
            raise ValueError("|p| may exceed the int64 range on these values")
        Y = [self.y.reshape([n if k == j else 1 for k in range(t)]) for j in range(t)]
        return (evaluate_polynomial(self.p, Y) == 0).reshape(n, -1).any(axis=1)


def random_root_finding(
    p, n: int, low: int, high: int, rng: np.random.Generator | None = None
) -> RootFindingInstance:
    """``n`` token values uniform in ``{low, ..., high}`` and the polynomial ``p``."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not (isinstance(low, int) and isinstance(high, int) and low <= high):
        raise ValueError(f"low and high must be integers with low <= high, got {low!r}, {high!r}")
    rng = np.random.default_rng(rng)
    return RootFindingInstance(rng.integers(low, high + 1, size=n), p)


def root_finding_polynomial(p, t: int | None = None) -> tuple[AttentionPolynomial, dict]:
    """The attention polynomial ``h`` read off the support of ``p^2``, and where each term goes.

    Every monomial ``c y^beta`` of ``p^2`` involves the token variables
    ``supp(beta)``.  Terms in ``y1`` alone (and the constant) are the same
    for every tuple of a query and cancel in the softmax: dropped.  The
    monomials of ``h`` are the *maximal* supports of size ``>= 2``; every other
    term (a smaller support, or a single variable) is folded into the first
    maximal support that contains it.  Maximal, because one matrix ``Q^(j)``
    serves every monomial of ``h`` containing ``x_j``: a monomial ``x_S`` with
    ``S`` inside another monomial ``x_T`` would also multiply ``T``'s columns
    (all of ``T``'s variables are non-zero there) and read a wrong term.  A
    variable in no support of size ``>= 2`` gets the monomial ``x1 x_j``.

    Returns ``(h, assignment)`` with ``assignment[beta]`` the monomial
    (a sorted tuple) that carries the term ``beta``.

    Examples
    --------
    >>> print(root_finding_polynomial("y1 + y2 + y3 - 7")[0])  # Match3 -> Strassen
    x1x2 + x1x3 + x2x3
    >>> print(root_finding_polynomial("y1*y2 - y3")[0])  # -> 3-tensor attention
    x1x2x3
    """
    p = parse_polynomial(p, t)
    t = len(next(iter(p)))
    terms = {a: c for a, c in square(p).items() if not support(a) <= {1}}
    supports = {support(a) for a in terms if len(support(a)) >= 2}
    sets = sorted((S for S in supports if not any(S < T for T in supports)), key=lambda S: (len(S), sorted(S)))
    for j in range(1, t + 1):
        if not any(j in S for S in sets):
            sets.append(frozenset({1, j if j != 1 else 2}))
    assignment = {a: tuple(sorted(next(S for S in sets if support(a) <= S))) for a in terms}
    return AttentionPolynomial(t, [tuple(sorted(S)) for S in sets]), assignment


def root_finding_weights(inst: RootFindingInstance):
    """One poly-attention head with logit ``-K p(y)^2 + G code(l)``; the output reads off a root.

    Parameters
    ----------
    inst : RootFindingInstance

    Returns
    -------
    (h, Xs, Vs) with ``h`` from :func:`root_finding_polynomial`, ``d`` = the
    number of kept terms of ``p^2`` plus ``t - 1``, ``d_v = t - 1``.

    Raises
    ------
    ValueError
        The logits are too large for the float64 argument below (very large
        ``n``, values or coefficients).

    Notes
    -----
    Construction.  ``N = n^(t-1)`` tuples ``l = (l_2..l_t)`` per query;
    ``code(l) = sum_{j>=2} n^(t-j) l_j`` (base-``n`` digits, injective, in
    ``[0, N)``).  With ``R = max |y|``, spread ``D = max y - min y`` and
    ``Lip = sum_{j>=2} sum_beta |c_beta| beta_j R^(|beta|-1)`` (a bound on
    ``sum_j |dp/dy_j|`` over the box ``[-R, R]^t``), put
    ``G = ln(4 max(1, Lip D) N) + 1`` and ``K = 2 G N``.  Each kept term
    ``c y^beta`` of ``p^2`` (see :func:`root_finding_polynomial`) is one column
    in the block of its monomial ``T`` of ``h``: ``Q^(j)[l, col] = y_l^beta_j``
    for ``j in T`` (1 where ``beta_j = 0``), times ``-K c d`` on the smallest
    ``j`` of ``T``, 0 for ``j`` outside ``T``.  The tie-break ``G n^(t-j) l_j``
    is one more column in a monomial containing ``x_j``.  Since monomials of
    ``h`` are never nested, the columns of ``T`` contribute to ``T`` only, so
    ``h/d = -K p(y_l1, y_l)^2 + G code(l) + const(l1)``.  Values:
    ``V^(j)[l]`` has ``y_l`` in coordinate ``j - 2`` and 1 elsewhere, so the
    output is ``(E y_l2, ..., E y_lt) = yhat``.  Output check:
    ``|p(y_l1, yhat)| < 1/2``.  Every row of ``Q^(j)`` is a fixed map of the
    token's powers ``(1, y, y^2, ..., y^(2 deg p))`` and its position.

    Proof.  Margin: let ``l*`` maximise the logit.  ``p^2`` is a non-negative
    integer; a tuple with larger ``p^2`` loses ``>= K - G(N - 1) > G``, one
    with equal ``p^2`` has a different code and loses ``>= G``.  So ``l*``
    minimises ``|p|`` (a root if one exists) and every other tuple is at least
    ``G`` lower; the ``< N`` others carry a fraction ``<= N e^{-G}`` of the
    softmax mass.  Read-off: ``yhat`` is a convex combination of value rows, so
    ``|yhat_j - y*_j| <= D N e^{-G}`` and ``yhat`` stays in the box; along the
    segment from ``y*`` to ``yhat``, ``|p(y_l1, yhat) - p(y_l1, y*)| <= Lip D N
    e^{-G} <= 1/(4e) < 1/4``.  If a root exists, ``p(y_l1, y*) = 0`` and the
    check passes; if not, ``|p(y_l1, y*)| >= 1`` and it fails.  Ties are
    broken by ``code`` (without it the mean of two roots need not be a root,
    e.g. for ``y1 y2 - y3``).  Precision: the logits are sums of ``d`` float64
    products of at most ``t + 1`` factors, so their rounding error is at most
    ``eta = (t + d + 2) u (K sum|c_beta| R^|beta| + G N)`` (``u = 2^-53``);
    we require ``eta <= 1/2``, which costs at most ``2 eta <= 1`` of the margin,
    the ``+1`` in ``G``.

    Relation to the paper.  Thm 3.7 of arXiv 2602.02422 (read through
    secondary summaries; see docs/poly-attention.md) says root-finding
    for any fixed ``p`` is solved by poly-attention with "two heads" (one
    summary says two layers; unresolved in our sources), with ``p^2``
    hard-coded into the weights (Appendix G, per a reviewer).  Here one head
    suffices over the integers; Match3's ``mod m`` needs one head per
    candidate value of the sum (``Sigma = m, 2m``), which may be where the
    paper's two heads come from.  The entries are ``poly(n)``: outside the
    ``(log n)^{1/k}`` regime of the fast algorithm.

    Examples
    --------
    >>> inst = RootFindingInstance(np.array([1, 2, 5, 3]), "y1 + y2 - y3")
    >>> h, Xs, Vs = root_finding_weights(inst)
    >>> print(h)
    x1x2 + x1x3 + x2x3
    >>> len(Vs), Vs[0].shape
    (2, (4, 2))
    >>> solve_root_finding(inst)[0].tolist() == inst.labels.tolist()
    True
    """
    p, y, n, t = inst.p, inst.y.astype(float), inst.n, inst.t
    h, assignment = root_finding_polynomial(p, t)
    terms = square(p)
    R = float(np.abs(inst.y).max())
    D = float(inst.y.max() - inst.y.min())
    N = float(n) ** (t - 1)
    lip = sum(abs(c) * a[j] * R ** (sum(a) - 1) for a, c in p.items() for j in range(1, t) if a[j])
    G = float(np.log(4 * max(1.0, lip * D) * N)) + 1
    K = 2 * G * N
    d = len(assignment) + t - 1
    eta = (t + d + 2) * 2.0**-53 * (K * sum(abs(terms[a]) * R ** sum(a) for a in assignment) + G * N)
    if eta > 0.5:
        raise ValueError(f"logits too large for float64 (rounding bound {eta:.2g} > 1/2): use smaller n, values or p")
    Xs = [np.zeros((n, d)) for _ in range(t)]

    def column(col: int, T: tuple[int, ...], factors: dict[int, np.ndarray], scale: float) -> None:
        for j in T:
            Xs[j - 1][:, col] = factors.get(j, 1.0)
        Xs[min(T) - 1][:, col] *= d * scale

    for col, (a, T) in enumerate(assignment.items()):
        column(col, T, {j: y ** a[j - 1] for j in T}, -K * terms[a])
    pos = np.arange(n, dtype=float)
    for j in range(2, t + 1):
        T = next(M for M in h.monomials if j in M)
        column(len(assignment) + j - 2, T, {j: float(n) ** (t - j) * pos}, G)
    Vs = []
    for j in range(2, t + 1):
        V = np.ones((n, t - 1))
        V[:, j - 2] = y
        Vs.append(V)
    return h, Xs, Vs


def solve_root_finding(inst: RootFindingInstance) -> tuple[np.ndarray, np.ndarray]:
    """Run the head exactly; return ``(predicted labels, |p(y_l1, yhat)|)`` per token."""
    h, Xs, Vs = root_finding_weights(inst)
    yhat = poly_attention_exact(h, Xs, Vs).output
    value = evaluate_polynomial(inst.p, [inst.y.astype(float)] + list(yhat.T))
    return np.abs(value) < 0.5, np.abs(value)
