"""Check a reduction direction by direction, and shrink the counterexample: :func:`check_reduction` and its two siblings.

A reduction from problem S to problem T is an instance map plus certificate
maps (Karp, PLDI 2022): ``reduce(s) -> (t, decode)``, and ``decode`` turns a
certificate of ``t`` into one of ``s``.  Agreement of brute-force answers
alone misses bugs that only show on NO instances, or only in the certificate
map, so each direction is checked on its own:

* ``"yes -> yes"`` (completeness): ``source_solve(s)`` finds a certificate,
  then ``target_solve(t)`` must too;
* ``"no -> no"`` (soundness): ``source_solve(s)`` finds none, then
  ``target_solve(t)`` must find none;
* ``"certificate"``: on a yes instance, ``decode(target certificate)`` must pass
  ``verify(s, .)`` (by default the source type's own check: a satisfying
  assignment, an orthogonal pair or tuple, a pair above ``t_hi``);
* ``"size"``: the target's sizes must meet the reduction's
  :class:`~reductions.testing.sizes.SizeClaim`;
* ``"error"``: no stage raises;
* ``"setup"``: ``source_solve``'s own certificate passes ``verify`` (a wrong
  solver or verifier, not a wrong reduction).

``instances`` is a hypothesis strategy -- then every failing direction is
shrunk to a smallest counterexample -- or any iterable, whose first failing
instance is reported as it is.  Use strategies that plant NO instances
(:mod:`reductions.testing.strategies`): random instances are mostly yes or
mostly no, and soundness bugs hide on the side that is rarely drawn.

:func:`check_family_reduction` is the one-source-to-many-targets form (OV ->
a family of gap instances: the answer is the OR over the targets), and
:func:`check_function_reduction` the form for reductions whose target
*computes* the source's value (forward attention read off a gradient),
compared within a tolerance.

References
----------
.. [1] C. Zhang, J. D. Hartline, C. Dimoulas. Karp: a language for NP reductions.
   PLDI 2022 (reductions as an instance map plus certificate maps, checked by random testing).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable

import numpy as np

from reductions.testing._require import TESTING_EXTRA

try:
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as _seed
    from hypothesis.strategies import SearchStrategy
except ImportError as exc:  # pragma: no cover - the testing extra is missing
    raise ImportError(TESTING_EXTRA) from exc

from reductions.testing.adapters import default_verify
from reductions.testing.report import DIRECTIONS, Failure, ReductionError, ReductionReport

__all__ = ["check_reduction", "check_family_reduction", "check_function_reduction"]

_KINDS: dict[str, type] = {}


class _Fail(Exception):
    """Raised inside the checked run; one subclass per direction so hypothesis shrinks each separately."""

    direction = ""

    def __init__(self, instance, detail: str) -> None:
        super().__init__(detail)
        self.instance, self.detail = instance, detail


def _fail(direction: str, instance, detail: str) -> _Fail:
    if direction not in _KINDS:
        _KINDS[direction] = type(f"_Fail_{len(_KINDS)}", (_Fail,), {"direction": direction})
    return _KINDS[direction](instance, detail)


def _short(value, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _name(fn) -> str:
    inner = getattr(fn, "func", None)  # functools.partial
    if inner is not None:
        args = ", ".join([*map(repr, fn.args), *(f"{k}={v!r}" for k, v in fn.keywords.items())])
        return f"{_name(inner)}(., {args})" if args else _name(inner)
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _stage(what: str, source, fn, *args):
    try:
        return fn(*args)
    except _Fail:
        raise
    except Exception as exc:
        raise _fail("error", source, f"{what} raised {type(exc).__name__}: {exc}") from exc


class _Run:
    """Bookkeeping shared by the three modes: the report, the sizes, the verifier, the execution."""

    def __init__(self, reduce, mode: str, sizes, verify) -> None:
        self.report = ReductionReport(_name(reduce), mode)
        self.sizes, self.verify = sizes, verify
        self.unverified: set[str] = set()

    def measure(self, source, target) -> dict | None:
        if self.sizes is None:
            return None
        actual = _stage("sizes", source, self.sizes, source, target)
        if hasattr(self.sizes, "violations"):
            bad = _stage("the size claim", source, self.sizes.violations, source, actual)
            if bad:
                raise _fail("size", source, "; ".join(bad))
        return actual

    def valid(self, source, certificate) -> bool:
        verify = self.verify or default_verify(source)
        if verify is None:
            self.unverified.add(type(source).__name__)
            return certificate is not None
        return certificate is not None and bool(_stage("verify", source, verify, source, certificate))

    def execute(self, one: Callable, instances, max_examples: int | None, seed: int | None) -> ReductionReport:
        start = time.perf_counter()
        if isinstance(instances, SearchStrategy):
            self._hypothesis(one, instances, max_examples, seed)
        else:
            if isinstance(instances, (str, bytes)) or not isinstance(instances, Iterable):
                raise TypeError(f"instances must be a hypothesis strategy or an iterable of instances, "
                                f"got {type(instances).__name__}")
            for source in itertools.islice(instances, max_examples):
                try:
                    one(source)
                except _Fail as f:
                    raise ReductionError(self.report.reduction, [Failure(f.direction, f.instance, f.detail)],
                                         self.report.tried, shrunk=False) from None
        self.report.seconds = time.perf_counter() - start
        if self.unverified:
            self.report.notes.append(f"certificates of {sorted(self.unverified)} were only checked to be non-None "
                                     "(pass verify= to check them)")
        return self.report

    def _hypothesis(self, one: Callable, instances: SearchStrategy, max_examples: int | None,
                    seed: int | None) -> None:
        config = settings(max_examples=max_examples or 200, deadline=None, database=None, print_blob=False,
                          verbosity=Verbosity.quiet, report_multiple_bugs=True,
                          suppress_health_check=list(HealthCheck),
                          phases=(Phase.explicit, Phase.generate, Phase.shrink))

        @config
        @given(instances)
        def run(source):
            one(source)

        if seed is not None:
            run = _seed(seed)(run)

        try:
            run()
        except Exception as err:
            leaves = _leaves(err)
            found = [e for e in leaves if isinstance(e, _Fail)]
            if not found or len(found) != len(leaves):
                raise
            order = list(DIRECTIONS)
            found.sort(key=lambda f: (order.index(f.direction), len(repr(f.instance))))
            failures = [Failure(f.direction, f.instance, f.detail) for f in found]
            raise ReductionError(self.report.reduction, failures, self.report.tried, shrunk=True) from None


def _leaves(err: BaseException) -> list[BaseException]:
    inner = getattr(err, "exceptions", None)
    return [leaf for e in inner for leaf in _leaves(e)] if inner else [err]


def check_reduction(reduce: Callable, source_solve: Callable, target_solve: Callable, instances, *,
                    verify: Callable | None = None, sizes: Callable | None = None,
                    max_examples: int | None = 200, seed: int | None = 0) -> ReductionReport:
    """Check a decision reduction direction by direction; raise :class:`ReductionError` with the smallest counterexample.

    Parameters
    ----------
    reduce : ``reduce(source) -> (target, decode)``; ``decode(target_certificate)``
        returns a source certificate (or ``None``).
    source_solve, target_solve : ``instance -> certificate or None`` (``None``
        means a NO instance).  Use the project's brute-force solvers:
        :func:`reductions.cnf.solve` for CNF and the solvers of
        :mod:`reductions.testing.adapters` (``solve_ov``, ``solve_kov``,
        ``solve_gap``, ``solve_attention``).
    instances : a hypothesis strategy (counterexamples are shrunk) or an
        iterable of source instances (the first failing one is reported as is).
    verify : ``verify(source, certificate) -> bool``; default: the source type's
        own check (:func:`~reductions.testing.adapters.default_verify`); for an
        unknown type, the decoded certificate is only required to be non-None.
    sizes : ``sizes(source, target) -> dict`` of actual sizes, reported; a
        :class:`~reductions.testing.sizes.SizeClaim` also checks them against
        the declared sympy expressions.
    max_examples : instances to run (hypothesis: examples to generate; an
        iterable: how many of its items to take; ``None``: all of an
        iterable, 200 for a strategy).
    seed : the hypothesis seed: the default ``0`` draws the same instances on
        every run (a CI failure reproduces locally); ``None`` draws new ones
        each run, to explore.

    Returns
    -------
    ReductionReport
        instances tried, the yes/no split, the largest sizes, the time.

    Raises
    ------
    ReductionError
        (an ``AssertionError``) naming the failing direction(s), each with its
        smallest counterexample printed in the source's own format.
    TypeError
        ``instances`` neither a strategy nor an iterable.

    Examples
    --------
    >>> from reductions.cnf import solve
    >>> from reductions.sat_to_ov import sat_to_ov
    >>> from reductions.testing.adapters import solve_ov
    >>> from reductions.testing.strategies import cnfs
    >>> report = check_reduction(sat_to_ov, solve, solve_ov, cnfs(max_vars=4), max_examples=20)
    >>> report.tried, report.yes + report.no
    (20, 20)

    Drop a clause and the toolkit finds a one-variable formula that breaks it:

    >>> from reductions.cnf import CNF
    >>> def broken(f):
    ...     return sat_to_ov(CNF(f.num_vars, f.clauses[:-1]))
    >>> try:
    ...     check_reduction(broken, solve, solve_ov, cnfs(max_vars=4), max_examples=100)
    ... except ReductionError as err:
    ...     print(err.instance.num_vars, err.direction in ("no -> no", "certificate"))
    1 True
    """
    run = _Run(reduce, "decision", sizes, verify)

    def one(source) -> None:
        run.report.tried += 1
        source_certificate = _stage("source_solve", source, source_solve, source)
        target, decode = _stage("reduce", source, _pair, reduce, source)
        target_certificate = _stage("target_solve", source, target_solve, target)
        yes = source_certificate is not None
        run.report.record(source, run.measure(source, target), yes)
        if yes and not run.valid(source, source_certificate):
            raise _fail("setup", source, f"source_solve returned {_short(source_certificate)}, which verify rejects")
        if yes and target_certificate is None:
            raise _fail("yes -> yes", source, f"source_solve found {_short(source_certificate)}; target_solve "
                                              "found nothing")
        if not yes and target_certificate is not None:
            raise _fail("no -> no", source, f"source_solve found nothing; target_solve found "
                                            f"{_short(target_certificate)}")
        if yes:
            decoded = _stage("decode", source, decode, target_certificate)
            if not run.valid(source, decoded):
                raise _fail("certificate", source, f"target certificate {_short(target_certificate)} decodes to "
                                                   f"{_short(decoded)}, not a certificate of the source")

    return run.execute(one, instances, max_examples, seed)


def _pair(reduce: Callable, source):
    out = reduce(source)
    if not (isinstance(out, tuple) and len(out) == 2 and callable(out[1])):
        raise TypeError(f"reduce must return (target, decode) with decode callable, got {_short(out, 80)}")
    return out


def check_family_reduction(reduce: Callable, source_solve: Callable, target_solve: Callable, instances, *,
                           verify: Callable | None = None, sizes: Callable | None = None,
                           max_examples: int | None = 200, seed: int | None = 0) -> ReductionReport:
    """Check a one-source-to-many-targets reduction: the source is YES iff some target is YES.

    Parameters
    ----------
    reduce : ``reduce(source) -> (targets, decode)``, ``targets`` an iterable of
        ``(key, target)`` pairs (e.g. :class:`~reductions.ov_to_gap.GapFamily`,
        keyed by advice; use ``enumerate`` for a plain list) and
        ``decode(key, target_certificate)`` a source certificate or ``None``.
    source_solve, target_solve, instances, verify, max_examples, seed :
        as :func:`check_reduction`.
    sizes : ``sizes(source, pairs)`` with ``pairs`` the list of ``(key, target)``.

    Returns
    -------
    ReductionReport

    Raises
    ------
    ReductionError
        ``"yes -> yes"``: a yes source and no yes target; ``"no -> no"``: a no
        source and a yes target (named by its key); ``"certificate"``: on a yes
        source, a decoded certificate that is not ``None`` and fails ``verify``,
        or no yes target that decodes to a valid one.

    Examples
    --------
    >>> from reductions.ov_to_gap import ov_to_gap
    >>> from reductions.testing.adapters import solve_gap, solve_ov
    >>> from reductions.testing.strategies import ov_instances
    >>> check_family_reduction(ov_to_gap, solve_ov, solve_gap, ov_instances(max_n=2, max_m=2),
    ...                        max_examples=5).tried
    5
    """
    run = _Run(reduce, "family", sizes, verify)

    def one(source) -> None:
        run.report.tried += 1
        source_certificate = _stage("source_solve", source, source_solve, source)
        targets, decode = _stage("reduce", source, _pair, reduce, source)
        pairs = _stage("iterating the targets", source, list, targets)
        found = [(key, c) for key, target in pairs
                 if (c := _stage(f"target_solve (target {_short(key, 60)})", source, target_solve, target)) is not None]
        yes = source_certificate is not None
        run.report.record(source, run.measure(source, pairs), yes)
        if yes and not run.valid(source, source_certificate):
            raise _fail("setup", source, f"source_solve returned {_short(source_certificate)}, which verify rejects")
        if yes and not found:
            raise _fail("yes -> yes", source, f"source_solve found {_short(source_certificate)}; none of the "
                                              f"{len(pairs)} targets is YES")
        if not yes and found:
            raise _fail("no -> no", source, f"source_solve found nothing; target {_short(found[0][0], 60)} (of "
                                            f"{len(pairs)}) is YES with {_short(found[0][1])}")
        if yes:
            decoded = [(key, c, _stage("decode", source, decode, key, c)) for key, c in found]
            wrong = [(key, c, x) for key, c, x in decoded if x is not None and not run.valid(source, x)]
            if wrong or not any(x is not None for *_, x in decoded):
                key, c, x = (wrong or decoded)[0]
                raise _fail("certificate", source, f"target {_short(key, 60)}'s certificate {_short(c)} decodes to "
                                                   f"{_short(x)}, not a certificate of the source")

    return run.execute(one, instances, max_examples, seed)


def _close(got, expected, atol: float, rtol: float) -> str | None:
    """``None`` if ``got`` matches ``expected``, else why not."""
    if isinstance(expected, (bool, np.bool_, str)) or expected is None:
        return None if got == expected else f"got {_short(got)}, expected {_short(expected)}"
    try:
        g, e = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        return f"got {_short(got)}, which is not a number or an array of numbers"
    if g.shape != e.shape:
        return f"got shape {g.shape}, expected {e.shape}"
    if g.size == 0:
        return None
    if not np.all(np.isfinite(g)):
        return f"got non-finite values {_short(g.ravel()[~np.isfinite(g.ravel())][:3])}"
    err = np.abs(g - e)
    if np.all(err <= atol + rtol * np.abs(e)):
        return None
    at = np.unravel_index(int(np.argmax(err - rtol * np.abs(e))), err.shape)
    return (f"largest error {float(err[at]):.3e} at index {tuple(int(i) for i in at)} (got {float(g[at]):.17g}, "
            f"expected {float(e[at]):.17g}), above atol={atol:.3g} + rtol={rtol:.3g} * |expected|")


def check_function_reduction(reduce: Callable, source_value: Callable, target_value: Callable, instances, *,
                             atol: float | Callable = 1e-9, rtol: float = 1e-9, sizes: Callable | None = None,
                             max_examples: int | None = 200, seed: int | None = 0) -> ReductionReport:
    """Check a reduction whose target computes the source's value: ``decode(target_value(t))`` must match ``source_value(s)``.

    Parameters
    ----------
    reduce : ``reduce(source) -> (target, decode)``; ``decode(target_value(target))``
        is the reduction's answer for the source.
    source_value : the reference value of a source instance (e.g. exact attention).
    target_value : the target's value (e.g. the loss gradient of every gradient instance).
    instances, sizes, max_examples, seed : as :func:`check_reduction`.
    atol : absolute tolerance, or ``atol(source, target) -> float`` (e.g. a
        proven error bound of the instance); ``rtol``: relative tolerance.
        Booleans, strings and ``None`` are compared exactly.

    Returns
    -------
    ReductionReport
        (``yes``/``no``: how many reference values were true/false, when booleans).

    Raises
    ------
    ReductionError
        ``"value"`` with the largest error, its index and both values, or
        ``"error"``/``"size"`` as :func:`check_reduction`.

    Examples
    --------
    >>> from algorithms.attention import attention
    >>> from reductions.testing.adapters import attention_to_gradient, gradients
    >>> from reductions.testing.strategies import attention_inputs
    >>> check_function_reduction(attention_to_gradient, lambda s: attention(*s), gradients,
    ...                          attention_inputs(max_n=3), max_examples=5).mode
    'value'
    """
    run = _Run(target_value if getattr(reduce, "__name__", "") == "as_target" else reduce, "value", sizes, None)

    def one(source) -> None:
        run.report.tried += 1
        expected = _stage("source_value", source, source_value, source)
        target, decode = _stage("reduce", source, _pair, reduce, source)
        value = _stage("target_value", source, target_value, target)
        got = _stage("decode", source, decode, value)
        is_bool = isinstance(expected, (bool, np.bool_))
        run.report.record(source, run.measure(source, target), bool(expected) if is_bool else None)
        tol = _stage("atol", source, atol, source, target) if callable(atol) else atol
        why = _close(got, expected, float(tol), rtol)
        if why is not None:
            raise _fail("value", source, why)

    return run.execute(one, instances, max_examples, seed)
