"""Tensor attention, exact and fast by the tensor trick: the forward pass (docs/tensor-attention.md).

Tensor attention (TAttC, Alman & Song, ICLR 2024, arXiv 2310.04064, abstract and Sec. 1)
lets a query look at *pairs* of tokens.  With the column-wise Kronecker
product ``K1 ⊘ K2`` (row ``(j1, j2)`` is ``K1[j1] ∘ K2[j2]``, :mod:`algorithms.kron`)::

    A = exp(Q (K1 ⊘ K2)^T / d) ∈ R^{n × n²},   D = diag(A 1_{n²}),
    Att(Q, K1, K2, V1, V2) = D^{-1} A (V1 ⊘ V2) ∈ R^{n × d},

so ``A[i, (j1, j2)] = exp(<q_i, k1_j1 ∘ k2_j2> / d)``: a trilinear logit (the
same object as "2-simplicial attention").  The abstract of the paper writes
no ``1/d``; we keep it, as in matrix attention (AS23) and in the training loss
of Liang et al. (a rescaling of ``Q``).  Row ``(j1, j2)`` is stored at
``j1 * n2 + j2``: the first factor is the slow index, which makes ``⊘`` agree
with ``numpy.kron`` (identity (I2) of :mod:`algorithms.kron`).

Exact: ``O(n³ d)`` time.  :func:`tensor_attention` streams over blocks of
queries and of ``j1``; a block holds at most ``2**21`` logits, and the running
maximum of each query row over all ``(j1, j2)`` is subtracted before ``exp``
(the online softmax of :mod:`algorithms.softmax`).

Fast (Alman & Song, ICLR 2024, Sec. 3.1; the tensor trick).  With ``|Q|, |K1|, |K2|
<= B`` every logit lies in ``[-B³, B³]`` (mechanism degree ``k = 3``), and in
the narrower interval the data fill, certified in ``O(n d)`` by interval
products of the three column ranges and Hoelder's inequality
(:mod:`algorithms.polynomial_method.interval`);
:func:`~algorithms.polynomial_method.fast_operator` gives ``P`` of degree
``g`` with relative error ``eps`` there (centred when cheaper; refusing with
:class:`~algorithms.polynomial_method.CostExceedsExact` or
:class:`~algorithms.polynomial_method.Float64Limit`, two distinct reasons), and
since ``<q, k1 ∘ k2>^t`` expands over the same multi-indices as ``<q, k>^t``::

    P(<q, k1 ∘ k2> / d) = phi(q) · (psi(k1) ∘ psi(k2)),    i.e.  A~ = U1 (U2 ⊘ U3)^T,

the ``k = 3`` operator of :mod:`algorithms.polynomial_method.low_rank`, of rank
``r = C(d + g, g)`` (the three factors share one multi-index; the looser
``C(3(g+d), 3g)`` we recall from the paper is not needed, and the tests check
the rank numerically).  Identity (I1) turns the ``n² × d`` product into two
``n × d`` ones::

    (U2 ⊘ U3)^T (V1 ⊘ V2) = (U2^T V1) ∘ (U3^T V2)                         (I1)

so ``T = D~^{-1} U1 [(U2^T V1) ∘ (U3^T V2)]`` costs ``O(n r d)`` and never
forms anything of size ``n²``.  Its error per column ``l`` of ``V1 ⊘ V2`` is
(E1) of :func:`algorithms.error_bounds.output_error`, the extremes of the
column coming from interval products (:func:`algorithms.error_bounds.value_spread`).

References
----------
.. [1] J. Alman, Z. Song. How to capture higher-order correlations?
   Generalizing matrix softmax attention to Kronecker computation. ICLR 2024,
   arXiv:2310.04064.
"""

from __future__ import annotations

import numpy as np

from algorithms import _scaling
from algorithms._blocks import row_blocks
from algorithms._checks import as_fast_matrices, as_matrix, check_bound, check_eps
from algorithms._scaling import all_finite, exponent
from algorithms.budget import check_budget, exact_tensor_attention_cost
from algorithms.error_bounds import output_error, value_product_range, value_spread
from algorithms.polynomial_method import (
    FastResult,
    LowRankOperator,
    fast_operator,
    fast_result,
)
from algorithms.softmax import ProductLogits, online_softmax

__all__ = [
    "tensor_attention",
    "low_rank_tensor_attention",
    "tensor_attention_fast",
    "tensor_attention_error_bound",
]

_BLOCK_ENTRIES = 2**21  # logits held by one block of the exact algorithms (16 MB)
_QUERY_BLOCK = 64  # query rows per block of the exact algorithms


# ---------------------------------------------------------------------------- checks
def _check_inputs(Q, K1, K2, V1, V2):
    Q = as_matrix("Q", Q)
    K1 = as_matrix("K1", K1, cols=Q.shape[1])
    K2 = as_matrix("K2", K2, cols=Q.shape[1])
    V1 = as_matrix("V1", V1, rows=K1.shape[0])
    V2 = as_matrix("V2", V2, rows=K2.shape[0], cols=V1.shape[1])
    return Q, K1, K2, V1, V2


def _check_fast(Q, K1, K2, V1, V2):
    """The fast path's operands in the caller's namespace and dtype (float32 kept)."""
    return as_fast_matrices(("Q", Q), ("K1", K1, None, ("cols", 0)), ("K2", K2, None, ("cols", 0)),
                            ("V1", V1, ("rows", 1), None), ("V2", V2, ("rows", 2), ("cols", 3)))[1]


# ---------------------------------------------------------------------------- exact
def _block_sizes(n_queries: int, n1: int, n2: int) -> tuple[int, int]:
    bq = min(n_queries, _QUERY_BLOCK)
    return bq, max(1, min(n1, _BLOCK_ENTRIES // (bq * n2)))


def _softmax_pass(Q, K1, K2, scale) -> dict:
    """Logits ``S[i, j1, j2] = scale <q_i, k1_j1 ∘ k2_j2>`` in blocks of queries and of ``j1``."""
    bq, b1 = _block_sizes(Q.shape[0], K1.shape[0], K2.shape[0])
    j1_blocks = list(row_blocks(K1.shape[0], b1))

    logits = ProductLogits(scale, Q, K1, K2)  # overflow-safe: recomputed in a wide exponent where needed
    return dict(logits=logits, n=Q.shape[0], query_block=bq, key_blocks=lambda qs: j1_blocks)


def _exact(Q, K1, K2, V1, V2, scale) -> tuple[np.ndarray, np.ndarray]:
    """``(Att, lse)``: the online softmax over ``(j1, j2)``, contracting with ``V1 ⊘ V2`` by (I1)."""
    p, n2 = V1.shape[1], K2.shape[0]

    def run(V1, V2):
        def contract(W, qs, js):
            WV2 = (W.reshape(-1, n2) @ V2).reshape(W.shape[0], -1, p)
            return np.einsum("ijl,jl->il", WV2, V1[js])

        return online_softmax(contract=contract, p=p, **_softmax_pass(Q, K1, K2, scale))

    with np.errstate(over="ignore", invalid="ignore"):
        out, lse = run(V1, V2)
    if all_finite(out):
        return out, lse
    e1, e2 = exponent(V1), exponent(V2)  # products of huge values: scaled by powers of two (algorithms._scaling)
    out, lse = run(_scaling.scale(V1, -e1), _scaling.scale(V2, -e2))
    return _scaling.scale(out, e1, e2), lse


def tensor_attention(
    Q, K1, K2, V1, V2, *, method: str = "exact", eps: float = 1e-6, bound: float | None = None,
    precision: str = "float64",
) -> np.ndarray | FastResult:
    """Tensor attention ``D^{-1} exp(Q (K1 ⊘ K2)^T / d) (V1 ⊘ V2)`` (TAttC), exact or fast.

    Parameters
    ----------
    Q : (n, d) array
    K1, K2 : (n1, d) and (n2, d) arrays (the papers take ``n1 = n2 = n``).
    V1, V2 : (n1, d_v) and (n2, d_v) arrays.
    method : {"exact", "fast"}
        ``"exact"``: streamed, ``O(n n1 n2 d)``.  ``"fast"``: the polynomial
        method and the tensor trick, with its certificate.
    eps : relative error of every entry of the approximate matrix (fast only), in (0, 1).
    bound : the promised max-norm ``B`` of ``Q``, ``K1``, ``K2`` (fast only; default: measured).
    precision : {"float64", "mpmath"} (fast only).

    Returns
    -------
    ``method="exact"``: (n, d_v) array, row ``i`` equal to
    ``sum_{j1,j2} softmax_i(j1, j2) V1[j1] ∘ V2[j2]``.  ``method="fast"``: a
    :class:`~algorithms.polynomial_method.FastResult` with
    ``|output - Att| <= error_bound`` per column.

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array, the shapes disagree, or
        ``method`` is unknown; fast: as :func:`low_rank_tensor_attention`.

    Examples
    --------
    >>> Q = np.zeros((1, 2)); K = np.ones((3, 2)); V1 = np.arange(6.0).reshape(3, 2)
    >>> tensor_attention(Q, K, K, V1, np.ones((3, 2)))  # equal logits: mean of V1 ∘ 1
    array([[2., 3.]])
    >>> rng = np.random.default_rng(1)
    >>> Q, K1, K2, V1, V2 = (rng.uniform(-1, 1, (40, 4)) for _ in range(5))
    >>> res = tensor_attention(Q, K1, K2, V1, V2, method="fast")
    >>> err = np.abs(res.output - tensor_attention(Q, K1, K2, V1, V2)).max(axis=0)
    >>> bool(np.all(err <= res.error_bound)), res.degree, res.rank, res.centred   # certified: |x| <= 0.74
    (True, 6, 210, False)

    Notes
    -----
    Exact: ``O(n n1 n2 (d + d_v))`` time.  Blocks of 64 queries times ``b1``
    values of ``j1`` (``64 b1 n2 <= 2**21``) keep memory at
    ``O(2**21 + n d)``, independent of ``n1``; the running row maximum over
    all ``(j1, j2)`` is subtracted before ``exp`` and earlier partial sums are
    rescaled when it grows, so no logit can overflow.  Fast:
    ``O((n + n1 + n2) r d)`` with ``r = C(d + g, g)`` (``g = 7``, ``r = 330``
    for ``d = 4``, ``B = 1``, ``eps = 1e-6`` on ``[-1, 1]``; less where the data
    certify a narrower interval).

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064 (the problem as stated in the abstract,
       with the ``1/d`` of matrix attention; see docs/tensor-attention.md), and
       its upper bound (``n^{1+o(1)}`` for ``B = o((log n)^{1/3})``, ``d = O(log n)``).
    """
    if method not in ("exact", "fast"):
        raise ValueError(f"method must be 'exact' or 'fast', got {method!r}")
    if method == "fast":
        Q, K1, K2, V1, V2 = _check_fast(Q, K1, K2, V1, V2)
        op = _low_rank(Q, K1, K2, eps, bound, 1.0 / int(Q.shape[1]), precision=precision, d_v=int(V1.shape[1]))
        lo, hi = value_product_range([V1, V2])
        return fast_result(op, op.apply(V1, V2), hi - lo, value_range=(lo, hi))
    Q, K1, K2, V1, V2 = _check_inputs(Q, K1, K2, V1, V2)
    n, d, dv = Q.shape[0], Q.shape[1], V1.shape[1]
    check_budget(f"exact tensor attention, n = {n}, n1 = {K1.shape[0]}, n2 = {K2.shape[0]}, d = {d}, d_v = {dv}",
                 *exact_tensor_attention_cost(n, K1.shape[0], K2.shape[0], d, dv))
    return _exact(Q, K1, K2, V1, V2, 1.0 / Q.shape[1])[0]


# ---------------------------------------------------------------------------- fast
def _low_rank(Q, K1, K2, eps, bound, scale, names=("Q", "K1", "K2"), *, precision="float64",
              d_v=None) -> LowRankOperator:
    """The ``k = 3`` operator on the certified interval (within ``[-m scale B³, m scale B³]``)."""
    eps = check_eps(eps)
    B = check_bound(bound, **dict(zip(names, (Q, K1, K2))))
    return fast_operator(Q, (K1, K2), eps, bound=B, scale=scale, d_v=d_v, precision=precision)


def low_rank_tensor_attention(
    Q, K1, K2, eps: float = 1e-6, bound: float | None = None, *, precision: str = "float64"
) -> LowRankOperator:
    """Set up the polynomial-method approximation ``A~ = U1 (U2 ⊘ U3)^T``.

    Parameters
    ----------
    Q : (n, d) array
    K1, K2 : (n1, d) and (n2, d) arrays.
    eps : target relative error of every entry of ``A~``, in (0, 1).
    bound : the promised ``B >= max(|Q|, |K1|, |K2|)``; ``None`` measures it.
    precision : {"float64", "mpmath"}

    Returns
    -------
    LowRankOperator
        ``k = 3``: ``degree``, ``rank``, ``entry_error``, ``apply(V1, V2)``, ``plan``, ...

    Raises
    ------
    ValueError
        Bad shapes or non-finite entries; ``eps`` not in (0, 1); an entry of
        ``Q``, ``K1`` or ``K2`` above ``bound``.
    CostExceedsExact, Float64Limit, PrecisionTooSlow
        (``ValueError`` subclasses) As :func:`~algorithms.attention.low_rank_attention`:
        cost above exact attention's (the complexity phenomenon), float64
        unable to evaluate the polynomial (a limit of the arithmetic), or an
        mpmath run over its budget.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Q, K1, K2 = (rng.uniform(-1, 1, (30, 4)) for _ in range(3))
    >>> P = low_rank_tensor_attention(Q, K1, K2, eps=1e-6, bound=1.0)
    >>> P.degree, P.rank, [round(x, 3) for x in P.plan.covered]  # Hoelder: |x| <= |q|_2 |k1|_2 max|k2| / d
    (6, 210, [-0.707, 0.707])

    Notes
    -----
    Certifying ``P`` costs a few mpmath evaluations once per (snapped)
    interval and ``eps`` (cached); nothing else is computed until the object is used.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064, Sec. 3.1 (the ``U1, U2, U3`` of the upper bound).
    """
    Q, K1, K2 = as_fast_matrices(("Q", Q), ("K1", K1, None, ("cols", 0)), ("K2", K2, None, ("cols", 0)))[1]
    return _low_rank(Q, K1, K2, eps, bound, 1.0 / int(Q.shape[1]), precision=precision)


def tensor_attention_fast(
    Q, K1, K2, V1, V2, eps: float = 1e-6, bound: float | None = None, *, precision: str = "float64"
) -> np.ndarray:
    """The output of ``tensor_attention(..., method="fast")`` only.

    For callers that need the array alone (pipelines, timings); use
    ``tensor_attention(..., method="fast")`` for the degree, rank and error bound.

    Parameters
    ----------
    Q, K1, K2, V1, V2 : as in :func:`tensor_attention`.
    eps : relative error of every entry of the approximate matrix, in (0, 1).
    bound : the promised max-norm ``B`` of ``Q``, ``K1``, ``K2`` (default: measured).
    precision : {"float64", "mpmath"}

    Returns
    -------
    T : (n, d_v) array with ``|T - Att|`` within :func:`tensor_attention_error_bound`.

    Raises
    ------
    ValueError
        As :func:`low_rank_tensor_attention`, and if ``V1``/``V2`` are malformed.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> Q, K1, K2, V1, V2 = (rng.uniform(-1, 1, (40, 4)) for _ in range(5))
    >>> T = tensor_attention_fast(Q, K1, K2, V1, V2)
    >>> bool(np.max(np.abs(T - tensor_attention(Q, K1, K2, V1, V2))) < 1e-6)
    True

    Notes
    -----
    ``O((n + n1 + n2) r d)`` time with ``r = C(d + g, g)``; features are built
    in blocks (:func:`~algorithms.polynomial_method.block_rows`), so memory is
    ``O((n + n1 + n2) d + block r)``.
    """
    Q, K1, K2, V1, V2 = _check_fast(Q, K1, K2, V1, V2)
    return _low_rank(Q, K1, K2, eps, bound, 1.0 / int(Q.shape[1]), precision=precision,
                     d_v=int(V1.shape[1])).apply(V1, V2)


def tensor_attention_error_bound(entry_error: float, V1, V2) -> float:
    """The bound (E1) for tensor attention: ``e' max_l (max V_:l - min V_:l) / (1 + sqrt(1 - e'^2))``, ``V = V1 ⊘ V2``.

    Parameters
    ----------
    entry_error : relative error ``e'`` of every entry of ``A~``
        (:attr:`LowRankOperator.entry_error`), in [0, 1).
    V1, V2 : the value matrices.

    Returns
    -------
    float, a bound on ``max |T - Att|``.

    Raises
    ------
    ValueError
        ``entry_error`` outside [0, 1); malformed ``V1``/``V2``.

    Examples
    --------
    >>> tensor_attention_error_bound(1e-6, np.array([[1.0], [-1.0]]), np.array([[2.0], [1.0]]))
    2.0000000000005e-06

    Notes
    -----
    ``T_i`` is a renormalised average of the values under weights perturbed by
    relative errors ``|delta| <= e'``; the worst case puts ``+e'`` on one value
    and ``-e'`` on another, which gives (E1) exactly
    (:func:`algorithms.error_bounds.output_error`).  The extremes of a column
    of ``V1 ⊘ V2`` are among the four products of the extremes of ``V1_:l`` and
    ``V2_:l``, so the bound costs ``O(n d)``.  (E1) is for exact arithmetic on
    ``A~``; the final division and the signed sums add a few float64 ulps of
    ``max |V|`` (visible when the spread is 0, e.g. a single key pair), which
    the tests allow for.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064, Sec. 3.1 (error of the normalised output).
    """
    V1 = as_matrix("V1", V1)
    V2 = as_matrix("V2", V2, cols=V1.shape[1])
    return float(output_error(entry_error, float(np.max(value_spread(V1, V2)))))
