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
2. Gauss-Legendre quadrature of ``f'`` in place of the Riemann sum, with the
   number of nodes (= oracle calls) set by a proven error bound
   (:func:`quadrature_error_bound`: ``f`` is analytic and bounded on a strip
   of half-width ``~1/R`` around ``[0, 1]``, ``R`` the logit range), so that
   the count is ``O(R log(N_a R))``, i.e. ``O(log^2 n)`` at the threshold
   (:func:`quadrature_points`);
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

__all__ = ["InterpolationTrace", "gap_via_gradient", "quadrature_error_bound", "quadrature_points"]


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
    logit_range : ``R``, a certified bound on the width of every row's logits.
    error_bound : the proven bound on ``|f1 - ||Att_1||_F^2|`` with ``points``
        nodes (:func:`quadrature_error_bound`), float64 rounding aside.
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
    logit_range: float
    error_bound: float

    @property
    def certified(self) -> bool:
        """``error_bound <= tolerance / 2``: the answer is proven (the other half covers rounding)."""
        return self.error_bound <= self.tolerance / 2


# ---------------------------------------------------------------------------- the quadrature bound
_THETAS = np.linspace(0.02, 1.55, 154)  # theta in (0, pi/2), the strip's half-width in units of 2/R


def _error_bounds(points: int, logit_range: float, rows: int) -> np.ndarray:
    """``(64/15) (M/2) rho^{2 - 2p} / (rho^2 - 1)`` for every ``theta`` of the grid (see the lemma)."""
    sec = 1 / np.cos(_THETAS)
    half_f_prime = rows * logit_range * sec**2 * (1 + sec) / 2  # |g| = |f'| / 2 on the strip
    b = 4 * _THETAS / logit_range  # semi-minor axis of E_rho in z, where |Im z| = 2 |Im lam|
    log_rho = np.arcsinh(b)  # rho = b + sqrt(1 + b^2)
    log_bound = np.log(64 / 15 * half_f_prime) - (2 * points - 2) * log_rho - np.log(np.expm1(2 * log_rho))
    return np.exp(np.minimum(log_bound, 700.0))


def quadrature_error_bound(points: int, logit_range: float, rows: int) -> float:
    """Proven bound on the ``points``-node Gauss-Legendre error of ``int_0^1 f'``, ``f = sum_i y_i(lam)^2``.

    Lemma.  Let every row ``i <= rows`` have logits ``l_ij`` in an interval of
    width ``R = logit_range``, and ``y_i(lam) = sum_{j in J} e^{lam l_ij} /
    sum_j e^{lam l_ij}`` (``J`` the keys of value 1; the tensor case is the
    same with key pairs).  For ``0 < theta < pi/2``, on the strip ``|Im lam| <=
    2 theta / R``, ``f`` is analytic and ``|f'| <= rows R sec^2(theta) (1 +
    sec(theta))``.

    Proof.  Shift row ``i``'s logits by their centre: ``u_j = l_ij - c_i`` in
    ``[-R/2, R/2]`` (``y_i`` is unchanged).  With ``lam = x + i eta``,
    ``|eta u_j| <= theta`` and ``Re e^{lam u_j} = e^{x u_j} cos(eta u_j) >=
    cos(theta) e^{x u_j}``, so the denominator ``D = sum_j e^{lam u_j}`` has
    ``|D| >= cos(theta) W``, ``W = sum_j e^{x u_j} > 0`` (no zero: ``f`` is
    analytic there), while ``|sum_{j in J} e^{lam u_j}| <= W``: ``|y_i| <=
    sec(theta)``.  ``y_i' = (sum_J u_j e^{lam u_j} - y_i sum_j u_j e^{lam
    u_j}) / D`` with both sums at most ``(R/2) W``: ``|y_i'| <= (R/2)
    sec(theta) (1 + sec(theta))``, and ``|f'| = |2 sum_i y_i y_i'|`` gives the
    claim.  Now ``lam = (1 + z)/2`` maps ``[-1, 1]`` onto ``[0, 1]``; ``g(z) =
    f'((1 + z)/2) / 2`` has ``int_{-1}^1 g = f(1) - f(0)`` and ``|g| <= M :=
    rows R sec^2(theta)(1 + sec(theta)) / 2`` on the Bernstein ellipse
    ``E_rho`` (foci ``+-1``) whose semi-minor axis ``(rho - 1/rho)/2`` is ``b
    = 4 theta / R``, since it lies in ``|Im z| <= 4 theta / R``.  Then ``g``'s
    Chebyshev coefficients obey ``|a_k| <= 2 M rho^{-k}``; the ``p``-node
    Gauss rule is exact to degree ``2p - 1`` and both it and the integral
    vanish on odd ``T_k``; for even ``k >= 2p >= 4``, ``|int T_k| <= 2/(k^2 -
    1) <= 2/15`` and ``|Q_p(T_k)| <= 2``, so

        |int g - Q_p(g)| <= sum_{even k >= 2p} 2 M rho^{-k} (2 + 2/15)
                          = (64/15) M rho^{2 - 2p} / (rho^2 - 1)

    (Trefethen, ATAP Thm 19.3, with ``n = p - 1``).  The bound returned is the
    minimum over a grid of ``theta``; for ``p = 1`` it is ``inf``.

    Examples
    --------
    >>> quadrature_error_bound(48, 10.0, 8) < 1e-6 < quadrature_error_bound(16, 10.0, 8)
    True
    """
    if points < 2:
        return math.inf
    return float(_error_bounds(points, logit_range, rows).min())


def quadrature_points(logit_range: float, rows: int, tolerance: float) -> int:
    """The fewest Gauss-Legendre nodes with :func:`quadrature_error_bound` ``<= tolerance / 2``.

    For large ``R``, ``rho ~ 1 + 4 theta / R``, so the count is ``p ~ R / (8
    theta) ln(C rows R / tolerance)``: ``O(R log(rows R / tolerance))``.  At the
    threshold (``Delta = Theta(m)``, ``m = Theta(log n)``) the logit range is
    ``R = Theta(log n)`` and the tolerance a constant, so ``O(log^2 n)``
    gradient calls (AS24a's proof asks for ``O(log^4 n)``).

    Examples
    --------
    >>> quadrature_points(10.0, 8, 0.4), quadrature_points(100.0, 8, 0.4)
    (12, 150)
    """
    if not (logit_range > 0 and rows >= 1 and tolerance > 0):
        raise ValueError(f"need logit_range > 0, rows >= 1, tolerance > 0, got {logit_range!r}, {rows!r}, "
                         f"{tolerance!r}")
    target, hi = tolerance / 2, 2
    while quadrature_error_bound(hi, logit_range, rows) > target:
        hi *= 2
    lo = max(2, hi // 2)
    while lo < hi:  # the bound decreases in the number of points
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if quadrature_error_bound(mid, logit_range, rows) > target else (lo, mid)
    return hi


# ---------------------------------------------------------------------------- the reduction
def _check_points(points: int | None) -> int | None:
    if points is None:
        return None
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


def gap_via_gradient(instance, grad: Callable | None = None, *, points: int | None = None,
                     margin: float = 4.0, max_points: int = 4096) -> tuple[bool, InterpolationTrace]:
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
       points.  Here Gauss-Legendre with the number of nodes set by a proven
       bound (:func:`quadrature_error_bound`, :func:`quadrature_points`) from
       the logit range ``R`` and ``N_a``: every logit lies in ``[0, beta
       max(t_mid, w)]`` with ``w`` the smallest of the sets' largest row
       weights (an ``O(n m)`` certificate, no logit computed), and the count
       is ``O(R log(N_a R / tolerance))`` -- ``O(log^2 n)`` at the threshold.
    3. The paper's ``B = 0`` is ``E = 0``; the ``1/d`` its Def E.1 drops is kept.

    Parameters
    ----------
    instance : GapInstance or Gap3Instance (from :mod:`reductions.gap`)
    grad : gradient routine; default ``attention_loss_grad`` (matrix) or
        ``tensor_attention_loss_grad`` (tensor).
    points : quadrature nodes, i.e. oracle calls; default (``None``) the
        proven count :func:`quadrature_points`.  A smaller count runs but is
        not certified (``trace.certified`` is then false).
    margin : ``> 1``; no-instances have ``||Att||_F^2 <= 1/margin^2``.
    max_points : the largest default count run; above it a ``ValueError``
        names the count before any oracle call.

    Returns
    -------
    (answer, InterpolationTrace)

    Raises
    ------
    ValueError
        Unknown instance type, ``points < 1``, ``margin <= 1``, or a proven
        count above ``max_points``.

    Examples
    --------
    >>> from reductions.gap import planted_gap_instance
    >>> src, _ = planted_gap_instance(6, 16, 4, 1, 4, yes=True, seed=0)
    >>> answer, trace = gap_via_gradient(src)
    >>> answer, trace.points, trace.certified, bool(trace.f1 > trace.threshold)
    (True, 12, True, True)

    Notes
    -----
    Blow-up: ``n = N_a`` queries, ``N_b + 1`` keys, ``d = m + ceil(t_mid)``,
    ``B = s = sqrt(beta d)`` (tensor: ``N_b + 1, N_c + 1`` keys and ``s = (beta
    d)^{1/3}``), ``points`` oracle calls.

    References
    ----------
    .. [1] Alman & Song, arXiv:2402.04497, Thm E.5, Lemmas E.3-E.4.
    .. [2] Liang, Shi, Song, Zhou, arXiv:2405.16411, Thm 6.3.
    .. [3] L. N. Trefethen. Approximation Theory and Approximation Practice.
       SIAM 2013, Thms 8.1 and 19.3.
    """
    points = _check_points(points)
    if not (isinstance(margin, (int, float, np.floating)) and np.isfinite(margin) and margin > 1):
        raise ValueError(f"margin must be a finite number > 1, got {margin!r}")
    if isinstance(instance, Gap3Instance):
        setup = _tensor_setup(instance, grad, float(margin))
    elif isinstance(instance, GapInstance):
        setup = _matrix_setup(instance, grad, float(margin))
    else:
        raise ValueError(f"instance must be a GapInstance or Gap3Instance, got {type(instance).__name__}")
    derivative, f0, (y_yes, y_no), R, (N_a, n, d, B, beta, t_mid) = setup
    threshold, tolerance = _frobenius_threshold(N_a, y_yes, y_no)
    if points is None:
        points = quadrature_points(R, N_a, tolerance)
        if points > max_points:
            raise ValueError(
                f"gap_via_gradient needs points={points} gradient calls (the quadrature bound for logit range "
                f"R={R:.4g}, N_a={N_a}, tolerance={tolerance:.3g}), above max_points={max_points}; raise "
                "max_points to run them"
            )
    f1 = _integrate(derivative, f0, points)
    trace = InterpolationTrace(f0, f1, threshold, tolerance, points, n, d, B, beta, t_mid, R,
                               quadrature_error_bound(points, R, N_a))
    return bool(f1 > threshold), trace


def _matrix_setup(instance: GapInstance, grad, margin: float):
    """The instance of :func:`gap_via_gradient`: ``(f', f0, (y_yes, y_no), R, sizes)``."""
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
    gap = beta * (instance.t_hi - t_mid)
    bounds = 1 / (1 + math.exp(-gap)), N_b * math.exp(-beta * (t_mid - instance.t_lo))
    weight = min(instance.A.sum(1).max(), instance.B.sum(1).max())  # <a, b> <= min(|a|, |b|)
    R = beta * max(t_mid, float(weight))  # logits: beta <a, b> (real keys), beta t_mid (dummy), all >= 0

    def derivative(lam: float) -> float:
        return 2 * float(np.sum(grad(Q, K, A3, E, lam * X0, Y) * X0))

    sizes = N_a, max(N_a, N_b + 1), d, float(max(np.abs(Q).max(), np.abs(K).max())), beta, t_mid
    return derivative, f0, bounds, R, sizes


def _tensor_setup(instance: Gap3Instance, grad, margin: float):
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
    # yes: S >= e^{beta t_hi} against e^{beta t_mid} + N_b + N_c (dummy pair, mixed pairs at logit 0)
    y_yes = 1 / (1 + math.exp(-beta * (instance.t_hi - t_mid)) + (N_b + N_c) * math.exp(-beta * instance.t_hi))
    y_no = N_b * N_c * math.exp(-beta * (t_mid - instance.t_lo))
    weight = min(X.sum(1).max() for X in (instance.A, instance.B, instance.C))
    R = beta * max(t_mid, float(weight))  # logits: beta <a, b, c>, beta t_mid (dummy pair), 0 (mixed pairs)

    def derivative(lam: float) -> float:
        return 2 * float(np.sum(grad(Q, K1, K2, A4, A5, E, lam * X0, Y) * X0))

    sizes = (N_a, max(N_a, N_b + 1, N_c + 1), d, float(max(np.abs(Q).max(), np.abs(K1).max(), np.abs(K2).max())),
             beta, t_mid)
    return derivative, f0, (y_yes, y_no), R, sizes
