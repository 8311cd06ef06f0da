"""CNF formulas: the DIMACS format, random and planted k-CNFs, brute-force solving.

A k-CNF formula on variables ``1..n`` is a conjunction of clauses, each a
disjunction of literals; literal ``+v`` is "variable v is true", ``-v`` is
"variable v is false".  This is the source problem of every reduction in
:mod:`reductions`: the Strong Exponential Time Hypothesis (SETH) says that for
every ``delta > 0`` there is a ``k`` such that k-SAT on ``n`` variables has no
``O(2^{(1 - delta) n})`` algorithm (Impagliazzo & Paturi 2001).

The DIMACS CNF format (as used by the SAT competitions):

* lines starting with ``c`` are comments, blank lines are ignored;
* one header ``p cnf V C`` (``V`` variables, ``C`` clauses) before any clause;
* clauses are whitespace-separated non-zero integers ``-V..V`` ended by ``0``;
  a clause may span several lines and a line may hold several clauses;
* a line ``%`` ends the formula (SATLIB files close with ``%`` and ``0``).

Anything else is malformed and :func:`read_dimacs` raises :class:`DimacsError`
(a ``ValueError``) naming the line.

References
----------
.. [1] DIMACS challenge, "Satisfiability: suggested format" (1993).
.. [2] R. Impagliazzo, R. Paturi. On the complexity of k-SAT. JCSS 62(2), 2001.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from algorithms._checks import check_integer
from algorithms._random import RandomLike, as_generator
from algorithms.budget import brute_force_sat_cost, check_budget, progress, random_instance_cost
from reductions.dimacs import MAX_INDEX, DimacsError, format_dimacs, parse_dimacs, read_text

__all__ = [
    "CNF",
    "DimacsError",
    "read_dimacs",
    "write_dimacs",
    "random_kcnf",
    "planted_kcnf",
    "unsatisfiable_kcnf",
    "models_mask",
    "solve",
    "count_models",
]

Assignment = dict[int, bool]


@dataclass(frozen=True)
class CNF:
    """A CNF formula: ``num_vars`` variables and a tuple of clauses.

    Parameters
    ----------
    num_vars : int
        ``n``; variables are ``1..n``.
    clauses : sequence of sequences of int
        Each clause a tuple of non-zero literals with ``|literal| <= n``.
        An empty clause is allowed (it makes the formula unsatisfiable).

    Raises
    ------
    ValueError
        If ``num_vars`` is not an integer in ``0..2^31 - 1`` (the variable
        range of DIMACS solvers), ``clauses`` or one of its clauses is not a
        sequence (a string included), or a literal is zero, not an integer, or
        names a variable above ``num_vars``.

    Examples
    --------
    >>> f = CNF(3, [(1, -2), (2, 3)])
    >>> f.num_clauses, f.satisfies({1: True, 2: False, 3: True})
    (2, True)
    """

    num_vars: int
    clauses: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if isinstance(self.num_vars, bool) or not isinstance(self.num_vars, (int, np.integer)):
            raise ValueError(f"num_vars must be an integer, got {self.num_vars!r}")
        if self.num_vars < 0:
            raise ValueError(f"num_vars must be >= 0, got {self.num_vars}")
        if self.num_vars > MAX_INDEX:
            raise ValueError(f"num_vars must be at most 2^31 - 1 = {MAX_INDEX} (as in DIMACS), got {self.num_vars}")
        clauses = []
        if isinstance(self.clauses, (str, bytes)) or not isinstance(self.clauses, Iterable):
            raise ValueError(f"clauses must be a sequence of clauses (sequences of literals), got {self.clauses!r:.60}")
        for c, clause in enumerate(self.clauses):
            if isinstance(clause, (str, bytes)) or not isinstance(clause, Iterable):
                raise ValueError(f"clauses[{c}] must be a sequence of literals, got {clause!r:.60}")
            lits = []
            for lit in clause:
                if isinstance(lit, bool) or not isinstance(lit, (int, np.integer)):
                    raise ValueError(f"clauses[{c}] holds a non-integer literal {lit!r}")
                if lit == 0 or abs(lit) > self.num_vars:
                    raise ValueError(
                        f"clauses[{c}] holds literal {lit}; expected a non-zero integer "
                        f"with |literal| <= num_vars = {self.num_vars}"
                    )
                lits.append(int(lit))
            clauses.append(tuple(lits))
        object.__setattr__(self, "num_vars", int(self.num_vars))
        object.__setattr__(self, "clauses", tuple(clauses))

    @property
    def num_clauses(self) -> int:
        """``M``, the number of clauses."""
        return len(self.clauses)

    def satisfies(self, assignment: Mapping[int, bool]) -> bool:
        """Whether ``assignment`` (a dict ``{variable: bool}`` covering every variable) satisfies the formula.

        Raises
        ------
        ValueError
            If a variable of the formula is missing from ``assignment``.
        """
        missing = [v for v in range(1, self.num_vars + 1) if v not in assignment]
        if missing:
            raise ValueError(f"assignment misses variable(s) {missing[:5]}")
        return all(any(assignment[abs(lit)] == (lit > 0) for lit in clause) for clause in self.clauses)

    def __repr__(self) -> str:
        """The sizes and the first three clauses (a formula with thousands of clauses stays one line)."""
        widths = sorted({len(c) for c in self.clauses})
        width = "" if not widths else f" of width {widths[0]}" if len(widths) == 1 else f" of widths {widths[0]}..{widths[-1]}"
        shown = ", ".join(str(c) if len(c) != 1 else f"({c[0]},)" for c in self.clauses[:3])
        more = ", ..." if self.num_clauses > 3 else ""
        return f"CNF(num_vars={self.num_vars}, {self.num_clauses} clauses{width}: {shown}{more})"


def read_dimacs(text_or_path: str | os.PathLike) -> CNF:
    """Parse a DIMACS CNF formula from a string or a file.

    Parameters
    ----------
    text_or_path : str or path-like
        The DIMACS text, or a path to a file holding it.  A ``str`` is text if
        it contains a line break or starts (after whitespace) with ``c`` or
        ``p`` and a space, or is blank; any other ``str`` is a path
        (:mod:`reductions.dimacs`).

    Returns
    -------
    CNF

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        (``OSError``) a path that names no file, or a directory; the message
        names the path.
    ValueError
        ``text_or_path`` neither a ``str`` nor a path.
    DimacsError
        (a ``ValueError``) naming the line of the fault (and the file): a
        missing, repeated or malformed ``p cnf V C`` header (``V``, ``C`` ASCII
        digits, at most ``2^31 - 1``), a token that is not ASCII ``[-]digits``
        (``1_0``, ``+1`` and non-ASCII digits included), a literal with
        ``|literal| > V``, a last clause without its final ``0``, a clause
        count different from ``C`` (reported at the header's line), or a file
        that is not UTF-8 text.

    Examples
    --------
    >>> f = read_dimacs("c example\\np cnf 3 2\\n1 -2 0\\n2\\n 3 0\\n")
    >>> f.num_vars, f.clauses
    (3, ((1, -2), (2, 3)))
    >>> try:
    ...     read_dimacs("p cnf 2 1\\n1 5 0\\n")
    ... except DimacsError as err:
    ...     print(err.line, err)
    2 DIMACS line 2: literal 5 out of range; variables are 1..2

    Notes
    -----
    One pass over the tokens, ``O(size of the text)``.
    """
    text, source = read_text(text_or_path)
    return CNF(*parse_dimacs(text, source))


def write_dimacs(cnf: CNF, comments: str | Sequence[str] = ()) -> str:
    """The DIMACS text of ``cnf``: comment lines, the header, one clause per line.

    Parameters
    ----------
    cnf : CNF
    comments : str or sequence of str
        Each comment becomes ``c`` lines, split at its line breaks, so that
        ``read_dimacs(write_dimacs(cnf, comments)) == cnf`` always; a single
        ``str`` is one comment.

    Raises
    ------
    ValueError
        ``cnf`` not a :class:`CNF`; ``comments`` not a str or a list of str.

    Examples
    --------
    >>> print(write_dimacs(CNF(2, [(1, -2), (2,)]), comments=["tiny", "two\\nlines"]), end="")
    c tiny
    c two
    c lines
    p cnf 2 2
    1 -2 0
    2 0
    """
    if not isinstance(cnf, CNF):
        raise ValueError(f"cnf must be a CNF, got {type(cnf).__name__}")
    return format_dimacs(cnf.num_vars, cnf.clauses, comments)


def _check_kcnf_args(num_vars: int, num_clauses: int, k: int) -> tuple[int, int, int]:
    """The sizes as ints (integers only, in range), and the cost of drawing them checked against the limits."""
    num_vars, num_clauses = check_integer("num_vars", num_vars, least=1), check_integer("num_clauses", num_clauses)
    if num_vars > MAX_INDEX:
        raise ValueError(f"num_vars must be at most 2^31 - 1 = {MAX_INDEX} (as in DIMACS), got {num_vars}")
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 1 <= k <= num_vars:
        raise ValueError(f"k must lie in 1..num_vars={num_vars} (an integer), got {k!r}")
    check_budget(f"a random {k}-CNF with {num_vars} variables and {num_clauses} clauses",
                 *random_instance_cost(float(num_vars) * num_clauses, items=float(num_clauses) * (k + 1)))
    return num_vars, num_clauses, int(k)


def _random_clauses(rng: np.random.Generator, num_vars: int, count: int, k: int) -> np.ndarray:
    """``count`` clauses of ``k`` distinct variables with random signs, as a (count, k) int array."""
    variables = np.argsort(rng.random((count, num_vars)), axis=1)[:, :k] + 1
    signs = rng.integers(0, 2, size=(count, k)) * 2 - 1
    return variables * signs


def random_kcnf(
    num_vars: int, num_clauses: int, k: int, rng: RandomLike = None, *, seed: int | None = None
) -> CNF:
    """The uniform random k-CNF: each clause has ``k`` distinct variables with random signs.

    For k = 3 the satisfiability threshold is at ``num_clauses / num_vars ~ 4.27``.

    Parameters
    ----------
    num_vars, num_clauses, k : sizes: ``k`` distinct variables per clause.
    rng : int, numpy.random.Generator or None
        Randomness, as ``numpy.random.default_rng(rng)``; ``seed=`` is an alias.

    Raises
    ------
    ValueError
        If ``num_vars < 1``, ``num_clauses < 0``, ``k`` is outside ``1..num_vars``, or ``rng`` /
        ``seed`` is not an int, a Generator or ``None`` (or both are given).

    Examples
    --------
    >>> f = random_kcnf(10, 42, 3, seed=0)
    >>> f.num_vars, f.num_clauses, {len(c) for c in f.clauses}
    (10, 42, {3})
    >>> random_kcnf(10, 42, 3, rng=0) == f == random_kcnf(10, 42, 3, np.random.default_rng(0))
    True
    >>> f
    CNF(num_vars=10, 42 clauses of width 3: (-4, 3, 2), (-2, -4, 6), (-1, -2, -6), ...)
    """
    num_vars, num_clauses, k = _check_kcnf_args(num_vars, num_clauses, k)
    rng = as_generator(rng, seed=seed)
    C = _random_clauses(rng, num_vars, num_clauses, k)
    return CNF(num_vars, tuple(tuple(int(x) for x in row) for row in C))


def planted_kcnf(
    num_vars: int, num_clauses: int, k: int, rng: RandomLike = None, *, seed: int | None = None
) -> tuple[CNF, Assignment]:
    """A random k-CNF satisfied by a hidden random assignment, and that assignment.

    Clauses are drawn as in :func:`random_kcnf` and those the hidden assignment
    falsifies are rejected (each is kept with probability ``1 - 2^{-k}``).

    Parameters
    ----------
    num_vars, num_clauses, k : sizes: ``k`` distinct variables per clause.
    rng : int, numpy.random.Generator or None
        Randomness, as ``numpy.random.default_rng(rng)``; ``seed=`` is an alias.

    Raises
    ------
    ValueError
        As :func:`random_kcnf`.

    Examples
    --------
    >>> f, x = planted_kcnf(12, 80, 3, seed=1)
    >>> f.satisfies(x)
    True
    """
    num_vars, num_clauses, k = _check_kcnf_args(num_vars, num_clauses, k)
    rng = as_generator(rng, seed=seed)
    hidden = rng.integers(0, 2, size=num_vars + 1).astype(bool)
    kept: list[np.ndarray] = []
    have = 0
    while have < num_clauses:
        C = _random_clauses(rng, num_vars, 2 * (num_clauses - have) + 8, k)
        ok = np.any(hidden[np.abs(C)] == (C > 0), axis=1)
        kept.append(C[ok][: num_clauses - have])
        have += len(kept[-1])
    C = np.concatenate(kept) if kept else np.zeros((0, k), dtype=int)
    formula = CNF(num_vars, tuple(tuple(int(x) for x in row) for row in C))
    return formula, {v: bool(hidden[v]) for v in range(1, num_vars + 1)}


def unsatisfiable_kcnf(
    num_vars: int, num_clauses: int, k: int, rng: RandomLike = None, *, seed: int | None = None
) -> CNF:
    """A random k-CNF made unsatisfiable by a planted contradiction.

    All ``2^k`` sign patterns on one random set of ``k`` variables are included
    (together they exclude every assignment), and the remaining clauses are
    uniform random; the clauses are shuffled.

    Parameters
    ----------
    num_vars, num_clauses, k : sizes: ``k`` distinct variables per clause.
    rng : int, numpy.random.Generator or None
        Randomness, as ``numpy.random.default_rng(rng)``; ``seed=`` is an alias.

    Raises
    ------
    ValueError
        As :func:`random_kcnf`, or if ``num_clauses < 2**k``.

    Examples
    --------
    >>> f = unsatisfiable_kcnf(8, 20, 3, seed=2)
    >>> solve(f) is None
    True
    """
    num_vars, num_clauses, k = _check_kcnf_args(num_vars, num_clauses, k)
    if num_clauses < 2**k:
        raise ValueError(f"num_clauses must be >= 2**k = {2**k} to plant a contradiction, got {num_clauses}")
    rng = as_generator(rng, seed=seed)
    core_vars = rng.permutation(num_vars)[:k] + 1
    patterns = ((np.arange(2**k)[:, None] >> np.arange(k)) & 1) * 2 - 1
    core = patterns * core_vars
    C = np.concatenate([core, _random_clauses(rng, num_vars, num_clauses - 2**k, k)])
    C = C[rng.permutation(len(C))]
    return CNF(num_vars, tuple(tuple(int(x) for x in row) for row in C))


_CHUNK_BITS = 16
_MAX_BRUTE_VARS = 62  # assignments are int64 bit patterns


def _brute_force_guard(cnf: CNF, what: str, assignments: float, chunk: float | None, max_seconds, max_memory):
    if not isinstance(cnf, CNF):
        raise ValueError(f"cnf must be a CNF, got {type(cnf).__name__}")
    if cnf.num_vars > _MAX_BRUTE_VARS:
        raise ValueError(f"{what}: num_vars = {cnf.num_vars} is above {_MAX_BRUTE_VARS} (assignments are int64)")
    literals = sum(len(c) for c in cnf.clauses)
    check_budget(f"{what} over {assignments:.4g} assignments of {cnf.num_vars} variables, {literals} literals",
                 *brute_force_sat_cost(cnf.num_vars, literals, assignments, chunk),
                 max_seconds=max_seconds, max_memory=max_memory)


def models_mask(cnf: CNF, start: int = 0, stop: int | None = None, *, max_seconds: float | None = None,
                max_memory: float | None = None) -> np.ndarray:
    """Boolean mask over assignments ``x in [start, stop)`` (default all ``2^n``): which satisfy ``cnf``.

    Assignment ``x`` (an integer) sets variable ``v`` to bit ``v - 1`` of ``x``.
    Vectorised: one numpy pass per literal, ``O(2^n * sum of clause lengths)``.

    Parameters
    ----------
    cnf : CNF, with at most 62 variables.
    start, stop : int
        ``0 <= start <= stop <= 2^n``.
    max_seconds, max_memory : float, optional
        Limits of :func:`algorithms.budget.check_budget` (default: those in
        force, 60 s and 2 GiB); the mask needs about ``n + 26`` bytes an
        assignment, all at once.

    Raises
    ------
    ValueError
        Bad ``start``/``stop``, more than 62 variables, or the estimate above a
        limit (:class:`algorithms.budget.BudgetExceeded`) before allocating.

    Examples
    --------
    >>> models_mask(CNF(2, [(1, 2)])).tolist()
    [False, True, True, True]
    """
    if not isinstance(cnf, CNF):
        raise ValueError(f"cnf must be a CNF, got {type(cnf).__name__}")
    if cnf.num_vars > _MAX_BRUTE_VARS:
        raise ValueError(f"models_mask: num_vars = {cnf.num_vars} is above {_MAX_BRUTE_VARS} (assignments are int64)")
    total = 2**cnf.num_vars
    stop = total if stop is None else stop
    for name, value in (("start", start), ("stop", stop)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if not 0 <= start <= stop <= total:
        raise ValueError(f"need 0 <= start <= stop <= 2^num_vars = {total}, got start={start}, stop={stop}")
    _brute_force_guard(cnf, "models_mask", float(stop - start), None, max_seconds, max_memory)
    x = np.arange(start, stop, dtype=np.int64)
    bits = [None] + [((x >> (v - 1)) & 1).astype(bool) for v in range(1, cnf.num_vars + 1)]
    ok = np.ones(len(x), dtype=bool)
    for clause in cnf.clauses:
        sat = np.zeros(len(x), dtype=bool)
        for lit in clause:
            sat |= bits[lit] if lit > 0 else ~bits[-lit]
        ok &= sat
    return ok


def _assignment_from_int(x: int, num_vars: int) -> Assignment:
    return {v: bool((x >> (v - 1)) & 1) for v in range(1, num_vars + 1)}


def _chunks(cnf: CNF, what: str, max_seconds, max_memory, show: bool | None):
    """The ``(start, stop)`` chunks of ``2^16`` assignments, after the budget check, with a progress bar."""
    _brute_force_guard(cnf, what, 2.0**cnf.num_vars, 2.0**_CHUNK_BITS, max_seconds, max_memory)
    total = 2**cnf.num_vars
    starts = range(0, total, 2**_CHUNK_BITS)
    for start in progress(starts, total=len(starts), desc=what, unit="chunk", enabled=show):
        yield start, min(total, start + 2**_CHUNK_BITS)


def solve(cnf: CNF, *, max_seconds: float | None = None, max_memory: float | None = None,
          progress: bool | None = None) -> Assignment | None:
    """Brute force: a satisfying assignment ``{variable: bool}``, or ``None`` if unsatisfiable.

    Scans the ``2^n`` assignments in chunks of ``2^16`` with :func:`models_mask`
    and stops at the first model (the smallest as an integer).

    Parameters
    ----------
    cnf : CNF, with at most 62 variables.
    max_seconds, max_memory : float, optional
        Limits on the estimate of the whole scan (:mod:`algorithms.budget`;
        default 60 s and 2 GiB): about ``0.15 ns`` per assignment and literal,
        so the default allows about 30 variables of a 3-CNF at ratio 4.27.
    progress : bool, optional
        Progress bar on stderr for scans longer than a few seconds (default on).

    Raises
    ------
    ValueError
        More than 62 variables, or the estimate above a limit
        (:class:`algorithms.budget.BudgetExceeded`, before the scan starts).

    Examples
    --------
    >>> solve(CNF(2, [(1, 2), (-1,)]))
    {1: False, 2: True}
    >>> solve(CNF(1, [(1,), (-1,)])) is None
    True

    Notes
    -----
    ``O(2^n * sum of clause lengths)`` time, ``O(2^16 n)`` memory: the baseline
    that SETH says cannot be beaten by ``2^{delta n}`` for all k.
    """
    for start, stop in _chunks(cnf, "brute-force solve", max_seconds, max_memory, progress):
        hits = np.flatnonzero(models_mask(cnf, start, stop, max_seconds=math.inf, max_memory=math.inf))
        if len(hits):
            return _assignment_from_int(start + int(hits[0]), cnf.num_vars)
    return None


def count_models(cnf: CNF, *, max_seconds: float | None = None, max_memory: float | None = None,
                 progress: bool | None = None) -> int:
    """Brute force: the number of satisfying assignments of ``cnf``.

    Parameters and limits as :func:`solve` (the whole ``2^n`` scan is estimated).

    Examples
    --------
    >>> count_models(CNF(3, [(1, 2)]))
    6
    """
    return sum(
        int(models_mask(cnf, start, stop, max_seconds=math.inf, max_memory=math.inf).sum())
        for start, stop in _chunks(cnf, "brute-force count", max_seconds, max_memory, progress)
    )
