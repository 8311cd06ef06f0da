"""Cost estimates before expensive work, refusals over a limit, and progress bars for long work.

Every entry point that can run long (exact attention and tensor attention,
brute-force SAT, split-and-list, :func:`reductions.pipeline.decide_sat`,
poly-attention brute force and elimination, the transformer's parameters, the
command lines) first estimates the seconds and bytes it will need *from the
sizes alone* and calls :func:`check_budget`, which raises
:class:`BudgetExceeded` (a ``ValueError``) naming the limit, the estimate and
how to raise the limit, before anything is allocated.

Limits.  ``max_seconds`` (default :data:`DEFAULT_MAX_SECONDS` = 60 s) and
``max_memory`` (default :data:`DEFAULT_MAX_MEMORY` = 2 GiB).  Functions that
take ``max_seconds=`` / ``max_memory=`` keywords pass them on; everywhere else
(and inside those calls) the current limits apply, set for a block of code by
``with limits(max_seconds=..., max_memory=...)`` or for a process by the
environment variables ``BOUNDED_ENTRIES_MAX_SECONDS`` and
``BOUNDED_ENTRIES_MAX_MEMORY`` (bytes).  ``math.inf`` switches a limit off.

Estimates.  Linear models of the work with constants measured on the
project's 2-core machine (numpy, one BLAS thread; e.g. exact attention about
``8 ns + 0.04 ns (d + d_v)`` per logit, brute-force SAT about ``0.15 ns`` per
assignment and literal).  They are rough (within a factor of about 2 there;
another machine scales them), they are not bounds, and they err on the side of
refusing late rather than early: a refusal says the work is far above the
limit, not that it is impossible.

Progress.  :func:`progress` wraps a loop in a ``tqdm`` bar on stderr that
appears only if the loop is still running after :data:`PROGRESS_DELAY`
seconds; ``progress=False`` (keyword of the entry points), ``with
limits(progress=False)`` or ``BOUNDED_ENTRIES_PROGRESS=0`` switch it off.

Examples
--------
>>> est = check_budget("a small job", seconds=0.5, memory=2**20)
>>> est.seconds, est.memory
(0.5, 1048576.0)
>>> try:
...     check_budget("exact attention on n = 10^6", seconds=5000.0, memory=2**20)
... except BudgetExceeded as err:
...     print(err.parameter, err.limit)
max_seconds 60.0
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = [
    "DEFAULT_MAX_SECONDS",
    "DEFAULT_MAX_MEMORY",
    "PROGRESS_DELAY",
    "Estimate",
    "BudgetExceeded",
    "check_budget",
    "limits",
    "current_limits",
    "with_limits",
    "progress",
    "format_seconds",
    "format_bytes",
    "exact_attention_cost",
    "exact_tensor_attention_cost",
    "brute_force_sat_cost",
    "split_and_list_cost",
    "decide_sat_cost",
    "random_instance_cost",
    "pow2",
]

DEFAULT_MAX_SECONDS = 60.0
DEFAULT_MAX_MEMORY = 2 * 1024**3
PROGRESS_DELAY = 3.0  # seconds before a bar appears

# Measured constants of the linear cost models (seconds per unit of work; see the module docstring).
ATTENTION_PER_LOGIT = 8e-9
ATTENTION_PER_LOGIT_COLUMN = 4e-11
TENSOR_PER_LOGIT = 9e-9
TENSOR_PER_LOGIT_COLUMN = 1.2e-10
SAT_PER_ASSIGNMENT_LITERAL = 1.5e-10
RANDOM_PER_DRAW = 2e-8  # a uniform draw and its share of a sort or comparison (generous)
RANDOM_BYTES_PER_DRAW = 24  # the float64 draw, an int64 index and a temporary
RANDOM_PER_ITEM = 1.5e-6  # a Python object built and checked one by one (a CNF literal: ~0.8 us measured)
RANDOM_BYTES_PER_ITEM = 64  # its share of the tuples holding it
_SOFTMAX_BLOCK_BYTES = 3 * 8 * 2**22  # a block of logits and its temporaries

_max_seconds: contextvars.ContextVar[float | None] = contextvars.ContextVar("max_seconds", default=None)
_max_memory: contextvars.ContextVar[float | None] = contextvars.ContextVar("max_memory", default=None)
_progress: contextvars.ContextVar[bool | None] = contextvars.ContextVar("progress", default=None)


@dataclass(frozen=True)
class Estimate:
    """What a computation will need: ``seconds`` (rough) and ``memory`` (bytes allocated)."""

    what: str
    seconds: float
    memory: float


class BudgetExceeded(ValueError):
    """An estimate above a limit.

    ``parameter`` is the first limit exceeded (``"max_memory"`` before
    ``"max_seconds"``), ``exceeded`` all of them; ``estimate`` and ``limits``
    (a dict) give the figures.
    """

    def __init__(self, estimate: Estimate, exceeded: dict[str, float]) -> None:
        self.estimate, self.limits = estimate, dict(exceeded)
        self.exceeded = list(exceeded)
        self.parameter = self.exceeded[0]
        self.limit = exceeded[self.parameter]
        need = {"max_seconds": estimate.seconds, "max_memory": estimate.memory}
        shown = {"max_seconds": format_seconds, "max_memory": format_bytes}
        above = " and ".join(f"{p}={shown[p](limit)}" for p, limit in exceeded.items())
        raise_it = ", ".join(f"{p}={_suggest(2 * need[p])}" for p in exceeded)
        env = " and ".join(f"BOUNDED_ENTRIES_{p.upper()}" for p in exceeded)
        plural = len(exceeded) > 1
        super().__init__(
            f"{estimate.what}: estimated {format_seconds(estimate.seconds)} and {format_bytes(estimate.memory)}, "
            f"above the limit{'s' if plural else ''} {above}; to run it anyway raise {'them' if plural else 'it'}: "
            f"{raise_it} (or `with algorithms.budget.limits({raise_it})`, or the environment "
            f"variable{'s' if plural else ''} {env})"
        )


def _suggest(value: float) -> str:
    return f"{float(f'{value:.2g}'):g}" if math.isfinite(value) else "math.inf"


def format_seconds(seconds: float) -> str:
    """``"4.2 s"``, ``"3.1 min"``, ``"2.5 h"``, ``"8.1e+03 years"``.

    Examples
    --------
    >>> format_seconds(0.25), format_seconds(600), format_seconds(float("inf"))
    ('0.25 s', '10 min', 'inf s')
    """
    if not math.isfinite(seconds):
        return "inf s"
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.2g} s"


def format_bytes(n: float) -> str:
    """``"512 B"``, ``"3.0 MiB"``, ``"2 GiB"``.

    Examples
    --------
    >>> format_bytes(2 * 1024**3), format_bytes(1.5e6)
    ('2 GiB', '1.43 MiB')
    """
    if not math.isfinite(n):
        return "inf B"
    for unit, size in (("EiB", 1024**6), ("PiB", 1024**5), ("TiB", 1024**4), ("GiB", 1024**3),
                       ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


def _env_limit(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"environment variable {name} must be a positive number, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"environment variable {name} must be a positive number, got {raw!r}")
    return value


def _check_limit(name: str, value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or not value > 0:
        raise ValueError(f"{name} must be a positive number (math.inf for no limit), got {value!r}")
    return float(value)


def current_limits() -> tuple[float, float]:
    """``(max_seconds, max_memory)`` in force here: the innermost :func:`limits`, else the environment, else the defaults."""
    seconds, memory = _max_seconds.get(), _max_memory.get()
    if seconds is None:
        seconds = _env_limit("BOUNDED_ENTRIES_MAX_SECONDS", DEFAULT_MAX_SECONDS)
    if memory is None:
        memory = _env_limit("BOUNDED_ENTRIES_MAX_MEMORY", DEFAULT_MAX_MEMORY)
    return seconds, memory


@contextlib.contextmanager
def limits(max_seconds: float | None = None, max_memory: float | None = None, progress: bool | None = None):
    """Set the limits (and whether progress bars show) for the calls inside the ``with`` block.

    ``None`` keeps the value in force.

    Examples
    --------
    >>> with limits(max_seconds=600):
    ...     current_limits()[0]
    600.0
    """
    tokens = []
    for var, name, value in ((_max_seconds, "max_seconds", max_seconds), (_max_memory, "max_memory", max_memory)):
        value = _check_limit(name, value)
        if value is not None:
            tokens.append((var, var.set(value)))
    if progress is not None:
        if not isinstance(progress, bool):
            raise ValueError(f"progress must be True, False or None, got {progress!r}")
        tokens.append((_progress, _progress.set(progress)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def with_limits(func):
    """Decorator: the call's ``max_seconds``, ``max_memory`` and ``progress`` arguments apply inside it (:func:`limits`)."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        given = {k: bound.arguments.get(k) for k in ("max_seconds", "max_memory", "progress")}
        with limits(**given):
            return func(*args, **kwargs)

    return wrapper


def check_budget(
    what: str, seconds: float, memory: float, *, max_seconds: float | None = None, max_memory: float | None = None
) -> Estimate:
    """Refuse work estimated above a limit, before it starts.

    Parameters
    ----------
    what : str
        The work, with its sizes, for the message (``"exact attention, n = 65537, ..."``).
    seconds, memory : float
        The estimate: seconds, and bytes it will allocate.
    max_seconds, max_memory : float, optional
        The limits; ``None``: those in force (:func:`current_limits`).

    Returns
    -------
    Estimate

    Raises
    ------
    BudgetExceeded
        (a ``ValueError``) if ``seconds > max_seconds`` or ``memory > max_memory``;
        the message names the limit, the estimate and how to raise it.
    ValueError
        If a limit is not a positive number.
    """
    default_seconds, default_memory = current_limits()
    max_seconds = _check_limit("max_seconds", max_seconds) or default_seconds
    max_memory = _check_limit("max_memory", max_memory) or default_memory
    estimate = Estimate(what, float(seconds), float(memory))
    exceeded = {}
    if not estimate.memory <= max_memory:  # NaN counts as exceeded
        exceeded["max_memory"] = max_memory
    if not estimate.seconds <= max_seconds:
        exceeded["max_seconds"] = max_seconds
    if exceeded:
        raise BudgetExceeded(estimate, exceeded)
    return estimate


def progress(iterable: Iterable, *, total: int | None = None, desc: str | None = None, unit: str = "it",
             enabled: bool | None = None) -> Iterator:
    """``iterable`` wrapped in a ``tqdm`` bar that shows only after :data:`PROGRESS_DELAY` seconds.

    ``enabled=None``: on unless switched off (``with limits(progress=False)``,
    ``BOUNDED_ENTRIES_PROGRESS=0``).
    """
    if enabled is None:
        enabled = _progress.get()
    if enabled is None:
        enabled = os.environ.get("BOUNDED_ENTRIES_PROGRESS", "1").strip() not in ("0", "false", "no", "off")
    if not enabled:
        return iter(iterable)
    from tqdm.auto import tqdm

    return iter(tqdm(iterable, total=total, desc=desc, unit=unit, delay=PROGRESS_DELAY, leave=False))


# ----------------------------------------------------------------------------- cost models
def pow2(x: float) -> float:
    """``2.0 ** x`` as a float, ``inf`` instead of ``OverflowError``.

    >>> pow2(10), pow2(10**20)
    (1024.0, inf)
    """
    return math.inf if x > 1000 else 2.0**x


def exact_attention_cost(n: int, m: int, d: int, dv: int) -> tuple[float, float]:
    """``(seconds, bytes)`` of exact attention: ``n m`` logits of width ``d``, contracted with ``d_v`` columns."""
    logits = float(n) * float(m)
    seconds = logits * (ATTENTION_PER_LOGIT + ATTENTION_PER_LOGIT_COLUMN * (d + dv))
    memory = min(logits, 2.0**22) * 3 * 8 + 8.0 * n * (dv + 1)
    return seconds, memory


def exact_tensor_attention_cost(n: int, n1: int, n2: int, d: int, dv: int) -> tuple[float, float]:
    """``(seconds, bytes)`` of exact tensor attention: ``n n1 n2`` logits."""
    logits = float(n) * float(n1) * float(n2)
    seconds = logits * (TENSOR_PER_LOGIT + TENSOR_PER_LOGIT_COLUMN * (d + dv))
    memory = min(logits, 2.0**21) * 3 * 8 + 8.0 * n * (dv + 1) + 64 * 8.0 * n1 * d
    return seconds, memory


def brute_force_sat_cost(num_vars: int, literals: int, assignments: float | None = None,
                         chunk: float | None = None) -> tuple[float, float]:
    """``(seconds, bytes)`` of checking ``assignments`` (default ``2^n``) assignments, ``chunk`` at a time.

    Memory: an int64 index, ``n`` bit masks and two masks per assignment in a chunk (26 + n bytes).
    """
    count = pow2(num_vars) if assignments is None else float(assignments)
    at_once = count if chunk is None else min(count, float(chunk))
    seconds = count * (literals + num_vars + 1) * SAT_PER_ASSIGNMENT_LITERAL
    return seconds, at_once * (26 + num_vars)


def split_and_list_cost(num_vars: int, num_clauses: int, literals: int, k: int) -> tuple[float, float]:
    """``(seconds, bytes)`` of Williams' split into ``k`` parts: ``sum_t 2^{|V_t|}`` rows of ``M`` bytes."""
    rows = sum(pow2(-(-(num_vars - t) // k)) for t in range(k))  # part sizes ceil, ..., floor of n/k
    seconds = rows * (literals + num_clauses + 1) * SAT_PER_ASSIGNMENT_LITERAL
    return seconds, rows * (num_clauses + 1 + 17)


def decide_sat_cost(num_vars: int, num_clauses: int, literals: int, via: str) -> tuple[float, float]:
    """``(seconds, bytes)`` of :func:`reductions.pipeline.decide_sat` by ``via`` (attention, tensor, gradient).

    The split-and-list lists plus the attention instance (``float64``, about
    ``M + 3`` columns a token, twice for the copies) and the exact attention of
    :func:`exact_attention_cost` (``N_a x (N_b + 1)`` logits, ``d ~ M``); tensor
    attention ``N^3``; the gradient route about 4 attention passes of head
    dimension ``2 M``.
    """
    k = 3 if via == "tensor_attention" else 2
    lists_s, lists_b = split_and_list_cost(num_vars, num_clauses, literals, k)
    sizes = [pow2(-(-(num_vars - t) // k)) for t in range(k)]
    d = num_clauses + 3
    tokens = sum(sizes) + 2
    instance_b = tokens * d * 8 * 2
    if via == "tensor_attention":
        s, b = exact_tensor_attention_cost(sizes[0], sizes[1] + 1, sizes[2] + 1, d, 1)
    elif via == "gradient":
        s, b = exact_attention_cost(tokens, tokens, 2 * d, 2 * d)
        s, b, instance_b = 4 * s, 2 * b, 4 * instance_b
    else:
        s, b = exact_attention_cost(sizes[0], sizes[1] + 1, d, 1)
    return lists_s + s, lists_b + instance_b + b


def random_instance_cost(draws: float, products: float = 0.0, items: float = 0.0) -> tuple[float, float]:
    """Seconds and bytes of a random instance: ``draws`` uniform numbers (with their sort), ``products`` 0/1
    products, ``items`` Python objects built one by one (the literals of a :class:`~reductions.cnf.CNF`).

    For the generators of :mod:`reductions.cnf` (``num_clauses * num_vars``
    draws: every clause sorts a random key per variable; ``num_clauses (k + 1)``
    items, about 0.8 us each measured) and :mod:`reductions.ov` (``N m`` draws
    per set, and a pass over the ``N^2 m`` products that find orthogonal pairs,
    repeated while planting).

    Examples
    --------
    >>> random_instance_cost(1e6)
    (0.02, 24000000.0)
    """
    draws, products, items = float(draws), float(products), float(items)
    return (RANDOM_PER_DRAW * draws + 1e-9 * products + RANDOM_PER_ITEM * items,
            RANDOM_BYTES_PER_DRAW * draws + 8.0 * min(products, 2**22) + RANDOM_BYTES_PER_ITEM * items)
