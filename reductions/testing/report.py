"""What the reduction checker says: the success report, the failure (:class:`ReductionError`), instances in their own format.

:func:`format_instance` prints a source instance the way its problem is
written -- DIMACS for a CNF, 0/1 rows for OV, k-OV and the gap problems,
exact float lists for arrays -- so that a counterexample can be pasted back
into a test.  It is a ``functools.singledispatch`` function: register a
printer for your own instance type with ``@format_instance.register``.
:func:`source_size` does the same for the sizes the report lists.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from reductions.cnf import CNF, write_dimacs
from reductions.gap import Gap3Instance, GapInstance, HammingGapInstance
from reductions.ov import KOVInstance, OVInstance

__all__ = ["DIRECTIONS", "ReductionError", "ReductionReport", "Failure", "format_instance", "source_size"]

DIRECTIONS = {
    "yes -> yes": "completeness: a YES instance must map to a YES instance",
    "no -> no": "soundness: a NO instance must map to a NO instance",
    "certificate": "the target's certificate, decoded, must be a valid certificate of the source",
    "size": "the target's sizes must meet the declared size claim",
    "value": "the value decoded from the target must equal the source's value",
    "error": "every stage (solve, reduce, decode) must run without an exception",
    "setup": "source_solve's own certificate must pass verify",
}


def _short(value, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------- instances in their own format
def _rows(X: np.ndarray) -> str:
    if X.shape[1] == 0:
        return "\n".join("(empty row: m = 0)" for _ in range(X.shape[0]))
    return "\n".join(" ".join(str(int(v)) for v in row) for row in X)


@functools.singledispatch
def format_instance(instance) -> str:
    """A source instance as text in its problem's own format (first line: the format; then the instance).

    Examples
    --------
    >>> print(format_instance(CNF(2, [(1, -2), (2,)])))
    CNF in DIMACS:
    p cnf 2 2
    1 -2 0
    2 0
    >>> print(format_instance(OVInstance([[1, 0]], [[1, 1], [0, 1]])))
    OV instance, 0/1 rows (N_a = 1, N_b = 2, m = 2):
    A
    1 0
    B
    1 1
    0 1
    """
    if isinstance(instance, np.ndarray):
        return f"array of shape {instance.shape}:\nnp.array({instance.tolist()!r})"
    if isinstance(instance, tuple) and instance and all(isinstance(a, np.ndarray) for a in instance):
        names = {3: ("Q", "K", "V"), 5: ("Q", "K1", "K2", "V1", "V2")}.get(len(instance),
                                                                          [f"[{i}]" for i in range(len(instance))])
        return "arrays:\n" + "\n".join(f"{n} = np.array({a.tolist()!r})" for n, a in zip(names, instance))
    return repr(instance)


@format_instance.register
def _(instance: CNF) -> str:
    return "CNF in DIMACS:\n" + write_dimacs(instance).rstrip("\n")


@format_instance.register
def _(instance: OVInstance) -> str:
    return (f"OV instance, 0/1 rows (N_a = {instance.N_a}, N_b = {instance.N_b}, m = {instance.m}):\n"
            f"A\n{_rows(instance.A)}\nB\n{_rows(instance.B)}")


@format_instance.register
def _(instance: KOVInstance) -> str:
    sets = "\n".join(f"X_{t + 1}\n{_rows(X)}" for t, X in enumerate(instance.sets))
    return f"{instance.k}-OV instance, 0/1 rows (sizes {instance.sizes}, m = {instance.m}):\n{sets}"


@format_instance.register
def _(instance: GapInstance) -> str:
    return (f"gap max-IP instance, 0/1 rows (t_lo = {instance.t_lo}, t_hi = {instance.t_hi}, m = {instance.m}):\n"
            f"A\n{_rows(instance.A)}\nB\n{_rows(instance.B)}")


@format_instance.register
def _(instance: HammingGapInstance) -> str:
    return (f"gap Hamming instance, 0/1 rows (t_near = {instance.t_near}, t_far = {instance.t_far}, "
            f"m = {instance.m}):\nA\n{_rows(instance.A)}\nB\n{_rows(instance.B)}")


@format_instance.register
def _(instance: Gap3Instance) -> str:
    return (f"gap 3-max-IP instance, 0/1 rows (t_lo = {instance.t_lo}, t_hi = {instance.t_hi}, m = {instance.m}):\n"
            f"A\n{_rows(instance.A)}\nB\n{_rows(instance.B)}\nC\n{_rows(instance.C)}")


@functools.singledispatch
def source_size(instance) -> dict[str, float]:
    """The sizes of a source instance that the report tracks (``{}`` for an unknown type).

    Examples
    --------
    >>> source_size(CNF(3, [(1, 2)]))
    {'n': 3, 'M': 1}
    """
    if isinstance(instance, tuple) and instance and all(isinstance(a, np.ndarray) for a in instance):
        if len(instance) == 3:
            (n, d), (m, d_v) = instance[0].shape, instance[2].shape
            return {"n": n, "m": m, "d": d, "d_v": d_v}
        if len(instance) == 5:
            return {"n": instance[0].shape[0], "n1": instance[1].shape[0], "n2": instance[2].shape[0],
                    "d": instance[0].shape[1], "d_v": instance[3].shape[1]}
        return {"entries": sum(a.size for a in instance)}
    return {}


@source_size.register
def _(instance: CNF) -> dict[str, float]:
    return {"n": instance.num_vars, "M": instance.num_clauses}


@source_size.register
def _(instance: OVInstance) -> dict[str, float]:
    return {"N_a": instance.N_a, "N_b": instance.N_b, "m": instance.m}


@source_size.register
def _(instance: KOVInstance) -> dict[str, float]:
    return {**{f"N_{t + 1}": N for t, N in enumerate(instance.sizes)}, "m": instance.m}


@source_size.register(GapInstance)
@source_size.register(HammingGapInstance)
@source_size.register(Gap3Instance)
def _(instance) -> dict[str, float]:
    sets = [instance.A, instance.B] + ([instance.C] if isinstance(instance, Gap3Instance) else [])
    return {**{f"N_{'abc'[t]}": X.shape[0] for t, X in enumerate(sets)}, "m": instance.m}


# ---------------------------------------------------------------------------- outcomes
@dataclass
class Failure:
    """One failing direction and the (smallest found) instance on which it fails."""

    direction: str
    instance: object
    detail: str


def _size_text(sizes: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in sizes.items())


class ReductionError(AssertionError):
    """A reduction failed a direction; carries the smallest counterexample found.

    Attributes
    ----------
    reduction : name of the reduction checked.
    direction : the failing direction (a key of :data:`DIRECTIONS`).
    instance : the counterexample (shrunk by hypothesis when the instances were a strategy).
    detail : what went wrong on it.
    failures : every failing direction found, each a :class:`Failure` (the first is the one above).
    tried : instances run (with hypothesis: generation and shrinking together).
    shrunk : whether hypothesis shrank the counterexample.
    """

    def __init__(self, reduction: str, failures: list[Failure], tried: int, shrunk: bool) -> None:
        self.reduction, self.failures, self.tried, self.shrunk = reduction, failures, tried, shrunk
        first = failures[0]
        self.direction, self.instance, self.detail = first.direction, first.instance, first.detail
        how = (f"smallest counterexample (shrunk by hypothesis, {tried} instances tried" if shrunk
               else f"first failing instance ({tried} instances tried")
        sizes = _size_text(source_size(first.instance))
        lines = [f'{reduction} fails "{first.direction}" ({DIRECTIONS[first.direction]}):', f"  {first.detail}",
                 f"{how}{'; ' + sizes if sizes else ''}):", format_instance(first.instance)]
        for other in failures[1:]:
            lines += [f'also fails "{other.direction}": {other.detail}', "on", format_instance(other.instance)]
        super().__init__("\n".join(lines))


@dataclass
class ReductionReport:
    """What a successful check ran.

    Attributes
    ----------
    reduction, mode : the reduction's name; ``"decision"``, ``"family"`` or ``"value"``.
    tried : instances checked; ``yes``, ``no``: how many were yes / no instances
        (value mode: how many values were true / false when they are booleans).
    largest_source, largest_target : the largest size of each kind seen
        (source: :func:`source_size`; target: the ``sizes`` callable's).
    seconds : wall time; notes : caveats (e.g. certificates that were not verified).
    """

    reduction: str
    mode: str
    tried: int = 0
    yes: int = 0
    no: int = 0
    largest_source: dict[str, float] = field(default_factory=dict)
    largest_target: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def record(self, source, target_sizes: Mapping[str, float] | None, yes: bool | None) -> None:
        if yes is not None:
            self.yes, self.no = self.yes + bool(yes), self.no + (not yes)
        for store, sizes in ((self.largest_source, source_size(source)), (self.largest_target, target_sizes or {})):
            for k, v in sizes.items():
                if isinstance(v, (int, float, np.integer, np.floating)):
                    store[k] = max(store.get(k, v), v)

    def __str__(self) -> str:
        split = f" ({self.yes} yes, {self.no} no)" if self.yes or self.no else ""
        text = f"{self.reduction}: {self.tried} instances{split} passed every direction in {self.seconds:.2f} s"
        if self.largest_source:
            text += f"; largest source {_size_text(self.largest_source)}"
        if self.largest_target:
            text += f"; largest target {_size_text(self.largest_target)}"
        return text + "".join(f"\n  note: {n}" for n in self.notes)
