"""Williams' split-and-list reduction: k-CNF-SAT -> OV, and -> k-OV.

Split the ``n`` variables of a CNF ``C_1 and ... and C_M`` into parts
``V_1, ..., V_k`` (``k = 2`` for OV).  For every partial assignment ``f`` of
``V_t`` list the vector ``x_f in {0,1}^M`` with

    x_f[c] = 0   iff   f satisfies some literal of C_c (a literal over V_t),

one coordinate per clause.  A tuple ``(f_1, ..., f_k)`` has no coordinate where
all its vectors are 1 iff every clause is satisfied by one of the parts, i.e.

    (f_1, ..., f_k) is orthogonal   <=>   f_1 u ... u f_k satisfies the formula.

The map is a bijection between orthogonal tuples and satisfying assignments, so
it preserves not only satisfiability but the number of solutions.

Blow-up (checked by ``tests/reductions/test_sat_to_ov.py``).  With parts of sizes
``ceil(n/k)`` or ``floor(n/k)`` (the larger ones first):

* ``N_t = 2^{|V_t|}`` vectors in part ``t``, so ``N_1 = 2^{ceil(n/k)}``; for OV,
  ``N_a = 2^{ceil(n/2)}``, ``N_b = 2^{floor(n/2)}``;
* dimension ``m = M`` (number of clauses; ``M = O(n)`` after sparsification);
* construction time ``O(2^{ceil(n/k)} * k * sum_c |C_c|)``.

So an ``O(N^{k - delta} poly(m))`` algorithm for k-OV would solve CNF-SAT in
``O(2^{(1 - delta/k) n} poly(n))`` time, refuting SETH (Williams 2005; the
sparsification lemma of Impagliazzo, Paturi & Zane 2001 makes ``M = O(n)``,
not implemented here).

References
----------
.. [1] R. Williams. A new algorithm for optimal 2-constraint satisfaction and
   its implications. Theoretical Computer Science 348(2-3), 2005 (ICALP 2004).
.. [2] R. Impagliazzo, R. Paturi, F. Zane. Which problems have strongly
   exponential complexity? JCSS 63(4), 2001.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from algorithms.budget import check_budget, split_and_list_cost
from reductions.cnf import CNF, Assignment
from reductions.ov import KOVInstance, OVInstance

__all__ = ["partition", "part_vectors", "sat_to_ov", "sat_to_kov"]


def partition(num_vars: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Split variables ``1..num_vars`` into ``k`` consecutive parts, sizes ``ceil`` then ``floor`` of ``n/k``.

    Raises
    ------
    ValueError
        If ``k < 2`` or ``num_vars < 0``.

    Examples
    --------
    >>> partition(7, 3)
    ((1, 2, 3), (4, 5), (6, 7))
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be >= 2 and an integer, got {k!r}")
    if num_vars < 0:
        raise ValueError(f"num_vars must be >= 0, got {num_vars}")
    q, r = divmod(num_vars, k)
    parts, start = [], 1
    for t in range(k):
        size = q + (1 if t < r else 0)
        parts.append(tuple(range(start, start + size)))
        start += size
    return tuple(parts)


def part_vectors(cnf: CNF, variables: Sequence[int]) -> np.ndarray:
    """The ``2^{|variables|} x M`` 0/1 matrix of one part: row ``f``, column ``c`` is 0 iff ``f`` satisfies ``C_c``.

    Partial assignment ``f`` (a row index) gives ``variables[b]`` the value of
    bit ``b`` of ``f``.

    Examples
    --------
    >>> part_vectors(CNF(2, [(1, 2), (-1,)]), [1]).tolist()   # rows: x1=False, x1=True
    [[1, 0], [0, 1]]
    """
    position = {v: b for b, v in enumerate(variables)}
    f = np.arange(2 ** len(variables), dtype=np.int64)
    X = np.ones((len(f), cnf.num_clauses), dtype=np.uint8)
    for c, clause in enumerate(cnf.clauses):
        sat = np.zeros(len(f), dtype=bool)
        for lit in clause:
            b = position.get(abs(lit))
            if b is not None:
                bit = ((f >> b) & 1).astype(bool)
                sat |= bit if lit > 0 else ~bit
        X[sat, c] = 0
    return X


def _decoder(cnf: CNF, parts, sets) -> Callable[[Sequence[int] | None], Assignment | None]:
    def decode(t: Sequence[int] | None) -> Assignment | None:
        """Orthogonal tuple of row indices -> satisfying assignment ``{variable: bool}``; ``None`` -> ``None``.

        Raises ``ValueError`` if ``t`` has the wrong length, an index out of
        range, or is not orthogonal (its union would not satisfy the formula).
        """
        if t is None:
            return None
        t = tuple(int(i) for i in t)
        if len(t) != len(parts):
            raise ValueError(f"expected a tuple of {len(parts)} indices, got {t}")
        for s, (i, X) in enumerate(zip(t, sets)):
            if not 0 <= i < X.shape[0]:
                raise ValueError(f"index {i} of part {s} outside 0..{X.shape[0] - 1}")
        if cnf.num_clauses and np.any(np.all([X[i] for i, X in zip(t, sets)], axis=0)):
            raise ValueError(f"tuple {t} is not orthogonal: it does not encode a satisfying assignment")
        return {v: bool((i >> b) & 1) for i, part in zip(t, parts) for b, v in enumerate(part)}

    return decode


def sat_to_kov(
    cnf: CNF, k: int, *, max_seconds: float | None = None, max_memory: float | None = None
) -> tuple[KOVInstance, Callable[[Sequence[int] | None], Assignment | None]]:
    """k-CNF-SAT -> k-OV by splitting the variables into ``k`` parts.

    Parameters
    ----------
    cnf : CNF
    k : int
        Number of parts, ``k >= 2`` (``k = 3`` feeds tensor attention).
    max_seconds, max_memory : float, optional
        Limits on the estimated cost (:mod:`algorithms.budget`; default those
        in force, 60 s and 2 GiB): ``sum_t 2^{|V_t|}`` rows of ``M`` bytes,
        checked before anything is allocated.

    Returns
    -------
    instance : KOVInstance
        ``sets[t]`` has ``2^{|V_t|}`` rows (``|V_t|`` from :func:`partition`)
        and ``M`` columns.
    decode : callable
        Orthogonal tuple ``(i_1, ..., i_k)`` -> satisfying assignment; ``None`` -> ``None``.

    Raises
    ------
    ValueError
        If ``k`` is not an integer ``>= 2`` or ``cnf`` is not a
        :class:`~reductions.cnf.CNF`; :class:`algorithms.budget.BudgetExceeded`
        (a ``ValueError``) if the ``2^{n/k}`` blow-up is estimated above a limit.

    Examples
    --------
    >>> f = CNF(3, [(1, 2, 3), (-1, -2), (-3,)])
    >>> inst, decode = sat_to_kov(f, 3)
    >>> inst.sizes, inst.m
    ((2, 2, 2), 3)
    >>> from reductions.ov import find_orthogonal_tuple
    >>> x = decode(find_orthogonal_tuple(inst.sets)); f.satisfies(x)
    True

    Notes
    -----
    Blow-up and cost in the module docstring: ``N_1 = 2^{ceil(n/k)}``, ``m = M``.
    """
    if not isinstance(cnf, CNF):
        raise ValueError(f"cnf must be a CNF, got {type(cnf).__name__}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be >= 2 and an integer, got {k!r}")
    literals = sum(len(c) for c in cnf.clauses)
    check_budget(f"split and list of {cnf.num_vars} variables into {k} parts ({cnf.num_clauses} clauses)",
                 *split_and_list_cost(cnf.num_vars, cnf.num_clauses, literals, int(k)),
                 max_seconds=max_seconds, max_memory=max_memory)
    parts = partition(cnf.num_vars, k)
    sets = tuple(part_vectors(cnf, part) for part in parts)
    if cnf.num_clauses == 0:
        inst = KOVInstance(tuple(np.zeros((X.shape[0], 0), dtype=np.uint8) for X in sets))
    else:
        inst = KOVInstance(sets)
    return inst, _decoder(cnf, parts, inst.sets)


def sat_to_ov(
    cnf: CNF, *, max_seconds: float | None = None, max_memory: float | None = None
) -> tuple[OVInstance, Callable[[Sequence[int] | None], Assignment | None]]:
    """k-CNF-SAT -> OV (Williams 2005): two halves, one coordinate per clause.

    Parameters
    ----------
    cnf : CNF
    max_seconds, max_memory : float, optional
        As :func:`sat_to_kov`.

    Returns
    -------
    instance : OVInstance
        ``A`` is ``2^{ceil(n/2)} x M`` (partial assignments of variables
        ``1..ceil(n/2)``), ``B`` is ``2^{floor(n/2)} x M`` (the rest).
    decode : callable
        Orthogonal pair ``(i, j)`` -> satisfying assignment ``{variable: bool}``;
        ``None`` -> ``None``.  Raises ``ValueError`` on a pair that is not orthogonal.

    Raises
    ------
    ValueError
        If ``cnf`` is not a :class:`~reductions.cnf.CNF`, or the lists are
        estimated above a limit (as :func:`sat_to_kov`).

    Examples
    --------
    >>> f = CNF(4, [(1, -3), (-1, 4), (2, 3, -4)])
    >>> inst, decode = sat_to_ov(f)
    >>> inst.A.shape, inst.B.shape
    ((4, 3), (4, 3))
    >>> from reductions.ov import find_orthogonal_pair
    >>> decode(find_orthogonal_pair(inst.A, inst.B))
    {1: False, 2: False, 3: False, 4: False}

    Notes
    -----
    ``(i, j)`` orthogonal iff assignment ``decode((i, j))`` satisfies ``cnf``; the
    number of orthogonal pairs equals the number of models.  Time
    ``O(2^{ceil(n/2)} sum_c |C_c|)``.
    """
    inst, decode = sat_to_kov(cnf, 2, max_seconds=max_seconds, max_memory=max_memory)
    return OVInstance(*inst.sets), decode
