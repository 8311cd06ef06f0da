"""The pytest plugin of the reduction toolkit: ``--reduction-examples N`` and the ``check_reduction`` fixtures.

Installed with ``pip install 'bounded-entries[testing]'``, it is registered as
the ``pytest11`` entry point ``bounded-entries``, so ``pytest`` in any project
picks it up::

    # test_my_reduction.py
    from reductions.cnf import solve
    from reductions.testing.adapters import solve_ov
    from reductions.testing.strategies import cnfs

    def test_my_sat_to_ov(check_reduction):
        check_reduction(my_sat_to_ov, solve, solve_ov, cnfs(max_vars=6))

``pytest --reduction-examples 1000`` raises the number of instances of every
fixture call that does not pass ``max_examples`` itself (default: the
checker's own, 200).  The fixtures ``check_reduction``,
``check_family_reduction`` and ``check_function_reduction`` are the functions
of :mod:`reductions.testing` with that default bound; ``reduction_examples``
is the option's value (``None`` when not given).

This module imports only pytest at load time (every pytest run in an
environment with the package installed loads it); hypothesis and the toolkit
are imported when a fixture is used, with a clear ``ImportError`` naming the
``testing`` extra if hypothesis is missing.
"""

from __future__ import annotations

import functools

import pytest

__all__ = ["reduction_examples", "check_reduction", "check_family_reduction", "check_function_reduction"]

OPTION = "--reduction-examples"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bounded-entries", "reduction checks (bounded-entries[testing])")
    group.addoption(OPTION, action="store", type=int, default=None, metavar="N", dest="reduction_examples",
                    help="instances per check_reduction fixture call that does not set max_examples "
                         "(default: the checker's 200)")


def pytest_configure(config: pytest.Config) -> None:
    value = config.getoption("reduction_examples", default=None)
    if value is not None and value < 1:
        raise pytest.UsageError(f"{OPTION} must be a positive integer, got {value}")


def pytest_report_header(config: pytest.Config) -> str:
    value = config.getoption("reduction_examples", default=None)
    return f"bounded-entries reduction checks: {value if value is not None else 'default (200)'} examples per check"


@pytest.fixture
def reduction_examples(request: pytest.FixtureRequest) -> int | None:
    """The value of ``--reduction-examples`` (``None`` when not given)."""
    return request.config.getoption("reduction_examples", default=None)


def _bound(name: str, examples: int | None):
    import reductions.testing as toolkit

    checker = getattr(toolkit, name)
    if examples is None:
        return checker

    @functools.wraps(checker)
    def bound(*args, **kwargs):
        kwargs.setdefault("max_examples", examples)
        return checker(*args, **kwargs)

    return bound


@pytest.fixture
def check_reduction(reduction_examples):
    """:func:`reductions.testing.check_reduction`, with ``max_examples`` defaulting to ``--reduction-examples``."""
    return _bound("check_reduction", reduction_examples)


@pytest.fixture
def check_family_reduction(reduction_examples):
    """:func:`reductions.testing.check_family_reduction`, with ``max_examples`` from ``--reduction-examples``."""
    return _bound("check_family_reduction", reduction_examples)


@pytest.fixture
def check_function_reduction(reduction_examples):
    """:func:`reductions.testing.check_function_reduction`, with ``max_examples`` from ``--reduction-examples``."""
    return _bound("check_function_reduction", reduction_examples)
