"""One fuzz case, judged; and the long-lived child process that runs cases under a memory limit and a timeout.

:func:`judge` runs a case of a target and classifies what happened, as one of
:data:`OUTCOMES`:

``ok``
    an answer, and the oracle agrees (or the target has none and the answer is well formed);
``error``
    a clear refusal: ``ValueError`` or ``TypeError`` (``OSError`` for targets
    that read files) whose message names one of the target's parameters (or
    one of the case's ``"names"``, e.g. the path of a file it reads);
``unclear-error``
    such an exception whose message names none of them;
``refused``
    a clear error on a case the target must answer (valid input; a budget refusal is not counted);
``wrong``
    an answer the oracle rejects (including any answer to invalid input);
``nan-inf``
    an answer holding NaN, or an infinity (except where :attr:`Target.infinite_ok`: the
    oracle then accepts an infinity only where the true answer overflows float64);
``crash``
    any other exception (or a child killed by a signal);
``hang``
    the case ran past its timeout;
``memory``
    ``MemoryError``: an allocation above the address-space limit;
``oracle-error``
    the oracle itself failed (a defect of the suite, reported as one).

:func:`serve` is the child's loop: it sets ``RLIMIT_AS`` once, then for each
job (a target, a seed and a range of case indices) draws the cases and judges
each under ``setitimer`` with the library's own limits
(:func:`algorithms.budget.limits`) set below the child's, reporting every case
before it starts so that the parent knows which case a hang or a kill belongs to.
"""

from __future__ import annotations

import re
import resource
import signal
import time
import traceback
from functools import lru_cache

import numpy as np

from algorithms.budget import BudgetExceeded, limits
from tests.fuzz.targets import CHUNK, Target, draw_cases, finite_leaves, targets

__all__ = ["OUTCOMES", "DEFECTS", "Timeout", "judge", "serve", "names_parameter"]

OUTCOMES = ("ok", "error", "unclear-error", "refused", "wrong", "nan-inf", "crash", "hang", "memory", "oracle-error")
DEFECTS = tuple(o for o in OUTCOMES if o not in ("ok", "error"))


class Timeout(BaseException):
    """Raised by the interval timer in the middle of a case (a ``BaseException``: no library ``except`` eats it)."""


def _alarm(signum, frame):
    raise Timeout()


def names_parameter(message: str, params: tuple[str, ...]) -> bool:
    """Whether ``message`` names one of ``params`` as a word (``Q`` in ``"Q must be finite"``, not in ``"Quote"``)."""
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(p)}(?![A-Za-z0-9_])", message) for p in params)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def judge(target: Target, case: dict) -> tuple[str, str]:
    """Run ``case`` of ``target`` and classify it: ``(outcome, one-line detail)``."""
    allowed = (ValueError, TypeError, OSError) if target.oserror else (ValueError, TypeError)
    try:
        result = target.run(case)
    except Timeout:
        raise
    except MemoryError as exc:
        return "memory", _short(f"MemoryError: {exc}")
    except allowed as exc:
        message = f"{type(exc).__name__}: {exc}"
        must = target.must_answer is not None and target.must_answer(case) and not isinstance(exc, BudgetExceeded)
        if must:
            return "refused", _short(message)
        if not names_parameter(str(exc), target.params + ("max_seconds", "max_memory") + tuple(case.get("names", ()))):
            return "unclear-error", _short(message)
        return "error", _short(message)
    except Exception as exc:  # noqa: BLE001 - any other exception is the defect being looked for
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return "crash", _short(f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})")
    if not finite_leaves(result, target.infinite_ok):
        return "nan-inf", "the answer holds a NaN" + ("" if target.infinite_ok else " or an infinity")
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # references above float64's range are judged silently
            problem = target.check(case, result)
    except Timeout:
        raise
    except Exception as exc:  # noqa: BLE001
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return "oracle-error", _short(f"{type(exc).__name__}: {exc} (at {where.filename}:{where.lineno})")
    return ("wrong", _short(problem)) if problem else ("ok", "")


@lru_cache(maxsize=4)
def _chunk(name: str, seed: int, chunk: int) -> list[tuple[int, dict]]:
    return draw_cases(name, seed, chunk * CHUNK, (chunk + 1) * CHUNK)


def run_case(name: str, case: dict, timeout: float, max_seconds: float, max_memory: float) -> tuple[str, str]:
    """:func:`judge` under the timer and the library limits (``hang`` if the timer fires)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with limits(max_seconds=max_seconds, max_memory=max_memory, progress=False):
            return judge(targets()[name], case)
    except Timeout:
        return "hang", f"no answer within {timeout:g} s"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def serve(conn, address_space: int, timeout: float, max_seconds: float, max_memory: float) -> None:
    """The child's loop: receive ``(name, seed, start, stop)`` jobs (one chunk of cases at most), send ``("start", i)`` and
    ``("done", i, outcome, detail, seconds)`` per case and ``("idle",)`` after each job; stop on ``None``."""
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    while (job := conn.recv()) is not None:
        name, seed, start, stop = job
        for index, case in _chunk(name, seed, start // CHUNK)[start % CHUNK: stop - start // CHUNK * CHUNK]:
            conn.send(("start", index))
            began = time.perf_counter()
            outcome, detail = run_case(name, case, timeout, max_seconds, max_memory)
            conn.send(("done", index, outcome, detail, time.perf_counter() - began))
            if outcome in ("hang", "memory"):  # state may be half-built: let the parent start a fresh child
                return
        conn.send(("idle",))
