"""The CI-sized fuzz run (a seeded batch on one child process), and checks that the suite's judge can fail.

The batch is the start of what ``make fuzz`` runs (same seed, same case
indices, fewer of them): every target gets cases, and none may find a defect.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.fuzz.runner import Settings, plan, run
from tests.fuzz.targets import Target, draw_cases, targets
from tests.fuzz.worker import judge, names_parameter, run_case

CI_CASES = 400


def test_ci_batch_finds_no_defect_on_any_target():
    summary = run(Settings(cases=CI_CASES, seconds=90.0, seed=0, workers=1))
    lines = [f"{d['outcome']} {d['target']}#{d['index']}: {d['detail']} -- {d['replay']}" for d in summary["defects"]]
    assert not lines, "\n".join(lines)
    assert set(summary["targets"]) == set(targets()), "every target ran"
    assert summary["cases"] >= 0.9 * summary["planned"], summary["wall_seconds"]
    assert summary["outcomes"]["ok"] > summary["cases"] / 3  # most cases are answered, not refused


def test_cases_are_deterministic_in_the_seed():
    first = draw_cases("attention", 7, 48, 53)
    again = draw_cases("attention", 7, 48, 53)
    assert [i for i, _ in first] == list(range(48, 53))
    for (_, a), (_, b) in zip(first, again):
        assert a.keys() == b.keys() and all(np.array_equal(np.asarray(a[k], dtype=object), np.asarray(b[k], dtype=object))
                                            for k in a if k != "mode")
    other = draw_cases("attention", 8, 48, 53)
    assert any(repr(x[1]) != repr(y[1]) for x, y in zip(first, other))


def test_plan_splits_cases_by_weight_into_chunks():
    jobs = plan(Settings(cases=1000))
    per = {}
    for name, _, start, stop in jobs:
        assert 0 < stop - start <= 50
        per[name] = per.get(name, 0) + stop - start
    assert set(per) == set(targets()) and abs(sum(per.values()) - 1000) < len(per)
    assert per["attention"] > per["CNF"]  # weight 3 against 1


def _target(run, check=lambda c, r: None, **kw) -> Target:
    return Target("probe", None, run, check, ("Q", "eps"), **kw)


@pytest.mark.parametrize(("run", "check", "outcome"), [
    (lambda c: np.ones(2), lambda c, r: None, "ok"),
    (lambda c: np.ones(2), lambda c, r: "off by one", "wrong"),
    (lambda c: np.array([np.nan]), lambda c, r: None, "nan-inf"),
    (lambda c: np.array([np.inf]), lambda c, r: None, "nan-inf"),
    (lambda c: [][1], lambda c, r: None, "crash"),
    (lambda c: np.ones(2), lambda c, r: {}["x"], "oracle-error"),
])
def test_judge_classifies_answers(run, check, outcome):
    assert judge(_target(run, check), {"mode": "valid"})[0] == outcome


def _raise(exc):
    def run(case):
        raise exc
    return run


def test_judge_classifies_errors():
    assert judge(_target(_raise(ValueError("Q must be finite"))), {})[0] == "error"
    assert judge(_target(_raise(TypeError("bad operand"))), {})[0] == "unclear-error"
    assert judge(_target(_raise(OSError("eps: no such file"))), {})[0] == "crash"  # OSError only for file readers
    assert judge(_target(_raise(OSError("eps: no such file")), oserror=True), {})[0] == "error"
    assert judge(_target(_raise(ValueError("Q must be finite")), must_answer=lambda c: True), {})[0] == "refused"
    assert judge(_target(_raise(MemoryError())), {})[0] == "memory"


def test_run_case_turns_a_hang_into_an_outcome(monkeypatch):
    def spin(case):
        end = time.monotonic() + 30
        while time.monotonic() < end:
            pass

    monkeypatch.setitem(targets(), "probe", _target(spin))
    start = time.monotonic()
    assert run_case("probe", {}, 0.3, 1.0, 2**30)[0] == "hang"
    assert time.monotonic() - start < 5


def test_a_parameter_is_named_as_a_word():
    assert names_parameter("Q must be finite", ("Q",))
    assert not names_parameter("Quota exceeded", ("Q",))
    assert names_parameter("max_seconds=2 exceeded", ("max_seconds",))


def _probe_cases():
    from hypothesis import strategies as st

    return st.fixed_dictionaries({"mode": st.just("valid"), "n": st.integers(0, 9)})


def _allocate(case):
    return np.ones(3 * 2**30 // 8)  # 3 GiB: above the child's 2 GiB address space


def _blocked_spin(case):
    import signal

    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])  # the timer cannot fire: the parent must kill
    end = time.monotonic() + 60
    while time.monotonic() < end:
        pass


@pytest.mark.parametrize(("run_probe", "outcome"), [(_allocate, "memory"), (_blocked_spin, "hang")])
def test_children_record_a_blow_up_or_a_hang_and_are_replaced(monkeypatch, run_probe, outcome):
    monkeypatch.setitem(targets(), "probe", Target("probe", _probe_cases(), run_probe, lambda c, r: None, ()))
    start = time.monotonic()
    summary = run(Settings(cases=3, seconds=60, workers=1, timeout=0.5, grace=1.0, only=("probe",)))
    assert summary["targets"]["probe"] == {outcome: 3}  # each case recorded, the child replaced each time
    assert [d["replay"] for d in summary["defects"]] == [f"python -m tests.fuzz --replay 'probe:0:{i}'" for i in range(3)]
    assert time.monotonic() - start < 30
