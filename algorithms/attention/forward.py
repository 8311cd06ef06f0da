"""Matrix attention, exact and fast by the polynomial method: the forward pass.

Exact (AttC, Alman & Song 2023, Def. 1.1)::

    A = exp(Q K^T / d),   D = diag(A 1_n),   Att(Q, K, V) = D^{-1} A V,

streamed over blocks of query rows by the online softmax of
:mod:`algorithms.softmax` (row maximum subtracted before ``exp``), so memory is
``O(block * n)`` and nothing overflows.

Fast (AAttC, Alman & Song 2023, Thm 1.3, the polynomial method): with every
``|Q_il|, |K_jl| <= B`` each logit ``<q_i, k_j>/d`` lies in ``[-B^2, B^2]``
(mechanism degree ``k = 2``), and in the narrower interval ``[lo, hi]`` the
data fill, certified in ``O(n d)`` from the column ranges (never from the
``n^2`` logits; :mod:`algorithms.polynomial_method.interval`).
:func:`~algorithms.polynomial_method.fast_operator` gives ``P`` with relative
error ``eps'`` there (centred at ``(lo + hi)/2`` when that is cheaper), and the
low-rank operator of :mod:`algorithms.polynomial_method.low_rank` factors
``P(Q K^T / d) = U1 U2^T`` with rank ``r = C(d+g, g)`` (``C(d+1+g, g)``
centred).  When it cannot run it says why, as one of two distinct
``ValueError`` subclasses: :class:`~algorithms.polynomial_method.CostExceedsExact`
(degree and rank cost more flops than exact attention: the complexity
phenomenon) or :class:`~algorithms.polynomial_method.Float64Limit` (float64
cannot evaluate the polynomial; ``precision="mpmath"`` runs it at toy sizes).
Then

    T = D~^{-1} U1 (U2^T V),    D~ = diag(U1 (U2^T 1_n)),

in ``O(n r d)`` time.  If every entry of ``A~`` has relative error ``<= eps'``
then for each column ``v`` of ``V`` (our derivation, the ``O(eps B)`` of the
paper with its constant; :func:`algorithms.error_bounds.output_error`)

    |T_i - Att_i| <= eps' (max v - min v) / (1 + sqrt(1 - eps'^2)),      (E1)

about ``eps' (max v - min v) / 2``: the normalisation cancels the rest.
See docs/matrix-attention.md and docs/polynomial-method.md.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Def. 1.1, Thm 1.3, Thm 1.4.
"""

from __future__ import annotations

import numpy as np

from algorithms._checks import as_fast_matrices, as_matrix, check_bound, check_eps, check_positive_int
from algorithms._scaling import all_finite, exponent, scale
from algorithms.budget import check_budget, exact_attention_cost
from algorithms.error_bounds import output_error, value_product_range, value_spread
from algorithms.polynomial_method import (
    FastResult,
    LowRankOperator,
    fast_operator,
    fast_result,
)
from algorithms.softmax import ProductLogits, online_softmax

__all__ = [
    "attention",
    "attention_fast",
    "low_rank_attention",
    "attention_error_bound",
]

_BLOCK_ENTRIES = 2**22  # a query block of the exact algorithm holds at most this many logits
_METHODS = ("exact", "fast")


# ---------------------------------------------------------------------------- checks
def _check_qkv(Q, K, V) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Q = as_matrix("Q", Q)
    K = as_matrix("K", K, cols=Q.shape[1])
    V = as_matrix("V", V, rows=K.shape[0])
    return Q, K, V


def _check_fast(Q, K, V):
    """The fast path's operands in the caller's namespace and dtype (float32 kept): ``(Q, K, V)``."""
    return as_fast_matrices(("Q", Q), ("K", K, None, ("cols", 0)), ("V", V, ("rows", 1), None))[1]


def _block_rows(n_keys: int, n_queries: int, block_size: int | None) -> int:
    if block_size is not None:
        return check_positive_int("block_size", block_size)
    return max(1, min(n_queries, _BLOCK_ENTRIES // n_keys))


def _check_method(method: str) -> None:
    if method not in _METHODS:
        raise ValueError(f"method must be 'exact' or 'fast', got {method!r}")


# ---------------------------------------------------------------------------- exact
def _softmax_pass(Q: np.ndarray, K: np.ndarray, block: int) -> dict:
    """Logits and blocks of the exact softmax of ``Q K^T / d`` (every query block sees all keys)."""
    keys = (slice(0, K.shape[0]),)
    logits = ProductLogits(1.0 / Q.shape[1], Q, K)  # overflow-safe: recomputed in a wide exponent where needed
    return dict(logits=logits, n=Q.shape[0], query_block=block, key_blocks=lambda qs: keys)


def _exact(Q: np.ndarray, K: np.ndarray, V: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """``(Att, lse)`` with ``lse_i = log sum_j exp(<q_i, k_j>/d)``, streamed over query blocks.

    Values near float64's range are summed scaled by a power of two (:mod:`algorithms._scaling`).
    """
    def run(V):
        return online_softmax(contract=lambda W, qs, ks: W @ V[ks], p=V.shape[1], **_softmax_pass(Q, K, block))

    with np.errstate(over="ignore", invalid="ignore"):
        out, lse = run(V)
    if all_finite(out):
        return out, lse
    e = exponent(V)
    out, lse = run(scale(V, -e))
    return scale(out, e), lse


def attention(
    Q, K, V, *, method: str = "exact", eps: float = 1e-6, bound: float | None = None, block_size: int | None = None,
    precision: str = "float64",
) -> np.ndarray | FastResult:
    """Matrix attention ``D^{-1} exp(Q K^T / d) V``, exact (AttC) or fast (AAttC).

    Parameters
    ----------
    Q : (n, d) array
    K : (m, d) array
    V : (m, d_v) array
    method : {"exact", "fast"}
        ``"exact"``: streamed over query blocks.  ``"fast"``: the polynomial
        method, with its certificate.
    eps : relative error of every entry of the approximate matrix (fast only), in (0, 1).
    bound : the promised max-norm ``B`` of ``Q`` and ``K`` (fast only; default: measured).
    block_size : query rows per block of the exact algorithm (default: about
        4M logits per block).
    precision : {"float64", "mpmath"}
        Fast only: the arithmetic of the polynomial's evaluation (``"mpmath"``
        for toy sizes where float64 cannot reach ``eps``).

    Returns
    -------
    ``method="exact"``: (n, d_v) array.  ``method="fast"``: a
    :class:`~algorithms.polynomial_method.FastResult` whose ``output``
    satisfies ``|output - Att| <= error_bound`` per column (E1).

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array or the shapes disagree, or
        ``method`` is unknown; fast: as :func:`low_rank_attention`.

    Examples
    --------
    >>> Q = np.zeros((2, 3)); K = np.ones((4, 3)); V = np.arange(8.0).reshape(4, 2)
    >>> attention(Q, K, V)  # equal logits: the mean of V's rows
    array([[3., 4.],
           [3., 4.]])
    >>> res = attention(Q, K, V, method="fast", bound=1.0)   # every logit is 0: P = 1, degree 0
    >>> bool(np.all(np.abs(res.output - attention(Q, K, V)) <= res.error_bound)), res.degree, res.logits
    (True, 0, (0.0, 0.0))
    >>> rng = np.random.default_rng(0)
    >>> Q, K, V = (rng.uniform(-1, 1, (300, 4)) for _ in range(3))
    >>> res = attention(Q, K, V, method="fast", eps=1e-6, bound=1.0)
    >>> res.degree, res.rank, res.centred, res.covered   # symmetric inputs: not centred
    (7, 330, False, (-1.0, 1.0))
    >>> [round(x, 3) for x in res.logits]   # the interval certified from the data, inside [-B^2, B^2]
    [-0.853, 0.853]

    Notes
    -----
    Exact: ``O(n m d)`` time, ``O(block * m)`` memory; the row maximum is
    subtracted before ``exp``, so large logits cannot overflow.  Fast:
    ``O((n + m) r d)`` time with ``r = C(d+g, g)``.

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Def. 1.1 and Thm 1.3.
    """
    _check_method(method)
    if method == "fast":
        Q, K, V = _check_fast(Q, K, V)
        op = _operator(Q, K, eps, bound, precision, int(V.shape[1]))
        lo, hi = value_product_range([V])
        return fast_result(op, op.apply(V), hi - lo, value_range=(lo, hi))
    Q, K, V = _check_qkv(Q, K, V)
    check_budget(f"exact attention, n = {Q.shape[0]}, m = {K.shape[0]}, d = {Q.shape[1]}, d_v = {V.shape[1]}",
                 *exact_attention_cost(Q.shape[0], K.shape[0], Q.shape[1], V.shape[1]))
    return _exact(Q, K, V, _block_rows(K.shape[0], Q.shape[0], block_size))[0]


# ---------------------------------------------------------------------------- fast
def _operator(Q, K, eps, bound, precision, d_v=None) -> LowRankOperator:
    eps = check_eps(eps)
    B = check_bound(bound, Q=Q, K=K)
    return fast_operator(Q, (K,), eps, bound=B, scale=1.0 / int(Q.shape[1]), d_v=d_v, precision=precision)


def low_rank_attention(
    Q, K, eps: float = 1e-6, bound: float | None = None, *, precision: str = "float64"
) -> LowRankOperator:
    """Set up the polynomial-method approximation of ``D^{-1} exp(Q K^T / d)``.

    Parameters
    ----------
    Q : (n, d) array
    K : (m, d) array
    eps : target relative error of every entry of ``U1 U2^T`` against ``exp``.
    bound : the promised ``B >= max(|Q|, |K|)``; ``None`` measures it.
    precision : {"float64", "mpmath"}

    Returns
    -------
    LowRankOperator
        ``k = 2``: ``degree``, ``rank``, ``entry_error``, ``apply(V)``,
        ``matmul``/``rmatmul`` with ``P~ = D~^{-1} U1 U2^T`` and its transpose;
        ``plan`` (the certified interval, centring, flop counts).

    Raises
    ------
    ValueError
        Bad shapes or non-finite entries; ``eps`` not in (0, 1); an entry of
        ``Q`` or ``K`` above ``bound``; an unknown ``precision``.
    CostExceedsExact
        (a ``ValueError``) The certified degree and rank make the fast path
        cost more flops than exact attention (and more than ``2^32``): the
        complexity phenomenon the threshold is about.
    Float64Limit
        (a ``ValueError``) Float64 cannot evaluate the polynomial to ``eps`` on
        the certified interval (its rounding grows like ``2^-53 e^{2h}``): a
        limit of the arithmetic, with the digits that would do; not the lower bound.
    PrecisionTooSlow
        (a ``ValueError``) ``precision="mpmath"`` would take longer than its budget.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Q, K = rng.uniform(-1, 1, (50, 4)), rng.uniform(-1, 1, (60, 4))
    >>> P = low_rank_attention(Q, K, eps=1e-6, bound=1.0)
    >>> P.degree, P.rank, P.centred
    (7, 330, False)
    >>> low_rank_attention(np.zeros((2, 2)), np.zeros((3, 2))).degree  # every logit 0: P = 1 is exact
    0
    """
    Q, K = as_fast_matrices(("Q", Q), ("K", K, None, ("cols", 0)))[1]
    return _operator(Q, K, eps, bound, precision)


def attention_fast(
    Q, K, V, eps: float = 1e-6, bound: float | None = None, *, precision: str = "float64"
) -> np.ndarray:
    """The output of ``attention(Q, K, V, method="fast")`` only (AAttC, Alman & Song 2023, Thm 1.3).

    For callers that need the array alone (pipelines, timings); use
    ``attention(..., method="fast")`` for the degree, rank and error bound.

    Parameters
    ----------
    Q, K, V : as in :func:`attention`.
    eps : relative error of every entry of the approximate matrix, in (0, 1).
    bound : the promised max-norm ``B`` of ``Q`` and ``K`` (default: measured).
    precision : {"float64", "mpmath"}

    Returns
    -------
    (n, d_v) array ``T`` with ``|T - Att|`` within :func:`attention_error_bound` plus a few ulps of
    ``max|V|`` (the rounding of numerator and normaliser, which ``attention(..., method="fast")``
    includes in its ``error_bound``).

    Raises
    ------
    ValueError
        As :func:`low_rank_attention`, and if ``V`` is malformed.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> Q, K, V = (rng.uniform(-1, 1, (200, 4)) for _ in range(3))
    >>> bool(np.max(np.abs(attention_fast(Q, K, V) - attention(Q, K, V))) < 2e-6)
    True
    >>> attention_fast(np.ones((1, 1)), np.ones((1, 1)), np.ones((1, 1)), bound=1e200)  # no B**2 formed
    array([[1.]])

    Notes
    -----
    ``O(n r d)`` time with ``r = C(d+g, g)``; features are built in blocks
    (:func:`~algorithms.polynomial_method.block_rows`), so memory is
    ``O((n + r) d + block r)``.
    """
    Q, K, V = _check_fast(Q, K, V)
    return _operator(Q, K, eps, bound, precision, int(V.shape[1])).apply(V)


def attention_error_bound(entry_error: float, V) -> float:
    """The bound (E1): ``eps' * max_c (max V_c - min V_c) / (1 + sqrt(1 - eps'^2))``.

    ``entry_error`` is the relative error of every entry of the unnormalised
    matrix (:attr:`LowRankOperator.entry_error`); see
    :func:`algorithms.error_bounds.output_error`.

    Raises
    ------
    ValueError
        ``entry_error`` outside [0, 1); malformed ``V``.

    Examples
    --------
    >>> attention_error_bound(0.0, np.ones((3, 2)))
    0.0
    """
    V = as_matrix("V", V)
    return float(output_error(entry_error, float(np.max(value_spread(V)))))
