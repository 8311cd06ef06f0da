"""Gap max-IP from polylog gradient-oracle calls: the repaired interpolation proof of AS24a Thm E.5.

Alman & Song (NeurIPS 2024, arXiv 2402.04497, Thm E.5) show that computing the
training gradient ``dL/dX`` of

    L(X) = 1/2 || D(X)^{-1} exp(A1 X A2^T / d) A3 Y - E ||_F^2

fast would decide the SETH-hard gap problems of :mod:`reductions.gap`.  Their
proof sets ``A1 = Q, A2 = K, A3 = V, E = 0, Y = I, X = lam X0`` so that

    f(lam) := ||Att_lam||_F^2 = 2 L(lam X0),     f'(lam) = 2 <grad_X L(lam X0), X0>,

``f(0)`` is uniform attention (closed form) and ``f(1) = f(0) + int_0^1 f'``
is read off ``O(polylog n)`` oracle calls.  As published, the proof is a
sketch (see docs/gradient.md, 'Lower bound'): its Riemann-sum error ``b/m``
carries ``b = O(B^2 n)`` and does not close for ``m = polylog(n)`` points, and
it never says how the scalar ``||Att||_F^2`` decides the instance.
:func:`gap_via_gradient` is the repaired, executable form:

1. a *threshold dummy key* at logit ``beta t_mid`` (``t_lo < t_mid < t_hi``)
   with value 0, real keys with value 1, so ``y_i = S_i / (S_i + e^{beta
   t_mid})`` is near 1 on a yes-row and tiny on every no-row: ``||Att||_F^2``
   is ``>= ~1`` on yes-instances and ``<= 1/margin^2`` on no-instances, a
   constant gap;
2. Gauss-Legendre quadrature of ``f'`` (``f`` is analytic in ``lam``) in place
   of the Riemann sum;
3. the paper's ``B = 0`` read as ``E = 0``, and the ``1/d`` its Def E.1 drops kept.

The exact (non-interpolating) forward -> gradient reduction, which reads every
entry of the forward output off ``dL/dX``, is :mod:`reductions.attention_to_gradient`.

References
----------
.. [1] J. Alman, Z. Song. The fine-grained complexity of gradient computation
   for training large language models. NeurIPS 2024, arXiv:2402.04497,
   Thm E.5, Lemmas E.2-E.4.
.. [2] Y. Liang, Z. Shi, Z. Song, Y. Zhou. Tensor attention training: provably
   efficient learning of higher-order transformers. arXiv:2405.16411, Thm 6.3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reductions.gap import Gap3Instance, GapInstance

__all__ = ["InterpolationTrace", "gap_via_gradient"]


@dataclass(frozen=True)
class InterpolationTrace:
    """What :func:`gap_via_gradient` computed.

    Attributes
    ----------
    f0 : ``||Att_0||_F^2`` (uniform attention, in closed form).
    f1 : the estimate of ``||Att_1||_F^2 = f0 + int_0^1 f'(lam) dlam`` from the oracle.
    threshold : yes iff ``f1 > threshold``.
    tolerance : ``|f1 - ||Att||_F^2|`` below which the decision is right.
    points : Gauss-Legendre nodes = oracle calls.
    n, d, B, beta, t_mid : size, head dimension, max-norm of the inputs, logit
        scale, and the dummy's threshold inner product.
    """

    f0: float
    f1: float
    threshold: float
    tolerance: float
    points: int
    n: int
    d: int
    B: float
    beta: float
    t_mid: float


def _check_points(points: int) -> int:
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points < 1:
        raise ValueError(f"points must be a positive integer, got {points!r}")
    return int(points)


def _integrate(derivative: Callable[[float], float], f0: float, points: int) -> float:
    """``f0 + int_0^1 f'`` by ``points``-node Gauss-Legendre quadrature."""
    nodes, weights = np.polynomial.legendre.leggauss(points)
    return f0 + float(sum(w / 2 * derivative((x + 1) / 2) for x, w in zip(nodes, weights)))


def _frobenius_threshold(N_a: int, y_yes: float, y_no: float) -> tuple[float, float]:
    hi, lo = y_yes**2, N_a * y_no**2
    if not hi > lo:  # pragma: no cover - excluded by the choice of beta
        raise ValueError("the construction does not separate yes from no; raise margin")
    return (hi + lo) / 2, (hi - lo) / 2


def gap_via_gradient(instance, grad: Callable | None = None, *, points: int = 48,
                     margin: float = 4.0) -> tuple[bool, InterpolationTrace]:
    """Decide a gap max-IP (or 3-max-IP) instance with ``points`` gradient-oracle calls.

    The repaired form of Alman & Song's Thm E.5 (AS24a; Liang et al. Thm 6.3
    for tensors).  Their proof sets ``A1 = Q, A2 = K, A3 = V, E = 0, Y = I,
    X = lam X0`` so that ``f(lam) := ||Att_lam||_F^2 = 2 L(lam X0)`` and
    ``f'(lam) = 2 <grad_X L(lam X0), X0>``; ``f(0)`` is uniform attention
    (closed form) and ``f(1) = f(0) + int_0^1 f'``.  What it leaves open, and
    what is repaired here (see docs/gradient.md, 'Lower bound'):

    1. *How ``||Att||_F^2`` decides the instance.*  A dummy key whose logit is
       a threshold ``beta t_mid`` (``t_lo < t_mid < t_hi``; ``T = ceil(t_mid)``
       extra coordinates where every query holds ``s`` and the dummy key
       ``s t_mid / T``, so no entry exceeds ``s``), value 1 on real keys and 0
       on the dummy: ``y_i = S_i / (S_i + e^{beta t_mid})``.  With ``beta
       (t_mid - t_lo) = ln(margin N_b) + ln(N_a)/2`` a yes-row has ``y_i`` near 1
       and ``||y||^2 <= 1/margin^2`` on no-instances, a constant gap.
    2. *The error bookkeeping.*  The published Riemann sum has error ``b/m``
       with ``b = O(B^2 n)``, which does not close for ``m = polylog(n)``
       points.  ``f`` is analytic in ``lam``; Gauss-Legendre with ``points``
       nodes converges geometrically once ``points`` exceeds ~ the logit range
       ``beta m``, and the decision needs only the constant ``tolerance``
       (both reported; the tests compare ``f1`` with the exact ``||Att||_F^2``).
    3. The paper's ``B = 0`` is ``E = 0``; the ``1/d`` its Def E.1 drops is kept.

    Parameters
    ----------
    instance : GapInstance or Gap3Instance (from :mod:`reductions.gap`)
    grad : gradient routine; default ``attention_loss_grad`` (matrix) or
        ``tensor_attention_loss_grad`` (tensor).
    points : quadrature nodes, i.e. oracle calls (``O(polylog n)`` in the theorem).
    margin : ``> 1``; no-instances have ``||Att||_F^2 <= 1/margin^2``.

    Returns
    -------
    (answer, InterpolationTrace)

    Raises
    ------
    ValueError
        Unknown instance type, ``points < 1`` or ``margin <= 1``.

    Examples
    --------
    >>> from reductions.gap import planted_gap_instance
    >>> src, _ = planted_gap_instance(6, 16, 4, 1, 4, yes=True, seed=0)
    >>> answer, trace = gap_via_gradient(src, points=32)
    >>> answer, trace.points, bool(trace.f1 > trace.threshold)
    (True, 32, True)

    Notes
    -----
    Blow-up: ``n = N_a`` queries, ``N_b + 1`` keys, ``d = m + ceil(t_mid)``,
    ``B = s = sqrt(beta d)`` (tensor: ``N_b + 1, N_c + 1`` keys and ``s = (beta
    d)^{1/3}``), ``points`` oracle calls.

    References
    ----------
    .. [1] Alman & Song, arXiv:2402.04497, Thm E.5, Lemmas E.3-E.4.
    .. [2] Liang, Shi, Song, Zhou, arXiv:2405.16411, Thm 6.3.
    """
    points = _check_points(points)
    if not (np.isfinite(margin) and margin > 1):
        raise ValueError(f"margin must be a finite number > 1, got {margin!r}")
    if isinstance(instance, Gap3Instance):
        return _gap3_via_gradient(instance, grad, points, float(margin))
    if not isinstance(instance, GapInstance):
        raise ValueError(f"instance must be a GapInstance or Gap3Instance, got {type(instance).__name__}")
    if grad is None:
        from algorithms.attention import attention_loss_grad as grad
    A, Bv = instance.A.astype(float), instance.B.astype(float)
    (N_a, m), N_b = A.shape, Bv.shape[0]
    t_mid = (instance.t_lo + instance.t_hi) / 2
    T = math.ceil(t_mid)
    d = m + T
    beta = (math.log(margin * N_b) + 0.5 * math.log(N_a)) / (t_mid - instance.t_lo)
    s = math.sqrt(beta * d)
    Q = np.hstack([s * A, np.full((N_a, T), s)])
    K = np.vstack([np.hstack([s * Bv, np.zeros((N_b, T))]),
                   np.hstack([np.zeros((1, m)), np.full((1, T), s * t_mid / T)])])
    A3 = np.zeros((N_b + 1, d))
    A3[:N_b, 0] = 1.0
    E, Y, X0 = np.zeros((N_a, d)), np.eye(d), np.eye(d)
    f0 = N_a * (N_b / (N_b + 1)) ** 2
    f1 = _integrate(lambda lam: 2 * float(np.sum(grad(Q, K, A3, E, lam * X0, Y) * X0)), f0, points)
    gap = beta * (instance.t_hi - t_mid)
    threshold, tolerance = _frobenius_threshold(N_a, 1 / (1 + math.exp(-gap)),
                                                N_b * math.exp(-beta * (t_mid - instance.t_lo)))
    trace = InterpolationTrace(f0, f1, threshold, tolerance, points, max(N_a, N_b + 1), d,
                               float(max(np.abs(Q).max(), np.abs(K).max())), beta, t_mid)
    return bool(f1 > threshold), trace


def _gap3_via_gradient(instance, grad, points: int, margin: float) -> tuple[bool, InterpolationTrace]:
    """Tensor case of :func:`gap_via_gradient`: the same dummy, now a (dummy, dummy) key pair."""
    if grad is None:
        from algorithms.tensor_attention import tensor_attention_loss_grad as grad
    A, Bv, Cv = (X.astype(float) for X in (instance.A, instance.B, instance.C))
    (N_a, m), N_b, N_c = A.shape, Bv.shape[0], Cv.shape[0]
    t_mid = (instance.t_lo + instance.t_hi) / 2
    T = math.ceil(t_mid)
    d = m + T
    beta = (math.log(margin * N_b * N_c) + 0.5 * math.log(N_a)) / (t_mid - instance.t_lo)
    s = (beta * d) ** (1.0 / 3.0)
    Q = np.hstack([s * A, np.full((N_a, T), s)])
    K1 = np.vstack([np.hstack([s * Bv, np.zeros((N_b, T))]), np.hstack([np.zeros((1, m)), np.full((1, T), s)])])
    K2 = np.vstack([np.hstack([s * Cv, np.zeros((N_c, T))]),
                    np.hstack([np.zeros((1, m)), np.full((1, T), s * t_mid / T)])])
    A4, A5 = np.zeros((N_b + 1, d)), np.zeros((N_c + 1, d))
    A4[:N_b, 0] = A5[:N_c, 0] = 1.0
    Y = np.zeros((d * d, 1))
    Y[0, 0] = 1.0  # h_(j,k) = A4[j,0] A5[k,0]: 1 on real pairs only
    X0 = np.zeros((d, d * d))
    X0[np.arange(d), np.arange(d) * d + np.arange(d)] = 1.0  # I ⊘ I: logits <q, k1 o k2> / d
    E = np.zeros((N_a, 1))
    f0 = N_a * (N_b * N_c / ((N_b + 1) * (N_c + 1))) ** 2
    f1 = _integrate(lambda lam: 2 * float(np.sum(grad(Q, K1, K2, A4, A5, E, lam * X0, Y) * X0)), f0, points)
    # yes: S >= e^{beta t_hi} against e^{beta t_mid} + N_b + N_c (dummy pair, mixed pairs at logit 0)
    y_yes = 1 / (1 + math.exp(-beta * (instance.t_hi - t_mid)) + (N_b + N_c) * math.exp(-beta * instance.t_hi))
    y_no = N_b * N_c * math.exp(-beta * (t_mid - instance.t_lo))
    threshold, tolerance = _frobenius_threshold(N_a, y_yes, y_no)
    trace = InterpolationTrace(f0, f1, threshold, tolerance, points, max(N_a, N_b + 1, N_c + 1), d,
                               float(max(np.abs(Q).max(), np.abs(K1).max(), np.abs(K2).max())), beta, t_mid)
    return bool(f1 > threshold), trace
