"""The entry bound at which the gap constructions separate, and what the polynomial method needs there.

The constructions of :mod:`reductions.gap_to_attention` put the logit
``beta <a, b>`` on a pair with inner product ``<a, b>`` (``beta = B^2 / m`` in
the max-IP form, ``B^2 / (2m)`` in the Hamming form, ``B^3 / m`` for tensors).
A query row with ``n`` far keys must lose to a row with one near key:
``beta Delta > ln n`` (``ln n^2`` for tensors, ``n^2`` far key pairs), i.e.
``B > sqrt(m ln(n) / Delta)``: with ``Delta = Theta(m)`` and
``m = Theta(log n)`` that is ``B = Theta(sqrt(log n))`` (``Theta((log
n)^{1/3})`` for tensors), the threshold of Alman & Song (2023, Thm 1.4;
2024 for tensors).  The polynomial method, on the other side, approximates
``e^x`` on ``[-B^2, B^2]`` (``[-B^3, B^3]``) by a polynomial of degree ``g``
and pays the rank ``C(d + g, g)`` (:func:`polynomial_method_rank`; see
docs/polynomial-method.md and docs/threshold.md).

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Thm 1.3 (upper bound) and Thm 1.4 (lower bound).
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (tensor attention, ``B = Theta((log n)^{1/3})``).
"""

from __future__ import annotations

import math

from algorithms.features import feature_rank
from algorithms.polynomial import chebyshev_truncation_error

__all__ = ["minimal_bound", "minimal_bound_tensor", "polynomial_method_rank"]


def _check_sizes(n: int, m: int, gap: float) -> None:
    if not (n >= 1 and m >= 1 and gap > 0):
        raise ValueError(f"need n >= 1, m >= 1 and gap > 0, got n={n!r}, m={m!r}, gap={gap!r}")


def minimal_bound(n: int, m: int, gap: float, form: str = "max-ip") -> float:
    """Smallest entry bound ``B`` for which the threshold construction is correct for every instance.

    ``n`` far keys per query must lose to one near key: ``beta gap > ln n``.
    Max-IP form (``beta = B^2 / m``): ``B > sqrt(m ln(n) / gap)``; Hamming
    form (``d = 2m``, ``beta = B^2 / (2m)``): ``B > sqrt(2 m ln(n) / gap)``.
    Sufficient for every instance with these ``(n, m, gap)``; necessary up to
    a relative correction ``(n - 1) e^{-beta t_lo}`` (the weakest yes-row also
    carries ``n - 1`` keys of weight ``>= 1``), which vanishes as ``t_lo`` grows:
    at slightly smaller ``B`` the no-row with all ``n`` keys at ``t_lo`` outweighs
    the yes-row with one key at ``t_hi`` (checked in the tests).

    Parameters
    ----------
    n : number of keys ``N_b`` (vectors per side).
    m : dimension of the source vectors.
    gap : ``t_hi - t_lo`` (max-IP) or ``t_far - t_near`` (Hamming).
    form : ``"max-ip"`` or ``"hamming"``.

    Raises
    ------
    ValueError
        ``n < 1``, ``m < 1``, ``gap <= 0`` or an unknown ``form``.

    Examples
    --------
    >>> round(minimal_bound(2**20, 60, 30), 4)  # m = 3 log2 n, gap m/2: B^2 = 2 ln n
    5.2655
    """
    _check_sizes(n, m, gap)
    if form not in ("max-ip", "hamming"):
        raise ValueError(f"form must be 'max-ip' or 'hamming', got {form!r}")
    dims = m if form == "max-ip" else 2 * m
    return math.sqrt(dims * math.log(n) / gap)


def minimal_bound_tensor(n: int, m: int, gap: float) -> float:
    """Tensor analogue: ``B > (m ln(n^2) / gap)^{1/3}`` with ``n^2`` far key pairs (``beta = B^3 / m``).

    Examples
    --------
    >>> round(minimal_bound_tensor(2**20, 60, 30), 4)
    3.8133
    """
    _check_sizes(n, m, gap)
    return (m * math.log(n * n) / gap) ** (1.0 / 3.0)


def polynomial_method_rank(half_width: float, d: int, eps: float) -> tuple[int, int]:
    """Lower bounds on the degree ``g`` and rank ``C(d + g, g)`` the polynomial method needs on ``[-h, h]``.

    ``g`` is the smallest degree whose Chebyshev truncation has relative error
    ``<= eps`` at the single point ``x = h`` (exact, via Bessel functions), so
    the construction of :func:`algorithms.polynomial.exp_approximation` needs
    at least this degree, in any precision (it certifies the whole interval
    and usually needs a little more).  Matrix attention: ``h = B^2``; tensor:
    ``h = B^3``.

    Examples
    --------
    >>> polynomial_method_rank(1.0, 4, 1e-6)  # exp_approximation certifies degree 9 here
    (7, 330)
    """
    if not (half_width > 0 and d >= 1 and 0 < eps < 1):
        raise ValueError(f"need half_width > 0, d >= 1, 0 < eps < 1, got {half_width!r}, {d!r}, {eps!r}")
    g = 0
    while chebyshev_truncation_error(half_width, g) * math.exp(-half_width) > eps:
        g += 1
    return g, feature_rank(d, g)
