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
(:func:`~reductions.gap_threshold.minimal_bound`).  With ``Delta = Theta(m)``
and ``m = Theta(log n)`` that is ``beta = Theta(1)`` and ``B =
Theta(sqrt(log n))``: the threshold.  We take ``beta = ln(margin N_b) / Delta``
(default ``margin = 4``).  The outputs to separate are ``y_yes = 1/(1 + e^{beta
t_hi})`` and ``y_no = 1/(1 + N_b e^{beta t_lo})``, both ``n^{-Theta(1)}``: the
decoder needs additive accuracy ``(y_no - y_yes)/2 = n^{-O(1)}``, the ``eps_a =
n^{-C_a}`` of the theorem.

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

The point of the threshold.  The polynomial method approximates ``e^x`` on
``[-B^2, B^2]`` (``[-B^3, B^3]`` for tensors); at ``B^2 = Theta(log n)`` and
``eps = n^{-O(1)}`` its degree is ``Theta(log n)`` and its rank ``C(d + g, g)
= n^{Theta(1)}`` (:func:`~reductions.gap_threshold.polynomial_method_rank`),
and in float64 it cannot even reach the needed ``eps`` once ``B^2`` exceeds
~10 (the power basis loses ``e^{2 B^2}`` to rounding), so
:func:`algorithms.attention.attention_fast` refuses with a ``ValueError``
naming ``B``.  Exact attention decodes these instances correctly.  Where
``m / Delta`` is small enough that ``B^2`` stays small, the fast path runs at
the decoder's ``eps`` and decodes correctly.  (At test sizes the rank exceeds
``n`` on both sides of the threshold: the asymptotic crossover needs ``n`` far
beyond what a test can run.)

Re-exports.  The source problems (:class:`~reductions.gap.GapInstance`,
:class:`~reductions.gap.Gap3Instance`,
:class:`~reductions.gap.HammingGapInstance`, the brute force and the
generators) live in :mod:`reductions.gap`, and ``minimal_bound``,
``minimal_bound_tensor``, ``polynomial_method_rank`` in
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
from dataclasses import dataclass

import numpy as np

from algorithms._checks import as_matrix, max_norm
from reductions.gap import (
    Gap3Instance,
    GapInstance,
    HammingGapInstance,
    gap_answer,
    max_inner_product,
    max_inner_product3,
    min_hamming_distance,
    planted_gap3_instance,
    planted_gap_instance,
    separated_gap_instance,
    to_hamming,
)
from reductions.gap_threshold import (
    minimal_bound,
    minimal_bound_tensor,
    polynomial_method_rank,
)
from reductions.ov_to_attention import AttentionInstance

__all__ = [
    "ThresholdInstance",
    "TensorThresholdInstance",
    "gap_to_attention",
    "hamming_to_attention",
    "gap3_to_tensor_attention",
    # re-exported from reductions.gap
    "GapInstance",
    "Gap3Instance",
    "HammingGapInstance",
    "max_inner_product",
    "max_inner_product3",
    "min_hamming_distance",
    "gap_answer",
    "planted_gap_instance",
    "separated_gap_instance",
    "planted_gap3_instance",
    "to_hamming",
    # re-exported from reductions.gap_threshold
    "minimal_bound",
    "minimal_bound_tensor",
    "polynomial_method_rank",
]


@dataclass(frozen=True)
class ThresholdInstance(AttentionInstance):
    """An :class:`~reductions.ov_to_attention.AttentionInstance` built from a gap problem, with its decision rule.

    The nine fields of ``AttentionInstance`` (``Q, K, V, n, d, B, beta,
    threshold, tolerance``), where ``threshold`` is read by :meth:`decide`
    (yes iff ``min y < threshold`` in the max-IP and tensor forms, ``max y >
    threshold`` in the Hamming form, ``y`` the output's first column) and
    ``tolerance`` is the additive error on ``y`` the decision survives
    (``eps_a``); and two more:

    Attributes
    ----------
    eps : relative entry error ``e`` with ``e / (1 + sqrt(1 - e^2)) = tolerance``, the
        ``eps`` to hand :func:`~algorithms.attention.attention_fast` (by its
        bound (E1), the spread of ``V`` being 1).
    form : ``"max-ip"``, ``"hamming"`` or ``"tensor"``.
    """

    eps: float
    form: str

    def decide(self, output) -> bool:
        """The yes/no answer read off the output alone (no look at the source vectors)."""
        y = as_matrix("output", output, rows=self.Q.shape[0])[:, 0]
        return bool(y.max() > self.threshold) if self.form == "hamming" else bool(y.min() < self.threshold)


@dataclass(frozen=True)
class TensorThresholdInstance(ThresholdInstance):
    """As :class:`ThresholdInstance` with ``K = K1``, ``V = V1`` and the second pair ``K2, V2``."""

    K2: np.ndarray = None
    V2: np.ndarray = None

    @property
    def K1(self) -> np.ndarray:
        return self.K

    @property
    def V1(self) -> np.ndarray:
        return self.V


def _check_margin(margin: float) -> float:
    if not (np.isfinite(margin) and margin > 1):
        raise ValueError(f"margin must be a finite number > 1, got {margin!r}")
    return float(margin)


def _separation(y_yes: float, y_no: float) -> tuple[float, float, float]:
    lo, hi = min(y_yes, y_no), max(y_yes, y_no)
    tolerance = (hi - lo) / 2
    # Invert (E1) of algorithms.attention for an indicator V (spread 1):
    # e / (1 + sqrt(1 - e^2)) = tolerance  <=>  e = 2 tolerance / (1 + tolerance^2).
    return (lo + hi) / 2, tolerance, 2 * tolerance / (1 + tolerance**2)


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
        ``margin <= 1``; ``decode`` on an output of the wrong shape or non-finite.

    Examples
    --------
    >>> from algorithms.attention import attention
    >>> src, pair = planted_gap_instance(8, 24, 6, 3, 6, yes=True, seed=1)
    >>> inst, decode = gap_to_attention(src)
    >>> decode(attention(inst.Q, inst.K, inst.V)) == pair
    True
    >>> round(inst.B, 3), round(minimal_bound(8, 24, 3), 3)
    (5.266, 4.079)

    Notes
    -----
    Yes: some ``S_i >= e^{beta t_hi}``, so ``y_i <= 1/(1 + e^{beta t_hi})``; no:
    every ``S_i <= N_b e^{beta t_lo}``.  Blow-up: ``n = max(N_a, N_b + 1)``,
    ``d = m``, ``B = sqrt(m ln(margin N_b) / Delta)``; tolerance ``n^{-O(1)}``.
    """
    margin = _check_margin(margin)
    A, Bv = instance.A.astype(float), instance.B.astype(float)
    (N_a, m), N_b = A.shape, Bv.shape[0]
    beta = math.log(margin * N_b) / instance.gap
    s = math.sqrt(beta * m)
    Q, K = s * A, np.vstack([s * Bv, np.zeros((1, m))])
    y_yes = 1.0 / (1.0 + math.exp(beta * instance.t_hi))
    y_no = 1.0 / (1.0 + N_b * math.exp(beta * instance.t_lo))
    threshold, tolerance, eps = _separation(y_yes, y_no)
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
    margin = _check_margin(margin)
    A, Bv = instance.A.astype(float), instance.B.astype(float)
    (N_a, m), N_b = A.shape, Bv.shape[0]
    beta = math.log(margin * N_b) / instance.gap
    s = math.sqrt(2 * m * beta)
    Q = s * np.hstack([A, 1 - A])
    K = np.vstack([s * np.hstack([Bv, 1 - Bv]), np.full((N_b, 2 * m), s)])
    r_yes, r_no = math.exp(-beta * instance.t_near), N_b * math.exp(-beta * instance.t_far)
    threshold, tolerance, eps = _separation(r_yes / (N_b + r_yes), r_no / (N_b + r_no))
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
    margin = _check_margin(margin)
    A, Bv, Cv = (X.astype(float) for X in (instance.A, instance.B, instance.C))
    (N_a, m), N_b, N_c = A.shape, Bv.shape[0], Cv.shape[0]
    beta = math.log(margin * N_b * N_c) / instance.gap
    s = (beta * m) ** (1.0 / 3.0)
    Q = s * A
    K1, K2 = (np.vstack([s * X, np.zeros((1, m))]) for X in (Bv, Cv))
    base = N_b + N_c + 1.0
    y_yes = 1.0 / (math.exp(beta * instance.t_hi) + base)
    y_no = 1.0 / (N_b * N_c * math.exp(beta * instance.t_lo) + base)
    threshold, tolerance, eps = _separation(y_yes, y_no)
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
