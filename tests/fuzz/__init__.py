"""The fuzz suite of issue 13: every public entry point on hostile input, each case in a child process.

The rule every target is held to: the correct answer (checked by an oracle
where one exists: brute force, exact attention in mpmath, the DIMACS case's
required formula) or a ``ValueError``/``TypeError`` (an ``OSError`` for a file
that cannot be read) whose message names the parameter; never NaN or an
infinity, never a hang, never an allocation above the child's address-space
limit.

Modules: :mod:`~tests.fuzz.targets` (the target type, deterministic cases),
:mod:`~tests.fuzz.matrix_targets`, :mod:`~tests.fuzz.mechanism_targets`,
:mod:`~tests.fuzz.reduction_targets` (the targets), :mod:`~tests.fuzz.oracles`,
:mod:`~tests.fuzz.worker` (one case, judged; the child's loop),
:mod:`~tests.fuzz.runner` (the pool and the summary), ``python -m tests.fuzz``
(the command line; ``make fuzz``).  The strategies are those of
:mod:`reductions.testing.strategies`.
"""
