"""Fast poly-attention for bounded entries: the polynomial method, monomial by monomial.

Theorem 3.6 of Chakrabarti, Pitassi & Alman (arXiv 2602.02422): with
``d = O(log n)`` and every entry of every ``Q^(j)`` bounded by
``B = o((log n)^{1/k})`` (``k`` the degree of ``h``), ``Att^(h)`` is
approximated to ``1/poly(n)`` in ``n^{1+o(1)}`` time.  This module makes that
run.

Interval.  A monomial ``M`` of degree ``s`` has logit
``<Q^(a)[l_a], ..., Q^(c)[l_c]> / d`` in ``[-B^s, B^s]`` (``d`` terms, each at
most ``B^s``).  The whole logit ``h/d`` therefore lies in ``[-R, R]`` with
``R = sum_M B^{|M|} <= m B^k`` for ``B >= 1`` (``m`` monomials).  We do *not*
approximate ``e^{h/d}`` by one polynomial on ``[-R, R]``: we approximate each
factor ``e^{x_M}`` by a polynomial ``P_s`` of relative error ``eps_f`` on
``[-B^s, B^s]`` (:func:`algorithms.polynomial.exp_approximation`), with
``(1 + eps_f)^m = 1 + eps``.  The product of the ``m`` factors then has
relative error at most ``entry_error = max(prod(1+e_M) - 1, 1 - prod(1-e_M))
<= eps`` on *every* tuple, with ``e_M`` the certified error of each factor.
Why per monomial: each factor has rank ``C(d+g_s, g_s)`` with ``g_s`` set by
``B^s`` alone, and it keeps the structure of ``h`` (a tree stays a tree),
whereas one polynomial of the sum needs degree ``~ R`` and features of
dimension ``m d`` (every variable would meet every monomial).  This is our
reading of how the threshold comes to depend on ``k`` and not on ``t``.

Factors.  By the multinomial theorem (:mod:`algorithms.features`),
``P_s(<q_a, q_b o ... o q_c>/d) = sum_alpha phi(q_a)_alpha psi(q_b)_alpha ... psi(q_c)_alpha``:
monomial ``M`` becomes ``n x r`` matrices, ``phi`` for its smallest variable and
``psi`` for the others, joined by one bond index ``alpha``.  Att^(h) is then a
tensor network in which every position index ``l_j`` meets only the bonds of
the monomials containing ``x_j`` and ``V^(j)``.

* **Trees** (``method="tree"``): leaf-to-root message passing on the low-rank
  factors.  The message of ``v`` to its parent ``p`` over edge ``{p, v}`` is
  ``N_v = A_p (B_v^T ([V^(v), 1] o prod_children N_u))``, an ``n x (d_v+1)``
  matrix computed in ``O(n r d_v)``; the last column carries the normaliser.
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
normalisation cancels the common part; same argument as for matrix attention,
SPEC §1).  ``[lo_c, hi_c]`` is computed by interval multiplication.

References
----------
.. [1] P. Chakrabarti, T. Pitassi, J. Alman. Poly-attention. arXiv:2602.02422, Thm 3.6.
.. [2] J. Alman, Z. Song. Fast attention requires bounded entries. arXiv:2302.13214, Thm 1.3.
.. [3] J. Alman, Z. Song. How to capture higher-order correlations? arXiv:2310.04064 (tensor trick).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import NamedTuple

import networkx as nx
import numpy as np

from algorithms._checks import check_bound, check_eps
from algorithms.attention import normalised_output_error
from algorithms.features import feature_rank, key_features, query_features
from algorithms.polynomial import exp_approximation

from .exact import check_poly_inputs
from .polynomial import AttentionPolynomial

__all__ = ["FastResult", "poly_attention_fast", "value_product_range", "fast_error_bound"]

_LETTERS = string.ascii_letters.replace("z", "")
_MAX_INTERMEDIATE = 10**8


class FastResult(NamedTuple):
    """Output of :func:`poly_attention_fast`."""

    output: np.ndarray
    """(n, d_v) approximation ``T`` of ``Att^(h)``."""
    error_bound: np.ndarray
    """(d_v,) certified bound on ``max_l |T[l, c] - Att[l, c]|`` per column."""
    entry_error: float
    """Relative error of every unnormalised tuple weight (``<= eps``)."""
    degrees: dict
    """``{s: g_s}``: polynomial degree used for monomials of degree ``s``."""
    ranks: dict
    """``{s: r_s = C(d + g_s, g_s)}``."""
    bound: float
    """``B``, the max-norm bound on the ``Q^(j)``."""
    method: str
    """``"tree"`` or ``"network"``."""


def value_product_range(Vs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per column, an interval ``[lo, hi]`` containing every product ``prod_j V^(j)[l_j, c]``.

    Interval multiplication of the column ranges ``[min_l V^(j)[l, c], max_l V^(j)[l, c]]``.

    Examples
    --------
    >>> lo, hi = value_product_range([np.array([[-1.0], [2.0]]), np.array([[3.0], [1.0]])])
    >>> float(lo[0]), float(hi[0])
    (-3.0, 6.0)
    """
    lo, hi = Vs[0].min(axis=0), Vs[0].max(axis=0)
    for V in Vs[1:]:
        a, b = V.min(axis=0), V.max(axis=0)
        corners = np.stack([lo * a, lo * b, hi * a, hi * b])
        lo, hi = corners.min(axis=0), corners.max(axis=0)
    return lo, hi


def fast_error_bound(entry_error: float, Vs: Sequence[np.ndarray]) -> np.ndarray:
    """``entry_error (hi_c - lo_c) / (1 + sqrt(1 - entry_error^2))`` per column (module docstring)."""
    if not 0 <= entry_error < 1:
        raise ValueError(f"entry_error must lie in [0, 1), got {entry_error!r}")
    lo, hi = value_product_range(Vs)
    return normalised_output_error(entry_error, hi - lo)


def _factor_features(h, Xs, B, eps):
    """Per monomial: the list of ``(variable, n x r matrix)`` and the certified errors."""
    m, d = h.num_monomials, Xs[0].shape[1]
    eps_f = (1 + eps) ** (1 / m) - 1
    approx = {s: exp_approximation(-(B**s), B**s, eps_f) for s in {len(M) for M in h.monomials}}
    feats, errors = [], []
    for M in h.monomials:
        P = approx[len(M)]
        errors.append(P.max_relative_error)
        first, *others = M
        feats.append(
            [(first, query_features(Xs[first - 1], P.coefficients, 1.0 / d))]
            + [(j, key_features(Xs[j - 1], P.degree)) for j in others]
        )
    e = np.array(errors)
    entry_error = float(max(np.prod(1 + e) - 1, 1 - np.prod(1 - e)))
    degrees = {s: P.degree for s, P in approx.items()}
    ranks = {s: feature_rank(d, g) for s, g in degrees.items()}
    return feats, entry_error, degrees, ranks


def _network(h, feats, Vaug, n):
    """Contract the whole low-rank network with ``einsum`` (greedy path)."""
    pos = {j: _LETTERS[j - 1] for j in range(1, h.t + 1)}
    bond = {i: _LETTERS[h.t + i] for i in range(h.num_monomials)}
    operands, subs = [], []
    for i, group in enumerate(feats):
        for j, F in group:
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


def _tree(h, feats, Vaug, n):
    """Leaf-to-root message passing on rank-``r`` edge factors (forests allowed)."""
    edge = {}
    for i, group in enumerate(feats):
        (a, Fa), (b, Fb) = group
        edge[(a, b)], edge[(b, a)] = (Fa, Fb), (Fb, Fa)  # (parent side, child side)
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
            A, Bf = edge[(parent[v], v)]
            N = A @ (Bf.T @ S)
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
        ``output`` with ``|output - Att^(h)| <= error_bound`` per column.

    Raises
    ------
    ValueError
        Bad inputs (see :func:`~algorithms.poly_attention.exact.check_poly_inputs`);
        ``eps`` outside (0, 1); an entry of some ``Q^(j)`` above ``bound``;
        ``method`` unknown, or ``"tree"`` for a non-tree ``h``; ``B^k`` so large
        that no float64 polynomial reaches the per-factor error (from
        :func:`~algorithms.polynomial.exp_approximation`).

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
    feats, entry_error, degrees, ranks = _factor_features(h, Xs, B, eps)
    Vaug = [np.hstack([V, np.ones((n, 1))]) for V in Vs]
    raw = (_tree if method == "tree" else _network)(h, feats, Vaug, n)
    output = raw[:, :-1] / raw[:, -1:]
    return FastResult(output, fast_error_bound(entry_error, Vs), entry_error, degrees, ranks, B, method)
