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
* **Any h** (``method="network"``): the network is contracted along
  numpy's greedy ``einsum`` path (:func:`algorithms._einsum.contract`:
  ``numpy.einsum`` for numpy arrays, one batched ``matmul`` per step in any
  other namespace).  Each ``l_j`` summed first leaves tensors on bonds
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

Namespaces and float32.  ``Xs`` and ``Vs`` may be numpy or any Array-API
arrays (torch, CuPy, ``array-api-strict``; :mod:`algorithms._array`); the
features, the tree's edge products and the contraction run in their
namespace and on their device, and the output has their kind and dtype.
float32 inputs keep float32 features, edge products (float32 sums of at most
``SUM_BLOCK`` positions, accumulated in float64) and messages; the network
contraction, the tree's root sums and the final ratio run in float64 (an
exact widening) and the output is cast back.  Each factor is then certified
with float32's unit roundoff ``2^-24`` on the ``s (g + 1) + r + SUM_BLOCK + 5``
float32 steps of a weight and float64's on the longer sums (``_float32_steps``);
the bound adds :func:`algorithms.error_bounds.rounding_output_error` (numerator
and normaliser round differently; the final cast), and a product error above
``eps`` is refused with :class:`~algorithms.polynomial_method.Float32Limit`.

References
----------
.. [1] P. Chakrabarti, T. Pitassi, J. Alman. Poly-attention. arXiv:2602.02422, Thm 3.6.
.. [2] J. Alman, Z. Song. Fast attention requires bounded entries. arXiv:2302.13214, Thm 1.3.
.. [3] J. Alman, Z. Song. How to capture higher-order correlations? arXiv:2310.04064 (tensor trick).
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence

import networkx as nx
import numpy as np

from algorithms import _array
from algorithms._checks import check_bound, check_eps
from algorithms._einsum import contract
from algorithms.error_bounds import (
    GRID_MARGIN,
    SUM_BLOCK,
    gamma,
    output_error,
    product_entry_error,
    rounding_output_error,
    value_product_range,
    value_spread,
)
from algorithms.error_bounds import (
    entry_error as _entry_error,
)
from algorithms.polynomial_method import FastResult, Float32Limit, fast_operator

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
    m, n = h.num_monomials, int(Xs[0].shape[0])
    d = int(Xs[0].shape[1])
    eps_f = (1 + eps) ** (1 / m) - 1
    ops, errors = [], []
    for M in h.monomials:
        first, *others = M
        # float64 operations per tuple weight: the monomials, the sum over r features, the t - 1 position sums
        op = fast_operator(Xs[first - 1], tuple(Xs[j - 1] for j in others), eps_f, bound=B, scale=1.0 / d,
                           max_flops=float("inf"), sums=(h.t - 1) * n)
        errors.append(_factor_error(h, op, n))
        ops.append(op)
    error = product_entry_error(errors)
    if ops[0].dtype == "float32" and error > eps:
        raise Float32Limit(
            f"fast path refused (float32 limit of the arithmetic, not the lower bound): float32 inputs certify "
            f"the product of the {m} factors only to relative error {error:.3g} > eps={eps:g}; pass float64 "
            f"arrays for eps={eps:g}, or ask for eps >= {2 * error:.2g} in float32",
            digits=math.log10(error / eps) + 24 * math.log10(2), rounding=error)
    degrees, ranks = {}, {}
    for M, op in zip(h.monomials, ops):
        degrees[len(M)] = max(degrees.get(len(M), 0), op.degree)
        ranks[len(M)] = max(ranks.get(len(M), 0), op.rank)
    widest = max(ops, key=lambda op: op.bounds.hi - op.bounds.lo)
    return ops, error, degrees, ranks, widest


def _float32_steps(h, op, n: int) -> tuple[int, int]:
    """Rounded steps of one factor's weight in float32 inputs: ``(float32 steps, float64 steps)``.

    float32: the ``s`` monomials and the weights (``s (g + 1) + 2``), the sum over
    the ``r`` features, one float32 sum of at most ``SUM_BLOCK`` positions and
    its product (the tree's edge products, as
    :func:`algorithms.error_bounds.working_rounding`), the message's product
    and its normalisation (2).  float64: everything longer -- the sum over
    ``r`` and the ``(t - 1) n`` positions of the network contraction, the
    accumulation of the tree's ``ceil(n / SUM_BLOCK)`` partial sums, and one
    product per operand of the network.
    """
    steps32 = op.k * (op.degree + 1) + 2 + op.rank + min(SUM_BLOCK, n) + 1 + 2
    steps64 = op.rank + (h.t - 1) * n + -(-n // SUM_BLOCK) + (h.t - 1) + sum(len(M) for M in h.monomials)
    return steps32, steps64


def _factor_error(h, op, n: int) -> float:
    """The entry error ``e_M`` of one factor, in the working dtype of the inputs."""
    if op.dtype == "float64":
        return _entry_error(op.approximation, op.k * (op.degree + 1) + op.rank + (h.t - 1) * n, op.bounds, op.centre)
    steps32, steps64 = _float32_steps(h, op, n)
    return _entry_error(op.approximation, steps32, op.bounds, op.centre, unit_roundoff=2.0**-24,
                        extra_gamma=gamma(steps64))


def _wide(xp, A):
    """``A`` in float64 (exact for float32): the contractions of float32 inputs run in float64."""
    return A if _array.dtype_name(A.dtype) == "float64" else _array.astype(xp, A, np.float64 if _array.is_numpy(xp)
                                                                            else xp.float64)


def _network(xp, h, ops, Vaug, n):
    """Contract the whole low-rank network (greedy path; :func:`algorithms._einsum.contract`), in float64."""
    pos = {j: _LETTERS[j - 1] for j in range(1, h.t + 1)}
    bond = {i: _LETTERS[h.t + i] for i in range(h.num_monomials)}
    operands, subs = [], []
    for i, (M, op) in enumerate(zip(h.monomials, ops)):
        factors = [op.U1] + [op.psi(which) for which in range(1, op.k)]  # phi for M's first variable
        for j, F in zip(M, factors):
            operands.append(_wide(xp, F))
            subs.append(pos[j] + bond[i])
    for j in range(2, h.t + 1):
        operands.append(_wide(xp, Vaug[j - 2]))
        subs.append(pos[j] + "z")
    expr = ",".join(subs) + "->" + pos[1] + "z"
    # numpy's default caps intermediates at the largest input, which forces one
    # naive n^t r^m loop; allow bond tensors up to 1e8 entries instead.
    return contract(xp, expr, *operands, max_intermediate=_MAX_INTERMEDIATE)


def _tree(xp, h, ops, Vaug, n):
    """Leaf-to-root message passing on rank-``r`` edge operators (forests allowed); the result in float64."""
    edge = {}
    for (a, b), op in zip(h.monomials, ops):
        # parent a: A~ S = U_a (U_b^T S); parent b: A~^T S = U_b (U_a^T S)
        edge[(a, b)], edge[(b, a)] = (op, False), (op, True)
    out = _wide(xp, _array.ones(xp, (n, int(Vaug[0].shape[1])), Vaug[0]))
    for comp in nx.connected_components(h.graph):
        root = 1 if 1 in comp else min(comp)
        order = list(nx.bfs_tree(h.graph.subgraph(comp), root))
        parent = dict(nx.bfs_predecessors(h.graph.subgraph(comp), root))
        messages: dict[int, list] = {v: [] for v in comp}
        for v in reversed(order):
            S = _array.ones(xp, (n, int(out.shape[1])), Vaug[0]) if v == 1 else Vaug[v - 2]
            for N in messages[v]:
                S = S * N
            if v == root:
                out = out * (_wide(xp, S) if v == 1 else xp.sum(_wide(xp, S), axis=0))
                break
            op, transpose = edge[(parent[v], v)]
            N = op.product(S, transpose=transpose)
            messages[parent[v]].append(N / xp.max(N[:, -1]))  # a scalar: cancels in the ratio
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
        numpy or any Array-API library (all of one library); float32 is kept.
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
        their largest, ``k = h.degree``, ``method`` ``"tree"`` or ``"network"``;
        ``output`` is an array of the inputs' library, device and dtype, and
        ``precision`` is ``"float32"`` for float32 inputs.

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
    Float32Limit
        (a ``ValueError``) float32 inputs whose certified rounding exceeds
        ``eps`` (in a factor's plan, or in the product of the factors): pass
        float64 arrays, or ask for a larger ``eps``.

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
    Xs, Vs = check_poly_inputs(h, Xs, Vs, fast=True)
    xp = _array.namespace(*Xs, *Vs)
    eps = check_eps(eps)
    B = check_bound(bound, **{f"Xs[{j}]": X for j, X in enumerate(Xs)})
    if method not in ("auto", "tree", "network"):
        raise ValueError(f"method must be 'auto', 'tree' or 'network', got {method!r}")
    if method == "tree" and not h.is_tree:
        raise ValueError(f"method='tree' needs a tree polynomial; h = {h} is not one")
    method = ("tree" if h.is_tree else "network") if method == "auto" else method
    n = int(Xs[0].shape[0])
    ops, error, degrees, ranks, widest = _factor_operators(h, Xs, B, eps)
    Vaug = [_array.concat(xp, [V, _array.ones(xp, (n, 1), V)]) for V in Vs]
    raw = (_tree if method == "tree" else _network)(xp, h, ops, Vaug, n)
    output = _array.astype(xp, raw[:, :-1] / raw[:, -1:], Vs[0].dtype)
    bound_c = fast_error_bound(error, Vs)
    if ops[0].dtype == "float32":  # numerator and normaliser round differently; the final cast (Notes)
        lo, hi = value_product_range(Vs)
        polynomial = product_entry_error([GRID_MARGIN * op.approximation.sampled_error for op in ops])
        bound_c = bound_c + rounding_output_error(error, polynomial / GRID_MARGIN, np.maximum(np.abs(lo), np.abs(hi)),
                                                  2.0**-24)
    return FastResult(
        output, bound_c, error, max(degrees.values()), max(ranks.values()), B,
        (widest.bounds.lo, widest.bounds.hi), h.degree, method, degrees, ranks,
        centred=any(op.centred for op in ops), precision=ops[0].dtype, covered=widest.plan.covered,
    )
