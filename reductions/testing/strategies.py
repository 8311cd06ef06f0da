"""Hypothesis strategies for the project's instances, and hostile inputs for fuzzing: the one shared module.

Instance strategies (this file) are built from hypothesis primitives --
integers, booleans, lists -- never from a numpy seed, so that hypothesis can
shrink a failing instance to a small one (fewer variables, clauses, vectors,
coordinates).  Every ``yes``/``no`` instance is *planted*: its answer holds by
construction, not by luck of a random draw.

==========================  ===================================================
k-CNF formulas              :func:`cnfs` (``kind`` = random, satisfiable,
                            unsatisfiable, edge, any)
DIMACS text                 :func:`dimacs_texts`, :func:`malformed_dimacs`,
                            :func:`dimacs_cases` (from :mod:`._dimacs_text`)
OV / k-OV                   :func:`ov_instances`, :func:`kov_instances`
gap problems                :func:`gap_instances` (max-IP, Hamming, tensor;
                            both sides of the promise)
attention inputs            :func:`attention_inputs`,
                            :func:`tensor_attention_inputs` (entries ``<= B``)
hostile arrays, parameters  :func:`hostile_arrays`, :func:`scaled_arrays`,
                            :func:`array_shapes`,
                            :func:`dtypes`, :func:`hostile_floats`,
                            :func:`magnitudes`, :func:`eps_values`,
                            :func:`bounds`, :func:`block_sizes`,
                            :func:`seeds`, :func:`labelled` (from :mod:`._hostile`)
==========================  ===================================================

:func:`example` draws one value reproducibly (for docstrings and notebooks;
tests should use ``@given`` or :func:`~reductions.testing.check_reduction`).
"""

from __future__ import annotations

import numpy as np

from reductions.testing._require import TESTING_EXTRA

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - the testing extra is missing
    raise ImportError(TESTING_EXTRA) from exc

from reductions.cnf import CNF
from reductions.gap import Gap3Instance, GapInstance, HammingGapInstance
from reductions.ov import KOVInstance, OVInstance
from reductions.testing._dimacs_text import DimacsCase, dimacs_cases, dimacs_texts, malformed_dimacs
from reductions.testing._hostile import (
    SCALES,
    VIEWS,
    array_shapes,
    block_sizes,
    bounds,
    dtypes,
    eps_values,
    example,
    hostile_arrays,
    hostile_floats,
    labelled,
    magnitudes,
    scaled_arrays,
    seeds,
)

__all__ = [
    "cnfs",
    "DimacsCase",
    "dimacs_texts",
    "malformed_dimacs",
    "dimacs_cases",
    "ov_instances",
    "kov_instances",
    "gap_instances",
    "attention_inputs",
    "tensor_attention_inputs",
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
    "example",
]

CNF_KINDS = ("random", "satisfiable", "unsatisfiable", "edge", "any")


# ---------------------------------------------------------------------------- k-CNF formulas
def _clause(draw, n: int, k: int | None, max_len: int) -> tuple[int, ...]:
    size = k if k is not None else draw(st.integers(1, min(n, max_len)))
    variables = draw(st.lists(st.integers(1, n), min_size=size, max_size=size, unique=True))
    return tuple(v if draw(st.booleans()) else -v for v in variables)


def _clauses(draw, n: int, k: int | None, count: tuple[int, int], max_len: int) -> list[tuple[int, ...]]:
    size = draw(st.integers(*count))
    return [_clause(draw, n, k, max_len) for _ in range(size)]


@st.composite
def _cnf(draw, kind: str, min_vars: int, max_vars: int, min_clauses: int, max_clauses: int, k: int | None) -> CNF:
    if kind == "any":
        kind = draw(st.sampled_from(CNF_KINDS[:-1]))
    n = draw(st.integers(max(min_vars, k or 1), max_vars))
    if kind == "unsatisfiable":  # all 2^w sign patterns on w core variables exclude every assignment
        w = k if k is not None else draw(st.integers(1, min(n, 3, max_clauses.bit_length() - 1)))
        core_vars = draw(st.lists(st.integers(1, n), min_size=w, max_size=w, unique=True))
        core = [tuple(v if (p >> b) & 1 else -v for b, v in enumerate(core_vars)) for p in range(2**w)]
        extra = _clauses(draw, n, k, (max(0, min_clauses - len(core)), max_clauses - len(core)), 3)
        clauses = draw(st.permutations(core + extra))
        return CNF(n, tuple(clauses))
    used = draw(st.integers(k or 1, n)) if kind == "edge" else n  # edge: variables above `used` occur nowhere
    clauses = _clauses(draw, used, k, (min_clauses, max_clauses), 3)
    if kind == "satisfiable":  # flip one literal of each clause the hidden assignment falsifies
        hidden = [None] + [draw(st.booleans()) for _ in range(n)]
        for c, clause in enumerate(clauses):
            if not any(hidden[abs(lit)] == (lit > 0) for lit in clause):
                at = draw(st.integers(0, len(clause) - 1))
                clauses[c] = clause[:at] + (-clause[at],) + clause[at + 1 :]
    elif kind == "edge":
        for edit in draw(st.lists(st.sampled_from(["empty", "tautology", "duplicate"]), max_size=3)):
            v = draw(st.integers(1, used))
            if edit == "empty":
                clauses.insert(draw(st.integers(0, len(clauses))), ())
            elif edit == "tautology":
                clauses.insert(draw(st.integers(0, len(clauses))), (v, -v))
            elif edit == "duplicate" and clauses and clauses[-1]:
                clauses[-1] = clauses[-1] + (clauses[-1][0],)
        clauses = clauses[:max_clauses]
    return CNF(n, tuple(clauses))


def cnfs(*, max_vars: int = 6, max_clauses: int = 10, k: int | None = None, kind: str = "any",
         min_vars: int = 1, min_clauses: int = 0) -> st.SearchStrategy[CNF]:
    """k-CNF formulas: random, planted satisfiable, planted unsatisfiable, or edge cases.

    Parameters
    ----------
    max_vars, min_vars : bounds on ``n``.
    max_clauses, min_clauses : bounds on ``M``.
    k : literals per clause, all on distinct variables (``None``: 1 to 3).
    kind : ``"random"`` (uniform signs), ``"satisfiable"`` (one literal of every
        clause a hidden random assignment falsifies is negated, so it satisfies
        them all), ``"unsatisfiable"`` (all ``2^w`` sign patterns on ``w`` core
        variables -- ``w = k``, or 1 to 3 -- among random clauses, shuffled),
        ``"edge"`` (random clauses over variables ``1..u`` for a drawn ``u <= n``,
        so ``u+1..n`` are unused, plus up to three edits: an empty clause, a
        tautology ``(v, -v)``, a duplicated literal), ``"any"`` (one of these).

    Raises
    ------
    ValueError
        ``kind`` unknown, ``k`` above ``max_vars``, ``min_vars > max_vars``,
        or ``unsatisfiable`` with ``max_clauses < 2**k`` (``2**1`` when ``k`` is ``None``).

    Examples
    --------
    >>> from reductions.cnf import solve
    >>> f = example(cnfs(max_vars=4, k=3, kind="unsatisfiable"), seed=1)
    >>> f.num_vars >= 3, all(len(c) == 3 for c in f.clauses), solve(f)
    (True, True, None)
    >>> solve(example(cnfs(max_vars=5, kind="satisfiable"), seed=2)) is not None
    True
    """
    if kind not in CNF_KINDS:
        raise ValueError(f"kind must be one of {CNF_KINDS}, got {kind!r}")
    if not 1 <= min_vars <= max_vars:
        raise ValueError(f"need 1 <= min_vars <= max_vars, got min_vars={min_vars}, max_vars={max_vars}")
    if k is not None and not 1 <= k <= max_vars:
        raise ValueError(f"k must lie in 1..max_vars={max_vars}, got {k}")
    if not 0 <= min_clauses <= max_clauses:
        raise ValueError(f"need 0 <= min_clauses <= max_clauses, got {min_clauses}, {max_clauses}")
    if kind in ("unsatisfiable", "any") and max_clauses < 2 ** (k or 1):
        if kind == "unsatisfiable":
            raise ValueError(f"max_clauses must be >= 2**k = {2 ** (k or 1)} to plant a contradiction, "
                             f"got {max_clauses}")
        kinds = ("random", "satisfiable", "edge")
        return st.one_of(*(_cnf(kd, min_vars, max_vars, min_clauses, max_clauses, k) for kd in kinds))
    return _cnf(kind, min_vars, max_vars, min_clauses, max_clauses, k)


# ---------------------------------------------------------------------------- OV and k-OV
def _binary(draw, rows: int, m: int) -> np.ndarray:
    bits = draw(st.lists(st.booleans(), min_size=rows * m, max_size=rows * m))
    return np.array(bits, dtype=np.uint8).reshape(rows, m)


def _orthogonal_tuples(sets: list[np.ndarray]) -> np.ndarray:
    """Index tuples with no all-ones coordinate, as an ``(count, k)`` array."""
    letters = "abcdefgh"[: len(sets)]
    T = np.einsum(",".join(f"{c}z" for c in letters) + "->" + letters, *(X.astype(np.int64) for X in sets))
    return np.argwhere(T == 0)


@st.composite
def _kov_sets(draw, k: int, orthogonal: bool | None, min_n: int, max_n: int, min_m: int, max_m: int):
    if orthogonal is None:
        orthogonal = draw(st.booleans())
    m = draw(st.integers(max(min_m, 0 if orthogonal else 1), max_m))
    sets = [_binary(draw, draw(st.integers(min_n, max_n)), m) for _ in range(k)]
    if orthogonal:  # plant: on every coordinate one member of the tuple gets a 0
        t = [draw(st.integers(0, X.shape[0] - 1)) for X in sets]
        for c in range(m):
            if all(X[i, c] for X, i in zip(sets, t)):
                owner = draw(st.integers(0, k - 1))
                sets[owner][t[owner], c] = 0
    else:  # plant a no: give every orthogonal tuple a shared 1 (adding ones never creates one)
        while len(bad := _orthogonal_tuples(sets)):
            c = draw(st.integers(0, m - 1))
            for X, i in zip(sets, bad[0]):
                X[i, c] = 1
    return sets


def ov_instances(*, orthogonal: bool | None = None, min_n: int = 1, max_n: int = 4, min_m: int = 1,
                 max_m: int = 4) -> st.SearchStrategy[OVInstance]:
    """OV instances ``(A, B)`` of 0/1 rows, with or without a planted orthogonal pair.

    Parameters
    ----------
    orthogonal : ``True`` plants an orthogonal pair (a drawn pair, one of its
        two 1s zeroed on every shared coordinate); ``False`` plants a no
        instance (every orthogonal pair gets a shared coordinate set to 1;
        ``m >= 1``); ``None``: either.
    min_n, max_n : rows of ``A`` and of ``B`` (drawn separately).
    min_m, max_m : the dimension ``m`` (``m = 0`` only for yes instances).

    Examples
    --------
    >>> from reductions.ov import find_orthogonal_pair
    >>> inst = example(ov_instances(orthogonal=False, max_n=3), seed=0)
    >>> find_orthogonal_pair(inst.A, inst.B) is None, inst.m >= 1
    (True, True)
    """
    _check_range("n", min_n, max_n, 1)
    _check_range("m", min_m, max_m, 0)
    return _kov_sets(2, orthogonal, min_n, max_n, min_m, max_m).map(lambda s: OVInstance(*s))


def kov_instances(*, k: int = 3, orthogonal: bool | None = None, min_n: int = 1, max_n: int = 3, min_m: int = 1,
                  max_m: int = 4) -> st.SearchStrategy[KOVInstance]:
    """k-OV instances (``k`` sets of 0/1 rows), with or without a planted orthogonal tuple (as :func:`ov_instances`).

    Examples
    --------
    >>> from reductions.ov import find_orthogonal_tuple
    >>> inst = example(kov_instances(k=3, orthogonal=True), seed=0)
    >>> inst.k, find_orthogonal_tuple(inst.sets) is not None
    (3, True)
    """
    if k < 2:
        raise ValueError(f"k must be >= 2, got {k}")
    _check_range("n", min_n, max_n, 1)
    _check_range("m", min_m, max_m, 0)
    return _kov_sets(k, orthogonal, min_n, max_n, min_m, max_m).map(lambda s: KOVInstance(tuple(s)))


def _check_range(name: str, lo: int, hi: int, least: int) -> None:
    if not least <= lo <= hi:
        raise ValueError(f"need {least} <= min_{name} <= max_{name}, got {lo}, {hi}")


# ---------------------------------------------------------------------------- gap problems
GAP_FORMS = ("max-ip", "hamming", "tensor")


@st.composite
def _gap(draw, form: str, yes: bool | None, min_n: int, max_n: int, max_m: int):
    yes = draw(st.booleans()) if yes is None else yes
    m = draw(st.integers(1, max_m))
    sets = [_binary(draw, draw(st.integers(min_n, max_n)), m) for _ in range(3 if form == "tensor" else 2)]
    X = [S.astype(np.int64) for S in sets]
    if form == "hamming":
        h = int((X[0].sum(1)[:, None] + X[1].sum(1)[None, :] - 2 * X[0] @ X[1].T).min())
        if yes and h == m:  # make a close pair, so that t_near = h < t_far <= m is possible
            sets[1][0] = sets[0][0]
            h = 0
        if not yes and h == 0:  # column 0: all 1 in A, all 0 in B, so every distance is >= 1
            sets[0][:, 0], sets[1][:, 0] = 1, 0
            h = 1
        if yes:
            near = draw(st.integers(h, m - 1))
            return HammingGapInstance(*sets, near, draw(st.integers(near + 1, m)))
        far = draw(st.integers(1, h))
        return HammingGapInstance(*sets, draw(st.integers(0, far - 1)), far)
    spec = "il,jl->ij" if form == "max-ip" else "il,jl,kl->ijk"
    v = int(np.einsum(spec, *X).max())
    if yes and v == 0:  # one shared coordinate: the optimum is >= 1
        for S in sets:
            S[0, 0] = 1
        v = 1
    if not yes and v == m:  # empty column 0 of A: the optimum is <= m - 1
        sets[0][:, 0] = 0
        v = int(np.einsum(spec, *(S.astype(np.int64) for S in sets)).max())
    if yes:
        hi = draw(st.integers(1, v))
        lo = draw(st.integers(0, hi - 1))
    else:
        lo = draw(st.integers(v, m - 1))
        hi = draw(st.integers(lo + 1, m))
    return GapInstance(*sets, lo, hi) if form == "max-ip" else Gap3Instance(*sets, lo, hi)


def gap_instances(*, form: str = "max-ip", yes: bool | None = None, min_n: int = 1, max_n: int = 4,
                  max_m: int = 6) -> st.SearchStrategy[GapInstance | HammingGapInstance | Gap3Instance]:
    """Gap instances that keep their promise, on the side asked for, in one of three forms.

    The 0/1 rows are drawn first and the thresholds placed around the true
    optimum ``v``: yes has ``t_hi <= v`` (Hamming: ``t_near >= v``), no has
    ``t_lo >= v`` (Hamming: ``t_far <= v``), so the promise holds by
    construction.  (When the draw leaves no room, one row or column is edited
    first: e.g. a no-side max-IP instance with ``v = m`` gets an empty column.)

    Parameters
    ----------
    form : ``"max-ip"`` (:class:`~reductions.gap.GapInstance`), ``"hamming"``
        (:class:`~reductions.gap.HammingGapInstance`) or ``"tensor"``
        (:class:`~reductions.gap.Gap3Instance`).
    yes : the side of the promise (``None``: either).
    min_n, max_n : rows per set; ``max_m``: the dimension.

    Examples
    --------
    >>> from reductions.gap import gap_answer
    >>> [gap_answer(example(gap_instances(form=f, yes=False), seed=3)) for f in ("max-ip", "hamming", "tensor")]
    [False, False, False]
    """
    if form not in GAP_FORMS:
        raise ValueError(f"form must be one of {GAP_FORMS}, got {form!r}")
    _check_range("n", min_n, max_n, 1)
    if max_m < 1:
        raise ValueError(f"max_m must be >= 1, got {max_m}")
    return _gap(form, yes, min_n, max_n, max_m)


# ---------------------------------------------------------------------------- attention inputs
def _matrix(draw, rows: int, cols: int, bound: float) -> np.ndarray:
    values = draw(st.lists(st.floats(-bound, bound, allow_nan=False, allow_infinity=False, allow_subnormal=False),
                           min_size=rows * cols, max_size=rows * cols))
    return np.array(values, dtype=np.float64).reshape(rows, cols)


def _check_bound(bound: float) -> float:
    if not (isinstance(bound, (int, float)) and 0 < bound < float("inf")):
        raise ValueError(f"bound must be a positive finite number, got {bound!r}")
    return float(bound)


@st.composite
def _attention(draw, tensor: bool, max_n: int, max_d: int, max_dv: int, bound: float, value_bound: float):
    n, d, d_v = draw(st.integers(1, max_n)), draw(st.integers(1, max_d)), draw(st.integers(1, max_dv))
    Q = _matrix(draw, n, d, bound)
    if not tensor:
        m = draw(st.integers(1, max_n))
        return Q, _matrix(draw, m, d, bound), _matrix(draw, m, d_v, value_bound)
    n1, n2 = draw(st.integers(1, max_n)), draw(st.integers(1, max_n))
    return (Q, _matrix(draw, n1, d, bound), _matrix(draw, n2, d, bound),
            _matrix(draw, n1, d_v, value_bound), _matrix(draw, n2, d_v, value_bound))


def attention_inputs(*, max_n: int = 6, max_d: int = 4, max_dv: int = 3, bound: float = 2.0,
                     value_bound: float = 1.0) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(Q, K, V)`` with ``n`` queries, ``m`` keys (each ``1..max_n``) and ``max|Q|, max|K| <= bound``.

    ``V`` (``m x d_v``) has entries in ``[-value_bound, value_bound]``.

    Examples
    --------
    >>> Q, K, V = example(attention_inputs(bound=0.5), seed=0)
    >>> Q.shape[1] == K.shape[1], K.shape[0] == V.shape[0], float(max(abs(Q).max(), abs(K).max())) <= 0.5
    (True, True, True)
    """
    return _attention(False, max_n, max_d, max_dv, _check_bound(bound), _check_bound(value_bound))


def tensor_attention_inputs(*, max_n: int = 4, max_d: int = 3, max_dv: int = 2, bound: float = 1.5,
                            value_bound: float = 1.0) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """``(Q, K1, K2, V1, V2)`` for tensor attention, entries of ``Q, K1, K2`` bounded by ``bound``.

    Examples
    --------
    >>> Q, K1, K2, V1, V2 = example(tensor_attention_inputs(), seed=0)
    >>> K1.shape[0] == V1.shape[0], K2.shape[0] == V2.shape[0], V1.shape[1] == V2.shape[1]
    (True, True, True)
    """
    return _attention(True, max_n, max_d, max_dv, _check_bound(bound), _check_bound(value_bound))
