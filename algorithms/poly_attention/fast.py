"""Fast poly-attention for bounded entries: the polynomial method, monomial by monomial.

Theorem 3.6 of Chakrabarti, Pitassi & Alman (arXiv 2602.02422): with
``d = O(log n)`` and every entry of every ``Q^(j)`` bounded by
``B = o((log n)^{1/k})`` (``k`` the degree of ``h``), ``Att^(h)`` is
approximated to ``1/poly(n)`` in ``n^{1+o(1)}`` time.  This module makes that
run.

Interval.  A monomial ``M`` of degree ``s`` has logit
``<Q^(a)[l_a], ..., Q^(c)[l_c]> / d`` in ``[-B^s, B^s]`` (``d`` terms, each at
most ``B^s``): a mechanism of degree ``s`` for the core.  Each monomial's
operator is built on the narrower interval its own factors certify in
``O(n d)`` (interval products of the column ranges and Hoelder;
:func:`algorithms.polynomial_method.fast_operator`), centred when cheaper;
a monomial float64 cannot evaluate is refused with
:class:`~algorithms.polynomial_method.Float64Limit` (a limit of the arithmetic,
not the lower bound).  The whole logit
``h/d`` therefore lies in ``[-R, R]`` with ``R = sum_M B^{|M|} <= m B^k`` for
``B >= 1`` (``m`` monomials).  We do *not* approximate ``e^{h/d}`` by one
polynomial on ``[-R, R]``: we approximate each factor ``e^{x_M}`` by a
polynomial ``P_s`` of relative error ``eps_f`` on ``[-B^s, B^s]``, with
``(1 + eps_f)^m = 1 + eps``.  The product of the ``m`` factors then has
relative error at most ``entry_error = max(prod(1+e_M) - 1, 1 - prod(1-e_M))
<= eps`` on *every* tuple (:func:`algorithms.error_bounds.product_entry_error`),
with ``e_M`` the entry error of each factor as for matrix and tensor attention
(:func:`algorithms.error_bounds.entry_error`: the certified polynomial error
plus the float64 rounding of forming the factor and of the sums over the
``t - 1`` summed positions).
Why per monomial: each factor has rank ``C(d+g_s, g_s)`` with ``g_s`` set by
``B^s`` alone, and it keeps the structure of ``h`` (a tree stays a tree),
whereas one polynomial of the sum needs degree ``~ R`` and features of
dimension ``m d`` (every variable would meet every monomial).  This is our
reading of how the threshold comes to depend on ``k`` and not on ``t``.

Factors.  By the multinomial theorem,
``P_s(<q_a, q_b o ... o q_c>/d) = sum_alpha phi(q_a)_alpha psi(q_b)_alpha ... psi(q_c)_alpha``:
monomial ``M`` is the core's degree-``s`` low-rank operator
(:class:`algorithms.polynomial_method.LowRankOperator`), ``n x r`` factors
``phi`` for its smallest variable and ``psi`` for the others, joined by one
bond index ``alpha``.  Att^(h) is then a
tensor network in which every position index ``l_j`` meets only the bonds of
the monomials containing ``x_j`` and ``V^(j)``.

* **Trees** (``method="tree"``): leaf-to-root message passing on the low-rank
  factors.  The message of ``v`` to its parent ``p`` over edge ``{p, v}`` is
  ``N_v = A_p (B_v^T ([V^(v), 1] o prod_children N_u))``, an ``n x (d_v+1)``
  matrix computed in ``O(n r d_v)`` by the edge's operator (``A~ S`` or
  ``A~^T S``, streamed in blocks); the last column carries the normaliser.
  Total ``O(t n r d_v)``: near-linear, the same recursion as the exact tree
  algorithm with every ``n x n`` matrix replaced by its rank-``r`` factors.
* **Any h** (``method="network"``): ``numpy.einsum`` contracts the network
  with a greedy path.  Each ``l_j`` summed first leaves tensors on bonds
  (``r^p`` entries for ``p`` monomials at ``x_j``), so the cost is
  ``O(n r^p d_v)`` plus a contraction independent of ``n``: near-linear in
  ``n`` for fixed ``h``, e.g. ``O(n r^2 d_v + r^3 d_v)`` for Strassen attention
  (the paper's near-linear Strassen algorithm for ``B = o(sqrt(log n))``).

Error.  Relative error ``e`` on every unnormalised weight gives, per value
column ``c``, ``|T - Att| <= e (hi_c - lo_c) / (1 + sqrt(1 - e^2))`` where ``[lo_c, hi_c]``
contains every value product ``V^(2)[l_2, c] ... V^(t)[l_t, c]`` (the
normalisation cancels the common part; (E1) of
:func:`algorithms.error_bounds.output_error`, as for matrix attention).
``[lo_c, hi_c]`` is computed by interval multiplication
(:func:`algorithms.error_bounds.value_product_range`).  See docs/poly-attention.md.

References
----------
.. [1] P. Chakrabarti, T. Pitassi, J. Alman. Poly-attention. arXiv:2602.02422, Thm 3.6.
.. [2] J. Alman, Z. Song. Fast attention requires bounded entries. arXiv:2302.13214, Thm 1.3.
.. [3] J. Alman, Z. Song. How to capture higher-order correlations? arXiv:2310.04064 (tensor trick).
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import networkx as nx
import numpy as np

from algorithms._checks import check_bound, check_eps
from algorithms.error_bounds import (
    entry_error as _entry_error,
)
from algorithms.error_bounds import (
    output_error,
    product_entry_error,
    value_product_range,
    value_spread,
)
from algorithms.polynomial_method import FastResult, fast_operator

from .attention_polynomial import AttentionPolynomial
from .exact import check_poly_inputs

#: ``FastResult`` and ``value_product_range`` are the core's (:mod:`algorithms.polynomial_method`,
#: :mod:`algorithms.error_bounds`), re-exported under their poly-attention names.
__all__ = ["FastResult", "poly_attention_fast", "value_product_range", "fast_error_bound"]

_LETTERS = string.ascii_letters.replace("z", "")
_MAX_INTERMEDIATE = 10**8


def fast_error_bound(entry_error: float, Vs: Sequence[np.ndarray]) -> np.ndarray:
    """``entry_error (hi_c - lo_c) / (1 + sqrt(1 - entry_error^2))`` per column: (E1) for the value products.

    Raises
    ------
    ValueError
        If ``entry_error`` is not in ``[0, 1)``.

    Examples
    --------
    >>> fast_error_bound(0.0, [np.ones((2, 1))]).tolist()
    [0.0]
    """
    return output_error(entry_error, value_spread(*Vs))


def _factor_operators(h, Xs, B, eps):
    """Per monomial its low-rank operator; the entry error of the product; degrees, ranks, widest operator."""
    m, (n, d) = h.num_monomials, Xs[0].shape
    eps_f = (1 + eps) ** (1 / m) - 1
    ops, errors = [], []
    for M in h.monomials:
        first, *others = M
        # float64 operations per tuple weight: the monomials, the sum over r features, the t - 1 position sums
        op = fast_operator(Xs[first - 1], tuple(Xs[j - 1] for j in others), eps_f, bound=B, scale=1.0 / d,
                           max_flops=float("inf"), sums=(h.t - 1) * n)
        errors.append(_entry_error(op.approximation, op.k * (op.degree + 1) + op.rank + (h.t - 1) * n,
                                   op.bounds, op.centre))
        ops.append(op)
    degrees, ranks = {}, {}
    for M, op in zip(h.monomials, ops):
        degrees[len(M)] = max(degrees.get(len(M), 0), op.degree)
        ranks[len(M)] = max(ranks.get(len(M), 0), op.rank)
    widest = max(ops, key=lambda op: op.bounds.hi - op.bounds.lo)
    return ops, product_entry_error(errors), degrees, ranks, widest


def _network(h, ops, Vaug, n):
    """Contract the whole low-rank network with ``einsum`` (greedy path)."""
    pos = {j: _LETTERS[j - 1] for j in range(1, h.t + 1)}
    bond = {i: _LETTERS[h.t + i] for i in range(h.num_monomials)}
    operands, subs = [], []
    for i, (M, op) in enumerate(zip(h.monomials, ops)):
        factors = [op.U1] + [op.psi(which) for which in range(1, op.k)]  # phi for M's first variable
        for j, F in zip(M, factors):
            operands.append(F)
            subs.append(pos[j] + bond[i])
    for j in range(2, h.t + 1):
        operands.append(Vaug[j - 2])
        subs.append(pos[j] + "z")
    expr = ",".join(subs) + "->" + pos[1] + "z"
    # numpy's default caps intermediates at the largest input, which forces one
    # naive n^t r^m loop; allow bond tensors up to 1e8 entries instead.
    path, _ = np.einsum_path(expr, *operands, optimize=("greedy", _MAX_INTERMEDIATE))
    return np.einsum(expr, *operands, optimize=path)


def _tree(h, ops, Vaug, n):
    """Leaf-to-root message passing on rank-``r`` edge operators (forests allowed)."""
    edge = {}
    for (a, b), op in zip(h.monomials, ops):
        # parent a: A~ S = U_a (U_b^T S); parent b: A~^T S = U_b (U_a^T S)
        edge[(a, b)], edge[(b, a)] = (op, False), (op, True)
    out = np.ones((n, Vaug[0].shape[1]))
    for comp in nx.connected_components(h.graph):
        root = 1 if 1 in comp else min(comp)
        order = list(nx.bfs_tree(h.graph.subgraph(comp), root))
        parent = dict(nx.bfs_predecessors(h.graph.subgraph(comp), root))
        messages: dict[int, list[np.ndarray]] = {v: [] for v in comp}
        for v in reversed(order):
            S = np.ones((n, out.shape[1])) if v == 1 else Vaug[v - 2].copy()
            for N in messages[v]:
                S *= N
            if v == root:
                out = out * (S if v == 1 else S.sum(axis=0))
                break
            op, transpose = edge[(parent[v], v)]
            N = op.product(S, transpose=transpose)
            messages[parent[v]].append(N / np.max(N[:, -1]))  # a scalar: cancels in the ratio
    return out


def poly_attention_fast(
    h: AttentionPolynomial,
    Xs: Sequence,
    Vs: Sequence,
    eps: float = 1e-6,
    bound: float | None = None,
    method: str = "auto",
) -> FastResult:
    """Approximate ``Att^(h)`` by the polynomial method (Thm 3.6), with a certified bound.

    Parameters
    ----------
    h : AttentionPolynomial
    Xs : list of ``t`` arrays (n, d): ``Q^(1)..Q^(t)``
    Vs : list of ``t - 1`` arrays (n, d_v): ``V^(2)..V^(t)``
    eps : relative error allowed on every tuple weight, in (0, 1).
    bound : promised ``B >= max_j ||Q^(j)||_inf``; measured when omitted.
    method : ``"tree"`` (tree polynomials only), ``"network"`` or ``"auto"``
        (tree when ``h.is_tree``).

    Returns
    -------
    FastResult
        ``output`` with ``|output - Att^(h)| <= error_bound`` per column;
        ``degrees``/``ranks`` per monomial degree ``s = |M|``, ``degree``/``rank``
        their largest, ``k = h.degree``, ``method`` ``"tree"`` or ``"network"``.

    Raises
    ------
    ValueError
        Bad inputs (see :func:`~algorithms.poly_attention.exact.check_poly_inputs`);
        ``eps`` outside (0, 1); an entry of some ``Q^(j)`` above ``bound``;
        ``method`` unknown, or ``"tree"`` for a non-tree ``h``.
    Float64Limit
        (a ``ValueError``) A monomial's certified interval too wide for a
        float64 power basis at the per-factor error: a limit of the arithmetic,
        with the digits that would do; not the lower bound.

    Examples
    --------
    >>> from algorithms.poly_attention import path_attention, poly_attention_exact
    >>> rng = np.random.default_rng(0)
    >>> Xs = [rng.uniform(-1, 1, size=(50, 2)) for _ in range(3)]
    >>> Vs = [rng.uniform(-1, 1, size=(50, 1)) for _ in range(2)]
    >>> res = poly_attention_fast(path_attention(2), Xs, Vs, eps=1e-6)
    >>> err = np.abs(res.output - poly_attention_exact(path_attention(2), Xs, Vs).output).max()
    >>> bool(err <= res.error_bound.max() <= 4e-6)
    True

    Notes
    -----
    Cost ``O(n r d)`` for the features of each monomial, then ``O(t n r d_v)``
    for trees, ``O(n r^p d_v)`` plus an ``n``-free contraction otherwise, with
    ``r = C(d + g, g)`` and ``g`` the degree for ``[-B^k, B^k]`` at error
    ``eps / m``.  With ``d = O(log n)``, ``eps = 1/poly(n)`` and
    ``B = o((log n)^{1/k})``, ``g = o(log n)`` and ``r = n^{o(1)}``.
    """
    Xs, Vs = check_poly_inputs(h, Xs, Vs)
    eps = check_eps(eps)
    B = check_bound(bound, **{f"Xs[{j}]": X for j, X in enumerate(Xs)})
    if method not in ("auto", "tree", "network"):
        raise ValueError(f"method must be 'auto', 'tree' or 'network', got {method!r}")
    if method == "tree" and not h.is_tree:
        raise ValueError(f"method='tree' needs a tree polynomial; h = {h} is not one")
    method = ("tree" if h.is_tree else "network") if method == "auto" else method
    n = Xs[0].shape[0]
    ops, error, degrees, ranks, widest = _factor_operators(h, Xs, B, eps)
    Vaug = [np.hstack([V, np.ones((n, 1))]) for V in Vs]
    raw = (_tree if method == "tree" else _network)(h, ops, Vaug, n)
    output = raw[:, :-1] / raw[:, -1:]
    return FastResult(
        output, fast_error_bound(error, Vs), error, max(degrees.values()), max(ranks.values()), B,
        (widest.bounds.lo, widest.bounds.hi), h.degree, method, degrees, ranks,
        centred=any(op.centred for op in ops), covered=widest.plan.covered,
    )
