"""decide_sat and the reductions CLI on oversized or unreadable input (issue 13, items 12 and 14)."""

import time

import numpy as np
import pytest

from algorithms import budget
from reductions.__main__ import main
from reductions.cnf import CNF, random_kcnf, write_dimacs
from reductions.pipeline import decide_sat
from reductions.sat_to_ov import sat_to_kov, sat_to_ov


@pytest.mark.parametrize("via", ["attention", "tensor_attention", "gradient"])
def test_decide_sat_on_40_variables_refuses_within_a_second_with_the_estimate(via):
    f = random_kcnf(40, 170, 3, seed=0)
    start = time.perf_counter()
    with pytest.raises(budget.BudgetExceeded) as err:
        decide_sat(f, via=via)
    assert time.perf_counter() - start < 1.0
    message = str(err.value)
    assert f"decide_sat via {via}: 40 variables, 170 clauses: estimated" in message
    assert "to run it anyway raise" in message


@pytest.mark.parametrize("cnf", [CNF(64, [(1,)]), CNF(2**31 - 1, [(1,)]), random_kcnf(34, 145, 3, seed=1)])
def test_huge_formulas_are_refused_not_allocated(cnf):
    calls = [lambda: decide_sat(cnf), lambda: decide_sat(cnf, algorithm="fast"),
             lambda: decide_sat(cnf, via="tensor_attention")]
    if cnf.num_vars > 100:  # 2^{n/k} lists of 34 (or 64, one clause) variables are cheap: only attention refuses
        calls += [lambda: sat_to_ov(cnf), lambda: sat_to_kov(cnf, 3)]
    for call in calls:
        start = time.perf_counter()
        with pytest.raises(budget.BudgetExceeded):
            call()
        assert time.perf_counter() - start < 1.0


def test_limits_are_arguments_and_reach_the_stages_inside():
    f = random_kcnf(12, 50, 3, seed=2)
    with pytest.raises(budget.BudgetExceeded, match="max_seconds=1e-09"):
        decide_sat(f, max_seconds=1e-9)
    sat, x, _ = decide_sat(f, max_seconds=100.0, progress=False)
    assert sat == (x is not None)
    with budget.limits(max_seconds=1e-9):  # the limit in force reaches sat_to_ov inside decide_sat too
        with pytest.raises(budget.BudgetExceeded):
            decide_sat(f, max_seconds=None)


def test_long_stages_show_a_progress_bar_that_can_be_switched_off(monkeypatch, capsys):
    monkeypatch.setattr(budget, "PROGRESS_DELAY", 0.0)
    f = random_kcnf(10, 40, 3, seed=3)
    decide_sat(f)
    assert "softmax" in capsys.readouterr().err
    decide_sat(f, progress=False)
    assert capsys.readouterr().err == ""


def test_sat_to_ov_prints_the_path_numpy_wrote(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.cnf").write_text(write_dimacs(CNF(2, [(1, 2)])))
    assert main(["sat-to-ov", "g.cnf", "-o", "outdir"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("wrote outdir.npz")
    assert set(np.load(tmp_path / "outdir.npz").files) >= {"A", "B"}
    assert main(["sat-to-ov", "g.cnf", "-o", "x.npz"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("wrote x.npz")


@pytest.mark.parametrize("command", [["decide"], ["sat-to-ov", "-o", "x"], ["tour"]])
def test_unreadable_files_are_one_line_naming_the_file(tmp_path, capsys, command):
    binary = tmp_path / "bin.cnf"
    binary.write_bytes(bytes(range(128, 256)))
    for target, fragment in ((binary, "bin.cnf: not a DIMACS text file"), (tmp_path, "is a directory"),
                             (tmp_path / "none", "no such DIMACS file")):
        args = command[:1] + [str(target)] + command[1:]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and fragment in err and "Traceback" not in err


def test_decide_refusal_on_the_command_line(tmp_path, capsys):
    p = tmp_path / "big.cnf"
    p.write_text(write_dimacs(random_kcnf(40, 170, 3, seed=0)))
    start = time.perf_counter()
    assert main(["decide", str(p)]) == 2
    assert time.perf_counter() - start < 2.0
    err = capsys.readouterr().err
    assert err.startswith("error: decide_sat via attention: 40 variables") and "rerun with --max-memory" in err
    assert err.count("\n") == 1
    for flag in ("--max-seconds", "--max-memory", "--eps"):
        with pytest.raises(SystemExit) as exit_:
            main(["decide", str(p), flag, "-1"])
        assert exit_.value.code == 2 and capsys.readouterr().err.count("\n") == 1
