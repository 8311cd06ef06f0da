"""``FastResult``: the output of a fast computation together with its certificate.

Every fast entry point (``attention(..., method="fast")``,
``tensor_attention(..., method="fast")``, ``poly_attention_fast``) returns
one: the approximate output ``T``, the bound on ``|T - Att|`` per value column
((E1), :func:`algorithms.error_bounds.output_error`), and what the bound rests
on: the entry bound ``B``, the logit interval certified from the data in
``O(n d)``, the interval the polynomial covers, whether the features were
centred, the arithmetic (float64 or mpmath), the degree ``g`` and the rank
``r = C(d' + g, g)`` of the polynomial method, and the relative error ``e'``
of every entry of the approximate attention matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from algorithms.error_bounds import output_error, rounding_output_error

__all__ = ["FastResult", "fast_result"]


@dataclass(frozen=True, repr=False)
class FastResult:
    """A fast output with its certificate.

    Attributes
    ----------
    output : (n, d_v) array
        The approximation ``T`` of the exact output.
    error_bound : (d_v,) array
        Certified bound on ``max_i |T[i, c] - Att[i, c]|`` for each column ``c``.
    entry_error : float
        Certified relative error ``e'`` of every entry of the approximate
        (unnormalised) attention matrix.
    degree : int
        ``g``, the degree of the polynomial (the largest one, for poly-attention).
    rank : int
        ``r = C(d' + g, g)``, the rank of the feature maps (the largest one);
        ``d' = d + 1`` when centred.
    bound : float
        ``B``, the max-norm of the inputs the certificate assumes.
    logits : (float, float)
        The logit interval certified from the data (every logit lies in it;
        the widest one, for poly-attention).
    k : int
        Mechanism degree: 2 matrix, 3 tensor, ``h.degree`` for poly-attention.
    method : str
        How the output was computed: ``"fast"`` (the low-rank operator of
        :mod:`algorithms.polynomial_method.low_rank`), or poly-attention's
        ``"tree"`` / ``"network"`` contraction of it.
    degrees, ranks : dict
        ``{s: g_s}`` and ``{s: r_s}`` per factor degree ``s`` (one entry, ``{k: g}``,
        for matrix and tensor attention).
    centred : bool
        Whether the features were those of ``x - c`` (one more coordinate).
    precision : str
        ``"float64"`` or ``"mpmath"``.
    covered : (float, float) or None
        The interval (in logits) on which ``P`` is certified; it contains ``logits``.

    Examples
    --------
    >>> r = FastResult(np.zeros((3, 2)), np.array([1e-7, 2e-7]), 1e-6, 7, 330, 1.0, (-1.0, 1.0), 2, "fast")
    >>> r
    FastResult(method='fast', k=2, output (3, 2), degree g=7, rank r=330, entry_error=1e-06, error_bound<=2e-07, B=1, logits in [-1, 1])
    >>> r.degrees, float(r.max_error_bound)
    ({2: 7}, 2e-07)
    """

    output: np.ndarray
    error_bound: np.ndarray
    entry_error: float
    degree: int
    rank: int
    bound: float
    logits: tuple[float, float]
    k: int
    method: str
    degrees: dict = field(default_factory=dict)
    ranks: dict = field(default_factory=dict)
    centred: bool = False
    precision: str = "float64"
    covered: tuple | None = None

    def __post_init__(self) -> None:
        if not self.degrees:
            object.__setattr__(self, "degrees", {self.k: self.degree})
        if not self.ranks:
            object.__setattr__(self, "ranks", {self.k: self.rank})

    @property
    def max_error_bound(self) -> float:
        """``max_c error_bound[c]``: one number bounding ``max |T - Att|``."""
        return float(np.max(self.error_bound))

    def __repr__(self) -> str:
        lo, hi = self.logits
        return (
            f"FastResult(method={self.method!r}, k={self.k}, output {tuple(np.shape(self.output))}, "
            f"degree g={self.degree}, rank r={self.rank}, entry_error={self.entry_error:.3g}, "
            f"error_bound<={self.max_error_bound:.3g}, B={self.bound:g}, logits in [{lo:g}, {hi:g}]"
            + (", centred" if self.centred else "") + (f", {self.precision}" if self.precision != "float64" else "")
            + ")"
        )


def fast_result(op, output, spread, *, method: str = "fast", value_range=None) -> FastResult:
    """The :class:`FastResult` of ``output = op.apply(...)``, with (E1) for values of the given spread.

    Parameters
    ----------
    op : LowRankOperator
        The operator that produced ``output`` (its degree, rank, bound, logit
        interval and entry error are recorded).
    output : (n, d_v) array
    spread : (d_v,) array
        Spread of each value column (:func:`algorithms.error_bounds.value_spread`).
    method : str
        Recorded as :attr:`FastResult.method`.
    value_range : (lo, hi) of (d_v,) arrays, optional
        Where the value products lie; the bound then adds
        :func:`algorithms.error_bounds.rounding_output_error` (numerator and
        normaliser round differently, in float64 as in float32), which needs ``max |v|``.
    """
    e = op.entry_error
    error_bound = np.asarray(output_error(e, np.asarray(spread, dtype=float)), dtype=float)
    if value_range is not None:  # numerator and normaliser round differently: a constant column is off by ulps too
        lo, hi = value_range
        vmax = np.maximum(np.abs(lo), np.abs(hi))
        u = 2.0**-24 if getattr(op, "dtype", "float64") == "float32" else 2.0**-53
        with np.errstate(over="ignore"):
            error_bound = error_bound + rounding_output_error(e, op.approximation.sampled_error, vmax, u)
    P = op.approximation
    shift = op.centre or 0.0
    covered = (P.lo + shift, P.hi + shift)
    logits = (op.bounds.lo, op.bounds.hi) if op.bounds is not None else covered
    return FastResult(output, error_bound, e, op.degree, op.rank, op.bound, logits, op.k, method,
                      centred=op.centred, precision=op.precision if op.dtype == "float64" else op.dtype,
                      covered=covered)
