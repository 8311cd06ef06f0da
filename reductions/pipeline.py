"""Decide SAT through attention: the whole chain SAT -> OV -> attention -> answer, traced.

The chain, each arrow a pure reduction of :mod:`reductions`::

    CNF --sat_to_ov--> OV (A, B) --ov_to_attention--> (Q, K, V) --attention--> output
        <--decode----- (i, j)    <------decode------------------------------------'

and its two variants: ``via="tensor_attention"`` splits the variables in three
(:func:`~reductions.sat_to_ov.sat_to_kov`, ``k = 3``) and asks one tensor
attention; ``via="gradient"`` recovers the attention output from calls to the
gradient of the training loss (:mod:`reductions.attention_to_gradient`; see
docs/gradient.md), so that SAT is decided by a gradient oracle.

The fast path and when it refuses.  ``algorithm="fast"`` replaces every exact
call by the polynomial method (Alman & Song 2023, Thm 1.3; 2024 for
tensors), whose guarantee needs ``B = o(sqrt(log n))`` (``o((log n)^{1/3})``);
the OV instance has ``B = sqrt(beta m) = Theta(log N)`` (``beta ~ ln(2N)``,
``m`` clauses).  Before any fast call the pipeline certifies, in ``O(n d)``,
the logit interval the instance fills (:func:`algorithms.polynomial_method.logit_bounds`;
``[-beta w, 0]`` for OV, far inside ``[-B^2, B^2]``), plans the polynomial there
as the fast routine will (:func:`algorithms.polynomial_method.plan_fast_path`)
and raises :class:`FastPathRefused` (a ``ValueError``) with one of two distinct
reasons, in the message and in ``reason``: ``"cost"``, the certified degree
``g`` and rank ``r = C(d + g, g)`` cost more flops than exact attention (or
``r > max_rank``) -- the complexity phenomenon, in any arithmetic; or
``"float64"``, float64 cannot evaluate the polynomial to ``eps`` (rounding
``~ 2^-53 e^{2h}``), a limit of the arithmetic (``precision="mpmath"`` of the
fast routines lifts it at toy sizes).  Neither refusal is Alman & Song's lower
bound (Thm 1.4): that is a statement about every algorithm under SETH, for
``d = Theta(log n)``, ``B = Theta(sqrt(log n))``, ``n -> infinity``.  Only very small formulas pass; on those the
fast path runs and is checked against the exact one in
``tests/reductions/test_pipeline.py``.  The gradient route's oracle sees the
gradient instance of :mod:`reductions.attention_to_gradient`, whose entries
are ``sqrt(D/d)`` times larger and head dimension ``D = d + 2(d_v + 1) + b``:
its rank is far larger (measured on the tests' one- and two-clause formulas
at ``eps = 1e-2``: ``r`` from 210 to 12 870, against 5 to 45 for the attention
route), and it runs only on those.

Certificates.  A "satisfiable" answer is always checked: the decoded
assignment must satisfy the formula (one pass over the clauses), else
:func:`decide_sat` raises ``RuntimeError``.  An "unsatisfiable" answer has no
short certificate; it is as good as the exactness of the chain.

References
----------
.. [1] R. Williams. Theoretical Computer Science 348(2-3), 2005 (SAT -> OV).
.. [2] F. Keles, P. Wijewardena, C. Hegde. On the computational complexity of
   self-attention. ALT 2023, arXiv:2209.04881 (OV -> attention, large entries).
.. [3] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214, Thm 1.3 (upper bound) and Thm 1.4 (SETH lower bound).
.. [4] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (tensor attention).
.. [5] J. Alman, Z. Song. The fine-grained complexity of gradient computation
   for training large language models. NeurIPS 2024, arXiv:2402.04497.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from algorithms.budget import check_budget, decide_sat_cost, with_limits
from algorithms.polynomial_method import (
    FastPathUnavailable,
    Float64Limit,
    logit_bounds,
    plan_fast_path,
    polynomial_method_cost,
)
from reductions.cnf import CNF, Assignment
from reductions.sat_to_ov import sat_to_kov, sat_to_ov

__all__ = ["Stage", "Trace", "FastPathRefused", "fast_path_rank", "decide_sat", "VIAS", "ALGORITHMS"]

VIAS = ("attention", "tensor_attention", "gradient", "gap", "tensor_gap")
ALGORITHMS = ("exact", "fast")
DEFAULT_MAX_RANK = 4096


@dataclass
class Stage:
    """One stage of the chain: its name, wall-clock seconds and sizes (n, d, B, eps, ...)."""

    name: str
    seconds: float
    sizes: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def __str__(self) -> str:
        def fmt(v: Any) -> str:
            return f"{v:.4g}" if isinstance(v, float) else str(v)

        sizes = ", ".join(f"{k}={fmt(v)}" for k, v in self.sizes.items())
        note = f"  [{self.note}]" if self.note else ""
        return f"{self.name:<24} {self.seconds * 1e3:9.2f} ms   {sizes}{note}"


@dataclass
class Trace:
    """The record of a :func:`decide_sat` run: ``via``, ``algorithm`` and the stages in order."""

    via: str
    algorithm: str
    stages: list[Stage] = field(default_factory=list)

    def __getitem__(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.stages]

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages)

    def __str__(self) -> str:
        head = f"decide_sat via={self.via} algorithm={self.algorithm}"
        return "\n".join([head, *map(str, self.stages)])

    def __repr__(self) -> str:
        """One line: the stages' names and the total time (``str()`` and the HTML view have the sizes)."""
        return (f"Trace(via={self.via!r}, algorithm={self.algorithm!r}, {len(self.stages)} stages: "
                f"{' -> '.join(self.names)}; {self.seconds * 1e3:.3g} ms)")

    def _repr_html_(self) -> str:
        """The stages as a table: name, milliseconds, sizes, note."""
        from algorithms._display import html_table

        def fmt(v: Any) -> str:
            return f"{v:.4g}" if isinstance(v, float) else str(v)

        rows = [[s.name, f"{s.seconds * 1e3:.2f}", ", ".join(f"{k}={fmt(v)}" for k, v in s.sizes.items()), s.note]
                for s in self.stages]
        return html_table(["stage", "ms", "sizes", "note"], rows,
                          caption=f"decide_sat via={self.via} algorithm={self.algorithm}")


class FastPathRefused(ValueError):
    """The polynomial method will not run; ``trace``: the stages so far; ``reason``: ``"cost"``,
    ``"float64"`` or ``"other"`` (a fast routine's own check) -- never the lower bound."""

    def __init__(self, message: str, trace: Trace, reason: str | None = None) -> None:
        super().__init__(message)
        self.trace = trace
        self._reason = reason

    @property
    def reason(self) -> str:
        if self._reason is not None:
            return self._reason
        cause = self.__cause__
        return {"cost": "cost", "float64": "float64"}.get(getattr(cause, "reason", None), "other")




def fast_path_rank(B: float, d: int, eps: float, k: int = 2) -> tuple[int, int]:
    """Degree ``g`` and rank ``r = C(d + g, g)`` the polynomial method needs for entries ``<= B``.

    Logits of a degree-``k`` mechanism lie in ``[-B^k, B^k]`` (``k = 2``
    matrix, ``3`` tensor); the degree is the one
    :func:`algorithms.polynomial_method.polynomial_method_cost` certifies.

    Raises
    ------
    ValueError
        If no float64 polynomial reaches ``eps`` on that interval: a float64
        limit of the power basis (its rounding grows like ``2^-53 e^{2 B^k}``),
        not a statement about complexity.

    Examples
    --------
    >>> fast_path_rank(1.0, 4, 1e-6)
    (7, 330)
    """
    return polynomial_method_cost(B, k, d, eps)


class _Clock:
    """Time a stage and append it to the trace."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def run(self, name: str, fn: Callable[[], Any], **sizes: Any) -> Any:
        t0 = time.perf_counter()
        out = fn()
        self.trace.stages.append(Stage(name, time.perf_counter() - t0, dict(sizes)))
        return out


def _pad(sets: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Attention needs d >= 1: with no clauses, add one all-zero coordinate (orthogonality unchanged)."""
    if sets[0].shape[1]:
        return sets
    return tuple(np.zeros((X.shape[0], 1), dtype=np.uint8) for X in sets)


def _upper_bound(k: int) -> str:
    """The theorem behind the fast path: Alman & Song 2023 Thm 1.3 (matrix), 2024 (tensor)."""
    return "Alman & Song 2023, Thm 1.3" if k == 2 else "Alman & Song 2024, arXiv:2310.04064"


def _check_fast(trace: Trace, B: float, n: int, d: int, eps: float, k: int, max_rank: int, *mats) -> None:
    """Raise FastPathRefused unless the polynomial method can run on ``mats`` = (Q, K, ...); record the check."""
    t0 = time.perf_counter()
    Q, keys = mats[0], mats[1:]
    bounds = logit_bounds(Q, keys, 1.0 / Q.shape[1], B)
    where = f"the instance has entries B={B:.4g} (n={n}, d={d})"
    try:
        plan = plan_fast_path(bounds, columns=Q.shape[1], k=k, eps=eps, n_query=Q.shape[0],
                              n_keys=[K.shape[0] for K in keys], d_v=1)
    except FastPathUnavailable as exc:
        trace.stages.append(Stage("fast-check", time.perf_counter() - t0, dict(B=B, eps=eps), "refused"))
        label = "float64 limit" if isinstance(exc, Float64Limit) else "cost"
        detail = str(exc).split(": ", 1)[-1]
        raise FastPathRefused(
            f"fast path refused ({label}): {where}; {detail}. Reduction instances have B = Theta(log N); the "
            f"polynomial method's guarantee needs B = o((log n)^(1/{k})) ({_upper_bound(k)}).",
            trace, "float64" if isinstance(exc, Float64Limit) else "cost",
        ) from exc
    g, r = plan.degree, plan.rank
    trace.stages.append(Stage("fast-check", time.perf_counter() - t0, dict(B=B, eps=eps, g=g, r=r)))
    if r > max_rank:
        trace.stages[-1].note = "refused"
        raise FastPathRefused(
            f"fast path refused (cost): {where}; its logits, certified in [{bounds.lo:.4g}, {bounds.hi:.4g}], "
            f"need degree g={g} and rank r=C(d+g, g)={r} with d={d}, above "
            f"max_rank={max_rank} (n={n} keys): the polynomial method only pays when r = n^o(1), i.e. "
            f"B = o((log n)^(1/{k})) ({_upper_bound(k)}).",
            trace, "cost",
        )


def _run(clock: _Clock, trace: Trace, name: str, fn: Callable[[], Any]) -> Any:
    """Run the attention stage; a ValueError of a fast routine (its own bound check) becomes FastPathRefused."""
    try:
        return clock.run(name, fn)
    except ValueError as exc:
        if trace.algorithm != "fast":
            raise
        raise FastPathRefused(f"fast path refused by {name}: {exc}", trace) from exc


def _via_matrix(cnf, clock, trace, algorithm, eps, max_rank, gradient):
    from algorithms.attention import (
        attention,
        attention_fast,
        attention_loss_grad,
        attention_loss_grad_fast,
    )
    from reductions.ov_to_attention import ov_to_attention

    ov, decode_ov = clock.run("sat_to_ov", lambda: sat_to_ov(cnf), n_vars=cnf.num_vars, clauses=cnf.num_clauses)
    trace.stages[-1].sizes.update(N_a=ov.N_a, N_b=ov.N_b, m=ov.m)
    A, B = _pad((ov.A, ov.B))
    inst, decode_att = clock.run("ov_to_attention", lambda: ov_to_attention(A, B))
    Bmax = float(max(np.max(np.abs(inst.Q)), np.max(np.abs(inst.K))))
    n, d = inst.Q.shape
    trace.stages[-1].sizes.update(n=n, n_keys=inst.K.shape[0], d=d, B=Bmax, beta=float(inst.beta))
    if gradient:
        from reductions.attention_to_gradient import (
            attention_gradient_instance,
            attention_via_gradient,
        )

        if algorithm == "fast":  # the oracle sees the gradient instance: larger entries, head dimension D
            g_inst, _ = attention_gradient_instance(inst.Q, inst.K, inst.V, slice(0, d))
            B_grad = float(max(np.max(np.abs(g_inst.A1 @ g_inst.X)), np.max(np.abs(g_inst.A2))))
            trace.stages[-1].sizes.update(B_gradient=B_grad, D_gradient=g_inst.D)
            _check_fast(trace, B_grad, n, g_inst.D, eps, 2, max_rank, g_inst.A1 @ g_inst.X, g_inst.A2)

        grad = attention_loss_grad if algorithm == "exact" else partial(attention_loss_grad_fast, eps=eps)
        def run_grad():
            return attention_via_gradient(inst.Q, inst.K, inst.V, grad=grad)

        out = _run(clock, trace, "attention_via_gradient", run_grad)
    else:
        if algorithm == "fast":
            _check_fast(trace, Bmax, n, d, eps, 2, max_rank, inst.Q, inst.K)
        fn = attention if algorithm == "exact" else partial(attention_fast, eps=eps)
        out = _run(clock, trace, "attention", lambda: fn(inst.Q, inst.K, inst.V))
    trace.stages[-1].sizes.update(n=n, d=d, B=Bmax, **({"eps": eps} if algorithm == "fast" else {}))
    pair = clock.run("decode_attention", lambda: decode_att(out))
    trace.stages[-1].sizes["pair"] = pair
    return decode_ov, pair


def _via_tensor(cnf, clock, trace, algorithm, eps, max_rank):
    from algorithms.tensor_attention import tensor_attention, tensor_attention_fast
    from reductions.ov_to_attention import kov_to_tensor_attention

    kov, decode_ov = clock.run("sat_to_3ov", lambda: sat_to_kov(cnf, 3), n_vars=cnf.num_vars, clauses=cnf.num_clauses)
    trace.stages[-1].sizes.update(sizes=kov.sizes, m=kov.m)
    sets = _pad(kov.sets)
    inst, decode_att = clock.run("3ov_to_tensor_attention", lambda: kov_to_tensor_attention(*sets))
    Bmax = float(max(np.max(np.abs(M)) for M in (inst.Q, inst.K1, inst.K2)))
    n, d = inst.Q.shape
    trace.stages[-1].sizes.update(n=n, n_keys=(inst.K1.shape[0], inst.K2.shape[0]), d=d, B=Bmax)
    if algorithm == "fast":
        _check_fast(trace, Bmax, n, d, eps, 3, max_rank, inst.Q, inst.K1, inst.K2)
    fn = tensor_attention if algorithm == "exact" else partial(tensor_attention_fast, eps=eps)
    out = _run(clock, trace, "tensor_attention", lambda: fn(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2))
    trace.stages[-1].sizes.update(n=n, d=d, B=Bmax, **({"eps": eps} if algorithm == "fast" else {}))
    triple = clock.run("decode_attention", lambda: decode_att(out))
    trace.stages[-1].sizes["triple"] = triple
    return decode_ov, triple


def _via_gap(cnf: CNF, k: int, algorithm: str) -> tuple[bool, Assignment | None, Trace]:
    """SAT -> (k-)OV -> gap family -> attention, its record turned into :class:`Stage` rows."""
    from reductions.sat_via_gap import decide_sat_via_gap

    if algorithm != "exact":
        raise ValueError(f"via='gap' runs exact attention only (the gap instances' entries are far above "
                         f"the fast path's range), got algorithm={algorithm!r}")
    sat, x, gap_trace = decide_sat_via_gap(cnf, k=k)
    trace = Trace("gap" if k == 2 else "tensor_gap", algorithm)
    for i, (name, seconds) in enumerate(gap_trace.seconds.items()):
        trace.stages.append(Stage(name, seconds, dict(gap_trace.sizes) if i == 0 else {}))
    trace.stages.append(Stage("verify", 0.0, {"satisfiable": sat, "instances_run": gap_trace.instances_run}))
    return sat, x, trace


@with_limits
def decide_sat(
    cnf: CNF,
    via: str = "attention",
    algorithm: str = "exact",
    *,
    eps: float = 1e-6,
    max_rank: int = DEFAULT_MAX_RANK,
    max_seconds: float | None = None,
    max_memory: float | None = None,
    progress: bool | None = None,
) -> tuple[bool, Assignment | None, Trace]:
    """Decide satisfiability of ``cnf`` by one attention (or gradient) computation.

    Parameters
    ----------
    cnf : CNF
    via : {"attention", "tensor_attention", "gradient", "gap", "tensor_gap"}
        ``attention``: SAT -> OV -> attention; ``tensor_attention``: SAT -> 3-OV
        -> tensor attention; ``gradient``: SAT -> OV -> attention, the attention
        output read off the loss gradient ``dL/dX`` (see docs/gradient.md);
        ``gap`` (``tensor_gap``): SAT -> OV (3-OV) -> gap max-IP instances by
        the Merlin-Arthur protocol -> (tensor) attention at logit range
        ``Theta(log n)``, :func:`reductions.sat_via_gap.decide_sat_via_gap`
        (exact only; accepted sizes and the refusal in that module).
    algorithm : {"exact", "fast"}
        Exact attention, or the polynomial method (see the module docstring for
        when it refuses).
    eps : float
        Relative error of the polynomial in the fast path, in (0, 1).
    max_rank : int
        Largest feature rank ``r`` the fast path accepts.
    max_seconds, max_memory : float, optional
        Limits on the estimated cost of the whole chain (default: those in
        force, 60 s and 2 GiB; ``math.inf`` for none), checked before anything
        is built by :func:`algorithms.budget.decide_sat_cost` (split-and-list
        lists, the attention instance, the exact attention: ``2^n M`` work);
        they also apply to every stage inside.  With the defaults a random
        3-CNF at ratio 4.27 is accepted up to about 32 variables (about a
        minute) and refused above, at once.
    progress : bool, optional
        Progress bars on stderr for stages that run longer than a few seconds
        (default on; ``False`` switches them off).

    Returns
    -------
    satisfiable : bool
    assignment : dict {variable: bool} or None
        A satisfying assignment (checked against ``cnf``) when satisfiable.
    trace : Trace
        Every stage's name, seconds and sizes (n, d, B, eps, ...), in order.

    Raises
    ------
    ValueError
        If ``cnf`` is not a CNF, ``via`` or ``algorithm`` is unknown, ``eps`` is
        outside (0, 1) or ``max_rank < 1``; :class:`algorithms.budget.BudgetExceeded`
        (a ``ValueError``) when the estimate is above ``max_seconds`` or
        ``max_memory``, naming the limit and the estimate.
    FastPathRefused
        (a ``ValueError``) with ``algorithm="fast"`` when the polynomial method
        will not run on the instance, ``reason`` saying why: ``"cost"`` (degree
        and rank on the certified logit interval cost more than exact attention,
        or ``r > max_rank``) or ``"float64"`` (float64 cannot evaluate the
        polynomial there); neither is the lower bound.
    RuntimeError
        If a decoded assignment does not satisfy ``cnf`` (never for ``exact``).

    Examples
    --------
    >>> from reductions.cnf import read_dimacs
    >>> f = read_dimacs("p cnf 3 3\\n1 2 0\\n-1 3 0\\n-2 -3 0\\n")
    >>> sat, x, trace = decide_sat(f)
    >>> sat, f.satisfies(x), trace.names
    (True, True, ['sat_to_ov', 'ov_to_attention', 'attention', 'decode_attention', 'decode_ov', 'verify'])

    Notes
    -----
    With ``n`` variables and ``M`` clauses: ``N = 2^{ceil(n/2)}`` vectors a side,
    attention on ``N + 1`` tokens of dimension ``M``, ``O(2^n M)`` time for the
    exact attention, the same as brute force, as SETH predicts.  Tensor:
    ``N = 2^{ceil(n/3)}``, exact tensor attention ``O(N^3 M) = O(2^n M)``.
    """
    if not isinstance(cnf, CNF):
        raise ValueError(f"cnf must be a CNF, got {type(cnf).__name__}")
    if via not in VIAS:
        raise ValueError(f"via must be one of {VIAS}, got {via!r}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if not (isinstance(eps, (int, float)) and 0 < eps < 1):
        raise ValueError(f"eps must lie in (0, 1), got {eps!r}")
    if not (isinstance(max_rank, (int, np.integer)) and max_rank >= 1):
        raise ValueError(f"max_rank must be a positive integer, got {max_rank!r}")
    if via in ("attention", "tensor_attention", "gradient"):  # the cost estimate, before anything is built
        literals = sum(len(c) for c in cnf.clauses)
        check_budget(f"decide_sat via {via}: {cnf.num_vars} variables, {cnf.num_clauses} clauses",
                     *decide_sat_cost(cnf.num_vars, cnf.num_clauses, literals, via))
    if via in ("gap", "tensor_gap"):
        return _via_gap(cnf, 2 if via == "gap" else 3, algorithm)
    trace = Trace(via, algorithm)
    clock = _Clock(trace)
    if via == "tensor_attention":
        decode_ov, found = _via_tensor(cnf, clock, trace, algorithm, eps, max_rank)
    else:
        decode_ov, found = _via_matrix(cnf, clock, trace, algorithm, eps, max_rank, via == "gradient")
    try:
        x = clock.run("decode_ov", lambda: decode_ov(found))
    except ValueError as exc:  # the decoder refuses a tuple that is not orthogonal
        raise RuntimeError(f"attention decoded {found}, which is not a solution: {exc}") from exc
    ok = clock.run("verify", lambda: x is None or cnf.satisfies(x))
    trace.stages[-1].sizes["satisfiable"] = x is not None
    if not ok:
        raise RuntimeError(f"decoded assignment {x} does not satisfy the formula")
    return x is not None, x, trace
