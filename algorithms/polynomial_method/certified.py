"""The certified ``P ~ exp`` for a mechanism: entry bound ``B`` and degree ``k`` give ``[-B^k, B^k]``.

Step 1 of the polynomial method (Alman & Song 2023, Sec. 3) for every
mechanism of this package.  A *mechanism of degree k* multiplies ``k`` bounded
vectors per logit: matrix attention ``<q, k>/d`` (``k = 2``), tensor
attention ``<q, k1 ∘ k2>/d`` (``k = 3``), a degree-``k`` monomial of
poly-attention.  With every entry at most ``B`` in absolute value, a logit
``scale * sum_{l < m} prod_j X_j[i_j, l]`` of ``m`` columns lies in
``[-h, h]`` with

    h = m * scale * B^k        (= B^k for attention: m = d columns, scale 1/d),

and :func:`approximate_exp` returns the lowest-degree polynomial certified to
relative error ``eps`` there (:func:`~algorithms.polynomial_method.exp_approximation.exp_approximation`).
Its degree ``g`` sets the rank ``r = C(d + g, g)`` of the feature maps
(:func:`~algorithms.polynomial_method.features.feature_rank`) and hence the
cost ``O(n r d)`` (:func:`polynomial_method_cost`).

The fast algorithm runs in ``n^{1+o(1)}`` for ``B = o((log n)^{1/k})``,
``d = O(log n)`` (Alman & Song 2023, Thm 1.3).  Where no float64 power-basis
polynomial reaches ``eps`` on the interval, :func:`approximate_exp` raises
:class:`~algorithms.polynomial_method.refusal.Float64Limit`, naming ``B``: a
limit of float64 arithmetic, not the lower bound (Thm 1.4 is cited, not shown).

The fast paths themselves do not use ``[-B^k, B^k]`` but the interval the data
actually fill: :func:`fast_operator` certifies it in ``O(n d)``
(:mod:`~algorithms.polynomial_method.interval`), plans degree, centring and
precision on it (:mod:`~algorithms.polynomial_method.plan`) and builds the
operator.  This module is the only caller of
:func:`~algorithms.polynomial_method.exp_approximation.exp_approximation`
(the plan and :mod:`algorithms.threshold_families` go through :func:`exp_on_interval`).

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Sec. 3, Thms 1.3-1.4.
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (``k = 3``).
.. [3] P. Chakrabarti, T. Pitassi, J. Alman. Poly-attention. arXiv:2602.02422,
   Thm 3.6 (degree-``k`` monomials).
"""

from __future__ import annotations

import math

import numpy as np

from algorithms._checks import check_eps, check_positive_int
from algorithms.error_bounds import UNIT_ROUNDOFF
from algorithms.polynomial_method.exp_approximation import (
    ExpApproximation,
    exp_approximation,
    truncation_degree,
)
from algorithms.polynomial_method.features import feature_rank
from algorithms.polynomial_method.interval import logit_bounds
from algorithms.polynomial_method.low_rank import LowRankOperator
from algorithms.polynomial_method.plan import MP_MAX_SECONDS, plan_fast_path
from algorithms.polynomial_method.refusal import MAX_FAST_FLOPS, Float64Limit

__all__ = ["logit_half_width", "approximate_exp", "exp_on_interval", "polynomial_method_cost", "fast_operator"]

_LOGITS = {2: "bilinear", 3: "trilinear"}
_SCREEN_MARGIN = 1e3


def _check_mechanism(bound: float, k: int) -> None:
    if not (isinstance(bound, (int, float, np.floating)) and np.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be a positive finite number, got {bound!r}")
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k (the mechanism degree) must be a positive integer, got {k!r}")


def logit_half_width(bound: float, k: int, *, columns: int = 1, scale: float = 1.0) -> float:
    """``h = columns * scale * B^k``: every logit of a degree-``k`` mechanism lies in ``[-h, h]``.

    Parameters
    ----------
    bound : float
        ``B``, the max-norm of every factor.
    k : int
        Mechanism degree: factors per logit (2 matrix, 3 tensor, ``|M|`` for
        a monomial of poly-attention).
    columns, scale : int, float
        A logit is ``scale`` times a sum over ``columns`` products; attention
        has ``columns = d`` and ``scale = 1/d``, which is the default ``1``.

    Raises
    ------
    ValueError
        If ``bound`` is not a positive finite number or ``k < 1``.

    Examples
    --------
    >>> logit_half_width(1.5, 2), logit_half_width(2.0, 3, columns=16, scale=0.25)
    (2.25, 32.0)
    """
    _check_mechanism(bound, k)
    log_h = math.log(columns * scale) + k * math.log(bound)
    return columns * scale * float(bound) ** k if log_h < 709.0 else math.inf


def approximate_exp(
    bound: float, k: int, eps: float, *, columns: int = 1, scale: float = 1.0
) -> ExpApproximation:
    """The certified polynomial ``P`` with ``|P(x) - e^x| <= eps e^x`` on ``[-h, h]``, ``h = B^k``.

    Parameters
    ----------
    bound : float
        ``B``, the promised max-norm of the factors of each logit.
    k : int
        Mechanism degree (2 matrix, 3 tensor, ``|M|`` for a poly-attention monomial).
    eps : float
        Relative error, in ``(0, 1)``.
    columns, scale :
        As in :func:`logit_half_width` (default: attention's ``1/d`` logits).

    Returns
    -------
    ExpApproximation
        Lowest degree certified on ``[-h, h]`` (cached per interval and ``eps``).

    Raises
    ------
    ValueError
        If ``eps`` is not in ``(0, 1)``, ``bound`` is not positive and finite,
        or ``k < 1``.
    Float64Limit
        (a ``ValueError``) If no float64 power-basis polynomial reaches ``eps``
        on ``[-h, h]``; the message names ``B`` and says it is a float64 limit.

    Examples
    --------
    >>> P = approximate_exp(1.0, 2, 1e-6)
    >>> P.degree, (P.lo, P.hi), bool(P.max_relative_error <= 1e-6)
    (7, (-1.0, 1.0), True)
    >>> approximate_exp(3.0, 3, 1e-6)
    Traceback (most recent call last):
    ...
    algorithms.polynomial_method.refusal.Float64Limit: entries bounded by B=3 put the trilinear logits in [-27, 27], too wide for ...

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Sec. 3 and Thm 1.3.
    """
    eps = check_eps(eps)
    h = logit_half_width(bound, k, columns=columns, scale=scale)
    if not math.isfinite(h):
        raise Float64Limit(f"entries bounded by B={bound:.4g} put logits beyond float64's range (B^{k} overflows)",
                           digits=math.inf, rounding=math.inf)
    try:
        return exp_approximation(-h, h, eps)
    except ValueError as exc:
        name = _LOGITS.get(k, f"degree-{k}")
        raise Float64Limit(
            f"entries bounded by B={bound:.4g} put the {name} logits in [-{h:.4g}, {h:.4g}], too wide for "
            f"a float64 power basis at eps={eps:g} (a float64 limit of the arithmetic, not the lower bound; "
            f"the fast paths certify the narrower interval the data fill, and precision='mpmath' evaluates "
            f"past this limit): {exc}",
            digits=math.log10(2 * math.exp(min(2 * h, 700.0)) / eps), rounding=2.0**-53 * math.exp(min(2 * h, 700.0)),
        ) from None


def exp_on_interval(lo: float, hi: float, eps: float) -> ExpApproximation:
    """The float64-certified polynomial for ``e^x`` on a given interval ``[lo, hi]`` (cached).

    The entry point of :mod:`~algorithms.polynomial_method.plan` (a certified
    logit interval, possibly asymmetric) and of the figure's degrees.

    Raises
    ------
    ValueError
        As :func:`~algorithms.polynomial_method.exp_approximation.exp_approximation`
        (no float64 power basis reaches ``eps`` there, or bad arguments).

    Examples
    --------
    >>> exp_on_interval(0.0, 2.0, 1e-6).degree
    7
    """
    return exp_approximation(lo, hi, eps)


def polynomial_method_cost(bound: float, k: int, d: int, eps: float, *, certified: bool = True) -> tuple[int, int]:
    """Degree ``g`` and feature rank ``r = C(d + g, g)`` the polynomial method needs for entries ``<= B``.

    The fast algorithms cost ``O(n r d)`` (matrix, tensor) with this ``r``.

    Parameters
    ----------
    bound : float
        ``B``; logits lie in ``[-B^k, B^k]``.
    k : int
        Mechanism degree (2 matrix, 3 tensor).
    d : int
        Head dimension, ``>= 1``.
    eps : float
        Relative error of every entry, in ``(0, 1)``.
    certified : bool
        ``True``: the degree :func:`approximate_exp` certifies.  ``False``: the
        Chebyshev lower bound of
        :func:`~algorithms.polynomial_method.exp_approximation.truncation_degree`
        (no certificate, any precision; never above the certified degree).

    Returns
    -------
    (g, r) : tuple of int

    Raises
    ------
    ValueError
        Bad arguments; or, when ``certified``, if no float64 polynomial reaches
        ``eps``.  A quick screen answers first when ``u e^{2h} > 1000 eps``
        (``u = 2^-53``, ``h = B^k``): evaluating any power-basis ``P ~ e^x`` in
        float64 then costs a relative error of about ``u e^{2h}`` at ``x = -h``
        (the rounding term the certificate measures), a thousand times ``eps``,
        so the expensive certificate would fail anyway.

    Examples
    --------
    >>> polynomial_method_cost(1.0, 2, 4, 1e-6)
    (7, 330)
    >>> polynomial_method_cost(1.0, 3, 4, 1e-6, certified=False)
    (7, 330)
    """
    eps = check_eps(eps)
    h = logit_half_width(bound, k)
    check_positive_int("d", d)
    if not certified:
        g = truncation_degree(h, eps)
        return g, feature_rank(d, g)
    if 2 * h > math.log(_SCREEN_MARGIN * eps / UNIT_ROUNDOFF):
        raise Float64Limit(
            f"entries bounded by B={bound:.4g} put logits in [-{h:.4g}, {h:.4g}]: float64 evaluation of any "
            f"power-basis polynomial for exp costs a relative error of about 2^-53 e^(2h) = "
            f"{UNIT_ROUNDOFF * math.exp(min(2 * h, 700.0)):.3g} > eps={eps:g} (a float64 limit, not the lower bound)",
            digits=math.log10(2 * math.exp(min(2 * h, 700.0)) / eps), rounding=UNIT_ROUNDOFF * math.exp(min(2 * h, 700.0)),
        )
    g = approximate_exp(bound, k, eps).degree
    return g, feature_rank(d, g)


def fast_operator(
    Q,
    keys,
    eps: float,
    *,
    bound: float | None = None,
    scale: float | None = None,
    d_v: int | None = None,
    precision: str = "float64",
    max_flops: float = MAX_FAST_FLOPS,
    max_seconds: float = MP_MAX_SECONDS,
    sums: int | None = None,
) -> LowRankOperator:
    """The low-rank operator on the certified logit interval of the data: what every fast path runs.

    Certifies ``[lo, hi]`` in ``O(n d)``
    (:func:`~algorithms.polynomial_method.interval.logit_bounds`, intersected with
    ``[-B^k, B^k]`` when ``bound`` is given), plans the polynomial on it
    (:func:`~algorithms.polynomial_method.plan.plan_fast_path`: degree, centring,
    precision) and returns the :class:`LowRankOperator`, with the plan in ``op.plan``.

    Parameters
    ----------
    Q : (n, m) array
    keys : sequence of (n_j, m) arrays
    eps : float
        Relative error of every entry, in ``(0, 1)``.
    bound : float, optional
        The promised (and already checked) max-norm ``B``.
    scale : float, optional
        Logit scale, default ``1/m``.
    d_v : int, optional
        Value columns for the flop count (default ``m``).
    precision : {"float64", "mpmath"}
    max_flops, max_seconds : float
        As in :func:`~algorithms.polynomial_method.plan.plan_fast_path`.
    sums : int, optional
        Terms each entry is summed over after the features (default: the keys,
        ``sum_j n_j``); poly-attention sums over ``(t - 1) n`` positions.

    Returns
    -------
    LowRankOperator

    Raises
    ------
    CostExceedsExact, Float64Limit, Float32Limit, PrecisionTooSlow
        Why the fast path cannot run (all ``ValueError``; never the lower bound).
        ``Q`` of dtype float32 (numpy or any Array-API library) plans in float32:
        its certificate uses float32's rounding, and ``Float32Limit`` names
        the smallest ``eps`` it reaches.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Q, K = rng.uniform(-1, 1, (200, 4)), rng.uniform(-1, 1, (200, 4))
    >>> op = fast_operator(Q, [K], 1e-6, bound=1.0)
    >>> op.degree, op.rank, op.centred
    (7, 330, False)
    >>> fast_operator(np.zeros((2, 2)), [np.zeros((3, 2))], 1e-6).degree   # a constant logit: degree 0
    0
    """
    from algorithms import _array

    eps = check_eps(eps)
    keys = tuple(keys)
    xp = _array.namespace(Q, *keys)
    dtype = "float32" if _array.dtype_name(Q.dtype) == "float32" else "float64"
    if precision == "mpmath" and not _array.is_numpy(xp):
        raise ValueError(f"precision='mpmath' runs on numpy arrays only, got arrays of {xp.__name__}")
    bounds = logit_bounds(Q, keys, scale, bound)
    m = int(Q.shape[1])
    plan = plan_fast_path(
        bounds, columns=m, k=1 + len(keys), eps=eps, n_query=int(Q.shape[0]), n_keys=[int(K.shape[0]) for K in keys],
        d_v=m if d_v is None else int(d_v), precision=precision, max_flops=max_flops, max_seconds=max_seconds,
        sums=sums, dtype=dtype if precision == "float64" else "float64",
    )
    return LowRankOperator(Q, keys, plan.approximation, scale, bound, centre=plan.centre, bounds=bounds,
                           precision=plan.precision, plan=plan)
