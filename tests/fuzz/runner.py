"""Run many fuzz cases on a pool of long-lived child processes; count outcomes; list defects with their reproducers.

The cases of each target are split by weight (:attr:`Target.weight`) and cut
into jobs of at most :data:`~tests.fuzz.targets.CHUNK` consecutive indices,
handed out round-robin over the targets (so a wall-clock cap still reaches
every target).  Children are forked once with the library imported, each with
``RLIMIT_AS`` set; a child that hangs past ``timeout + grace`` is killed, a
child that died (a signal) or gave up (after a ``hang`` or ``memory`` case) is
replaced, and the rest of its job is handed out again.
"""

from __future__ import annotations

import collections
import multiprocessing
import time
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import wait

from tests.fuzz.targets import CHUNK, targets
from tests.fuzz.worker import DEFECTS, OUTCOMES, serve

__all__ = ["Settings", "plan", "run", "format_table", "GIB"]

GIB = 2**30


@dataclass
class Settings:
    """One fuzz run: ``cases`` in all, stopped after ``seconds`` of wall clock, cases drawn from ``seed``.

    ``timeout`` is per case; ``address_space`` the ``RLIMIT_AS`` of every child;
    ``max_seconds`` / ``max_memory`` the library's own limits inside a case
    (:func:`algorithms.budget.limits`), set below the timeout and the address space
    so that an honest refusal comes first; ``grace`` the seconds past ``timeout``
    after which the parent kills a child whose timer did not fire (a case stuck in C code).
    """

    cases: int = 10_000
    seconds: float = 1500.0
    seed: int = 0
    workers: int = 2
    timeout: float = 10.0
    address_space: int = 2 * GIB
    max_seconds: float = 2.0
    max_memory: float = 1 * GIB
    grace: float = 5.0
    only: tuple[str, ...] = field(default_factory=tuple)


def plan(settings: Settings) -> list[tuple[str, int, int, int]]:
    """The jobs ``(target, seed, start, stop)``: the cases split by weight, cut at chunk boundaries, interleaved."""
    chosen = {n: t for n, t in targets().items() if not settings.only or n in settings.only}
    unknown = set(settings.only) - set(chosen)
    if unknown:
        raise ValueError(f"unknown target(s) {sorted(unknown)}; known: {sorted(targets())}")
    total = sum(t.weight for t in chosen.values())
    counts = {n: max(1, round(settings.cases * t.weight / total)) for n, t in chosen.items()}
    per_target = {n: [(n, settings.seed, s, min(s + CHUNK, c)) for s in range(0, c, CHUNK)] for n, c in counts.items()}
    jobs = []
    for row in range(max(len(v) for v in per_target.values())):
        jobs += [v[row] for v in per_target.values() if row < len(v)]
    return jobs


class _Child:
    def __init__(self, ctx, settings: Settings) -> None:
        self.conn, child_end = ctx.Pipe()
        self.proc = ctx.Process(target=serve, args=(child_end, settings.address_space, settings.timeout,
                                                    settings.max_seconds, settings.max_memory), daemon=True)
        self.proc.start()
        child_end.close()
        self.job: tuple | None = None
        self.current: int | None = None
        self.next: int = 0
        self.since = 0.0

    def give(self, job: tuple) -> None:
        self.job, self.current, self.next = job, None, job[2]
        self.conn.send(job)

    def rest(self) -> tuple | None:
        """What is left of the job after the last case reported (``None`` if nothing)."""
        name, seed, _, stop = self.job
        return (name, seed, self.next, stop) if self.next < stop else None

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()


def run(settings: Settings, bar=None) -> dict:
    """Run the fuzz cases of :func:`plan`; return the summary (counts per target and outcome, defects, timing).

    ``bar``: an object with ``update(n)`` and ``total`` (a tqdm bar), or ``None``.
    """
    targets()  # import every target before forking: children start warm
    ctx = multiprocessing.get_context("fork")
    pending = collections.deque(plan(settings))
    planned = sum(stop - start for _, _, start, stop in pending)
    if bar is not None:
        bar.total = planned
    children = [_Child(ctx, settings) for _ in range(settings.workers)]
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    defects, seconds_by_target = [], collections.Counter()
    began = time.monotonic()

    def record(child: _Child, index: int, outcome: str, detail: str, took: float) -> None:
        name = child.job[0]
        counts[name][outcome] += 1
        seconds_by_target[name] += took
        child.next, child.current = index + 1, None
        if outcome in DEFECTS:
            defects.append({"target": name, "index": index, "outcome": outcome, "detail": detail,
                            "replay": f"python -m tests.fuzz --replay '{name}:{settings.seed}:{index}'"})
        if bar is not None:
            bar.update(1)

    def replace(child: _Child) -> _Child:
        rest = child.rest() if child.job else None
        child.stop()
        if rest:
            pending.appendleft(rest)
        fresh = _Child(ctx, settings)
        children[children.index(child)] = fresh
        return fresh

    try:
        while True:
            out_of_time = time.monotonic() - began > settings.seconds
            for child in children:
                if child.job is None and pending and not out_of_time:
                    child.give(pending.popleft())
            busy = [c for c in children if c.job is not None]
            if not busy:
                break
            for conn in wait([c.conn for c in busy], timeout=0.2):
                child = next(c for c in busy if c.conn is conn)
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    if child.current is not None:  # died inside a case: a signal (-9 is the kernel's OOM kill)
                        child.proc.join(1)
                        code = child.proc.exitcode
                        record(child, child.current, "memory" if code == -9 else "crash",
                               f"the child died (exit code {code}) in the case", time.monotonic() - child.since)
                    replace(child)
                    continue
                if message[0] == "start":
                    child.current, child.since = message[1], time.monotonic()
                elif message[0] == "done":
                    record(child, *message[1:])
                else:  # idle
                    child.job = None
            for child in list(children):
                if child.current is not None and time.monotonic() - child.since > settings.timeout + settings.grace:
                    record(child, child.current, "hang", f"killed after {settings.timeout + settings.grace:g} s", 0.0)
                    replace(child)
            if out_of_time:  # finish no more cases: stop the children where they are
                break
    finally:
        for child in children:
            child.stop()
    wall = time.monotonic() - began
    done = sum(sum(c.values()) for c in counts.values())
    return {
        "settings": asdict(settings) | {"only": list(settings.only)},
        "planned": planned,
        "cases": done,
        "wall_seconds": round(wall, 1),
        "stopped_by_time": done < planned,
        "outcomes": {o: sum(c[o] for c in counts.values()) for o in OUTCOMES},
        "targets": {n: {o: counts[n][o] for o in OUTCOMES if counts[n][o]} for n in sorted(counts)},
        "seconds_by_target": {n: round(s, 2) for n, s in sorted(seconds_by_target.items())},
        "defects": defects,
    }


def format_table(summary: dict) -> str:
    """The summary as a text table: one row per target, one column per outcome seen (and ``ok``, ``error``)."""
    shown = [o for o in OUTCOMES if o in ("ok", "error") or summary["outcomes"][o]]
    width = max([len(n) for n in summary["targets"]] + [6])
    lines = [f"{'target':<{width}} " + " ".join(f"{o:>8}" for o in shown) + f" {'total':>7}"]
    for name, row in summary["targets"].items():
        lines.append(f"{name:<{width}} " + " ".join(f"{row.get(o, 0):>8}" for o in shown)
                     + f" {sum(row.values()):>7}")
    lines.append(f"{'all':<{width}} " + " ".join(f"{summary['outcomes'][o]:>8}" for o in shown)
                 + f" {summary['cases']:>7}")
    return "\n".join(lines)
