"""What the command lines share: one-line errors with exit status 2, checked option types, the program name.

Used by ``python -m algorithms`` (the ``bounded-entries`` script) and
``python -m reductions``.  A user error (a bad option value, a file that
cannot be read, input an algorithm refuses, an estimate above a limit) is one
line on stderr, ``error: <message>`` (``<prog>: error: <message>`` for a bad
option, as argparse words it), and exit status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable

from algorithms.budget import BudgetExceeded, format_bytes, format_seconds

__all__ = ["OneLineParser", "prog_name", "positive_int", "nonnegative_int", "positive_float", "unit_interval",
           "limit_seconds", "limit_bytes", "run", "budget_message"]

EXIT_USAGE = 2


def prog_name(module: str) -> str:
    """``"python -m <module>"`` when run as a module, else the script's name (``bounded-entries``)."""
    argv0 = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    if not argv0 or argv0 in ("__main__.py", "-c") or argv0.startswith("python"):
        return f"python -m {module}"
    return argv0


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (no usage block): ``prog: error: message (see --help)``."""

    def error(self, message: str):  # noqa: D401 - argparse's hook
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _typed(name: str, convert: Callable[[str], float], ok: Callable[[float], bool], expected: str):
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    parse.__name__ = name
    return parse


positive_int = _typed("positive_int", int, lambda v: v >= 1, "a positive integer")
nonnegative_int = _typed("nonnegative_int", int, lambda v: v >= 0, "a non-negative integer")
positive_float = _typed("positive_float", float, lambda v: math.isfinite(v) and v > 0, "a positive finite number")
unit_interval = _typed("unit_interval", float, lambda v: 0 < v < 1, "a number strictly between 0 and 1")
limit_seconds = _typed("limit_seconds", float, lambda v: v > 0, "a positive number of seconds (inf: no limit)")
limit_bytes = _typed("limit_bytes", float, lambda v: v > 0, "a positive number of bytes (inf: no limit)")


def budget_message(exc: BudgetExceeded) -> str:
    """The refusal for a command line: the estimate and the options that raise the limits."""
    flags = {"max_seconds": "--max-seconds", "max_memory": "--max-memory"}
    need = {"max_seconds": exc.estimate.seconds, "max_memory": exc.estimate.memory}
    shown = {"max_seconds": format_seconds, "max_memory": format_bytes}
    above = " and ".join(f"{flags[p]} {shown[p](limit)}" for p, limit in exc.limits.items())
    rerun = " ".join(f"{flags[p]} {float(f'{2 * need[p]:.2g}'):g}" for p in exc.limits)
    return (f"{exc.estimate.what}: estimated {format_seconds(exc.estimate.seconds)} and "
            f"{format_bytes(exc.estimate.memory)}, above {above}; rerun with {rerun} to run it anyway")


def run(parser: argparse.ArgumentParser, main: Callable[[argparse.Namespace], int], argv=None) -> int:
    """Parse ``argv`` and call ``main``; user errors become one line on stderr and exit status 2."""
    args = parser.parse_args(argv)
    try:
        return main(args)
    except BudgetExceeded as exc:
        print(f"error: {budget_message(exc)}", file=sys.stderr)
    except (ValueError, OSError, ArithmeticError) as exc:  # refusals, malformed input, unreadable files
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
    except MemoryError:
        print("error: out of memory (lower the sizes)", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return EXIT_USAGE
