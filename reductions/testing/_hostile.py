"""Hostile arrays and parameters for fuzzing the public API (re-exported by :mod:`reductions.testing.strategies`).

What a hostile caller hands a numerical routine: shapes that are empty, 0-d,
1-d or 3-d; dtypes that are integer, boolean, complex or ``object``; NaN and
infinities; magnitudes from ``1e-300`` to ``1e300``; non-contiguous, reversed,
broadcast (zero-stride) or read-only views; plain lists.  And parameters
(``eps``, ``bound``, block sizes, seeds) on both sides of their contract:
``valid=True`` draws values the contract accepts, ``valid=False`` values it
must refuse with a ``ValueError`` or ``TypeError``; :func:`labelled` mixes
the two and says which is which.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from reductions.testing._require import TESTING_EXTRA

try:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as _seed
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - the testing extra is missing
    raise ImportError(TESTING_EXTRA) from exc

__all__ = [
    "example",
    "array_shapes",
    "dtypes",
    "hostile_floats",
    "magnitudes",
    "hostile_arrays",
    "scaled_arrays",
    "VIEWS",
    "SCALES",
    "eps_values",
    "bounds",
    "block_sizes",
    "seeds",
    "labelled",
]

SPECIAL_FLOATS = (0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-154, 1e-8, 1.0, 1e8, 1e154, 1e200, 1e300,
                  1.7976931348623157e308, math.inf, -math.inf, math.nan)
DTYPES = ("float64", "float32", "float16", "int64", "int32", "uint8", "bool", "complex128", "object")
SCALES = (1.0, 5e-324, 1e-300, 1e-150, 1e-8, 1e3, 1e150, 1e300)
VIEWS = ("contiguous", "fortran", "strided", "reversed", "transposed", "broadcast", "readonly", "list")


def example(strategy: st.SearchStrategy, seed: int = 0, *, draws: int = 5):
    """One value of ``strategy``, reproducible for a given ``seed`` and hypothesis version.

    For docstrings and notebooks; in tests use ``@given`` (or
    :func:`~reductions.testing.check_reduction`), which shrinks failures.
    The value is the last of ``draws`` generated ones (the first is often the
    simplest possible value).

    Examples
    --------
    >>> example(st.integers(0, 9), seed=3) in range(10)
    True
    """
    out = []

    @settings(max_examples=draws, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @_seed(seed)
    @given(strategy)
    def draw(value):
        out.append(value)

    draw()
    return out[-1]


def array_shapes(*, min_dims: int = 0, max_dims: int = 3, min_side: int = 0,
                 max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Shapes with ``min_dims..max_dims`` axes of ``min_side..max_side``: 0-d ``()``, empty ``(0, 3)``, 1-d, 3-d.

    Examples
    --------
    >>> s = example(array_shapes(min_dims=3), seed=0)
    >>> len(s), all(0 <= side <= 4 for side in s)
    (3, True)
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def dtypes(*, names: tuple[str, ...] = DTYPES) -> st.SearchStrategy[np.dtype]:
    """NumPy dtypes a routine may be handed: float64/32/16, int64/32, uint8, bool, complex128, object.

    Examples
    --------
    >>> example(dtypes(names=("complex128",)))
    dtype('complex128')
    """
    return st.sampled_from([np.dtype(n) for n in names])


def magnitudes(*, lo: float = 1e-300, hi: float = 1e300, signed: bool = True) -> st.SearchStrategy[float]:
    """Finite floats whose absolute value is log-uniform in ``[lo, hi]`` (both signs if ``signed``).

    Examples
    --------
    >>> x = example(magnitudes(lo=1e-300, hi=1e-200), seed=1)
    >>> 1e-300 <= abs(x) <= 1e-200
    True
    """
    if not 0 < lo <= hi < math.inf:
        raise ValueError(f"need 0 < lo <= hi < inf, got lo={lo!r}, hi={hi!r}")
    exponent = st.floats(math.log10(lo), math.log10(hi))
    value = exponent.map(lambda e: min(max(10.0**e, lo), hi))
    if not signed:
        return value
    return st.tuples(value, st.booleans()).map(lambda t: -t[0] if t[1] else t[0])


def hostile_floats() -> st.SearchStrategy[float]:
    """Any float64: the special values (``±0``, subnormals, ``1e±300``, the largest float, ``±inf``, NaN),
    log-uniform magnitudes, and hypothesis' own float draws.

    Examples
    --------
    >>> isinstance(example(hostile_floats(), seed=2), float)
    True
    """
    return st.one_of(st.sampled_from(SPECIAL_FLOATS), magnitudes(), st.floats(width=64))


def _elements(dtype: np.dtype) -> st.SearchStrategy:
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return st.one_of(st.sampled_from([0, 1, int(info.min), int(info.max)]), st.integers(int(info.min),
                                                                                            int(info.max)))
    if dtype.kind == "c":
        return st.builds(complex, hostile_floats(), hostile_floats())
    if dtype.kind == "O":
        return st.one_of(hostile_floats(), st.integers(-(2**70), 2**70), st.none(), st.text(max_size=3),
                         st.builds(complex, st.floats(-2, 2), st.floats(-2, 2)))
    return hostile_floats()


def _fill(values: list, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if dtype.kind == "O":
        A = np.empty(len(values), dtype=object)
        A[:] = values
        return A.reshape(shape)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.array(values, dtype=dtype).reshape(shape)


def _view(A: np.ndarray, how: str):
    if how == "fortran":
        return np.asfortranarray(A)
    if how == "strided":  # every other row of a twice-as-long array: a non-contiguous view
        if A.ndim == 0:
            return A
        big = np.repeat(A, 2, axis=0)
        return big[::2]
    if how == "reversed":
        return A if A.ndim == 0 else A[::-1].copy()[::-1]
    if how == "transposed":
        return np.ascontiguousarray(A.T).T
    if how == "broadcast":
        return np.broadcast_to(A, A.shape)
    if how == "readonly":
        B = A.copy()
        B.flags.writeable = False
        return B
    if how == "list":
        return A.tolist()
    return np.ascontiguousarray(A)


@st.composite
def hostile_arrays(draw, *, shapes: st.SearchStrategy | None = None, dtype: st.SearchStrategy | None = None,
                   elements: Callable[[np.dtype], st.SearchStrategy] | None = None,
                   views: tuple[str, ...] = VIEWS):
    """Arrays (or lists) of any shape, dtype, values and memory layout; the same values in every layout.

    Parameters
    ----------
    shapes : strategy for the shape (default :func:`array_shapes`).
    dtype : strategy for the dtype (default :func:`dtypes`).
    elements : ``dtype -> strategy`` for the entries (default: hostile floats,
        integer extremes, complex, and for ``object`` a mix of floats, big
        ints, ``None``, short strings).
    views : layouts to draw from: ``contiguous``, ``fortran``, ``strided``
        (``A[::2]`` of a doubled array), ``reversed`` (``[::-1]`` twice),
        ``transposed`` (``.T`` of a C array), ``broadcast`` (zero strides,
        read-only), ``readonly``, ``list`` (``.tolist()``).

    Examples
    --------
    >>> A = example(hostile_arrays(shapes=st.just((2, 3)), dtype=st.just(np.dtype("float64")),
    ...                            views=("strided",)), seed=0)
    >>> A.shape, A.flags.c_contiguous
    ((2, 3), False)
    """
    shape = draw(shapes if shapes is not None else array_shapes())
    dt = draw(dtype if dtype is not None else dtypes())
    size = int(np.prod(shape, dtype=np.int64))
    values = draw(st.lists((elements or _elements)(dt), min_size=size, max_size=size))
    return _view(_fill(values, shape, dt), draw(st.sampled_from(views)))


def _scaled_elements(dt: np.dtype, scale: float) -> st.SearchStrategy:
    if dt.kind == "b":
        return st.booleans()
    if dt.kind in "iu":
        info = np.iinfo(dt)
        top = int(min(scale, info.max))
        return st.integers(max(-top, int(info.min)), top)
    width = 8 * dt.itemsize
    return st.floats(-1.0, 1.0, width=width).map(lambda x: float(x) * scale)


@st.composite
def scaled_arrays(draw, shape: tuple[int, ...], *, scales: tuple[float, ...] = SCALES,
                  names: tuple[str, ...] = ("float64",), views: tuple[str, ...] = VIEWS):
    """Arrays of a given ``shape`` whose entries are uniform in ``[-1, 1]`` times one drawn scale.

    The values are finite in float64 (``x * scale`` with ``|x| <= 1``); a
    float32 or float16 dtype rounds them and may overflow them to infinity,
    integer dtypes draw integers in ``[-scale, scale]`` (clipped to the dtype),
    ``bool`` draws booleans.  Then one layout of ``views`` as :func:`hostile_arrays`.

    Parameters
    ----------
    shape : the shape.
    scales : the magnitudes to draw from (default :data:`SCALES`: 1, the
        smallest subnormal, ``1e-300``, ``1e-150``, ``1e-8``, ``1e3``, ``1e150``, ``1e300``).
    names : dtype names to draw from.
    views : layouts to draw from.

    Examples
    --------
    >>> A = example(scaled_arrays((2, 3), scales=(1e300,), views=("reversed",)), seed=0)
    >>> A.shape, bool(np.all(np.abs(A) <= 1e300))
    ((2, 3), True)
    """
    scale = draw(st.sampled_from(scales))
    dt = np.dtype(draw(st.sampled_from(names)))
    size = int(np.prod(shape, dtype=np.int64))
    values = draw(st.lists(_scaled_elements(dt, scale), min_size=size, max_size=size))
    return _view(_fill(values, shape, dt), draw(st.sampled_from(views)))


# ---------------------------------------------------------------------------- parameters
_NOT_NUMBERS = ("0.5", b"1", [0.5], complex(0.5, 0))  # not real numbers (None and bools: per contract)


def eps_values(*, valid: bool = True) -> st.SearchStrategy:
    """``eps`` (an error tolerance): valid in ``(0, 1)``, from ``1e-300`` to just below 1.

    ``valid=False``: ``0``, ``1``, negatives, values above 1, NaN, ``±inf``,
    ``True``/``False``, and things that are not real numbers (``None``, ``"0.5"``, a list, a complex).

    Examples
    --------
    >>> 0 < example(eps_values(), seed=0) < 1
    True
    """
    if valid:
        return st.one_of(st.sampled_from([1e-300, 1e-12, 1e-6, 0.5, 0.999999]), magnitudes(lo=1e-300, hi=0.5,
                                                                                            signed=False))
    return st.one_of(st.sampled_from([0, 0.0, 1, 1.0, -1e-9, 2.0, math.nan, math.inf, -math.inf, True, False, None,
                                      *_NOT_NUMBERS]),
                     st.floats(max_value=0.0), st.floats(min_value=1.0))


def bounds(*, valid: bool = True) -> st.SearchStrategy:
    """``bound`` (the promised max-norm ``B``): valid positive finite, ``1e-300`` to ``1e300``.

    ``valid=False``: ``0``, negatives, NaN, ``±inf`` and non-numbers.  Not
    drawn: ``None`` (it means "measure it") and ``True`` (which some callers read as 1).

    Examples
    --------
    >>> 0 < example(bounds(), seed=1) < math.inf
    True
    """
    if valid:
        return st.one_of(st.sampled_from([1e-300, 1e-154, 0.5, 1.0, 3.0, 1e154, 1e300]), magnitudes(signed=False))
    return st.one_of(st.sampled_from([0, 0.0, -1.0, math.nan, math.inf, -math.inf, *_NOT_NUMBERS]),
                     st.floats(max_value=0.0))


def block_sizes(*, valid: bool = True, max_value: int = 64) -> st.SearchStrategy:
    """Block sizes (rows per block, ``block``): valid integers ``1..max_value`` (also ``np.int64``).

    ``valid=False``: ``0``, negatives, floats (``1.5``, ``nan``, ``2.0``),
    ``True``, ``"4"``, a list.  ``None`` is not drawn: it usually means "the default".

    Examples
    --------
    >>> 1 <= int(example(block_sizes(), seed=0)) <= 64
    True
    """
    if valid:
        return st.one_of(st.integers(1, max_value), st.integers(1, max_value).map(np.int64))
    return st.one_of(st.sampled_from([0, -1, 1.5, 2.0, math.nan, math.inf, True, "4", b"4", [4]]),
                     st.integers(max_value=0))


def seeds(*, valid: bool = True) -> st.SearchStrategy:
    """Seeds for ``numpy.random.default_rng``: valid ``None`` or integers ``0..2**128``.

    ``valid=False``: negative integers, floats, NaN, strings.

    Examples
    --------
    >>> import numpy as np
    >>> s = example(seeds(), seed=0); np.random.default_rng(s) is not None
    True
    """
    if valid:
        return st.one_of(st.none(), st.integers(0, 2**128), st.sampled_from([0, 1, 2**32, 2**63 - 1]))
    return st.one_of(st.integers(max_value=-1), st.sampled_from([1.5, math.nan, -1.0, "0", "seed"]))


def labelled(make: Callable[..., st.SearchStrategy]) -> st.SearchStrategy[tuple[object, bool]]:
    """``(value, valid)`` pairs from ``make(valid=True)`` and ``make(valid=False)``: one draw, and its side.

    Examples
    --------
    >>> value, ok = example(labelled(eps_values), seed=4)
    >>> ok == (isinstance(value, float) and 0 < value < 1)
    True
    """
    return st.one_of(make(valid=True).map(lambda v: (v, True)), make(valid=False).map(lambda v: (v, False)))
