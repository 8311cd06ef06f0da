"""The central figure: degree, rank and cost exponent of the polynomial method on three honest families.

Asymptotic statements hide constants that decide what one sees at computable
``n`` (docs/threshold.md, "Honest families").  This module fixes them and
computes, for ``n = 2^4 ... 2^40``:

* head dimension ``d = ceil(c log2 n)`` (``c`` in ``{1/2, 1}``) and accuracy
  ``eps = n^{-c'}`` (``c' = 1``);
* three families of logit intervals, for mechanism degree ``k`` (2 matrix, 3 tensor):

  - ``"deep_below"``: ``B = 1``, logits in ``[-1, 1]``;
  - ``"below"``: ``B = (ln n)^{1/k} / ln ln n``, logits in ``[-B^k, B^k]``
    (``B / (ln n)^{1/k} -> 0``; sympy's limit of the exponent is 1);
  - ``"at"``: logits in ``[0, c'' ln n]`` with ``c'' = k - 1`` -- the shape of
    the planted gap instances with ``t_lo = 0`` (``beta Delta = ln N^{k-1}``
    separates the ``N^{k-1}`` far tuples; :mod:`reductions.gap_to_attention`);

* the certified degree ``g``: the degree
  :func:`~algorithms.polynomial_method.certified.exp_on_interval` certifies in float64
  where it can (``source = "float64"``), otherwise the Bessel-certified degree
  ``E_g(h) e^h <= eps`` of :func:`~algorithms.polynomial_method.bessel.chebyshev_degrees`
  (``"bessel"``: a proof in exact arithmetic, what ``precision="mpmath"`` runs);
  also the right-end lower bound ``g_lower`` (no Chebyshev truncation of lower
  degree can work);
* the rank ``r = C(d + g, g)`` (uncentred: on these intervals centring never
  lowers the rank), the flops of :func:`~algorithms.polynomial_method.fast_flops`
  and :func:`~algorithms.polynomial_method.exact_flops` with ``n`` tokens on
  every side and ``d_v = d``, and the exponents ``log(flops)/log n``.

These are *computed*.  :func:`measure_point` *runs* the fast path (the
library's data-certified plan) and exact attention side by side on random
inputs of a family, for the small ``n`` where that is feasible.
:func:`asymptotes` gives sympy's limits of the exponent
(:func:`algorithms.bounds.asymptotic_exponent`, with the fitted constant
``C = 1.5``; for ``"at"`` the bracket from the two rank bounds).  The bench
script ``bench/threshold_families.py`` writes all three to
``bench/results/threshold_families.json``; :func:`plot_threshold_families`
draws the figure from that file (notebook 04).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from algorithms.polynomial_method import exact_flops, fast_flops
from algorithms.polynomial_method.bessel import chebyshev_degrees
from algorithms.polynomial_method.certified import exp_on_interval

__all__ = [
    "FAMILIES",
    "RESULTS",
    "family_parameters",
    "family_degree",
    "family_point",
    "family_curves",
    "measure_point",
    "asymptotes",
    "load_results",
    "plot_threshold_families",
]

FAMILIES = ("deep_below", "below", "at")
RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results" / "threshold_families.json"
_LABELS = {"deep_below": "deep below (B = 1)", "below": "below (B = (ln n)^(1/k) / ln ln n)",
           "at": "at (logits in [0, (k-1) ln n])"}


def _check(family: str, k: int, log2_n: float) -> None:
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if k not in (2, 3):
        raise ValueError(f"k must be 2 (matrix) or 3 (tensor), got {k!r}")
    if not (isinstance(log2_n, (int, float, np.integer, np.floating)) and 2 <= log2_n <= 1000):
        raise ValueError(f"log2_n must be a number in [2, 1000], got {log2_n!r}")


def family_parameters(family: str, k: int, log2_n: float, c: float = 1.0, c_prime: float = 1.0) -> dict:
    """``n``, ``d = ceil(c log2 n)``, ``eps = n^{-c'}``, the entry bound ``B`` and the logit interval ``[lo, hi]``.

    Examples
    --------
    >>> p = family_parameters("below", 2, 16)
    >>> p["d"], p["eps"] == 2.0**-16, round(p["B"], 4), round(p["hi"], 4)
    (16, True, 1.3841, 1.9157)
    >>> family_parameters("at", 3, 10, c=0.5)["hi"] == 2 * 10 * math.log(2)
    True
    """
    _check(family, k, log2_n)
    if not (c > 0 and c_prime > 0):
        raise ValueError(f"c and c_prime must be positive, got {c!r}, {c_prime!r}")
    ln_n = log2_n * math.log(2)
    d, eps = max(1, math.ceil(c * log2_n - 1e-9)), 2.0 ** (-c_prime * log2_n)
    if family == "deep_below":
        B, lo, hi = 1.0, -1.0, 1.0
    elif family == "below":
        B = ln_n ** (1 / k) / math.log(ln_n)
        lo, hi = -(B**k), B**k
    else:
        hi = (k - 1) * ln_n
        B, lo = hi ** (1 / k), 0.0
    return dict(family=family, k=k, log2_n=log2_n, n=2.0**log2_n, c=c, c_prime=c_prime, d=d, eps=eps,
                B=B, lo=lo, hi=hi)


def family_degree(lo: float, hi: float, eps: float) -> tuple[int, str, int]:
    """``(g, source, g_lower)`` on ``[lo, hi]``: float64-certified if possible, else Bessel-certified.

    Examples
    --------
    >>> family_degree(-1.0, 1.0, 1e-6)
    (7, 'float64', 7)
    >>> family_degree(0.0, 2 * 40 * math.log(2), 2.0**-40)   # tensor "at" family at n = 2^40
    (77, 'bessel', 40)
    """
    g_lower, g_bessel = chebyshev_degrees((hi - lo) / 2, eps)
    try:
        return exp_on_interval(lo, hi, eps).degree, "float64", g_lower
    except ValueError:
        return g_bessel, "bessel", g_lower


def family_point(family: str, k: int, log2_n: float, c: float = 1.0, c_prime: float = 1.0,
                 degree: tuple[int, str, int] | None = None) -> dict:
    """One computed point: parameters, degree (and its source), rank, flops, exponents, ``r/n``.

    ``degree`` may be passed to reuse :func:`family_degree` (it does not depend on ``c``).

    Examples
    --------
    >>> p = family_point("deep_below", 2, 10)
    >>> p["degree"], p["source"], p["rank"] == math.comb(10 + p["degree"], p["degree"])
    (5, 'float64', True)
    >>> round(p["fast_exponent"], 3), round(p["exact_exponent"], 3)
    (2.711, 2.539)
    """
    p = family_parameters(family, k, log2_n, c, c_prime)
    g, source, g_lower = degree if degree is not None else family_degree(p["lo"], p["hi"], p["eps"])
    d, n = p["d"], p["n"]
    rank, rank_lower = math.comb(d + g, g), math.comb(d + g_lower, g_lower)
    fast = fast_flops(n, [n] * (k - 1), rank, d)
    exact = exact_flops(n, [n] * (k - 1), d, d)
    ln_n = math.log(n)
    return p | dict(degree=g, source=source, degree_lower=g_lower, rank=float(rank), rank_lower=float(rank_lower),
                    r_over_n=rank / n, r_lower_over_n=rank_lower / n, fast_flops=fast, exact_flops=exact,
                    fast_exponent=math.log(fast) / ln_n, exact_exponent=math.log(exact) / ln_n)


def family_curves(ks: Sequence[int] = (2, 3), cs: Sequence[float] = (0.5, 1.0), c_prime: float = 1.0,
                  log2_ns: Iterable[int] = range(4, 41)) -> list[dict]:
    """Every :func:`family_point` of the grid (the degree computed once per family, ``k`` and ``n``).

    Examples
    --------
    >>> pts = family_curves(ks=(2,), cs=(1.0,), log2_ns=[4, 5])
    >>> len(pts), sorted({p["family"] for p in pts}) == sorted(FAMILIES)
    (6, True)
    """
    points = []
    for k in ks:
        for family in FAMILIES:
            for j in log2_ns:
                base = family_parameters(family, k, j, 1.0, c_prime)
                degree = family_degree(base["lo"], base["hi"], base["eps"])
                points.extend(family_point(family, k, j, c, c_prime, degree) for c in cs)
    return points


def _family_inputs(family: str, k: int, n: int, d: int, B: float, hi: float, rng) -> list[np.ndarray]:
    """Random factors whose logits fill the family's interval: row 0 of every factor is ``B 1`` (logit ``B^k``)
    and, for the symmetric families, row 1 of the last factor is ``-B 1`` (logit ``-B^k``)."""
    b = hi ** (1 / k) if family == "at" else B
    X = [rng.uniform(0 if family == "at" else -b, b, (n, d)) for _ in range(k)]
    for M in X:
        M[0] = b
    if family != "at":
        X[-1][1] = -b
    return X


def measure_point(family: str, k: int, log2_n: int, c: float = 1.0, c_prime: float = 1.0,
                  seed: int = 0, precision: str = "float64") -> dict:
    """Run the fast path and exact attention side by side on random inputs of the family; record both.

    Returns the degree, rank, centring, precision and logit interval the fast
    path used (its own certified plan, so within the family's interval), the
    maximum error against exact and its certified bound, and wall times: the
    first fast call (``setup_seconds``, which includes certifying the
    polynomial in mpmath, cached afterwards), a second fast call and exact.

    Examples
    --------
    >>> m = measure_point("deep_below", 2, 6)
    >>> m["degree"], m["rank"], bool(m["error"] <= m["error_bound"])
    (3, 84, True)
    """
    from algorithms.attention import attention
    from algorithms.tensor_attention import tensor_attention

    p = family_parameters(family, k, log2_n, c, c_prime)
    n, d = int(p["n"]), p["d"]
    rng = np.random.default_rng(seed)
    X = _family_inputs(family, k, n, d, p["B"], p["hi"], rng)
    Vs = [rng.uniform(-1, 1, (n, d)) for _ in range(k - 1)]
    run = attention if k == 2 else tensor_attention
    t = time.perf_counter()
    run(*X, *Vs, method="fast", eps=p["eps"], precision=precision)  # certifies P (cached)
    t0 = time.perf_counter()
    fast = run(*X, *Vs, method="fast", eps=p["eps"], precision=precision)
    t1 = time.perf_counter()
    exact = run(*X, *Vs)
    t2 = time.perf_counter()
    ln_n = math.log(n)
    flops = fast_flops(n, [n] * (k - 1), fast.rank, d)
    return dict(family=family, k=k, log2_n=log2_n, n=n, c=c, c_prime=c_prime, d=d, eps=p["eps"],
                degree=fast.degree, rank=fast.rank, centred=fast.centred, precision=fast.precision,
                logits=list(fast.logits), covered=list(fast.covered), error=float(np.max(np.abs(fast.output - exact))),
                error_bound=fast.max_error_bound, setup_seconds=t0 - t, fast_seconds=t1 - t0, exact_seconds=t2 - t1,
                fast_exponent=math.log(flops) / ln_n, r_over_n=fast.rank / n)


def asymptotes(k: int, c: float, c_prime: float = 1.0) -> dict:
    """sympy's ``lim log(time)/log n`` per family (``C = 1.5``); for ``"at"`` the (lower, upper) bracket.

    Uses :func:`algorithms.bounds.asymptotic_exponent` with ``d = c ln n / ln 2``,
    ``eps = n^{-c'}`` and ``B`` such that ``2 B^k`` is the family's logit range.
    A few seconds per call (sympy ``limit``).
    """
    import sympy as sp

    from algorithms.bounds import AGGARWAL_ALMAN_CONSTANT, SYMBOLS, asymptotic_exponent

    n, C = SYMBOLS.n, sp.nsimplify(AGGARWAL_ALMAN_CONSTANT)
    d, eps = sp.nsimplify(c) * sp.log(n) / sp.log(2), n ** (-sp.nsimplify(c_prime))
    B = {"deep_below": sp.Integer(1), "below": sp.log(n) ** sp.Rational(1, k) / sp.log(sp.log(n)),
         "at": ((k - 1) * sp.log(n) / 2) ** sp.Rational(1, k)}
    out = {}
    for family, b in B.items():
        sides = [asymptotic_exponent(k, b, d, eps, constant=C, rank_bound=r) for r in ("lower", "upper")]
        out[family] = [float(s) for s in sides]
    return out


def load_results(path: str | Path = RESULTS) -> dict:
    """The committed JSON of ``bench/threshold_families.py`` (machine, date, command, points, asymptotes)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def plot_threshold_families(data: dict, fig=None):
    """The central figure: per mechanism (rows), the degree ``g``, ``r / n`` and the exponent (columns).

    Lines: computed points, one colour per family, solid for ``c = 1`` and
    dashed for ``c = 1/2``; filled markers where float64 certifies the degree,
    open where only the Bessel certificate does.  Black crosses: measured runs
    (the fast path and exact attention side by side).  Exponent panel: the
    exact exponent (grey) and sympy's limits as horizontal asymptotes (dotted
    at 1 for the two families below; the ``"at"`` bracket shaded for ``c = 1``,
    between dashed lines for ``c = 1/2``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig = fig or plt.figure(figsize=(15, 8.5))
    axes = fig.subplots(2, 3, squeeze=False)
    colours = {"deep_below": "tab:green", "below": "tab:blue", "at": "tab:red"}
    points, measured = data["computed"], data["measured"]
    for row, k in enumerate((2, 3)):
        ax_g, ax_r, ax_e = axes[row]
        for family in FAMILIES:
            for c, style in ((1.0, "-"), (0.5, "--")):
                pts = [p for p in points if p["k"] == k and p["family"] == family and p["c"] == c]
                x = np.array([p["log2_n"] for p in pts])
                col = colours[family]
                label = f"{_LABELS[family]}, c = {c:g}"
                ax_r.plot(x, [p["r_over_n"] for p in pts], style, color=col, label=label)
                ax_e.plot(x, [p["fast_exponent"] for p in pts], style, color=col)
                if c == 1.0:
                    ax_g.plot(x, [p["degree"] for p in pts], "-", color=col, label=_LABELS[family])
                    for src, face in (("float64", col), ("bessel", "none")):
                        sel = [p for p in pts if p["source"] == src]
                        ax_g.plot([p["log2_n"] for p in sel], [p["degree"] for p in sel], "o", ms=4,
                                  mfc=face, mec=col)
                ax_e.plot(x, [p["exact_exponent"] for p in pts], style, color="0.6", lw=1)
            lo, hi = data["asymptotes"][f"k={k},c=1"][family]
            if family == "at":
                ax_e.axhspan(lo, hi, color=colours[family], alpha=0.10)
                for y in data["asymptotes"][f"k={k},c=0.5"][family]:
                    ax_e.axhline(y, ls="--", color=colours[family], lw=0.8)
            else:
                ax_e.axhline(lo, ls=":", color="k", lw=1)
        for m in (m for m in measured if m["k"] == k):
            ax_g.plot(m["log2_n"], m["degree"], "kx", ms=7)
            ax_r.plot(m["log2_n"], m["r_over_n"], "kx", ms=7)
            ax_e.plot(m["log2_n"], m["fast_exponent"], "kx", ms=7)
        name = "matrix (k = 2)" if k == 2 else "tensor (k = 3)"
        ax_g.set(title=f"{name}: certified degree g (independent of c)", xlabel="log2 n", ylabel="g")
        ax_r.set(title=f"{name}: rank r / n", xlabel="log2 n", yscale="log")
        ax_r.axhline(1.0, color="k", lw=0.8)
        ax_e.set(title=f"{name}: log(fast flops) / log n (grey: exact)", xlabel="log2 n", ylim=(0.9, k + 2.3))
        ax_e.axhline(k, color="0.4", lw=0.8, ls="-.")
    axes[0][1].legend(fontsize=7, loc="upper left")
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"d = ceil(c log2 n) (solid c = 1, dashed c = 1/2), eps = n^-{data['constants']['c_prime']:g}; "
                 f"filled: float64-certified g, open: Bessel-certified; x: measured runs; dotted: sympy limit 1 "
                 f"(below, deep below); sympy bracket for 'at': shaded c = 1, between dashed lines c = 1/2 (C = 1.5)",
                 fontsize=9)
    fig.tight_layout()
    return fig
