"""Decide SAT through gap attention: SAT -> OV -> gap max-IP family -> attention, with each stage's bounds.

The chain (``k = 2``; ``k = 3`` runs the same with 3-OV and tensor attention)::

    CNF --sat_to_ov--> OV (A, B) --ov_to_gap--> q^{2T-2} gap instances --gap_to_attention--> attention
        <--decode----- (i, j) <----decode(advice, .)------- (i, j) <------decode------------------'

Every gap instance is turned into one attention instance (max-IP form: Bob's
vectors are not of constant weight), computed by exact attention and decoded;
the formula is satisfiable iff some instance yields a pair, and the decoded
assignment is checked against the formula.  The MA protocol is proved in
:mod:`reductions.ov_to_gap`; the max-IP -> attention step in
:mod:`reductions.gap_to_attention`.

Bounds at each stage (:func:`chain_stages`, sympy; ``N_b = 2^{floor(n/2)}``,
``Delta = q - 2T + 2``, ``beta = ln(margin N_b) / Delta``, the ``1/d``
convention of :func:`algorithms.attention.attention`):

==============  ===================  =============  ==========================  ======================
stage           vectors              dimension      entry bound B               range L
==============  ===================  =============  ==========================  ======================
SAT             ``2^n`` assignments  ``M``          1                           ``M`` (unsat clauses)
OV              ``N_a, N_b``         ``m = M``      1                           ``m`` (yes: 0)
gap             ``q^{2T-2}`` inst.   ``q^{K+1}``    1                           ``q`` (no: ``<= 2T-2``)
attention       ``max(N_a, N_b+1)``  ``q^{K+1}``    ``sqrt(q^{K+1} beta)``      logits ``[0, beta q]``
direct (ref.)   ``max(N_a, N_b+1)``  ``M``          ``sqrt(M (ln 2N_b + 1))``   ``M (ln 2N_b + 1)``
==============  ===================  =============  ==========================  ======================

For ``k = 3`` (3-OV, tensor attention): ``N_b N_c`` in place of ``N_b``, cube
roots for ``B``, ``Delta = q - 3T + 3``, dimension ``q^{2K+1}``, ``q^{3T-3}``
instances.

What it reaches (:func:`chain_limits`).  The logit range ``beta q = (1 +
O(T/q)) ln(margin N_b)`` is ``Theta(log n)``: the threshold scale, where the
direct reduction of :mod:`reductions.ov_to_attention` has ``Theta(m log n) =
Theta(log^2 n)``.  But the dimension ``q^{K+1}`` is ``m^{Theta(sqrt m)}`` with
``m = Theta(log n)``: ``n^{o(1)}``, not ``O(log n)``, so the entries ``B =
sqrt(q^{K+1} beta)`` are ``n^{o(1)}``, not ``Theta(sqrt(log n))``.  This chain
therefore does not exhibit AS23's hard point (``d = O(log n)``, ``B =
Theta(sqrt(log n))``); Rubinstein's algebraic-geometry-code version of the
protocol does, and is cited, not built.

Cost and refusal.  ``work = instances * (N_a prod_{p>1} (N_p + 1) d + 10 (sum_p
N_p + 1) d + 150000)`` units (logits, 0/1 entries built and checked, a fixed
cost per instance), about ``2 ns`` each on one core.  The deciders compute it
from the sizes alone (``O(sqrt m)`` arithmetic, no instance built) and raise
``ValueError`` when it exceeds ``max_work`` (default ``10^9``, about 2 s).
With the default they accept exactly the ``(n, M)`` below (largest ``n`` for
each number of clauses ``M``; the work grows with ``n``), in particular every
formula with ``n <= 4`` variables and ``M <= 4`` clauses, for ``k = 2`` and 3:

=====  ==  ==  ==  ==  ==  ======  ======  ========
M      0   1   2   3   4   5, 6    7, 8    >= 9
=====  ==  ==  ==  ==  ==  ======  ======  ========
k = 2  28  27  25  20  18  12      1       refused
k = 3  28  26  21  13  10  refused refused refused
=====  ==  ==  ==  ==  ==  ======  ======  ========

(:func:`sat_work` computes the work; the tests check the table's corners).

References
----------
.. [1] A. Abboud, A. Rubinstein, R. Williams. Distributed PCP theorems for
   hardness of approximation in P. FOCS 2017, arXiv:1706.06407.
.. [2] A. Rubinstein. Hardness of approximate nearest neighbor search. STOC
   2018, arXiv:1803.00904.
.. [3] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS
   2023, arXiv:2302.13214, Thm 1.4.
.. [4] R. Williams. Theoretical Computer Science 348(2-3), 2005 (SAT -> OV).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy

from reductions.cnf import CNF, Assignment
from reductions.ov import KOVInstance, OVInstance
from reductions.ov_to_gap import default_parameters, kov_to_gap3, ov_to_gap
from reductions.sat_to_ov import partition, sat_to_kov

__all__ = ["GapTrace", "chain_stages", "chain_limits", "chain_sizes", "sat_work", "decide_ov_via_gap",
           "decide_sat_via_gap", "DEFAULT_MAX_WORK"]

DEFAULT_MAX_WORK = 10**9
SECONDS_PER_UNIT = 2e-9  # one core, measured at the sizes the tests run
_VECTOR_UNITS, _INSTANCE_UNITS = 10, 150_000


@dataclass
class GapTrace:
    """What a gap decider did: the sizes it computed, seconds per stage, instances run, the accepting advice."""

    sizes: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)
    instances_run: int = 0
    advice: tuple[int, ...] | None = None
    found: tuple[int, ...] | None = None

    def __str__(self) -> str:
        sizes = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.sizes.items())
        stages = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in self.seconds.items())
        return f"gap chain: {sizes}\n  ran {self.instances_run} instance(s): {stages}; found {self.found}"


def chain_stages(k: int = 2) -> list[dict[str, Any]]:
    """Each stage's vector count, dimension, entry bound ``B`` and range ``L`` as sympy expressions.

    Symbols: ``n`` (variables), ``M`` (clauses), ``T``, ``q``, ``margin``;
    ``K = ceiling(M/T)``.  ``L`` is the largest inner product (0/1 stages) or
    logit (attention stages, ``1/d`` convention; the logits lie in ``[0, L]``,
    ``[-L, 0]`` for the direct reduction).  Table in the module docstring.

    Examples
    --------
    >>> att = chain_stages(2)[3]
    >>> att["B"].subs({"n": 4, "M": 4, "T": 2, "q": 5, "margin": 4}).evalf(4)
    10.75
    """
    if k not in (2, 3):
        raise ValueError(f"k must be 2 or 3, got {k!r}")
    n, M, T, q, margin = sympy.symbols("n M T q margin")
    K = sympy.ceiling(M / T)
    N = [2 ** sympy.floor((n + k - 1 - t) / k) for t in range(k)]  # partition sizes of sat_to_kov
    keys = sympy.Mul(*N[1:])
    d = q ** ((k - 1) * K + 1)
    beta = sympy.log(margin * keys) / (q - k * (T - 1))
    tokens = sympy.Max(N[0], *(Np + 1 for Np in N[1:]))
    direct = M * (sympy.log(2 * keys) + 1)
    return [
        {"stage": "SAT", "vectors": 2**n, "dimension": M, "B": sympy.Integer(1), "L": M},
        {"stage": f"{'' if k == 2 else '3-'}OV", "vectors": tuple(N), "dimension": M, "B": sympy.Integer(1), "L": M},
        {"stage": "gap", "vectors": tuple(N), "instances": q ** (k * (T - 1)), "dimension": d,
         "B": sympy.Integer(1), "L": q, "t_lo": k * (T - 1)},
        {"stage": "attention", "vectors": tokens, "dimension": d, "B": (d * beta) ** sympy.Rational(1, k),
         "L": beta * q, "beta": beta},
        {"stage": "direct", "vectors": tokens, "dimension": M, "B": direct ** sympy.Rational(1, k), "L": direct},
    ]


def chain_limits(k: int = 2) -> dict[str, sympy.Expr]:
    """Sympy limits as ``N -> oo`` with ``m = c ln N``, ``q = m``, ``T = K = sqrt(m)`` (the default's shape).

    ``L/ln N`` tends to a constant (the threshold scale); ``ln d / ln ln N``
    and ``ln B / ln ln N`` to infinity (neither ``d = O(log N)`` nor ``B =
    (log N)^{O(1)}``); ``ln d / ln N`` and ``ln(instances) / ln N`` to 0
    (``N^{o(1)}``: the reduction is fine-grained).

    Examples
    --------
    >>> chain_limits(2)
    {'L/ln N': 1, 'ln d/ln ln N': oo, 'ln B/ln ln N': oo, 'ln d/ln N': 0, 'ln instances/ln N': 0}
    """
    x, c = sympy.symbols("x c", positive=True)  # x = ln N
    m = c * x
    T = K = sympy.sqrt(m)
    ln_d = ((k - 1) * K + 1) * sympy.log(m)
    ln_beta = sympy.log((sympy.log(4) + (k - 1) * x) / (m - k * (T - 1)))
    ratios = {
        "L/ln N": m * (sympy.log(4) + (k - 1) * x) / (m - k * (T - 1)) / x,
        "ln d/ln ln N": ln_d / sympy.log(x),
        "ln B/ln ln N": (ln_d + ln_beta) / k / sympy.log(x),
        "ln d/ln N": ln_d / x,
        "ln instances/ln N": k * (T - 1) * sympy.log(m) / x,
    }
    return {name: sympy.limit(r, x, sympy.oo) for name, r in ratios.items()}


def _log2_sum(*log2s: float) -> float:
    top = max(log2s)
    return top + math.log2(sum(2.0 ** (v - top) for v in log2s))


def _number(log2: float) -> int | float:
    return round(2.0**log2) if log2 < 53 else _real(log2)


def _real(log2: float) -> float:
    return 2.0**log2 if log2 < 1000 else math.inf


def chain_sizes(log2_N: Sequence[float], m: int, *, T: int | None = None, q: int | None = None,
                margin: float = 4.0) -> dict[str, Any]:
    """Numbers of the chain for ``k = len(log2_N)`` sets of ``2^{log2_N[p]}`` vectors in dimension ``m``.

    Computed in log space from the sizes alone (huge formulas cost nothing).
    Keys: ``T, K, q, instances, dimension, t_lo, t_hi, n, d, B, L, work,
    estimate_s`` (``B`` and ``L`` of the attention stage; ``inf`` past float range).

    Raises
    ------
    ValueError
        As :func:`~reductions.ov_to_gap.default_parameters`; ``margin <= 1``.

    Examples
    --------
    >>> s = chain_sizes([2, 2], 4)
    >>> s["instances"], s["dimension"], s["n"], round(s["B"], 3), round(s["L"], 3), s["work"]
    (25, 125, 5, 10.748, 4.621, 4093750)
    """
    k = len(log2_N)
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin > 1):
        raise ValueError(f"margin must be a finite number > 1, got {margin!r}")
    T, K, q = default_parameters(m, k, T, q)
    log2_inst, log2_d = k * (T - 1) * math.log2(q), ((k - 1) * K + 1) * math.log2(q)
    log2_keys = sum(log2_N[1:])
    log2_tokens = max(log2_N[0], *(_log2_sum(v, 0.0) for v in log2_N[1:]))
    log2_logits = log2_N[0] + sum(_log2_sum(v, 0.0) for v in log2_N[1:])
    log2_vectors = _log2_sum(0.0, *log2_N) + math.log2(_VECTOR_UNITS)
    log2_work = log2_inst + _log2_sum(log2_logits + log2_d, log2_vectors + log2_d, math.log2(_INSTANCE_UNITS))
    beta = (math.log(margin) + log2_keys * math.log(2)) / (q - k * (T - 1))
    log2 = {"instances": log2_inst, "dimension": log2_d, "n": log2_tokens, "B": (log2_d + math.log2(beta)) / k,
            "work": log2_work}
    return {
        "k": k, "m": m, "T": T, "K": K, "q": q, "instances": _number(log2_inst), "dimension": _number(log2_d),
        "t_lo": k * (T - 1), "t_hi": q, "n": _number(log2_tokens), "d": _number(log2_d),
        "B": _real((log2_d + math.log2(beta)) / k), "L": beta * q, "beta": beta,
        "work": _number(log2_work), "estimate_s": SECONDS_PER_UNIT * _number(log2_work), "log2": log2,
    }


def sat_work(num_vars: int, num_clauses: int, k: int = 2, **kwargs) -> dict[str, Any]:
    """:func:`chain_sizes` for a formula with ``num_vars`` variables and ``num_clauses`` clauses.

    Examples
    --------
    >>> sat_work(4, 4)["work"] <= DEFAULT_MAX_WORK < sat_work(20, 4)["work"]
    True
    """
    return chain_sizes([len(p) for p in partition(num_vars, k)], num_clauses, **kwargs)


def _check_work(sizes: dict[str, Any], max_work: float, what: str) -> None:
    if sizes["work"] > max_work:
        def show(key: str) -> str:
            value = sizes[key]
            return f"{value:.4g}" if math.isfinite(value) else f"2^{sizes['log2'][key]:.4g}"

        seconds = f"{sizes['estimate_s']:.2g} s" if math.isfinite(sizes["estimate_s"]) else "forever"
        raise ValueError(
            f"{what} -> k={sizes['k']}, m={sizes['m']}: T={sizes['T']}, K={sizes['K']}, q={sizes['q']}, "
            f"{show('instances')} gap instances of dimension d={show('dimension')}, n={show('n')} tokens, "
            f"B={show('B')}: work {show('work')} units (about {seconds}) > max_work={max_work:.3g}; "
            f"pass a larger max_work to run it")


def _run(sets: Sequence[np.ndarray], trace: GapTrace, T, q, margin: float) -> tuple[int, ...] | None:
    from algorithms.attention import attention
    from algorithms.tensor_attention import tensor_attention
    from reductions.gap_to_attention import gap3_to_tensor_attention, gap_to_attention

    t0 = time.perf_counter()
    build = ov_to_gap if len(sets) == 2 else kov_to_gap3
    family, decode = build(*sets, T=T, q=q, max_entries=None)
    trace.seconds["ov_to_gap"] = time.perf_counter() - t0
    clock = dict.fromkeys(("gap_instances", "gap_to_attention", "attention", "decode"), 0.0)
    instances = iter(family)
    while True:
        s0 = time.perf_counter()
        advice, gap = next(instances, (None, None))
        s1 = time.perf_counter()
        clock["gap_instances"] += s1 - s0
        if gap is None:
            break
        trace.instances_run += 1
        to_attention = gap_to_attention if len(sets) == 2 else gap3_to_tensor_attention
        inst, decode_att = to_attention(gap, margin=margin)
        s2 = time.perf_counter()
        if len(sets) == 2:
            out = attention(inst.Q, inst.K, inst.V)
        else:
            out = tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)
        s3 = time.perf_counter()
        if trace.instances_run == 1:  # the entry bound of the matrices built, the largest logit beta * t_hi
            trace.sizes.update(B_instance=float(inst.B), L_instance=float(inst.beta * gap.t_hi))
        found = decode_att(out)
        if found is not None:
            trace.advice, trace.found = advice, decode(advice, found)
            if trace.found is None:  # soundness of the protocol says this cannot happen
                raise RuntimeError(f"attention flagged {found} under advice {advice}, which the protocol rejects")
        clock["gap_to_attention"] += s2 - s1
        clock["attention"] += s3 - s2
        clock["decode"] += time.perf_counter() - s3
        if trace.found is not None:
            break
    trace.seconds.update(clock)
    return trace.found


def _check_algorithm(algorithm: str) -> None:
    if algorithm != "exact":
        raise ValueError(f"algorithm must be 'exact' (the fast path's refusal is the pipeline's), got {algorithm!r}")


def decide_ov_via_gap(instance, B=None, C=None, *, algorithm: str = "exact", T: int | None = None,
                      q: int | None = None, margin: float = 4.0, max_work: float = DEFAULT_MAX_WORK
                      ) -> tuple[bool, tuple[int, ...] | None, GapTrace]:
    """Decide OV (or 3-OV) as the OR over the gap family, each instance by one exact attention.

    Parameters
    ----------
    instance : OVInstance, KOVInstance (``k = 2, 3``), or the first 0/1 matrix with ``B`` (and ``C``).
    algorithm : ``"exact"``.
    T, q : protocol parameters (defaults of :func:`~reductions.ov_to_gap.default_parameters`).
    margin : passed to :func:`~reductions.gap_to_attention.gap_to_attention`.
    max_work : refuse, before building anything, when the chain's work exceeds it.

    Returns
    -------
    found : bool
    tuple : an orthogonal pair (triple), or ``None``.
    trace : GapTrace

    Raises
    ------
    ValueError
        Bad matrices, ``T``, ``q`` or ``algorithm``; work above ``max_work``
        (the message gives the sizes, the estimate and ``max_work``).

    Examples
    --------
    >>> found, pair, trace = decide_ov_via_gap([[1, 1, 0, 0], [0, 1, 1, 0]], [[1, 0, 1, 1], [1, 0, 0, 1]])
    >>> found, pair, trace.sizes["instances"], trace.instances_run
    (True, (1, 1), 25, 9)
    """
    _check_algorithm(algorithm)
    if isinstance(instance, (OVInstance, KOVInstance)):
        sets = (instance.A, instance.B) if isinstance(instance, OVInstance) else instance.sets
    else:
        sets = KOVInstance(tuple(X for X in (instance, B, C) if X is not None)).sets
    if len(sets) not in (2, 3):
        raise ValueError(f"need 2 or 3 sets, got {len(sets)}")
    sizes = chain_sizes([math.log2(X.shape[0]) for X in sets], sets[0].shape[1], T=T, q=q, margin=margin)
    _check_work(sizes, max_work, f"OV with N={[X.shape[0] for X in sets]}")
    trace = GapTrace(sizes)
    found = _run(sets, trace, sizes["T"], sizes["q"], margin)
    return found is not None, found, trace


def decide_sat_via_gap(cnf: CNF, *, k: int = 2, algorithm: str = "exact", T: int | None = None,
                       q: int | None = None, margin: float = 4.0, max_work: float = DEFAULT_MAX_WORK
                       ) -> tuple[bool, Assignment | None, GapTrace]:
    """Decide ``cnf`` by SAT -> OV (``k = 2``) or 3-OV (``k = 3``) -> gap family -> exact attention.

    Parameters
    ----------
    cnf : CNF
    k : 2 (attention) or 3 (tensor attention).
    algorithm, T, q, margin, max_work : as :func:`decide_ov_via_gap`.

    Returns
    -------
    satisfiable : bool
    assignment : a satisfying ``{variable: bool}`` (checked), or ``None``.
    trace : GapTrace (sizes, seconds, instances run, accepting advice).

    Raises
    ------
    ValueError
        ``cnf`` not a CNF, bad ``k``, ``T``, ``q`` or ``algorithm``; a formula
        whose work exceeds ``max_work``, refused in ``O(sqrt M)`` arithmetic
        before any instance is built (accepted range in the module docstring).
    RuntimeError
        If a decoded assignment does not satisfy ``cnf`` (never, by the proofs).

    Examples
    --------
    >>> f = CNF(4, [(1, -2), (2, 3), (-1, -3, 4), (-4, 2)])
    >>> sat, x, trace = decide_sat_via_gap(f)
    >>> sat, f.satisfies(x), trace.sizes["q"], trace.sizes["dimension"]
    (True, True, 5, 125)
    >>> decide_sat_via_gap(CNF(40, [(1, 2)]))
    Traceback (most recent call last):
    ...
    ValueError: CNF with n=40 variables, M=1 clauses -> k=2, m=1: T=1, K=1, q=2, 1 gap instances of \
dimension d=4, n=1.049e+06 tokens, B=5.523: work 4.398e+12 units (about 8.8e+03 s) > max_work=1e+09; \
pass a larger max_work to run it
    """
    if not isinstance(cnf, CNF):
        raise ValueError(f"cnf must be a CNF, got {type(cnf).__name__}")
    if k not in (2, 3):
        raise ValueError(f"k must be 2 or 3, got {k!r}")
    _check_algorithm(algorithm)
    sizes = sat_work(cnf.num_vars, cnf.num_clauses, k, T=T, q=q, margin=margin)
    _check_work(sizes, max_work, f"CNF with n={cnf.num_vars} variables, M={cnf.num_clauses} clauses")
    trace = GapTrace(dict(n_vars=cnf.num_vars, clauses=cnf.num_clauses, **sizes))
    t0 = time.perf_counter()
    kov, decode_ov = sat_to_kov(cnf, k)
    trace.seconds["sat_to_ov"] = time.perf_counter() - t0
    found = _run(kov.sets, trace, sizes["T"], sizes["q"], margin)
    x = decode_ov(found)
    if x is not None and not cnf.satisfies(x):
        raise RuntimeError(f"decoded assignment {x} does not satisfy the formula")
    return x is not None, x, trace
