"""One attention head, causal or not, exact or fast: forward and vector-Jacobian product.

For per-head queries, keys and values ``Q, K, V`` (``n x d_h``) and the mask
``M`` (all ones, or causal ``M_ij = [i >= j]``)::

    S = Q K^T / d_h,   f = D^{-1} (M o exp(S)),   D = diag((M o exp(S)) 1_n),   O = f V.

Given ``dO = dL/dO``, with ``delta_i = <dO_i, O_i>`` (the softmax Jacobian)::

    dS = f o (dO V^T) - diag(delta) f,
    dQ = dS K / d_h,    dK = dS^T Q / d_h,    dV = f^T dO.

Neither ``f o (dO V^T)`` nor ``dS`` is formed: with ``V_l`` the ``l``-th
column of ``V``,

    (f o (dO V^T)) K   = sum_l dO_l o f (V_l o K),
    (f o (dO V^T))^T Q = sum_l V_l o f^T (dO_l o Q),

so the whole VJP needs ``f`` applied to ``d_h (d_h + 1)`` columns and ``f^T``
to ``d_h (d_h + 2)`` columns.  This is Liang et al.'s low-rank form of the
Hadamard terms (``f o (G h^T) = (U1 (x) G)(U2 (x) h)^T``, rank ``r d_h``, their
Lemma I.6 part 2) written column by column; Appendix D of the paper prints
several of these terms transposed (the corrected form is in docs/multilayer.md),
the form here is checked against finite differences in the tests.

Exact mode streams blocks of query rows with the online softmax of
:mod:`algorithms.softmax` (row maximum subtracted before ``exp``) and keeps
only the row log-normaliser ``lse`` (``n`` numbers) for the backward pass,
which replays the same blocks: ``O(n^2 d_h^2)`` time, ``O(block * n)`` memory.

Fast mode replaces ``exp`` by the certified polynomial ``P`` of
:func:`algorithms.polynomial_method.approximate_exp` on ``[-B^2, B^2]`` (every
logit lies there when ``|Q|, |K| <= B`` entrywise), factors
``P(S) = U1 U2^T`` with the ``k = 2`` operator of
:mod:`algorithms.polynomial_method.low_rank` (rank ``r = C(d_h+g, g)``)
and applies ``f~ = D~^{-1} (M o U1 U2^T)`` by the prefix sums of
:mod:`algorithms.transformer.lowrank`: ``O(n r d_h^2)`` time, no ``n x n``
matrix.  Since ``P(s) = e^s (1 + err)`` with ``|err| <= eps`` the approximate
rows are still non-negative and sum to one, and every entry of ``f~`` is
within a factor ``(1 +- eps)/(1 -+ eps)`` of ``f`` (masking keeps this: it
removes the same entries from both).  The fast VJP is the exact formula with
``f~`` in place of ``f`` (the paper's scheme), *not* the derivative of the fast
forward pass.  Fast mode runs in the namespace, device and dtype of ``Q, K, V``
(numpy or any Array-API library); in float32 the entry error is certified with
float32's rounding (:func:`head_entry_error`, recorded in ``HeadCache.entry_error``).

References
----------
.. [1] Y. Liang, Z. Sha, Z. Shi, Z. Song, Y. Zhou. Multi-layer transformers
   gradient can be approximated in almost linear time. arXiv:2408.13233,
   Lemma D.17, App. I (causal), App. K (multi-head).
.. [2] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Sec. 3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from algorithms import _array
from algorithms._checks import as_fast_matrices, as_matrix, check_positive_int, check_same_rows, max_norm
from algorithms.error_bounds import entry_error, gamma
from algorithms.polynomial_method import (
    ExpApproximation,
    Float32Limit,
    LowRankOperator,
    approximate_exp,
    feature_rank,
    logit_bounds,
)
from algorithms.softmax import online_softmax, softmax_blocks
from algorithms.transformer.lowrank import lowrank_product

__all__ = ["PolynomialFactors", "HeadCache", "head_forward", "head_vjp", "head_entry_error", "float32_approximation"]

#: Row blocks of ``U1 = phi(Q)``, ``U2 = psi(K)`` with ``U1 U2^T = P(scale Q K^T)``:
#: the ``k = 2`` low-rank operator of the core, ``PolynomialFactors(Q, K, approximation, scale)``
#: (its ``u1``/``u2`` rows feed :func:`~algorithms.transformer.lowrank.lowrank_product`).
PolynomialFactors = LowRankOperator


@dataclass
class HeadCache:
    """What :func:`head_vjp` needs from :func:`head_forward`.

    Attributes
    ----------
    Q, K, V, O : (n, d_h) arrays
    normaliser : (n,) array
        Exact mode: ``lse_i = log sum_j M_ij exp(S_ij)``.  Fast mode: the
        approximate row sums ``z_i = ((M o U1 U2^T) 1_n)_i``.
    causal : bool
    approximation : ExpApproximation or None
        ``None`` in exact mode.
    block : int
    entry_error : float or None
        Fast mode: the certified relative error of every entry of
        ``M o U1 U2^T`` against ``M o exp(S)`` in the working dtype
        (:func:`head_entry_error`); ``None`` in exact mode.
    """

    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    O: np.ndarray  # noqa: E741 (the paper's O, the head output)
    normaliser: np.ndarray
    causal: bool
    approximation: ExpApproximation | None
    block: int
    entry_error: float | None = None

    @property
    def scale(self) -> float:
        return 1.0 / self.Q.shape[1]


def _softmax_pass(Q, K, scale, causal, block) -> dict:
    """Logits ``scale Q K^T`` in query blocks, masked: a causal query ``i < b`` sees keys ``j <= i``."""
    n = Q.shape[0]

    def logits(qs: slice, ks: slice) -> np.ndarray:
        with np.errstate(over="ignore"):  # an infinite logit is refused, naming Q and K, by the softmax below
            S = scale * (Q[qs] @ K[ks].T)
        if causal:
            a, b = qs.start, qs.stop
            S[:, a:b][np.triu_indices(b - a, 1)] = -np.inf
        return S

    keys = (lambda qs: (slice(0, qs.stop),)) if causal else (lambda qs: (slice(0, n),))
    return dict(logits=logits, n=n, query_block=block, key_blocks=keys)


def _fast_factors(cache: HeadCache) -> LowRankOperator:
    return LowRankOperator(cache.Q, (cache.K,), cache.approximation, cache.scale)


def head_entry_error(approximation: ExpApproximation, d_head: int, n: int, *, block: int = 128,
                     dtype: str = "float64", bounds=None) -> float:
    """Certified relative error of every entry of the fast head's ``M o U1 U2^T`` against ``M o exp(S)``.

    ``P``'s own error plus the rounding of evaluating it through the rank-``r``
    features (:func:`algorithms.error_bounds.entry_error`, ``r = C(d_h + g, g)``).
    float64: ``2 (g + 1) + r + n`` rounded steps with ``u = 2^-53`` (the
    core's count for ``k = 2``).  float32: the two monomials and the weights
    (``2 (g + 1) + 2``), the sum over ``r`` features, one float32 sum of at
    most ``block`` rows of :func:`~algorithms.transformer.lowrank.lowrank_product`
    and the cast of its float64 state (``min(block, n) + 2``), with
    ``u = 2^-24``; the state's float64 accumulation of ``ceil(n / block)``
    block sums enters as a second factor.  ``bounds`` (the data's
    :class:`~algorithms.polynomial_method.LogitBounds`) gives the data-aware
    rounding term; without it every logit's absolute sum is taken as ``P``'s
    half-width (true when ``|Q|, |K| <= B``).

    Raises
    ------
    ValueError
        ``dtype`` not ``"float32"`` or ``"float64"``.

    Examples
    --------
    >>> from algorithms.polynomial_method import approximate_exp
    >>> P = approximate_exp(1.0, 2, 1e-6)
    >>> bool(head_entry_error(P, 4, 1000) <= 1e-6 < head_entry_error(P, 4, 1000, dtype="float32"))
    True
    """
    g, r = approximation.degree, feature_rank(int(d_head), approximation.degree)
    if dtype == "float64":
        return entry_error(approximation, 2 * (g + 1) + r + int(n), bounds)
    if dtype != "float32":
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    steps32 = 2 * (g + 1) + 2 + r + min(int(block), int(n)) + 2
    return entry_error(approximation, steps32, bounds, unit_roundoff=2.0**-24,
                       extra_gamma=gamma(-(-int(n) // int(block)) + 1))


def float32_approximation(bound: float, d_head: int, eps: float, n: int, *, block: int = 128) -> ExpApproximation:
    """float32 fast heads: the lowest-degree ``P`` on ``[-B^2, B^2]`` whose float32 entry error is ``<= eps``.

    The entry error is :func:`head_entry_error` with ``dtype="float32"`` (every
    logit's absolute sum at most ``B^2``: per-head entries ``<= B``).  ``P``'s
    own error is asked for ``eps``, ``eps/2``, ``eps/4`` in turn (the rounding
    takes the rest).

    Raises
    ------
    Float32Limit
        (a ``ValueError``) The float32 rounding alone is above ``eps/2``: pass
        float64 arrays, or ask for a larger ``eps`` (the message says which).
    Float64Limit
        As :func:`~algorithms.polynomial_method.approximate_exp`.

    Examples
    --------
    >>> P = float32_approximation(1.0, 4, 1e-3, 1000)
    >>> P.degree, bool(head_entry_error(P, 4, 1000, dtype="float32") <= 1e-3)
    (5, True)
    """
    rounding = 0.0
    for eps_poly in (eps, eps / 2, eps / 4):
        P = approximate_exp(bound, 2, eps_poly)
        error = head_entry_error(P, d_head, n, block=block, dtype="float32")
        if error <= eps:
            return P
        rounding = error - 1.01 * P.sampled_error
        if rounding > eps / 2:
            break
    raise Float32Limit(
        f"fast path refused (float32 limit of the arithmetic, not the lower bound): float32 inputs put the "
        f"certified float32 rounding of an attention entry at {rounding:.3g} > eps={eps:g} (unit roundoff 2^-24, "
        f"logits in [-B^2, B^2] with B={bound:g}, n={n}, block={block}); pass float64 arrays for "
        f"eps={eps:g}, or ask for eps >= {2 * rounding:.2g} in float32",
        digits=math.log10(max(rounding, 1e-300) / eps) + 24 * math.log10(2), rounding=rounding)


def _check_interval(Q, K, scale: float, P: ExpApproximation):
    """Certify the logit interval of ``(Q, K)`` in ``O(n d_h)``; ``ValueError`` unless it lies in ``P``'s."""
    B = max_norm(Q, K)
    bounds = logit_bounds(Q, (K,), scale, B if B > 0 else None)
    if not (P.lo <= bounds.lo and bounds.hi <= P.hi):
        B_P = float(np.sqrt(max(abs(P.lo), abs(P.hi))))
        raise ValueError(
            f"Q and K put logits in [{bounds.lo:.4g}, {bounds.hi:.4g}] (certified in O(n d_h)), outside "
            f"[{P.lo:.4g}, {P.hi:.4g}] where the approximation is certified (entries bounded by B = {B_P:.4g}): "
            f"the polynomial's error is unbounded there; use an approximation for a larger bound, or exact mode"
        )
    return bounds


def head_forward(
    Q,
    K,
    V,
    *,
    causal: bool = True,
    approximation: ExpApproximation | None = None,
    block: int = 128,
) -> tuple[np.ndarray, HeadCache]:
    """``O = D^{-1} (M o exp(Q K^T / d_h)) V``, exactly or by the polynomial method.

    Parameters
    ----------
    Q, K, V : (n, d_h) arrays
        Exact mode: read as numpy float64.  Fast mode: numpy or any Array-API
        library (one for all three), float32 kept; ``O`` and the cache are of
        that kind and dtype.
    causal : bool
        Causal mask ``M_ij = [i >= j]``; otherwise no mask.
    approximation : ExpApproximation or None
        ``None``: exact.  Otherwise fast, with ``P`` in place of ``exp``; every
        logit ``<q_i, k_j>/d_h`` must lie in ``[approximation.lo,
        approximation.hi]``, which is checked in ``O(n d_h)`` before any work
        (the certified interval of :func:`~algorithms.polynomial_method.logit_bounds`,
        within ``[-B^2, B^2]`` for ``B = max(|Q|, |K|)``).
    block : int
        Rows per block of the streamed computation.

    Returns
    -------
    O : (n, d_h) array
    cache : HeadCache

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array, shapes disagree, or ``block < 1``;
        fast: if the logits of ``Q`` and ``K`` may leave the approximation's
        interval (the message names the interval and the entry bound it was
        made for): outside it the polynomial's error is unbounded.

    Examples
    --------
    >>> Q = K = np.zeros((3, 2)); V = np.array([[3.0, 0.0], [0.0, 3.0], [0.0, 0.0]])
    >>> O, _ = head_forward(Q, K, V)      # causal: row i averages V_0..V_i
    >>> O.tolist()
    [[3.0, 0.0], [1.5, 1.5], [1.0, 1.0]]
    >>> from algorithms.polynomial_method import approximate_exp
    >>> head_forward([[3.0], [-3.0]], [[3.0], [-3.0]], [[1.0], [0.0]], approximation=approximate_exp(1.0, 2, 1e-6))
    Traceback (most recent call last):
    ...
    ValueError: Q and K put logits in [-9, 9] (certified in O(n d_h)), outside [-1, 1] where the approximation is certified (entries bounded by B = 1): ...

    Notes
    -----
    Exact: ``O(n^2 d_h)`` time, ``O(block n)`` memory.  Fast: ``O(n r d_h)``
    time with ``r = C(d_h + g, g)``, ``O(block r)`` memory.
    """
    if approximation is None:
        Q = as_matrix("Q", Q)
        K = as_matrix("K", K, cols=Q.shape[1])
        V = as_matrix("V", V)
    else:
        xp, (Q, K, V) = as_fast_matrices(("Q", Q), ("K", K, None, ("cols", 0)), ("V", V))
    check_same_rows(Q=Q, K=K, V=V)
    check_positive_int("block", block)
    scale = 1.0 / int(Q.shape[1])
    if approximation is None:
        try:
            out, lse = online_softmax(
                contract=lambda W, qs, ks: W @ V[ks], p=V.shape[1], **_softmax_pass(Q, K, scale, causal, block)
            )
        except ValueError as exc:  # logits Q K^T / d_h above float64's range: say which inputs
            raise ValueError(f"Q and K: {exc}") from None
        return out, HeadCache(Q, K, V, out, lse, causal, None, block)
    bounds = _check_interval(Q, K, scale, approximation)
    factors = LowRankOperator(Q, (K,), approximation, scale, bounds=bounds)
    n = int(Q.shape[0])
    Y = lowrank_product(factors, _array.concat(xp, [V, _array.ones(xp, (n, 1), V)]), causal=causal, block=block)
    z = Y[:, -1]
    out = Y[:, :-1] / xp.reshape(z, (-1, 1))
    error = head_entry_error(approximation, int(Q.shape[1]), n, block=block, dtype=factors.dtype, bounds=bounds)
    return out, HeadCache(Q, K, V, out, z, causal, approximation, block, error)


def _apply(cache: HeadCache, right: np.ndarray, left: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(f right, f^T left)`` for the head's (exact or approximate) ``f``."""
    if cache.approximation is None:
        n = cache.Q.shape[0]
        fr, fl = np.empty((n, right.shape[1])), np.zeros((n, left.shape[1]))
        passes = _softmax_pass(cache.Q, cache.K, cache.scale, cache.causal, cache.block)
        for qs, ks, P in softmax_blocks(lse=cache.normaliser, **passes):
            fr[qs] = P @ right[ks]
            fl[ks] += P.T @ left[qs]
        return fr, fl
    factors = _fast_factors(cache)
    z = _namespace(cache).reshape(cache.normaliser, (-1, 1))
    fr = lowrank_product(factors, right, causal=cache.causal, block=cache.block) / z
    fl = lowrank_product(factors, left / z, causal=cache.causal, transpose=True, block=cache.block)
    return fr, fl


def head_vjp(cache: HeadCache, dO) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dQ, dK, dV)`` for an upstream gradient ``dO = dL/dO`` (module docstring).

    Parameters
    ----------
    cache : HeadCache
        From :func:`head_forward`; the mode (exact or fast) is the forward's.
    dO : (n, d_h) array

    Returns
    -------
    dQ, dK, dV : (n, d_h) arrays

    Raises
    ------
    ValueError
        If ``dO`` is not a finite array of the shape of ``O``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Q, K, V, dO = (rng.standard_normal((4, 2)) for _ in range(4))
    >>> O, cache = head_forward(Q, K, V)
    >>> dQ, dK, dV = head_vjp(cache, dO)
    >>> bool(np.isclose(dV.sum(), dO.sum()))   # rows of f sum to one
    True

    Notes
    -----
    One pass of ``f`` over ``d_h (d_h + 1)`` columns and one of ``f^T`` over
    ``d_h (d_h + 2)`` columns: exact ``O(n^2 d_h^2)``, fast ``O(n r d_h^2)``.
    """
    Q, K, V = cache.Q, cache.K, cache.V
    n, dh, dv = int(Q.shape[0]), int(Q.shape[1]), int(V.shape[1])
    xp = _namespace(cache)
    if cache.approximation is None:
        dO = as_matrix("dO", dO, rows=n, cols=dv)
    else:
        dO = as_fast_matrices(("dO", dO, n, dv), ("O", cache.O), dtype=_array.dtype_name(Q.dtype))[1][0]
    delta = xp.reshape(xp.sum(dO * cache.O, axis=1), (-1, 1))
    # right: [K, V_0 o K, ..., V_{dv-1} o K];  left: [dO, delta o Q, dO_0 o Q, ...]
    right = _array.concat(xp, [K, _array.row_kron(xp, V, K)])
    left = _array.concat(xp, [dO, delta * Q, _array.row_kron(xp, dO, Q)])
    fr, fl = _apply(cache, right, left)
    fK, fVK = fr[:, :dh], xp.reshape(fr[:, dh:], (n, dv, dh))
    dV, fdQ, fdOQ = fl[:, :dv], fl[:, dv : dv + dh], xp.reshape(fl[:, dv + dh :], (n, dv, dh))
    dQ = cache.scale * (xp.sum(xp.reshape(dO, (n, dv, 1)) * fVK, axis=1) - delta * fK)
    dK = cache.scale * (xp.sum(xp.reshape(V, (n, dv, 1)) * fdOQ, axis=1) - fdQ)
    return dQ, dK, dV


def _namespace(cache: HeadCache):
    """The namespace of the head's arrays (numpy in exact mode)."""
    return np if cache.approximation is None else _array.namespace(cache.Q)
