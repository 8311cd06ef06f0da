"""Gap max-inner-product -> attention at the threshold B = Theta(sqrt(log n)) (and its tensor analogue).

This is the reduction behind the lower bound of Alman & Song (NeurIPS 2023,
arXiv 2302.13214, Thm 1.4 / Lemma 4.7): approximate attention with entries
``B = C_b sqrt(log n)`` and accuracy ``n^{-C_a}`` decides a *gap* problem
(:mod:`reductions.gap`) whose SETH-hardness is known (Rubinstein 2018; Chen
2018; via the distributed PCPs of Abboud, Rubinstein & Williams 2017 -- cited,
not implemented; see docs/reductions.md).  Source instances here are planted.

Max-IP form (:func:`gap_to_attention`; see docs/matrix-attention.md, 'Lower bound')::

    Q = s A,   K = [s B; 0],   V = e_dummy,    beta = s^2 / m,
    y_i = 1 / (1 + S_i),       S_i = sum_j exp(beta <a_i, b_j>).

Yes gives a row with ``S_i >= e^{beta t_hi}``; no gives every ``S_i <= N_b
e^{beta t_lo}``.  The two separate iff ``e^{beta Delta} > N_b``, i.e. ``beta >
ln(N_b) / Delta``, i.e. ``B = s = sqrt(beta m) > sqrt(m ln(N_b) / Delta)``
(:func:`~reductions.gap_threshold.sufficient_bound`; the exact infimum, which
depends on ``t_lo`` too, is :func:`~reductions.gap_threshold.minimal_bound`).
With ``Delta = Theta(m)`` and ``m = Theta(log n)`` that is ``beta = Theta(1)``
and ``B = Theta(sqrt(log n))``: the threshold.  We take ``beta = ln(margin
N_b) / Delta`` (default ``margin = 4``).  The outputs to separate are ``y_yes
= 1/(1 + e^{beta t_hi})`` and ``y_no = 1/(1 + N_b e^{beta t_lo})``, and the
decoder needs the additive accuracy ``tolerance = (y_no - y_yes)/2``.

The tolerance, honestly.  ``y_yes / y_no ~ 1/margin`` and ``e^{beta t_lo} =
(margin N_b)^{t_lo / Delta}``, so ``tolerance ~ (1 - 1/margin) / (2 N_b)
(margin N_b)^{-t_lo/Delta} = n^{-Theta(1 + t_lo/Delta)}``.  That is the
``eps_a = n^{-O(1)}`` of the theorem only when ``t_lo / Delta = O(1)`` (as at
the threshold: ``Delta = Theta(m)``); with ``Delta = 1`` and ``t_lo =
Theta(log n)`` it is ``n^{-Theta(log n)}``.  The Hamming form has ``t_near /
(t_far - t_near)`` in place of ``t_lo / Delta``, the tensor form ``N_b N_c``
in place of ``N_b``.

Float64.  Thresholds and tolerances are computed in log space, so nothing
overflows.  The outputs themselves can fall below float64's range (``y_no ~
e^{-(beta t_lo + ln N_b)}``; e.g. ``N = 1000``, ``m = 200``, ``t_lo, t_hi =
99, 100``), where exact and fast attention alike return 0 on yes and no rows.
Each construction checks first (:func:`reductions.threshold_instance.separation`)
that the larger output bound is a normal float64 and that the two bounds
differ by more than float64's rounding of attention on the instance, and
otherwise raises a ``ValueError`` naming the parameter and its limit, before
building anything.  A yes is never read as "no".

Hamming form (:func:`hamming_to_attention`): AS23's hard instance,
reconstructed from the constraints AS24a Lemma E.2 quotes (see
docs/matrix-attention.md, 'Lower bound').  Complemented vectors ``a' = (a, 1 -
a)`` so ``<a', b'> = m - h(a, b)``, and ``N_b`` dummy keys ``s 1_{2m}`` at the
row maximum::

    Q = s A',   K = [s B'; s 1 (N_b rows)],   V = [1 (real keys); 0 (dummies)],
    beta = s^2 / (2m),   y_i = R_i / (N_b + R_i),   R_i = sum_j exp(-beta h(a_i, b_j)).

Every raw logit ``s^2 <a', b'>`` lies in ``[0, s^2 m]``, half of each row sits
at the maximum, ``V`` is 0/1: the constraints of AS24a Lemma E.2.  Yes (some
``h <= t_near``) vs no (every ``h >= t_far``) separate iff ``beta (t_far -
t_near) > ln N_b``, so ``B > sqrt(2 m ln(N_b) / (t_far - t_near))``.

Tensor (:func:`gap3_to_tensor_attention`; see docs/tensor-attention.md):
``Q = s A``, ``K1 = [s B; 0]``, ``K2 = [s C; 0]``, ``V1 = V2 = e_dummy``,
``beta = s^3 / m``, ``y_i = 1/(S_i + N_b + N_c + 1)`` with ``S_i = sum_{j,k}
exp(beta <a_i, b_j, c_k>)``.  ``N_b N_c`` far pairs per query: correct iff
``beta Delta > ln(N_b N_c)``, so ``B > (m ln(N_b N_c) / Delta)^{1/3} =
Theta((log n)^{1/3})``: why the tensor threshold is a cube root.

Blow-ups (tests check them): max-IP form ``n = max(N_a, N_b + 1)``, ``d = m``,
``B = sqrt(m ln(margin N_b) / Delta)``; Hamming form ``n = max(N_a, 2 N_b)``,
``d = 2m``, ``B = sqrt(2 m ln(margin N_b) / (t_far - t_near))``; tensor
``n = max(N_a, N_b + 1, N_c + 1)``, ``d = m``, ``B = (m ln(margin N_b N_c) /
Delta)^{1/3}``.  All built in ``O(n m)``.

What the fast path does here.  The fast path certifies, in ``O(n m)``, the
interval its logits actually fill (:func:`algorithms.polynomial_method.logit_bounds`):
the inputs are non-negative, so ``lo = 0``, and Cauchy-Schwarz gives ``hi = beta w``
for rows of weight ``w`` -- e.g. ``[0, 9.13]`` for ``N = 24, m = 32``, gap 3, not
``[-B^2, B^2] = [-48.7, 48.7]``.  On that interval float64 certifies degree 13 at
the decoder's ``eps``, but the rank ``C(m + g, g)`` with ``m = 32`` makes it cost
``10^10`` flops against ``4 * 10^4`` for exact attention: the fast path refuses
with :class:`~algorithms.polynomial_method.CostExceedsExact` (the complexity
phenomenon; the same in ``precision="mpmath"``), not with a float64 limit.  At
toy sizes (``m`` of a few units) it runs and decodes correctly, and where float64
cannot evaluate its polynomial (:class:`~algorithms.polynomial_method.Float64Limit`,
e.g. on the OV instances of four-variable formulas) ``precision="mpmath"``
runs it and decodes correctly too (``tests/reductions/test_gap_to_attention.py``).
Where it runs here it costs more flops than exact attention -- as it does on
the honest family *below* the threshold with ``d = log2 n`` up to ``n = 2^40``
(notebook 04): Thm 1.4 is an asymptotic statement about every algorithm under
SETH, and no test size demonstrates it.

Re-exports.  The source problems (:class:`~reductions.gap.GapInstance`,
:class:`~reductions.gap.Gap3Instance`,
:class:`~reductions.gap.HammingGapInstance`, the brute force and the
generators) live in :mod:`reductions.gap`, and ``minimal_bound``,
``minimal_bound_tensor``, ``sufficient_bound``, ``polynomial_method_rank`` in
:mod:`reductions.gap_threshold`; they are re-exported here unchanged, so
``from reductions.gap_to_attention import planted_gap_instance`` keeps working.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Thm 1.4 and Lemma 4.7 (quoted as AS24a Lemma E.2).
.. [2] A. Rubinstein. Hardness of approximate nearest neighbor search. STOC 2018,
   arXiv:1803.00904.
.. [3] L. Chen. On the hardness of approximate and exact (bichromatic) maximum
   inner product. CCC 2018, arXiv:1802.02325.
.. [4] A. Abboud, A. Rubinstein, R. Williams. Distributed PCP theorems for
   hardness of approximation in P. FOCS 2017, arXiv:1706.06407.
.. [5] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (gap 3-max-IP -> tensor attention, B = Theta((log n)^{1/3})).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from algorithms._checks import as_matrix, max_norm
from reductions.gap import (
    Gap3Instance,
    GapInstance,
    HammingGapInstance,
    disjoint_gap_instance,
    gap_answer,
    max_inner_product,
    max_inner_product3,
    min_hamming_distance,
    planted_gap3_instance,
    planted_gap_instance,
    to_hamming,
)
from reductions.gap_threshold import (
    minimal_bound,
    minimal_bound_tensor,
    polynomial_method_rank,
    sufficient_bound,
)
from reductions.threshold_instance import (
    TensorThresholdInstance,
    ThresholdInstance,
    check_margin,
    separation,
    underflow_message,
)

__all__ = [
    "gap_to_attention",
    "hamming_to_attention",
    "gap3_to_tensor_attention",
    # re-exported from reductions.threshold_instance
    "ThresholdInstance",
    "TensorThresholdInstance",
    # re-exported from reductions.gap
    "GapInstance",
    "Gap3Instance",
    "HammingGapInstance",
    "max_inner_product",
    "max_inner_product3",
    "min_hamming_distance",
    "gap_answer",
    "planted_gap_instance",
    "disjoint_gap_instance",
    "planted_gap3_instance",
    "to_hamming",
    # re-exported from reductions.gap_threshold
    "minimal_bound",
    "minimal_bound_tensor",
    "sufficient_bound",
    "polynomial_method_rank",
]


def _indicator(rows: int, at: slice) -> np.ndarray:
    V = np.zeros((rows, 1))
    V[at, 0] = 1.0
    return V


def gap_to_attention(instance: GapInstance, *, margin: float = 4.0
                     ) -> tuple[ThresholdInstance, Callable[[np.ndarray], tuple[int, int] | None]]:
    """Gap max-IP -> attention at the threshold (max-IP form; see docs/matrix-attention.md, 'Lower bound').

    Parameters
    ----------
    instance : GapInstance
    margin : ``e^{beta Delta} = margin N_b``; the no-side row mass is a factor
        ``margin`` below the yes-side one (``> 1``; default 4).

    Returns
    -------
    ThresholdInstance
        ``Q = s A``, ``K = [s B; 0]``, ``V = e_dummy``, ``beta = ln(margin N_b) /
        Delta``, ``B = s = sqrt(beta m)``.
    decode : callable
        ``decode(output)`` returns ``(i, j)`` with ``<a_i, b_j> >= t_hi``,
        scanning only the rows the output flags (``y_i < threshold``), or
        ``None``; correct whenever the output is within ``tolerance`` of exact.

    Raises
    ------
    ValueError
        ``margin <= 1``; an instance whose outputs float64 cannot hold apart
        (the no-side bound ``y_no`` below ``2^-1022``, which needs ``beta t_lo +
        ln N_b <= 708.4``, or ``margin`` within float64's rounding of 1: the
        message names the parameter and the limit), raised before any work;
        ``decode`` on an output of the wrong shape or non-finite.

    Examples
    --------
    >>> from algorithms.attention import attention
    >>> src, pair = planted_gap_instance(8, 24, 6, 3, 6, yes=True, seed=1)
    >>> inst, decode = gap_to_attention(src)
    >>> decode(attention(inst.Q, inst.K, inst.V)) == pair
    True
    >>> round(inst.B, 3), round(sufficient_bound(8, 24, 3), 3), round(minimal_bound(8, 24, 3, 6), 3)
    (5.266, 4.079, 3.946)

    Notes
    -----
    Yes: some ``S_i >= e^{beta t_hi}``, so ``y_i <= 1/(1 + e^{beta t_hi})``; no:
    every ``S_i <= N_b e^{beta t_lo}``.  Blow-up: ``n = max(N_a, N_b + 1)``,
    ``d = m``, ``B = sqrt(m ln(margin N_b) / Delta)``; tolerance
    ``n^{-Theta(1 + t_lo/Delta)}`` (module docstring).
    """
    margin = check_margin(margin)
    (N_a, m), N_b = instance.A.shape, instance.B.shape[0]
    beta = (math.log(margin) + math.log(N_b)) / instance.gap
    log_yes = -float(np.logaddexp(0.0, beta * instance.t_hi))
    log_no = -float(np.logaddexp(0.0, math.log(N_b) + beta * instance.t_lo))
    threshold, tolerance, eps = separation(
        log_yes, log_no, margin=margin, d=m, n=N_b + 1, logit=beta * m,
        underflow=underflow_message("t_lo", instance.t_lo, beta, math.log(N_b), log_no, "no"))
    A, Bv = instance.A.astype(float), instance.B.astype(float)
    s = math.sqrt(beta * m)
    Q, K = s * A, np.vstack([s * Bv, np.zeros((1, m))])
    out = ThresholdInstance(Q, K, _indicator(N_b + 1, slice(N_b, None)), max(N_a, N_b + 1), m,
                            max_norm(Q, K), beta, threshold, tolerance, eps, "max-ip")

    def decode(output) -> tuple[int, int] | None:
        y = as_matrix("output", output, rows=N_a)[:, 0]
        for i in np.flatnonzero(y < threshold):
            G = instance.B.astype(np.int64) @ instance.A[i].astype(np.int64)
            if G.max() >= instance.t_hi:
                return int(i), int(np.argmax(G))
        return None

    return out, decode


def hamming_to_attention(instance: HammingGapInstance, *, margin: float = 4.0
                         ) -> tuple[ThresholdInstance, Callable[[np.ndarray], tuple[int, int] | None]]:
    """Gap closest pair (Hamming) -> attention: AS23's hard instance, reconstructed.

    Parameters
    ----------
    instance : HammingGapInstance
    margin : ``e^{beta (t_far - t_near)} = margin N_b`` (``> 1``).

    Returns
    -------
    ThresholdInstance
        ``Q = s (A, 1 - A)`` (``N_a x 2m``), ``K = [s (B, 1 - B); s 1]``
        (``2 N_b x 2m``), ``V = [1; 0]``; ``beta = ln(margin N_b) / (t_far -
        t_near)``, ``B = s = sqrt(2 m beta)``.
    decode : callable
        ``(i, j)`` with ``h(a_i, b_j) <= t_near`` from the rows flagged by the
        output (``y_i > threshold``), or ``None``.

    Raises
    ------
    ValueError
        ``margin <= 1``; an instance whose outputs float64 cannot hold apart
        (the yes-side bound ``y_yes ~ e^{-beta t_near} / N_b`` below
        ``2^-1022``, i.e. ``beta t_near + ln N_b > 708.4``: a yes-row would
        read 0 and the instance "no"), raised before any work, naming
        ``t_near`` and its limit; ``decode`` on a malformed output.

    Examples
    --------
    >>> from algorithms.attention import attention
    >>> src, pair = planted_gap_instance(8, 24, 6, 3, 6, yes=False, seed=2)
    >>> inst, decode = hamming_to_attention(to_hamming(src))
    >>> decode(attention(inst.Q, inst.K, inst.V)) is None
    True
    >>> inst.K.shape, inst.d
    ((16, 48), 48)

    Notes
    -----
    Raw logits ``s^2 <a', b'>`` lie in ``[0, s^2 m]`` and ``N_b`` of the ``2 N_b``
    keys of every row sit at the maximum ``s^2 m`` (AS24a Lemma E.2's
    constraints).  ``y_i = R_i/(N_b + R_i)``: yes gives ``R_i >= e^{-beta t_near}``,
    no gives ``R_i <= N_b e^{-beta t_far}``.  Blow-up ``n = max(N_a, 2 N_b)``,
    ``d = 2m``, ``B = sqrt(2 m ln(margin N_b) / (t_far - t_near))``.

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Lemma 4.7 (as quoted by AS24a Lemma E.2; the
       reconstruction is in docs/matrix-attention.md, 'Lower bound').
    """
    margin = check_margin(margin)
    (N_a, m), N_b = instance.A.shape, instance.B.shape[0]
    beta = (math.log(margin) + math.log(N_b)) / instance.gap
    log_r_yes, log_r_no = -beta * instance.t_near, math.log(N_b) - beta * instance.t_far  # ln R
    log_yes = log_r_yes - float(np.logaddexp(math.log(N_b), log_r_yes))  # y = R / (N_b + R)
    log_no = log_r_no - float(np.logaddexp(math.log(N_b), log_r_no))
    threshold, tolerance, eps = separation(
        log_no, log_yes, margin=margin, d=2 * m, n=2 * N_b, logit=beta * m,
        underflow=underflow_message("t_near", instance.t_near, beta, math.log(N_b), log_yes, "yes"))
    A, Bv = instance.A.astype(float), instance.B.astype(float)
    s = math.sqrt(2 * m * beta)
    Q = s * np.hstack([A, 1 - A])
    K = np.vstack([s * np.hstack([Bv, 1 - Bv]), np.full((N_b, 2 * m), s)])
    out = ThresholdInstance(Q, K, _indicator(2 * N_b, slice(0, N_b)), max(N_a, 2 * N_b), 2 * m,
                            max_norm(Q, K), beta, threshold, tolerance, eps, "hamming")

    def decode(output) -> tuple[int, int] | None:
        y = as_matrix("output", output, rows=N_a)[:, 0]
        for i in np.flatnonzero(y > threshold):
            h = np.sum(instance.B != instance.A[i], axis=1)
            if h.min() <= instance.t_near:
                return int(i), int(np.argmin(h))
        return None

    return out, decode


def gap3_to_tensor_attention(instance: Gap3Instance, *, margin: float = 4.0
                             ) -> tuple[TensorThresholdInstance, Callable[[np.ndarray], tuple[int, int, int] | None]]:
    """Gap 3-max-IP -> tensor attention at ``B = Theta((log n)^{1/3})``.

    Parameters
    ----------
    instance : Gap3Instance
    margin : ``e^{beta Delta} = margin N_b N_c`` (``> 1``).

    Returns
    -------
    TensorThresholdInstance
        ``Q = s A``, ``K1 = [s B; 0]``, ``K2 = [s C; 0]``, ``V1 = V2 = e_dummy``,
        ``beta = ln(margin N_b N_c) / Delta``, ``B = s = (beta m)^{1/3}``.
    decode : callable
        ``(i, j, k)`` with ``<a_i, b_j, c_k> >= t_hi`` from the flagged rows, or ``None``.

    Raises
    ------
    ValueError
        ``margin <= 1``; an instance whose outputs float64 cannot hold apart
        (``y_no`` below ``2^-1022``: ``beta t_lo + ln(N_b N_c) > 708.4``),
        raised before any work, naming ``t_lo`` and its limit; ``decode`` on a
        malformed output.

    Examples
    --------
    >>> from algorithms.tensor_attention import tensor_attention
    >>> src, triple = planted_gap3_instance(5, 24, 6, 1, 5, yes=True, seed=3)
    >>> inst, decode = gap3_to_tensor_attention(src)
    >>> decode(tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)) == triple
    True

    Notes
    -----
    ``y_i = 1/(S_i + N_b + N_c + 1)``; yes gives ``S_i >= e^{beta t_hi}``, no
    gives ``S_i <= N_b N_c e^{beta t_lo}``.  Blow-up ``n = max(N_a, N_b + 1,
    N_c + 1)``, ``d = m``, ``B = (m ln(margin N_b N_c) / Delta)^{1/3}``.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064 (see docs/tensor-attention.md).
    """
    margin = check_margin(margin)
    (N_a, m), N_b, N_c = instance.A.shape, instance.B.shape[0], instance.C.shape[0]
    log_far = math.log(N_b) + math.log(N_c)
    beta = (math.log(margin) + log_far) / instance.gap
    log_base = math.log(N_b + N_c + 1.0)
    log_yes = -float(np.logaddexp(beta * instance.t_hi, log_base))  # y = 1 / (S + N_b + N_c + 1)
    log_no = -float(np.logaddexp(log_far + beta * instance.t_lo, log_base))
    threshold, tolerance, eps = separation(
        log_yes, log_no, margin=margin, d=m, n=(N_b + 1) * (N_c + 1), logit=beta * m,
        underflow=underflow_message("t_lo", instance.t_lo, beta, log_far, log_no, "no"))
    A, Bv, Cv = (X.astype(float) for X in (instance.A, instance.B, instance.C))
    s = (beta * m) ** (1.0 / 3.0)
    Q = s * A
    K1, K2 = (np.vstack([s * X, np.zeros((1, m))]) for X in (Bv, Cv))
    out = TensorThresholdInstance(
        Q, K1, _indicator(N_b + 1, slice(N_b, None)), max(N_a, N_b + 1, N_c + 1), m,
        max_norm(Q, K1, K2), beta, threshold, tolerance, eps, "tensor",
        K2=K2, V2=_indicator(N_c + 1, slice(N_c, None)),
    )

    def decode(output) -> tuple[int, int, int] | None:
        y = as_matrix("output", output, rows=N_a)[:, 0]
        Bi, Ci = instance.B.astype(np.int64), instance.C.astype(np.int64)
        for i in np.flatnonzero(y < threshold):
            T = (Bi * instance.A[i]) @ Ci.T
            if T.max() >= instance.t_hi:
                j, k = np.unravel_index(int(np.argmax(T)), T.shape)
                return int(i), int(j), int(k)
        return None

    return out, decode
