"""Low-degree polynomial approximation of ``exp`` with a certified relative error.

This is step 1 of the polynomial method (Alman & Song, "Fast Attention Requires
Bounded Entries", NeurIPS 2023, arXiv 2302.13214, Sec. 3): every logit lies in
an interval ``[lo, hi]`` (for matrix attention ``[-B**2, B**2]``), and a
polynomial ``P`` with

    |P(x) - e^x| <= eps * e^x        for all x in [lo, hi]            (1)

turns ``exp(Q K^T / d)`` into a low-rank matrix (see
:mod:`algorithms.polynomial_method.features`).  Attention code does not call
:func:`exp_approximation` directly: :mod:`algorithms.polynomial_method.certified`
maps an entry bound ``B`` and a mechanism degree ``k`` to the interval
``[-B^k, B^k]`` and is its only caller.

Construction.  With centre ``c = (lo + hi) / 2`` and half-width
``h = (hi - lo) / 2``, the Chebyshev expansion of the exponential is known in
closed form through modified Bessel functions,

    e^{c + h s} = e^c [ I_0(h) + 2 sum_{k>=1} I_k(h) T_k(s) ],   s in [-1, 1],

so the degree-``g`` truncation ``P_g`` has absolute error exactly
``e^c * 2 sum_{k>g} I_k(h)``, attained at ``x = hi`` (every term is positive
there).  Dividing by ``e^hi`` and ``e^lo`` gives a lower and an upper bound on
the relative error, which bracket the search for the minimal degree.

Certification.  Attention code needs *power-basis* coefficients (monomials of
``<q, k>``), and the Chebyshev-to-power conversion is ill-conditioned in
float64 above degree ~20 (numpy issue #11520).  The conversion is therefore
done in mpmath at high precision, then rounded to float64, and the relative
error of *those float64 coefficients* is measured in mpmath on a dense grid.
To that sampled error we add a bound on the float64 rounding of evaluating the
sum, ``gamma_{2g+2} * sum_j |a_j| |x|^j / e^x`` (Higham, Accuracy and
Stability, eq. 5.3), so that ``max_relative_error`` covers what float64 code
actually computes.  When that rounding term alone exceeds ``eps`` (wide
intervals: it grows like ``u * e^{2 max(|lo|, |hi|)}``), no float64 power basis
can reach ``eps`` and :func:`exp_approximation` raises ``ValueError``.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214.
.. [2] A. Aggarwal, J. Alman. Optimal-degree polynomial approximations for
   exponentials and Gaussian kernel density estimation. CCC 2022,
   arXiv:2205.06249.
.. [3] N. J. Higham. Accuracy and Stability of Numerical Algorithms, 2nd ed.,
   SIAM 2002, Sec. 5.1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np

from algorithms.error_bounds import GRID_MARGIN
from algorithms.error_bounds import UNIT_ROUNDOFF as _UNIT_ROUNDOFF
from algorithms.error_bounds import entry_error as _entry_error

__all__ = [
    "ExpApproximation",
    "exp_approximation",
    "chebyshev_truncation_error",
    "truncation_degree",
    "aggarwal_alman_degree",
    "certify_relative_error",
    "MAX_DEGREE",
    "MAX_HALF_WIDTH",
    "INTERVAL_MIN",
    "INTERVAL_MAX",
]

_DPS = 60  # decimal digits for the conversion and the certificate
MAX_DEGREE = 160
#: Inputs where the computations are meaningful in float64 (and fast): e^x is a normal float64 on
#: [INTERVAL_MIN, INTERVAL_MAX], E_g(h) <= e^h is a float64 for h <= MAX_HALF_WIDTH.
INTERVAL_MIN, INTERVAL_MAX = -708.0, 709.0
MAX_HALF_WIDTH = 709.0
MAX_TAIL_DEGREE = 10**6


@dataclass(frozen=True)
class ExpApproximation:
    """A polynomial ``P(x) = sum_j coefficients[j] x**j`` approximating ``e^x``.

    Attributes
    ----------
    lo, hi : float
        The interval on which (1) holds.
    eps : float
        The requested relative error.
    degree : int
        ``g``, the degree of ``P``.
    coefficients : numpy.ndarray
        Power-basis coefficients ``a_0, ..., a_g`` (ascending), float64.
    max_relative_error : float
        Certified ``max |P(x) - e^x| / e^x`` over ``[lo, hi]``: the maximum
        sampled in mpmath on a dense grid (times 1.01, covering peaks between
        grid points) plus the float64 evaluation-rounding bound.
    sampled_error : float
        The grid part of ``max_relative_error`` (coefficients taken exactly).
    rounding_error : float
        The float64 evaluation part of ``max_relative_error``.
    """

    lo: float
    hi: float
    eps: float
    degree: int
    coefficients: np.ndarray
    max_relative_error: float
    sampled_error: float
    rounding_error: float

    def __repr__(self) -> str:
        return (f"ExpApproximation(degree g={self.degree} on [{self.lo:.4g}, {self.hi:.4g}], eps={self.eps:.3g}, "
                f"certified relative error {self.max_relative_error:.3g})")

    def __call__(self, x: np.ndarray | float) -> np.ndarray:
        """Evaluate ``P`` at ``x`` (float64, Horner)."""
        return np.polynomial.polynomial.polyval(np.asarray(x, dtype=float), self.coefficients)

    def entry_error(self, operations: int) -> float:
        """Relative error of ``P(x)``, ``|x| <= max(|lo|, hi)``, evaluated as a float64 sum.

        Shorthand for :func:`algorithms.error_bounds.entry_error` (where the
        bound is stated and derived) applied to this polynomial.
        """
        return _entry_error(self, operations)


def _check_interval(lo: float, hi: float) -> None:
    for name, value in (("lo", lo), ("hi", hi)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} must be a real number, got {value!r}")
        if not (np.isfinite(value) and INTERVAL_MIN <= value <= INTERVAL_MAX):
            raise ValueError(
                f"{name} must be a finite number in [{INTERVAL_MIN}, {INTERVAL_MAX}] (e^x a normal float64 "
                f"there), got {value!r}"
            )
    if not lo < hi:
        raise ValueError(f"lo must be < hi, got lo={lo!r}, hi={hi!r}")


def _check_eps(eps: float) -> None:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)) or not 0.0 < eps < 1.0:
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")


def _check_half_width(half_width: float) -> None:
    ok = not isinstance(half_width, bool) and isinstance(half_width, (int, float, np.integer, np.floating))
    if not (ok and 0 < half_width <= MAX_HALF_WIDTH):  # NaN fails the comparison
        raise ValueError(
            f"half_width must be a number in (0, {MAX_HALF_WIDTH}] (e^h must be a float64), got {half_width!r}"
        )


def chebyshev_truncation_error(half_width: float, degree: int) -> float:
    """Exact sup-norm error of the degree-``g`` Chebyshev truncation of ``e^{h s}``.

    ``E_g(h) = 2 sum_{k > g} I_k(h)`` on ``s in [-1, 1]``, attained at ``s = 1``
    (see the module docstring).  Computed with mpmath Bessel functions.

    Parameters
    ----------
    half_width : float
        ``0 < h <= 709`` (:data:`MAX_HALF_WIDTH`: ``E_g(h) <= e^h`` must be a
        float64; at most about 0.5 s there).
    degree : int
        ``0 <= g <= 10^6`` (:data:`MAX_TAIL_DEGREE`).

    Raises
    ------
    ValueError
        ``h`` not a finite number in ``(0, 709]`` (NaN and infinity included),
        ``g`` not an integer in ``0..10^6``.

    Examples
    --------
    >>> round(chebyshev_truncation_error(3.0, 8), 7)
    0.0003096
    """
    _check_half_width(half_width)
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or not 0 <= degree <= MAX_TAIL_DEGREE:
        raise ValueError(f"degree must be an integer in 0..{MAX_TAIL_DEGREE}, got {degree!r}")
    with mpmath.workdps(30):
        h = mpmath.mpf(half_width)
        # 2 sum_{k>g} I_k(h) = e^h - I_0(h) - 2 sum_{1<=k<=g} I_k(h) cancels badly;
        # sum the tail directly (terms decay super-exponentially once k > h).
        total, k = mpmath.mpf(0), degree + 1
        while True:
            term = mpmath.besseli(k, h)
            total += term
            if k > h + 10 and term < total * mpmath.mpf(10) ** -25:
                break
            k += 1
        return float(2 * total)


def truncation_degree(half_width: float, eps: float) -> int:
    """Smallest ``g`` whose Chebyshev truncation misses ``e^x`` by ``<= eps`` (relative) at ``x = hi``.

    The relative error of the degree-``g`` truncation on ``[c - h, c + h]`` at
    the right end is exactly ``E_g(h) e^{-h}`` (:func:`chebyshev_truncation_error`),
    so no polynomial of this construction of lower degree can certify ``eps``:
    a lower bound on the degree :func:`exp_approximation` returns, in any
    precision (it certifies the whole interval and may need a little more).

    Parameters
    ----------
    half_width : float
        ``0 < h <= 709``, half the length of the interval.
    eps : float
        Relative error, ``0 < eps < 1``.

    Raises
    ------
    ValueError
        As :func:`chebyshev_truncation_error` for ``h``; ``eps`` outside ``(0, 1)``.

    Notes
    -----
    Bisection over ``g`` (the tail decreases in ``g``): about ``2 log2 g``
    tail evaluations, at most a few seconds at ``h = 709``.

    Examples
    --------
    >>> truncation_degree(1.0, 1e-6)
    7
    """
    _check_half_width(half_width)
    _check_eps(eps)
    # The tail is decreasing in g: bisect (about 2 log2(g) evaluations) instead of trying 0, 1, 2, ...
    def misses(g: int) -> bool:
        return chebyshev_truncation_error(half_width, g) * math.exp(-half_width) > eps

    lo, hi = -1, 1
    while misses(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if misses(mid) else (lo, mid)
    degree = hi
    return degree


def _power_coefficients(lo: float, hi: float, degree: int) -> list:
    """Power-basis coefficients (mpmath) of the Chebyshev truncation on [lo, hi]."""
    c = (mpmath.mpf(lo) + mpmath.mpf(hi)) / 2
    h = (mpmath.mpf(hi) - mpmath.mpf(lo)) / 2
    cheb = [mpmath.besseli(0, h)] + [2 * mpmath.besseli(k, h) for k in range(1, degree + 1)]
    # Power series in s of sum_k cheb[k] T_k(s), via T_{k+1} = 2 s T_k - T_{k-1}.
    in_s = [mpmath.mpf(0)] * (degree + 1)
    t_prev, t_cur = [mpmath.mpf(1)], [mpmath.mpf(0), mpmath.mpf(1)]
    for k in range(degree + 1):
        t_k = t_prev if k == 0 else t_cur
        for j, coef in enumerate(t_k):
            in_s[j] += cheb[k] * coef
        if k >= 1:
            t_next = [mpmath.mpf(0)] + [2 * a for a in t_cur]
            for j, coef in enumerate(t_prev):
                t_next[j] -= coef
            t_prev, t_cur = t_cur, t_next
    # Substitute s = (x - c) / h: sum_j b_j ((x - c)/h)^j, expanded binomially.
    in_x = [mpmath.mpf(0)] * (degree + 1)
    for j, b in enumerate(in_s):
        scale = b / h**j
        for i in range(j + 1):
            in_x[i] += scale * mpmath.binomial(j, i) * (-c) ** (j - i)
    ec = mpmath.exp(c)
    return [ec * a for a in in_x]


def _grid(lo: float, hi: float, degree: int) -> np.ndarray:
    """Dense grid: uniform points plus Chebyshev points clustered at the ends."""
    size = max(1500, 60 * (degree + 1))
    uniform = np.linspace(lo, hi, size)
    theta = np.linspace(0.0, np.pi, size)
    cheb = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(theta)
    return np.unique(np.concatenate([uniform, cheb]))


def certify_relative_error(coefficients: np.ndarray, lo: float, hi: float) -> tuple[float, float]:
    """Measure ``max |P(x) - e^x| / e^x`` for float64 ``coefficients`` on [lo, hi].

    Returns ``(sampled, rounding)``: the largest relative error of the exact
    polynomial with these coefficients over a dense grid (evaluated in mpmath
    at 60 digits), and the bound ``gamma_{2g+2} max_x sum_j |a_j||x|^j / e^x``
    on float64 evaluation rounding.
    """
    coefficients = np.asarray(coefficients, dtype=float)
    degree = len(coefficients) - 1
    grid = _grid(lo, hi, degree)
    with mpmath.workdps(_DPS):
        coefs = [mpmath.mpf(float(a)) for a in coefficients]
        worst = mpmath.mpf(0)
        for x in grid:
            xm = mpmath.mpf(float(x))
            value = mpmath.polyval(coefs[::-1], xm)
            target = mpmath.exp(xm)
            worst = max(worst, abs(value - target) / target)
    abs_sum = np.polynomial.polynomial.polyval(np.abs(grid), np.abs(coefficients))
    m = 2 * degree + 2
    gamma = m * _UNIT_ROUNDOFF / (1 - m * _UNIT_ROUNDOFF)
    rounding = float(gamma * np.max(abs_sum * np.exp(-grid)))
    return float(worst), rounding


def _no_float64_polynomial(lo: float, hi: float, eps: float, rounding: float) -> ValueError:
    return ValueError(
        f"no float64 power-basis polynomial reaches relative error eps={eps:g} for exp on "
        f"[lo, hi] = [{lo:g}, {hi:g}]: evaluating the power basis in float64 alone costs a "
        f"relative error of about {rounding:.2g} (it grows like 1e-16 * e^(hi - lo)); "
        f"shrink the interval (smaller entry bound B) or raise eps"
    )


@lru_cache(maxsize=256)
def _cached(lo: float, hi: float, eps: float) -> ExpApproximation:
    h = (hi - lo) / 2
    # Fail fast far outside float64's reach.  The measured rounding term is of
    # the order of u * e^(hi - lo) (e.g. [0, 30]: 1.5e-3 vs 1.2e-3; [-16, 16]:
    # 14 vs 8.7; but [-3, 17]: 2.4e-10 vs 5.4e-8), so only reject with a 1e6
    # margin, where no search could succeed.
    floor = _UNIT_ROUNDOFF * math.exp(min(hi - lo, 700.0))
    if floor > 1e6 * eps:
        raise _no_float64_polynomial(lo, hi, eps, floor)
    # Relative error of the truncation at x = hi is exactly tail * e^{c - hi} = tail * e^{-h}:
    # a lower bound on the max relative error, so no smaller degree can pass.
    degree = min(truncation_degree(h, eps), MAX_DEGREE)
    last_rounding = None
    for g in range(degree, MAX_DEGREE + 1):
        with mpmath.workdps(_DPS):
            coefs = np.array([float(a) for a in _power_coefficients(lo, hi, g)])
        sampled, rounding = certify_relative_error(coefs, lo, hi)
        certified = GRID_MARGIN * sampled + rounding
        if certified <= eps:
            return ExpApproximation(lo, hi, eps, g, coefs, certified, sampled, rounding)
        last_rounding = rounding
        if rounding > eps:
            break
        # Once the truncation's upper bound is met, only rounding can fail.
        if chebyshev_truncation_error(h, g) * math.exp(h) < eps / 4 and sampled > eps:
            break
    raise _no_float64_polynomial(lo, hi, eps, last_rounding)


def exp_approximation(lo: float, hi: float, eps: float) -> ExpApproximation:
    """Lowest-degree Chebyshev polynomial with certified relative error ``eps`` for ``e^x``.

    Parameters
    ----------
    lo, hi : float
        The interval, ``lo < hi``.  For matrix attention with max-norm bound
        ``B`` on ``Q`` and ``K``, logits ``<q, k>/d`` lie in ``[-B**2, B**2]``.
    eps : float
        Target relative error, ``0 < eps < 1``.

    Returns
    -------
    ExpApproximation
        ``degree`` is the smallest ``g`` whose float64 Chebyshev truncation
        certifies ``max_relative_error <= eps``; ``degree - 1`` does not.

    Raises
    ------
    ValueError
        If ``lo``/``hi`` are not finite numbers in ``[-708, 709]`` (where
        ``e^x`` is a normal float64, :data:`INTERVAL_MIN`,
        :data:`INTERVAL_MAX`) or ``lo >= hi``; if ``eps`` is not in ``(0, 1)``;
        if float64 power-basis coefficients cannot reach ``eps`` on this
        interval (rounding of the evaluation alone exceeds it: screened in
        ``O(1)`` when ``2^-53 e^(hi - lo)`` is a million times ``eps``).

    Examples
    --------
    >>> p = exp_approximation(-1.0, 1.0, 1e-6)
    >>> p.degree
    7
    >>> bool(p.max_relative_error <= 1e-6)
    True
    >>> float(abs(p(0.5) / np.exp(0.5) - 1)) < 1e-6
    True

    Notes
    -----
    Cost: a few mpmath evaluations per candidate degree on a grid of
    ``max(1500, 60 (g+1))`` points; results are cached per ``(lo, hi, eps)``.
    The degree grows like Aggarwal & Alman's ``Theta(max(L, log(1/eps) /
    log(log(1/eps)/L)))`` for ``L = hi - lo`` (see :func:`aggarwal_alman_degree`).

    References
    ----------
    .. [1] Alman & Song, arXiv:2302.13214, Sec. 3 (polynomial method).
    .. [2] Aggarwal & Alman, arXiv:2205.06249, Thm 1.2.
    """
    _check_interval(lo, hi)
    _check_eps(eps)
    return _cached(float(lo), float(hi), float(eps))


def aggarwal_alman_degree(length: float, eps: float, constant: float = 1.0) -> float:
    """Aggarwal & Alman's optimal degree for relative error ``eps`` on an interval of length ``L``.

    ``g(L, eps) = C * max(L, log(1/eps) / log(log(1/eps) / L))``
    (Aggarwal & Alman 2022, Thm 1.2, in the relative-error form quoted by
    Alman & Song 2023, Sec. 3).  The formula is only defined up to the
    constant ``C``; where ``log(1/eps)/L <= e`` the second term is replaced by
    ``log(1/eps)`` (then ``L`` is within a factor ``e`` of it and dominates the
    Theta anyway).  :mod:`algorithms.bounds` fits ``C`` against
    :func:`exp_approximation`.

    Examples
    --------
    >>> round(aggarwal_alman_degree(2.0, 1e-6), 3)
    7.148
    """
    if not (np.isfinite(length) and length > 0):
        raise ValueError(f"length must be a positive finite number, got {length!r}")
    _check_eps(eps)
    log_inv = math.log(1.0 / eps)
    ratio = log_inv / length
    second = log_inv / math.log(ratio) if ratio > math.e else log_inv
    return constant * max(length, second)
