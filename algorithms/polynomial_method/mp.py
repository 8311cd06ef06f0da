"""``precision="mpmath"``: the same polynomial method, evaluated where float64 cannot.

Float64 evaluates the feature expansion of ``P`` with a relative rounding
error that grows like ``2^-53 e^{2h}`` (docs/polynomial-method.md, "Float64
rounding"): a limit of the arithmetic, not of the method.  Here the same
algorithm runs with every number an ``mpmath.mpf`` of ``D`` significant digits:

* the polynomial (:func:`mp_exp_approximation`) is the Chebyshev truncation of
  degree ``g``, the smallest with ``E_g(h) e^h <= eps``
  (:func:`~algorithms.polynomial_method.bessel.chebyshev_degrees`: a proof in
  exact arithmetic, no grid), converted to the power basis at ``2 D`` digits and
  kept at ``D``;
* the features ``phi(Q)``, ``psi(K_j)`` and the two products
  ``U1 [(U2^T [V2, 1]) ∘ ... ]`` (:func:`mp_apply`) are computed in ``D``-digit
  arithmetic (numpy object arrays of ``mpf``), so the rounding term of
  :func:`algorithms.error_bounds.entry_error` has ``u = 10^{1-D}`` in place of
  ``2^-53``; ``D`` is chosen so that it stays below ``eps / 100``.

It is for toy sizes: about 3 microseconds per multiply-add.  The caller gets an
estimate first (:func:`mp_seconds`) and a :class:`~algorithms.polynomial_method.refusal.PrecisionTooSlow`
above its budget.

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Sec. 3.
.. [2] The mpmath development team. mpmath: a Python library for arbitrary-precision
   floating-point arithmetic, https://mpmath.org.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np

from algorithms.polynomial_method.bessel import chebyshev_degrees
from algorithms.polynomial_method.exp_approximation import _power_coefficients, chebyshev_truncation_error
from algorithms.polynomial_method.features import monomial_exponents

__all__ = ["MpExpApproximation", "mp_exp_approximation", "mp_apply", "mp_seconds", "mp_digits", "mp_unit_roundoff"]

#: Seconds per mpf multiply-add in a numpy object-array product (measured 1.2-2.3 us at 30-120 digits,
#: pure-Python mpmath backend); the estimate is deliberately pessimistic.
SECONDS_PER_OPERATION = 3e-6


def mp_unit_roundoff(digits: int) -> float:
    """``10^{1-D}``: a bound on the relative rounding of one ``D``-digit mpmath operation."""
    return 10.0 ** (1 - int(digits))


def mp_seconds(n_query: int, n_keys, rank: int, d_v: int) -> float:
    """Estimated seconds of :func:`mp_apply`: ``(n + sum n_j) r (2 d_v + 4)`` operations.

    Examples
    --------
    >>> round(mp_seconds(5, [5], 1000, 1), 3)
    0.18
    """
    return SECONDS_PER_OPERATION * (n_query + sum(n_keys)) * rank * (2 * d_v + 4)


@dataclass(frozen=True)
class MpExpApproximation:
    """``P(v) = sum_j mp_coefficients[j] v^j ~ e^v`` on ``[lo, hi]``, for ``D``-digit evaluation.

    The attributes mirror :class:`~algorithms.polynomial_method.ExpApproximation`
    (``coefficients`` are the float64 roundings, for display only);
    ``sampled_error`` is the Bessel bound ``E_g(h) e^h`` on the relative error of
    the exact truncation (a proof, not a sample) and ``digits`` is ``D``.
    """

    lo: float
    hi: float
    eps: float
    degree: int
    coefficients: np.ndarray
    mp_coefficients: tuple
    digits: int
    max_relative_error: float
    sampled_error: float
    rounding_error: float = 0.0

    def __call__(self, x) -> np.ndarray:
        """Evaluate ``P`` at ``x`` in ``D``-digit arithmetic, returned as float64."""
        with mpmath.workdps(self.digits):
            coefs = list(self.mp_coefficients)[::-1]
            return np.vectorize(lambda t: float(mpmath.polyval(coefs, mpmath.mpf(float(t)))))(np.asarray(x, float))

    def log_abs_coefficients(self) -> np.ndarray:
        """``log |a_j|`` (``-inf`` for a zero coefficient), without overflow."""
        return np.array([float(mpmath.log(abs(a))) if a != 0 else -np.inf for a in self.mp_coefficients])


@lru_cache(maxsize=128)
def mp_exp_approximation(lo: float, hi: float, eps: float, digits: int) -> MpExpApproximation:
    """The Bessel-certified Chebyshev truncation for ``e^v`` on ``[lo, hi]``, coefficients at ``digits``.

    Parameters
    ----------
    lo, hi : float
        ``lo < hi``, ``(hi - lo)/2 <= 200``.
    eps : float
        Relative error, in ``(0, 1)``.
    digits : int
        ``D``, significant digits of the coefficients and of the evaluation.

    Examples
    --------
    >>> P = mp_exp_approximation(-15.0, 15.0, 1e-6, 40)   # float64 cannot: 2^-53 e^30 ~ 1e-3
    >>> P.degree, bool(P.max_relative_error <= 1e-6)
    (40, True)
    >>> bool(abs(P(-15.0)[()] / math.exp(-15.0) - 1) <= 1e-6)
    True
    """
    h = (hi - lo) / 2
    g = chebyshev_degrees(h, eps)[1]
    with mpmath.workdps(2 * digits + 20):
        exact = _power_coefficients(lo, hi, g)
    # E_g(h) e^h: a few digits are enough for the bound, summed directly at 30 digits (mpmath.nsum at the
    # coefficients' precision took about 15 s at h = 60).
    bound = chebyshev_truncation_error(h, g) * math.exp(h)
    with mpmath.workdps(digits):
        coefs = tuple(+a for a in exact)  # rounded to D digits
    floats = np.array([float(a) for a in coefs])
    return MpExpApproximation(lo, hi, eps, g, floats, coefs, int(digits), float(bound), float(bound))


def _mp_array(X: np.ndarray) -> np.ndarray:
    """A float array as an object array of ``mpf`` (exact: every float64 is an mpf)."""
    return np.frompyfunc(mpmath.mpf, 1, 1)(np.asarray(X, dtype=float)).astype(object)


def _mp_monomials(X: np.ndarray, g: int) -> np.ndarray:
    """:func:`~algorithms.polynomial_method.features.monomials` in mpmath: an ``(n, r)`` object array."""
    from algorithms.polynomial_method.features import _monomial_tree

    n, d = X.shape
    steps, offsets, _ = _monomial_tree(d, g)
    out = np.empty((offsets[-1], n), dtype=object)
    out[0] = mpmath.mpf(1)
    XT = X.T
    for src, length, dst, i in steps:
        out[dst : dst + length] = out[src : src + length] * XT[i]
    return out.T


def _mp_weights(d: int, approximation: MpExpApproximation, scale: float) -> np.ndarray:
    """``a_|alpha| scale^|alpha| |alpha|!/alpha!`` with exact integer multinomials."""
    exps = monomial_exponents(d, approximation.degree)
    sc = mpmath.mpf(scale)
    out = np.empty(len(exps), dtype=object)
    for i, e in enumerate(exps):
        j = int(e.sum())
        multi = math.factorial(j) // math.prod(math.factorial(int(x)) for x in e)
        out[i] = approximation.mp_coefficients[j] * sc**j * multi
    return out


def mp_apply(Qf: np.ndarray, keys_f, approximation: MpExpApproximation, scale: float, Vs) -> np.ndarray:
    """``D~^{-1} U1 [(U2^T [V2, 1]) ∘ ... ∘ (Uk^T [Vk, 1])]`` with every operation in ``D`` digits.

    ``Qf`` and ``keys_f`` are the (possibly centred) feature inputs of the
    operator; the result is rounded to float64 once, at the end.

    Examples
    --------
    >>> P = mp_exp_approximation(-1.0, 1.0, 1e-6, 30)
    >>> Q, K, V = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0], [0.0]])
    >>> out = mp_apply(Q, [K], P, 0.5, [V])
    >>> bool(abs(out[0, 0] - 1 / (1 + math.exp(-0.5))) < 1e-6)
    True
    """
    g = approximation.degree
    with mpmath.workdps(approximation.digits):
        W = None
        for K, V in zip(keys_f, Vs):
            U = _mp_monomials(_mp_array(K), g)
            Y = _mp_array(np.hstack([V, np.ones((V.shape[0], 1))]))
            side = U.T.dot(Y)
            W = side if W is None else W * side
        W = W * _mp_weights(Qf.shape[1], approximation, scale)[:, None]
        raw = _mp_monomials(_mp_array(Qf), g).dot(W)
        out = raw[:, :-1] / raw[:, -1:]
        return np.frompyfunc(float, 1, 1)(out).astype(float)


def mp_digits(log_magnitude: float, operations: int, eps: float) -> int:
    """``D`` with ``gamma_N(10^{1-D}) e^{log_magnitude} <= eps / 100``: the digits :func:`mp_apply` needs.

    Examples
    --------
    >>> mp_digits(math.log(1e12), 1000, 1e-6)
    26
    """
    need = (math.log(2 * operations) + log_magnitude - math.log(eps / 100)) / math.log(10)
    return int(math.ceil(need)) + 2

