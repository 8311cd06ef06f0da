"""What the fuzz suite calls: one :class:`Target` per public entry point, and the case generator.

A target pairs a hypothesis strategy of *cases* (a dict of keyword values,
picklable, with a ``"mode"`` label saying how hostile it is) with ``run`` (the
call into the library) and ``check`` (the oracle: ``None`` when the returned
value is right, else a one-line reason).  ``params`` lists the names an error
message may name for the error to count as *clear*; ``must_answer(case)``,
where given, says that the case is valid input the function has to answer
(only a budget refusal is then an acceptable error).  ``infinite_ok``: the
answer may hold an infinity, which the oracle accepts only where the true
answer's magnitude is above float64's range (products of huge values in
tensor and poly-attention, gradients); NaN is never accepted.

Cases come from :func:`draw_cases`: deterministic in ``(target, seed, index)``
(hypothesis runs in blocks of :data:`CHUNK` seeded examples), so a defect is
replayed by ``python -m tests.fuzz --replay TARGET:SEED:INDEX``.

The strategies are those of :mod:`reductions.testing.strategies`, the one
shared strategies module.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st

from reductions.testing.strategies import (
    array_shapes,
    bounds,
    eps_values,
    hostile_arrays,
    labelled,
    scaled_arrays,
)

__all__ = ["Target", "CHUNK", "KNOWN_DEFECTS", "MODES", "targets", "draw_cases", "operands", "eps_param", "bound_param",
           "finite_leaves"]

CHUNK = 50

#: Defects the suite finds that are not fixed yet, by target: printed with every summary (and still counted).
KNOWN_DEFECTS: dict[str, str] = {}
#: How hostile a case is: valid moderate input, valid input at extreme magnitudes, other dtypes and layouts,
#: one operand replaced by anything, one operand of a wrong shape, parameters outside their contract.
MODES = ("valid", "magnitude", "dtype", "hostile", "shape", "params")
_REAL_DTYPES = ("float64", "float32", "float16", "int64", "int32", "uint8", "bool")


@dataclass(frozen=True)
class Target:
    """One public entry point under fuzzing (see the module docstring)."""

    name: str
    cases: st.SearchStrategy
    run: Callable[[dict], object]
    check: Callable[[dict, object], str | None]
    params: tuple[str, ...]
    weight: float = 1.0
    oserror: bool = False
    must_answer: Callable[[dict], bool] | None = None
    infinite_ok: bool = False


@st.composite
def operands(draw, shapes: dict[str, tuple[int, ...]], mode: str, scale: float = 1.0) -> dict:
    """Arrays named by ``shapes``, made hostile as ``mode`` says (see :data:`MODES`)."""
    scales = (scale, scale / 2)
    out = {}
    for name, shape in shapes.items():
        if mode == "magnitude":
            out[name] = draw(scaled_arrays(shape))
        elif mode == "dtype":
            out[name] = draw(scaled_arrays(shape, scales=(scale, 1.0, 3.0, 1e3), names=_REAL_DTYPES))
        else:
            out[name] = draw(scaled_arrays(shape, scales=scales, views=("contiguous",) * 4 + ("strided", "list")))
    if mode in ("hostile", "shape"):
        victim = draw(st.sampled_from(sorted(shapes)))
        if mode == "hostile":
            out[victim] = draw(hostile_arrays(shapes=st.just(shapes[victim]) | array_shapes()))
        else:
            out[victim] = draw(scaled_arrays(draw(array_shapes(max_side=5)), scales=(1.0,)))
    return out


def eps_param(mode: str, valid=st.sampled_from([1e-2, 1e-4, 1e-6, 1e-8])) -> st.SearchStrategy:
    """``eps``: in the ``params`` mode anything (:func:`eps_values` of both sides), else a usual value."""
    return labelled(eps_values).map(lambda t: t[0]) if mode == "params" else valid


def bound_param(mode: str) -> st.SearchStrategy:
    """``bound``: ``None`` (measured) or a drawn one; in the ``params`` mode also invalid ones."""
    if mode == "params":
        return st.one_of(st.none(), labelled(bounds).map(lambda t: t[0]))
    return st.one_of(st.none(), st.sampled_from([0.5, 1.0, 2.0, 4.0]))


def finite_leaves(value, infinite_ok: bool = False) -> bool:
    """Whether every float in ``value`` (arrays, numbers, tuples, lists, dicts, objects with ``output``) is finite
    (with ``infinite_ok``: is not NaN)."""
    bad = np.isnan if infinite_ok else (lambda x: ~np.isfinite(x))
    if isinstance(value, np.ndarray):
        return value.dtype.kind not in "fc" or not bool(np.any(bad(value)))
    if isinstance(value, (float, np.floating)):
        return not bool(bad(value))
    if isinstance(value, (tuple, list)):
        return all(finite_leaves(v, infinite_ok) for v in value)
    if isinstance(value, dict):
        return all(finite_leaves(v, infinite_ok) for v in value.values())
    if hasattr(value, "output") and hasattr(value, "error_bound"):
        return finite_leaves(value.output, infinite_ok) and finite_leaves(value.error_bound, infinite_ok)
    return True


@functools.cache
def targets() -> dict[str, Target]:
    """``name -> Target`` for every target (built on first use: building it imports the library)."""
    from tests.fuzz import matrix_targets, mechanism_targets, reduction_targets

    found = [*matrix_targets.TARGETS, *mechanism_targets.TARGETS, *reduction_targets.TARGETS]
    return {t.name: t for t in found}


def _chunk_seed(name: str, seed: int, chunk: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{name}:{seed}:{chunk}".encode()).digest()[:8], "little")


@contextlib.contextmanager
def _no_local_constants():
    """Switch off hypothesis' constants harvested from the project's loaded modules, while cases are drawn.

    Hypothesis mixes literals found in every loaded local module into its draws; which
    modules a long-lived worker has loaded depends on the cases it ran before, so the
    same ``(target, seed, index)`` would draw different cases in different runs (and
    ``--replay`` would not reproduce).  Private API: if it moves, nothing is patched.
    """
    try:
        from hypothesis.internal.conjecture import providers

        empty = type(providers._local_constants)()
        saved = providers._get_local_constants
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - another hypothesis version
        yield
        return
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()


def _chunk(name: str, seed: int, chunk: int) -> list[dict]:
    """The :data:`CHUNK` cases of block ``chunk`` of ``name`` under ``seed`` (fewer if hypothesis runs out)."""
    out: list[dict] = []

    @settings(max_examples=CHUNK, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=False)
    @hseed(_chunk_seed(name, seed, chunk))
    @given(targets()[name].cases)
    def collect(case):
        out.append(case)

    with _no_local_constants():
        collect()
    return out


def draw_cases(name: str, seed: int, start: int, stop: int) -> list[tuple[int, dict]]:
    """Cases ``start..stop-1`` of target ``name`` under ``seed``, as ``(index, case)`` pairs."""
    cases = []
    for chunk in range(start // CHUNK, (stop - 1) // CHUNK + 1 if stop > start else start // CHUNK):
        block = _chunk(name, seed, chunk)
        for i in range(max(start, chunk * CHUNK), min(stop, (chunk + 1) * CHUNK)):
            cases.append((i, block[(i - chunk * CHUNK) % len(block)]))
    return cases
