"""The cost-estimate module (issue 13, item 12): refusals before the work, limits that can be raised, progress."""

import math
import time

import numpy as np
import pytest

from algorithms import budget
from algorithms.attention import attention
from algorithms.budget import BudgetExceeded, check_budget, current_limits, limits, with_limits
from algorithms.tensor_attention import tensor_attention


def test_defaults_and_the_message_names_the_limit_and_how_to_raise_it():
    assert current_limits() == (60.0, 2 * 1024**3)
    with pytest.raises(BudgetExceeded) as err:
        check_budget("a job", seconds=600.0, memory=1.0)
    e = err.value
    assert isinstance(e, ValueError) and e.parameter == "max_seconds" and e.limit == 60.0
    assert "a job: estimated 10 min and 1 B, above the limit max_seconds=60 s" in str(e)
    assert "max_seconds=1200" in str(e) and "BOUNDED_ENTRIES_MAX_SECONDS" in str(e)
    with pytest.raises(BudgetExceeded, match="limits max_memory=2 GiB and max_seconds=60 s; .* raise them") as err:
        check_budget("both", seconds=1e9, memory=1e12)
    assert err.value.exceeded == ["max_memory", "max_seconds"]
    with pytest.raises(BudgetExceeded, match="max_seconds=math.inf"):
        check_budget("forever", seconds=math.inf, memory=0)


def test_limits_raise_nest_and_reset():
    with limits(max_seconds=600, max_memory=math.inf):
        assert check_budget("x", 599.0, 1e30).seconds == 599.0
        with limits(max_seconds=1):
            assert current_limits() == (1.0, math.inf)
        assert current_limits() == (600.0, math.inf)
    assert current_limits() == (60.0, 2 * 1024**3)
    assert check_budget("x", 100.0, 0, max_seconds=200).seconds == 100.0
    for bad in (0, -1, float("nan"), "60", True):
        with pytest.raises(ValueError, match="max_seconds must be a positive number"):
            check_budget("x", 1.0, 0, max_seconds=bad)
        with pytest.raises(ValueError, match="max_memory must be a positive number"):
            with limits(max_memory=bad):
                pass


def test_environment_variables(monkeypatch):
    monkeypatch.setenv("BOUNDED_ENTRIES_MAX_SECONDS", "5")
    monkeypatch.setenv("BOUNDED_ENTRIES_MAX_MEMORY", "inf")
    assert current_limits() == (5.0, math.inf)
    with limits(max_seconds=10):
        assert current_limits() == (10.0, math.inf)
    monkeypatch.setenv("BOUNDED_ENTRIES_MAX_SECONDS", "soon")
    with pytest.raises(ValueError, match="BOUNDED_ENTRIES_MAX_SECONDS must be a positive number"):
        current_limits()


def test_with_limits_applies_the_arguments_inside_the_call():
    @with_limits
    def f(x, *, max_seconds=None, max_memory=None, progress=None):
        return current_limits()

    assert f(1) == (60.0, 2 * 1024**3)
    assert f(1, max_seconds=7.0) == (7.0, 2 * 1024**3)


def test_progress_shows_only_for_long_loops_and_can_be_switched_off(monkeypatch, capsys):
    monkeypatch.setattr(budget, "PROGRESS_DELAY", 0.0)
    list(budget.progress(range(3), desc="shown", enabled=True))
    assert "shown" in capsys.readouterr().err
    with limits(progress=False):
        list(budget.progress(range(3), desc="hidden"))
    monkeypatch.setenv("BOUNDED_ENTRIES_PROGRESS", "0")
    list(budget.progress(range(3), desc="hidden"))
    assert "hidden" not in capsys.readouterr().err
    monkeypatch.setattr(budget, "PROGRESS_DELAY", 3.0)
    monkeypatch.delenv("BOUNDED_ENTRIES_PROGRESS")
    list(budget.progress(range(3), desc="quick", enabled=True))  # done before the delay: no bar
    assert "quick" not in capsys.readouterr().err


def test_formatting_and_overflow_free_estimates():
    assert budget.format_seconds(90) == "90 s" and budget.format_seconds(7200) == "2 h"
    assert budget.format_bytes(512) == "512 B" and budget.format_bytes(3 * 1024**4) == "3 TiB"
    assert budget.pow2(10**20) == math.inf
    s, b = budget.decide_sat_cost(10**20, 1, 1, "attention")
    assert s == math.inf and b == math.inf
    s, b = budget.brute_force_sat_cost(10**6, 3)
    assert s == math.inf


def test_exact_attention_refuses_before_the_work():
    n = 10**6  # 10^12 logits: hours
    Q = np.zeros((n, 1))
    start = time.perf_counter()
    with pytest.raises(BudgetExceeded, match=r"exact attention, n = 1000000, m = 1000000, d = 1, d_v = 1: estimated"):
        attention(Q, Q, Q)
    with pytest.raises(BudgetExceeded, match="exact tensor attention, n = 5000"):
        X = np.zeros((5000, 1))
        tensor_attention(X, X, X, X, X)
    assert time.perf_counter() - start < 1.0
    with limits(max_seconds=math.inf, max_memory=math.inf):  # raised: the check passes (the work is not run here)
        assert check_budget("x", *budget.exact_attention_cost(n, n, 1, 1)).seconds > 3600
