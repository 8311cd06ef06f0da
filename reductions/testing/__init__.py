"""Verify your own reduction: a checker that finds the smallest counterexample, strategies, a pytest plugin.

Three lines::

    from reductions.testing import check_reduction
    from reductions.testing.strategies import cnfs
    check_reduction(my_reduction, solve_source, solve_target, cnfs(max_vars=6))

:func:`check_reduction` runs a reduction ``source -> (target, decode)`` on
instances drawn from a hypothesis strategy (or any iterable), checks each
direction on its own -- yes maps to yes, no maps to no, the decoded
certificate is valid, the declared sizes hold -- and raises
:class:`ReductionError` naming the failing direction with the *shrunk*
smallest counterexample, printed in the source's format (DIMACS, 0/1 rows).
:func:`check_family_reduction` handles one source to many targets (answer = OR),
:func:`check_function_reduction` reductions that compute a value.

Modules
-------
check
    The three checkers.
strategies
    Hypothesis strategies for every instance type of the project, and the
    hostile arrays, DIMACS texts and parameters of the fuzz suite (one module
    for both).
adapters
    The project's reductions, brute-force solvers and verifiers in the
    checker's shapes.
sizes, claims
    :class:`SizeClaim` (a blow-up as sympy expressions) and the claims of the
    project's reductions.
report
    :class:`ReductionReport`, :class:`ReductionError`, :func:`format_instance`.
plugin
    The pytest plugin (``--reduction-examples N``, the ``check_reduction`` fixture).

Needs ``hypothesis`` (and ``pytest`` for the plugin): ``pip install
'bounded-entries[testing]'``; without it, ``from reductions.testing import
check_reduction`` (or importing a submodule that needs it) raises an
``ImportError`` saying so.  The names above load on first use, so that the
plugin module -- which pytest imports in every run of an environment where
the package is installed -- costs no more than ``import reductions`` and
needs only pytest.  The rest of the project does not import this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from reductions.testing._require import TESTING_EXTRA

if TYPE_CHECKING:  # the names below load on first use (pytest imports the plugin in every run)
    from reductions.testing.check import check_family_reduction, check_function_reduction, check_reduction
    from reductions.testing.report import ReductionError, ReductionReport, format_instance, source_size
    from reductions.testing.sizes import SizeClaim, at_least, at_most

_HOME = {
    "check_reduction": "check",
    "check_family_reduction": "check",
    "check_function_reduction": "check",
    "ReductionError": "report",
    "ReductionReport": "report",
    "format_instance": "report",
    "source_size": "report",
    "SizeClaim": "sizes",
    "at_most": "sizes",
    "at_least": "sizes",
}

__all__ = [
    "check_reduction",
    "check_family_reduction",
    "check_function_reduction",
    "ReductionError",
    "ReductionReport",
    "SizeClaim",
    "at_most",
    "at_least",
    "format_instance",
    "source_size",
]


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'reductions.testing' has no attribute {name!r}")
    try:
        import hypothesis  # noqa: F401
    except ImportError as exc:
        raise ImportError(TESTING_EXTRA) from exc
    value = getattr(importlib.import_module(f"reductions.testing.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
