"""The toolkit's own tests use its fixtures, with a CI-sized default number of examples.

The fixtures are imported from the plugin module, so they work whether or not
the package's ``pytest11`` entry point is installed in the running
environment.  ``reduction_examples`` is overridden: ``--reduction-examples N``
when given (and the plugin is loaded), else 300 with ``BOUNDED_ENTRIES_SLOW=1``,
else ``CI_EXAMPLES`` (keeps the toolkit's share of ``make test`` small).
"""

from __future__ import annotations

import os

import pytest

from reductions.testing.plugin import (  # noqa: F401  (fixtures)
    check_family_reduction,
    check_function_reduction,
    check_reduction,
)

CI_EXAMPLES = 25
SLOW = os.environ.get("BOUNDED_ENTRIES_SLOW") == "1"


@pytest.fixture
def reduction_examples(request: pytest.FixtureRequest) -> int:
    given = request.config.getoption("reduction_examples", default=None)
    return given if given is not None else (300 if SLOW else CI_EXAMPLES)
