"""The entry bound at which the gap constructions separate, and what the polynomial method needs there.

The constructions of :mod:`reductions.gap_to_attention` put the logit
``beta <a, b>`` on a pair with inner product ``<a, b>`` (``beta = B^2 / m`` in
the max-IP form, ``B^2 / (2m)`` in the Hamming form, ``B^3 / m`` for tensors,
``B`` the entry bound).  Two bounds on ``B`` (see docs/threshold.md):

* :func:`sufficient_bound`: ``n`` far keys per query lose to one near key as
  soon as ``beta Delta >= ln n`` (``ln n^2`` for tensors, ``n^2`` far key
  pairs), i.e. ``B >= sqrt(m ln(n) / Delta)``.  With ``Delta = Theta(m)`` and
  ``m = Theta(log n)`` that is ``B = Theta(sqrt(log n))`` (``Theta((log
  n)^{1/3})`` for tensors): the scale of Alman & Song's lower bound (2023,
  Thm 1.4; 2024 for tensors).
* :func:`minimal_bound`: the exact infimum, which also depends on ``t_lo``.
  The weakest yes-row has one key at ``t_hi`` and ``n - 1`` at inner product
  0, row mass ``e^{beta t_hi} + n - 1``; the strongest no-row has all ``n``
  keys at ``t_lo``, mass ``n e^{beta t_lo}``.  Every instance is separated iff

      G(beta) = e^{beta t_hi} + (n - 1) - n e^{beta t_lo} > 0.

  ``G(0) = 0`` and ``G'(beta) = e^{beta t_lo} (t_hi e^{beta Delta} - n t_lo)``.
  If ``t_hi >= n t_lo`` (e.g. ``t_lo = 0``), ``G' > 0`` on ``beta > 0``: every
  ``B > 0`` works and the infimum is 0.  Otherwise ``G`` falls until
  ``beta_c = ln(n t_lo / t_hi) / Delta`` and rises for ever after, so it has
  exactly one positive root ``beta*``, in ``(beta_c, ln(n) / Delta)``
  (``G(ln(n)/Delta) = n - 1 > 0``): the entries that work are exactly
  ``B > B(beta*)``.  As ``t_lo`` grows with ``Delta`` fixed, ``beta* -> ln(n)
  / Delta``: the sufficient bound is the limit of the minimal one.

The polynomial method, on the other side, approximates ``e^x`` on the logit
interval -- at worst ``[-B^2, B^2]`` (``[-B^3, B^3]``); the fast paths certify
the narrower one the instance fills -- by a polynomial of degree ``g`` and
pays the rank ``C(d + g, g)`` (:func:`polynomial_method_rank` gives lower
bounds for the worst case; see docs/polynomial-method.md and docs/threshold.md).

References
----------
.. [1] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Thm 1.3 (upper bound) and Thm 1.4 (lower bound).
.. [2] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (tensor attention, ``B = Theta((log n)^{1/3})``).
"""

from __future__ import annotations

import math

import numpy as np

from algorithms.polynomial_method import feature_rank, truncation_degree

__all__ = ["minimal_bound", "minimal_bound_tensor", "sufficient_bound", "polynomial_method_rank"]

_FORMS = ("max-ip", "hamming", "tensor")


def _check_form(form: str) -> None:
    if form not in _FORMS:
        raise ValueError(f"form must be one of {_FORMS}, got {form!r}")


def _entries(beta: float, m: int, form: str) -> float:
    """``B`` from ``beta``: ``sqrt(beta m)``, ``sqrt(2 beta m)`` (Hamming, ``d = 2m``) or ``(beta m)^{1/3}``."""
    if form == "tensor":
        return (beta * m) ** (1.0 / 3.0)
    return math.sqrt(beta * (2 * m if form == "hamming" else m))


def sufficient_bound(n: int, m: int, gap: float, form: str = "max-ip") -> float:
    """The entry bound ``B`` with ``beta gap = ln N``: sufficient for every instance, whatever ``t_lo``.

    ``N = n`` far keys (``n^2`` far key pairs for ``form="tensor"``) lose to
    one near key once ``beta gap >= ln N``: ``B = sqrt(m ln(n) / gap)``
    (max-IP), ``sqrt(2 m ln(n) / gap)`` (Hamming, ``d = 2m``), ``(m ln(n^2) /
    gap)^{1/3}`` (tensor).  Every ``B`` at or above it separates every
    instance with these ``(n, m, gap)``; it is the supremum over ``t_lo`` of
    :func:`minimal_bound` (its limit as ``t_lo -> infinity``), so for a given
    ``t_lo`` a smaller ``B`` may suffice.

    Parameters
    ----------
    n : number of keys ``N_b`` (vectors per side; ``N_b = N_c`` for tensors).
    m : dimension of the source vectors.
    gap : ``t_hi - t_lo`` (max-IP, tensor) or ``t_far - t_near`` (Hamming).
    form : ``"max-ip"``, ``"hamming"`` or ``"tensor"``.

    Raises
    ------
    ValueError
        ``n < 1``, ``m < 1``, ``gap <= 0`` or an unknown ``form``.

    Examples
    --------
    >>> round(sufficient_bound(2**20, 60, 30), 4)  # m = 3 log2 n, gap m/2: B^2 = 2 ln n
    5.2655
    >>> round(sufficient_bound(2**20, 60, 30, form="tensor"), 4)
    3.8133
    """
    if not (n >= 1 and m >= 1 and gap > 0):
        raise ValueError(f"need n >= 1, m >= 1 and gap > 0, got n={n!r}, m={m!r}, gap={gap!r}")
    _check_form(form)
    far = n * n if form == "tensor" else n
    return _entries(math.log(far) / gap, m, form)


def _root(far: int, lo: int, hi: int) -> float:
    """The positive root ``beta*`` of ``G(beta) = e^{beta hi} + far - 1 - far e^{beta lo}``, or 0 if none."""
    if hi >= far * lo:
        return 0.0
    gap = hi - lo

    def sign(beta: float) -> float:  # log(e^{beta hi} + far - 1) - log(far e^{beta lo}): the sign of G
        return float(np.logaddexp(beta * hi, math.log(far - 1))) - math.log(far) - beta * lo

    left, right = math.log(far * lo / hi) / gap, math.log(far) / gap  # G(left) < 0 < G(right)
    for _ in range(200):
        mid = (left + right) / 2
        if mid in (left, right):
            break
        left, right = (mid, right) if sign(mid) <= 0 else (left, mid)
    return right


def minimal_bound(n: int, m: int, t_lo: int, t_hi: int, form: str = "max-ip") -> float:
    """Exact infimum of the entry bounds ``B`` at which the construction separates every instance.

    For the construction of :mod:`reductions.gap_to_attention` at entries
    ``s = B`` (``Q = s A``, ``K = [s B; 0]``, ...): the outputs of every
    yes-instance and every no-instance with ``N_b = n`` keys, dimension ``m``
    and these thresholds are separated (one threshold on the output decides
    them all) iff ``B > minimal_bound``.  At ``B = minimal_bound`` the weakest
    yes-row and the strongest no-row tie; ``0.0`` means every ``B > 0`` works
    (exactly when ``t_hi >= n t_lo``, e.g. ``t_lo = 0``).  The proof is in the
    module docstring; the tests check it against a brute-force search over
    ``B`` on every instance of a small size.  (:func:`~reductions.gap_to_attention.gap_to_attention`
    itself takes the larger ``beta = ln(margin N_b) / Delta``, whose simple
    bounds on the outputs give it a threshold and a tolerance.)

    Parameters
    ----------
    n : number of keys ``N_b`` (``N_b = N_c`` for tensors).
    m : dimension of the source vectors.
    t_lo, t_hi : the promise's thresholds, smaller first: ``(t_lo, t_hi)`` for
        max-IP and tensor, ``(t_near, t_far)`` for Hamming.
    form : ``"max-ip"``, ``"hamming"`` or ``"tensor"``.

    Returns
    -------
    float
        Max-IP: ``sqrt(m beta*)`` with ``beta*`` the positive root of ``e^{beta
        t_hi} + n - 1 = n e^{beta t_lo}`` (0 if none); Hamming (the weakest
        yes-row's other keys at distance ``m``): ``sqrt(2 m beta*)`` with
        ``(t_lo, t_hi) -> (m - t_far, m - t_near)``; tensor: ``(m beta*)^{1/3}``
        with ``n -> n^2`` (the other key pairs at 0).

    Raises
    ------
    ValueError
        ``n < 1``, ``m < 1``, an unknown ``form``, or not ``0 <= t_lo < t_hi <= m``.

    Examples
    --------
    >>> minimal_bound(8, 24, 0, 6)  # t_lo = 0: any B > 0 separates
    0.0
    >>> round(minimal_bound(8, 24, 3, 6), 4), round(sufficient_bound(8, 24, 3), 4)
    (3.9455, 4.0787)
    """
    _check_form(form)
    if not (n >= 1 and m >= 1):
        raise ValueError(f"need n >= 1 and m >= 1, got n={n!r}, m={m!r}")
    if not (float(t_lo).is_integer() and float(t_hi).is_integer() and 0 <= t_lo < t_hi <= m):
        raise ValueError(f"need integers 0 <= t_lo < t_hi <= m={m}, got t_lo={t_lo!r}, t_hi={t_hi!r}")
    lo, hi = (m - t_hi, m - t_lo) if form == "hamming" else (t_lo, t_hi)
    return _entries(_root(n * n if form == "tensor" else n, int(lo), int(hi)), m, form)


def minimal_bound_tensor(n: int, m: int, t_lo: int, t_hi: int) -> float:
    """``minimal_bound(n, m, t_lo, t_hi, form="tensor")``: ``n^2`` far key pairs, ``beta = B^3 / m``.

    Examples
    --------
    >>> round(minimal_bound_tensor(6, 24, 1, 5), 4)
    2.6091
    """
    return minimal_bound(n, m, t_lo, t_hi, form="tensor")


def polynomial_method_rank(half_width: float, d: int, eps: float) -> tuple[int, int]:
    """Lower bounds on the degree ``g`` and rank ``C(d + g, g)`` the polynomial method needs on ``[-h, h]``.

    ``g`` is the smallest degree whose Chebyshev truncation has relative error
    ``<= eps`` at the single point ``x = h`` (exact, via Bessel functions), so
    the certified construction of :mod:`algorithms.polynomial_method` needs
    at least this degree, in any precision (it certifies the whole interval
    and usually needs a little more).  Matrix attention: ``h = B^2``; tensor:
    ``h = B^3``.

    Examples
    --------
    >>> polynomial_method_rank(1.0, 4, 1e-6)  # the certified degree is 7 here too
    (7, 330)
    """
    if not (half_width > 0 and d >= 1 and 0 < eps < 1):
        raise ValueError(f"need half_width > 0, d >= 1, 0 < eps < 1, got {half_width!r}, {d!r}, {eps!r}")
    g = truncation_degree(half_width, eps)
    return g, feature_rank(d, g)
