"""What a gap reduction hands its decoder: the attention instance, a threshold on its output, a float64-safe tolerance.

A gap reduction (:mod:`reductions.gap_to_attention`) maps a yes-instance to
outputs ``y <= y_small`` (or ``>= y_large``) and a no-instance to the other
side, with two output bounds ``y_small < y_large`` known in closed form.  The
decision reads one column of the output: yes iff ``min_i y_i < threshold``
(``max_i y_i > threshold`` in the Hamming form), with

    threshold = (y_small + y_large) / 2,     tolerance = (y_large - y_small) / 2,

so any output within ``tolerance`` of the exact one is decided correctly; the
relative entry error ``eps`` with ``eps / (1 + sqrt(1 - eps^2)) = tolerance``
is what the fast algorithm must reach (its bound (E1), the spread of the 0/1
values being 1; see docs/polynomial-method.md).

Float64.  The bounds arrive as logarithms (they can be ``e^{-10^3}`` and
below), and the threshold is formed only if float64 can still tell the two
sides apart when it computes attention: the larger bound must be a normal
float64 (``>= 2^-1022 = e^{-708.4}``; below it attention returns 0 or
subnormal noise on every row), and the relative gap ``(y_large - y_small) /
(y_large + y_small)`` must exceed ``8 u ((d + 2) L + n + 3)`` (``u = 2^-53``):
a bound on float64's relative rounding of an attention output whose ``d``-term
logits are at most ``L`` (each logit's rounding ``~ d u L`` becomes a relative
error of its exponential), summed over ``n`` keys and divided once.
Otherwise :func:`separation` raises a ``ValueError`` naming the parameter and
its limit, before the reduction builds anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from algorithms._checks import as_matrix
from reductions.ov_to_attention import AttentionInstance

__all__ = ["ThresholdInstance", "TensorThresholdInstance", "separation", "underflow_message", "check_margin"]


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


_LOG_TINY = math.log(np.finfo(float).tiny)  # ln 2^-1022 = -708.40: the smallest normal float64
_UNIT_ROUNDOFF = 2.0**-53


def check_margin(margin: float) -> float:
    """``margin`` as a float, or ``ValueError`` unless it is a finite number ``> 1``."""
    if isinstance(margin, (str, bytes, bool, np.bool_)):  # "4" is not a number here (float() would read it)
        raise ValueError(f"margin must be a finite number > 1, got {margin!r}")
    try:
        margin = float(margin)
    except (TypeError, ValueError):
        raise ValueError(f"margin must be a finite number > 1, got {margin!r}") from None
    if not (math.isfinite(margin) and margin > 1):
        raise ValueError(f"margin must be a finite number > 1, got {margin!r}")
    return margin


def separation(log_small: float, log_large: float, *, underflow: str, margin: float, d: int, n: int,
                logit: float) -> tuple[float, float, float]:
    """``(threshold, tolerance, eps)`` between output bounds ``y_small < y_large`` given by their logs.

    Parameters
    ----------
    log_small, log_large : ``ln y_small < ln y_large``.
    underflow : the message of the ``ValueError`` raised when ``y_large < 2^-1022``
        (see :func:`underflow_message`).
    margin : the reduction's margin, named when the bounds are too close.
    d, n, logit : head dimension, number of keys, largest logit ``L``.

    Raises
    ------
    ValueError
        ``y_large`` below the smallest normal float64, or the two bounds closer
        than ``8 u ((d + 2) L + n + 3)`` relative (module docstring).

    Examples
    --------
    >>> t, tol, eps = separation(math.log(0.2), math.log(0.6), underflow="", margin=3.0, d=4, n=5, logit=2.0)
    >>> round(t, 12), round(tol, 12)
    (0.4, 0.2)
    """
    if log_large < _LOG_TINY:
        raise ValueError(underflow)
    ratio = math.exp(log_small - log_large)
    rounding = 8 * _UNIT_ROUNDOFF * ((d + 2) * logit + n + 3)
    if not (1 - ratio) / (1 + ratio) > rounding:
        raise ValueError(
            f"this instance cannot be decided in float64: margin={margin!r} leaves the yes and no outputs a "
            f"relative {(1 - ratio) / (1 + ratio):.3g} apart, within float64's rounding {rounding:.3g} of "
            "attention on this instance; raise margin"
        )
    hi = math.exp(log_large)
    tolerance = hi * -math.expm1(log_small - log_large) / 2
    # Invert (E1) of algorithms.attention for an indicator V (spread 1):
    # e / (1 + sqrt(1 - e^2)) = tolerance  <=>  e = 2 tolerance / (1 + tolerance^2).
    return hi * (1 + ratio) / 2, tolerance, 2 * tolerance / (1 + tolerance**2)


def underflow_message(name: str, value: int, beta: float, log_mass: float, log_y: float, rows: str) -> str:
    """The refusal when ``rows`` (``"yes"`` or ``"no"``) have outputs ``y ~ e^{-(beta value + log_mass)} < 2^-1022``.

    Examples
    --------
    >>> "t_lo <= 84.58" in underflow_message("t_lo", 99, 8.294, math.log(1000), -828.0, "no")
    True
    """
    limit = (-_LOG_TINY - log_mass) / beta
    return (
        f"this instance cannot be decided in float64: with beta={beta:.4g}, {name}={value} puts the {rows}-rows' "
        f"outputs at about e^{log_y:.1f}, below the smallest normal float64 2.2e-308 = e^{_LOG_TINY:.1f}, where "
        f"attention returns 0 for yes and no rows alike; this construction needs beta*{name} + {log_mass:.4g} "
        f"<= {-_LOG_TINY:.1f}, i.e. {name} <= {limit:.4g} at this beta (widen the gap or lower {name})"
    )
