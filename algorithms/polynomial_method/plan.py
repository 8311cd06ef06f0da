"""Plan the fast path on the certified logit interval: degree, centring, precision -- or why it cannot run.

Given the certificate of :mod:`.interval` (every logit in ``[lo, hi]``, centre
``c``, half-width ``h``), :func:`plan_fast_path` decides what the polynomial
method does (docs/polynomial-method.md, "Centring"; docs/threshold.md, "Two
reasons the fast path can refuse"):

1. **Zero width.**  If ``h <= eps/8`` every logit is ``c`` up to ``e^h - 1 <= eps``
   relative: ``P = 1`` for ``e^{x - c}`` (degree 0, rank 1; the factor ``e^c``
   cancels in the normalisation).  Zero or constant inputs are answered exactly.
2. **Snapping.**  ``h`` is rounded up to the grid ``2^{j/4}`` and ``c`` to a
   multiple of ``h/16`` (0 when ``|c| <= h/16``), and the interval grown until it
   contains ``[lo, hi]``: so nearby inputs share one cached certificate (each
   costs a fraction of a second of mpmath), at the price of an interval at most
   about 19 % wider; symmetric inputs in ``[-1, 1]`` get exactly ``[-1, 1]``.
3. **Cost first** (:class:`~.refusal.CostExceedsExact`).  The Chebyshev
   construction needs at least the degree ``g_lo`` of
   :func:`~.bessel.degree_lower_bound` in any precision, hence rank at least
   ``C(m + g_lo, g_lo)``; if that already costs more flops than exact attention
   (and more than ``max_flops``), the plan stops there.  The same test is
   repeated with the degree finally certified.
4. **Float64** (``precision="float64"``).  Two candidates: the power basis in
   ``x`` on ``[c - h, c + h]`` (rank ``C(m + g', g')``) and, when ``c != 0``, the
   centred one, ``x - c = scale <[q, -c/scale], [k, 1]>`` on ``[-h, h]`` (one more
   coordinate, rank ``C(m + 1 + g, g)``).  Each is certified by
   :func:`~.certified.exp_on_interval` and its entry error recomputed
   with the data's absolute sums (:func:`algorithms.error_bounds.entry_error`);
   the smaller rank among those within ``eps`` wins (ties: uncentred).  In exact
   arithmetic ``g = g'`` (the degree depends on ``h`` only), so centring is
   chosen only where float64 certifies it and not the other.  If neither is
   within ``eps``, :class:`~.refusal.Float64Limit` says how many digits would do.
5. **mpmath** (``precision="mpmath"``).  The Bessel-certified degree, the
   uncentred basis (unless ``|c|`` is far beyond ``h``), and the digits ``D``
   that keep the rounding below ``eps/100`` (:mod:`.mp`); refused with
   :class:`~.refusal.PrecisionTooSlow` when the estimated time exceeds ``max_seconds``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from algorithms.error_bounds import GRID_MARGIN, entry_error, working_rounding
from algorithms.polynomial_method.bessel import EXACT_BESSEL_MAX_HALF_WIDTH, degree_lower_bound
from algorithms.polynomial_method.exp_approximation import ExpApproximation
from algorithms.polynomial_method.features import feature_rank
from algorithms.polynomial_method.interval import LogitBounds, log_rounding_magnitude
from algorithms.polynomial_method.mp import mp_digits, mp_exp_approximation, mp_seconds, mp_unit_roundoff
from algorithms.polynomial_method.refusal import (
    MAX_FAST_FLOPS,
    CostExceedsExact,
    Float32Limit,
    Float64Limit,
    PrecisionTooSlow,
    exact_flops,
    fast_flops,
)

__all__ = ["FastPlan", "plan_fast_path", "PRECISIONS", "MP_MAX_SECONDS"]

PRECISIONS = ("float64", "mpmath")
MP_MAX_SECONDS = 30.0
_FLOAT64_DIGITS = 53 * math.log10(2)
_DIGITS = {"float64": _FLOAT64_DIGITS, "float32": 24 * math.log10(2)}
DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class FastPlan:
    """What the fast path will run: the polynomial, its basis and cost, and the certified entry error.

    Attributes
    ----------
    bounds : LogitBounds
        The certified logit interval ``[lo, hi]`` of the data.
    precision : ``"float64"`` or ``"mpmath"``.
    centre : float or None
        ``c`` when the features are those of ``x - c``; ``None`` for ``x`` itself.
    approximation : ExpApproximation or MpExpApproximation
        ``P ~ e^v`` on ``[approximation.lo, approximation.hi]``, ``v = x - shift``.
    degree, rank, feature_dim : int
        ``g``, ``r = C(feature_dim + g, g)`` and ``m`` (``m + 1`` when centred).
    fast_flops, exact_flops : float
    entry_error : float
        Certified relative error of every entry of ``A~``.
    digits : float
        Significant digits of the arithmetic (15.95 for float64, 7.22 for float32).
    seconds : float or None
        Estimated seconds of an mpmath run.
    alternatives : dict
        The other basis considered and its rank, or why it failed.
    """

    bounds: LogitBounds
    precision: str
    centre: float | None
    approximation: object
    degree: int
    rank: int
    feature_dim: int
    fast_flops: float
    exact_flops: float
    entry_error: float
    digits: float
    seconds: float | None = None
    alternatives: dict = field(default_factory=dict)
    dtype: str = "float64"

    @property
    def shift(self) -> float:
        """The operator approximates ``e^{x - shift}`` (the factor ``e^shift`` cancels when normalised)."""
        return 0.0 if self.centre is None else self.centre

    @property
    def centred(self) -> bool:
        """Whether the features carry the extra centring coordinate."""
        return self.centre is not None and self.degree > 0

    @property
    def covered(self) -> tuple[float, float]:
        """The logit interval (in ``x``) on which ``P`` is certified: it contains ``[bounds.lo, bounds.hi]``."""
        return (self.approximation.lo + self.shift, self.approximation.hi + self.shift)


_GRID = 4  # half-widths snap to 2^{j/4}: at most 19 % wider, so nearby inputs share one certificate


def _snap_up(x: float) -> float:
    """The smallest ``2^{j/4} >= x`` (0 for 0; ``inf`` where that is above float64's range)."""
    if x <= 0:
        return 0.0
    if not x <= 2.0**1023:  # a half-width near float64's limit (logits near 1e308): no grid point above it
        return math.inf
    j = math.ceil(_GRID * math.log2(x) - 1e-9)
    y = 2.0 ** (j / _GRID)
    while y < x:
        j += 1
        y = 2.0 ** (j / _GRID)
    return y


def _snap(bounds: LogitBounds) -> tuple[float, float]:
    """``(c, h)`` on the snapping grid with ``[c - h, c + h] ⊇ [lo, hi]``; ``[-B^k, B^k]`` if hardly wider."""
    lo, hi = bounds.lo, bounds.hi
    c, h = bounds.centre, bounds.half_width
    hs = _snap_up(h)
    cs = 0.0 if abs(c) <= hs / 16 else round(c / (hs / 16)) * (hs / 16)
    hs = _snap_up(h + abs(c - cs))
    while cs - hs > lo or cs + hs < hi:
        hs = _snap_up(hs * (1 + 1e-9))
    if cs == 0.0 and hs >= bounds.bound_half_width * 2 ** (-1 / _GRID):
        return 0.0, bounds.bound_half_width  # the entry bound's interval: one certificate per B
    return cs, hs


def _operations(k: int, degree: int, rank: int, n_keys) -> int:
    """Rounded steps per entry: the ``k`` monomials, the sum over ``r`` features, the sums over the keys.

    ``n_keys`` is the list of key counts, or directly the number of summed terms.
    """
    return k * (degree + 1) + rank + int(n_keys if isinstance(n_keys, (int, np.integer)) else sum(n_keys))


def _cost_refusal(bounds, m, k, eps, n_query, n_keys, d_v, g, exact, max_flops, lower: bool) -> None:
    r = feature_rank(m, int(g)) if math.isfinite(g) else math.inf
    r = r if r < 2.0**1023 else math.inf  # an exact int above float64's range (huge logits): as infinity
    fast = fast_flops(n_query, n_keys, r, d_v) if math.isfinite(r) else math.inf
    if fast > max(exact, max_flops):
        what = "at least the degree any Chebyshev truncation needs" if lower else "the certified degree"
        raise CostExceedsExact(
            f"fast path refused (cost, the complexity phenomenon): logits certified in [{bounds.lo:.4g}, "
            f"{bounds.hi:.4g}] (half-width {bounds.half_width:.4g}) need degree g {'>=' if lower else '='} {g} "
            f"({what}, in any precision) and rank r {'>=' if lower else '='} C({m}+g, g) = {r:.3g}: "
            f"{fast:.3g} flops against {exact:.3g} for exact attention (n={n_query}, keys {list(n_keys)}, "
            f"eps={eps:g}); the polynomial method pays only when r = n^o(1)",
            degree=g, rank=r, fast_flops=fast, exact_flops=exact, degree_is_lower_bound=lower,
        )


def _entry_error(P, k, r, summed, bounds, centre, dtype, rows):
    """The entry error of ``P`` evaluated through rank-``r`` features in ``dtype`` (float64: the old count)."""
    if dtype == "float64":
        return entry_error(P, _operations(k, P.degree, r, summed), bounds, centre)
    ops, u, extra = working_rounding(dtype, k, P.degree, r, rows)
    return entry_error(P, ops, bounds, centre, unit_roundoff=u, extra_gamma=extra)


def _constant(bounds: LogitBounds, eps: float, m, k, n_query, n_keys, d_v, summed, dtype="float64", rows=()) -> FastPlan:
    h, c = bounds.half_width, bounds.centre
    err = math.expm1(h)
    P = ExpApproximation(-h, h, eps, 0, np.array([1.0]), err, err, 0.0)
    e = _entry_error(P, k, 1, summed, bounds, c, dtype, rows)
    return FastPlan(bounds, "float64", c, P, 0, 1, m, fast_flops(n_query, n_keys, 1, d_v),
                    exact_flops(n_query, n_keys, m, d_v), e, _DIGITS[dtype], dtype=dtype)


def _float64(bounds, cs, hs, m, k, eps, n_query, n_keys, dtype="float64", rows=()):
    """Certify the uncentred and the centred basis in float64; return the cheaper valid one, or raise."""
    from algorithms.polynomial_method.certified import exp_on_interval  # certified imports this module
    candidates = [None] if cs == 0.0 else ([None] if abs(cs) <= 4 * hs + 40 else []) + [cs]
    best, alternatives, worst = None, {}, 0.0
    for centre in candidates:
        lo_v, hi_v = (cs - hs, cs + hs) if centre is None else (-hs, hs)
        name = "uncentred" if centre is None else "centred"
        dim = m + (centre is not None)
        cheapest = feature_rank(dim, int(degree_lower_bound(hs, eps)))
        if best is not None and best[2] <= cheapest:  # the same degree bound holds centred or not
            alternatives[name] = f"not cheaper: rank >= {cheapest} >= {best[2]}"
            continue
        for eps_poly in (eps, eps / 2, eps / 4):
            try:
                P = exp_on_interval(lo_v, hi_v, eps_poly)
            except ValueError as exc:
                alternatives[name] = f"no float64 power basis reaches eps: {exc}"
                worst = max(worst, eps)
                break
            r = feature_rank(dim, P.degree)
            e = _entry_error(P, k, r, n_keys, bounds, centre, dtype, rows)
            rounding = e - GRID_MARGIN * P.sampled_error
            if e <= eps:
                alternatives[name] = r
                if best is None or r < best[2]:
                    best = (centre, P, r, dim, e)
                break
            alternatives[name] = f"entry error {e:.3g} > eps ({dtype} rounding {rounding:.3g})"
            worst = max(worst, rounding)
            if rounding > eps / 2:
                break
    if best is None:
        if dtype == "float32":
            raise _float32_refusal(bounds, eps, alternatives, worst)
        raise _float64_refusal(bounds, cs, hs, m, k, eps, n_query, n_keys, alternatives, worst)
    return best, alternatives


def _float32_refusal(bounds, eps, alternatives, rounding) -> Float32Limit:
    return Float32Limit(
        f"fast path refused (float32 limit of the arithmetic, not the lower bound): float32 inputs put the "
        f"certified float32 rounding of an entry at {rounding:.3g} > eps={eps:g} (unit roundoff 2^-24, logits "
        f"certified in [{bounds.lo:.4g}, {bounds.hi:.4g}]; {alternatives}); pass float64 arrays for eps={eps:g}, "
        f"or ask for eps >= {2 * rounding:.2g} in float32",
        digits=math.log10(max(rounding, 1e-300) / eps) + _DIGITS["float32"], rounding=rounding,
    )


_MP_MAX_DIGITS = 5000  # the mpmath path's precision limit (logits of magnitude about 5700 at eps = 1e-6)
_MP_DETAIL_MAX_HALF_WIDTH = 40.0  # above it, building the mpmath plan only to describe it takes seconds


def _float64_refusal(bounds, cs, hs, m, k, eps, n_query, summed, alternatives, rounding) -> Float64Limit:
    if hs + abs(cs) > _MP_DETAIL_MAX_HALF_WIDTH:  # a refusal must be quick (10 s at h = 102; a centre of 7e16
        # asked mpmath for 6e16 digits): the digits from their estimate
        digits = int(math.ceil(math.log10(1 / eps) + 2 * (hs + abs(cs)) / math.log(10))) + 12
        extra = f"; precision='mpmath' would need at least {digits} digits"
    else:
        try:
            mp = _mp_parts(bounds, cs, hs, m, k, eps, summed)
            digits, extra = mp[4], f"; precision='mpmath' would use {mp[4]} digits, degree {mp[1].degree}"
            seconds = mp_seconds(n_query, [summed], mp[2], m)
            extra += f", about {seconds:.2g} s here"
        except (ValueError, OverflowError):  # only for half-widths beyond the mpmath path's range
            digits, extra = math.inf, ""
    return Float64Limit(
        f"fast path refused (float64 limit, a practical limit of the arithmetic, not the lower bound): "
        f"logits certified in [{bounds.lo:.4g}, {bounds.hi:.4g}] (half-width {bounds.half_width:.4g}); "
        f"no float64 power basis evaluates its polynomial through the features to relative error eps={eps:g}: "
        f"the rounding grows like 2^-53 e^(2h) and with the data's absolute sums ({alternatives}); "
        f"about {digits} significant digits would do (float64 has 15.95){extra}",
        digits=digits, rounding=rounding,
    )


def _mp_parts(bounds, cs, hs, m, k, eps, n_keys):
    """``(centre, P, r, dim, D, e)`` for the mpmath plan."""
    if hs > EXACT_BESSEL_MAX_HALF_WIDTH:
        raise PrecisionTooSlow(
            f"fast path refused (time budget): the mpmath path is limited to logit half-widths <= "
            f"{EXACT_BESSEL_MAX_HALF_WIDTH:g} (degree in the hundreds), got {hs:.4g}", seconds=math.inf, limit=0.0)
    centre = None if abs(cs) <= 4 * hs + 40 else cs
    lo_v, hi_v = (cs - hs, cs + hs) if centre is None else (-hs, hs)
    dim = m + (centre is not None)
    eps_poly = 0.98 * eps
    d0 = int(math.ceil(math.log10(1 / eps) + 2 * (hs + abs(cs)) / math.log(10))) + 12
    if d0 > _MP_MAX_DIGITS:
        raise PrecisionTooSlow(
            f"fast path refused (time budget): logits certified in [{bounds.lo:.4g}, {bounds.hi:.4g}] need about "
            f"{d0} significant digits; the mpmath path is limited to {_MP_MAX_DIGITS}", seconds=math.inf, limit=0.0)
    P = mp_exp_approximation(lo_v, hi_v, eps_poly, d0)
    r = feature_rank(dim, P.degree)
    ops = _operations(k, P.degree, r, n_keys) + 1
    D = mp_digits(log_rounding_magnitude(P, bounds, centre), ops, eps)
    if D > d0:
        P = mp_exp_approximation(lo_v, hi_v, eps_poly, D)
    D = max(D, d0)
    e = entry_error(P, ops, bounds, centre, unit_roundoff=mp_unit_roundoff(D))
    return centre, P, r, dim, D, e


def plan_fast_path(
    bounds: LogitBounds,
    *,
    columns: int,
    k: int,
    eps: float,
    n_query: int,
    n_keys: Sequence[int],
    d_v: int,
    precision: str = "float64",
    max_flops: float = MAX_FAST_FLOPS,
    max_seconds: float = MP_MAX_SECONDS,
    sums: int | None = None,
    dtype: str = "float64",
) -> FastPlan:
    """The plan of the module docstring for a certified interval, or the reason the fast path cannot run.

    Parameters
    ----------
    bounds : LogitBounds
        From :func:`~algorithms.polynomial_method.interval.logit_bounds`.
    columns : int
        ``m``, the number of logit columns (``d`` for attention).
    k : int
        Mechanism degree (2 matrix, 3 tensor).
    eps : float
        Target relative error of every entry, in ``(0, 1)``.
    n_query, n_keys : int, sequence of int
        Rows of ``Q`` and of each key matrix (for the flop counts and the sums' rounding).
    d_v : int
        Value columns.
    precision : {"float64", "mpmath"}
    max_flops : float
        A fast path costlier than exact attention is refused only above this many flops.
    max_seconds : float
        Budget of an mpmath run (estimated before it starts).
    sums : int, optional
        Terms summed per entry after the features (default ``sum(n_keys)``).
    dtype : {"float64", "float32"}
        The working dtype of the features and products (float32 inputs stay
        float32): its unit roundoff and summation model enter the entry error
        (:func:`algorithms.error_bounds.working_rounding`).

    Returns
    -------
    FastPlan

    Raises
    ------
    CostExceedsExact, Float64Limit, Float32Limit, PrecisionTooSlow
        The reasons of :mod:`.refusal` (all ``ValueError``).
    ValueError
        An unknown ``precision``.

    Examples
    --------
    >>> from algorithms.polynomial_method.interval import LogitBounds, log_rounding_magnitude
    >>> p = plan_fast_path(LogitBounds(-0.99, 0.98, 1.0, 1.0), columns=4, k=2, eps=1e-6,
    ...                    n_query=100, n_keys=[100], d_v=4)
    >>> p.degree, p.rank, p.centred, p.covered
    (7, 330, False, (-1.0, 1.0))
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if dtype not in DTYPES or (dtype == "float32" and precision != "float64"):
        raise ValueError(f"dtype must be one of {DTYPES} (float32 with precision='float64' only), got {dtype!r}")
    m, n_keys = int(columns), [int(x) for x in n_keys]
    rows = [max([int(n_query)] + n_keys)] * len(n_keys) if sums is None else [int(sums)]
    exact = exact_flops(n_query, n_keys, m, d_v)
    summed = int(sum(n_keys) if sums is None else sums)
    if not all(math.isfinite(x) for x in (bounds.lo, bounds.hi, bounds.centre, bounds.half_width)):
        # no degree covers an infinite interval: refused even where max_flops is infinite
        _cost_refusal(bounds, m, k, eps, n_query, n_keys, d_v, math.inf, exact, min(max_flops, 2.0**1023), True)
    if bounds.half_width <= eps / 8:
        return _constant(bounds, eps, m, k, n_query, n_keys, d_v, summed, dtype, rows)
    cs, hs = _snap(bounds)
    _cost_refusal(bounds, m, k, eps, n_query, n_keys, d_v, degree_lower_bound(hs, eps), exact, max_flops, True)
    seconds = None
    if precision == "float64":
        (centre, P, r, dim, e), alternatives = _float64(bounds, cs, hs, m, k, eps, n_query, summed, dtype, rows)
        digits = _DIGITS[dtype]
    else:
        centre, P, r, dim, digits, e = _mp_parts(bounds, cs, hs, m, k, eps, summed)
        alternatives = {}
    _cost_refusal(bounds, dim, k, eps, n_query, n_keys, d_v, P.degree, exact, max_flops, False)
    if precision == "mpmath":
        seconds = mp_seconds(n_query, n_keys, r, d_v)
        if seconds > max_seconds:
            raise PrecisionTooSlow(
                f"fast path refused (time budget): the mpmath run at {digits} digits, degree {P.degree}, rank {r} "
                f"would take about {seconds:.3g} s > max_seconds={max_seconds:g}", seconds=seconds, limit=max_seconds)
    return FastPlan(bounds, precision, centre, P, P.degree, r, dim, fast_flops(n_query, n_keys, r, d_v), exact,
                    e, digits, seconds, alternatives, dtype)
