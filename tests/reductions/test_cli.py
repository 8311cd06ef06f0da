"""python -m reductions: sat-to-ov writes the OV instance, decide answers like a SAT solver, tour runs."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reductions.__main__ import main
from reductions.cnf import (
    CNF,
    random_kcnf,
    read_dimacs,
    solve,
    unsatisfiable_kcnf,
    write_dimacs,
)
from reductions.sat_to_ov import sat_to_kov, sat_to_ov
from reductions.tour import BUILTIN_DIMACS


@pytest.fixture
def formula(tmp_path: Path) -> tuple[CNF, Path]:
    f = random_kcnf(7, 20, 3, seed=5)
    p = tmp_path / "f.cnf"
    p.write_text(write_dimacs(f, ["test formula"]))
    return f, p


def parse_solver_output(text: str) -> tuple[bool, dict[int, bool] | None]:
    status = [line for line in text.splitlines() if line.startswith("s ")]
    assert len(status) == 1
    v = [line for line in text.splitlines() if line.startswith("v ")]
    if status[0] == "s UNSATISFIABLE":
        assert not v
        return False, None
    assert status[0] == "s SATISFIABLE" and len(v) == 1 and v[0].endswith(" 0")
    lits = [int(t) for t in v[0].split()[1:-1]]
    return True, {abs(lit): lit > 0 for lit in lits}


def test_sat_to_ov_writes_the_instance(formula, tmp_path, capsys):
    f, p = formula
    out = tmp_path / "ov.npz"
    assert main(["sat-to-ov", str(p), "-o", str(out)]) == 0
    z = np.load(out)
    inst, _ = sat_to_ov(f)
    assert np.array_equal(z["A"], inst.A) and np.array_equal(z["B"], inst.B)
    assert (int(z["num_vars"]), int(z["num_clauses"])) == (7, 20)
    assert z["part_sizes"].tolist() == [4, 3]
    assert "A: 16 x 20, B: 8 x 20" in capsys.readouterr().out


def test_sat_to_ov_three_parts(formula, tmp_path):
    f, p = formula
    out = tmp_path / "3ov.npz"
    assert main(["sat-to-ov", str(p), "-k", "3", "-o", str(out)]) == 0
    z = np.load(out)
    inst, _ = sat_to_kov(f, 3)
    assert all(np.array_equal(z[f"X{t}"], inst.sets[t]) for t in range(3))


@pytest.mark.parametrize("via", ["attention", "tensor_attention", "gradient"])
def test_decide_answers_like_a_sat_solver(formula, via, capsys):
    f, p = formula
    assert main(["decide", str(p), "--via", via]) == 0
    out = capsys.readouterr().out
    sat, x = parse_solver_output(out)
    assert sat == (solve(f) is not None) and f.satisfies(x)
    assert f"c decide_sat via={via} algorithm=exact" in out


def test_decide_unsatisfiable_from_stdin(monkeypatch, capsys):
    g = unsatisfiable_kcnf(6, 16, 3, seed=1)
    monkeypatch.setattr(sys, "stdin", io.StringIO(write_dimacs(g)))
    assert main(["decide", "-"]) == 0
    assert parse_solver_output(capsys.readouterr().out) == (False, None)


def test_decide_fast_refusal_exits_2_with_the_reason(formula, capsys):
    _, p = formula
    assert main(["decide", str(p), "--algorithm", "fast"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: fast path refused") and "B=" in err


def test_malformed_dimacs_exits_2_naming_the_line(tmp_path, capsys):
    p = tmp_path / "bad.cnf"
    p.write_text("p cnf 2 1\n1 3 0\n")
    assert main(["decide", str(p)]) == 2
    assert "DIMACS line 2" in capsys.readouterr().err
    assert main(["sat-to-ov", str(tmp_path / "missing.cnf"), "-o", str(tmp_path / "x.npz")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_bad_arguments_are_rejected_by_argparse():
    with pytest.raises(SystemExit):
        main(["decide", "f.cnf", "--via", "softmax"])
    with pytest.raises(SystemExit):
        main(["sat-to-ov", "f.cnf"])  # -o is required


def test_tour_prints_the_chain_stage_by_stage(capsys):
    assert main(["tour", "--quick"]) == 0
    out = capsys.readouterr().out
    stages = ["Stage 0", "Stage 1: SAT -> OV", "Stage 2: OV -> attention", "Stage 3: exact attention",
              "Stage 4", "Stage 5", "tensor_attention", "gradient", "refused: fast path refused",
              "Cost of the chain against brute force", "log2-slope"]
    positions = [out.index(s) for s in stages]
    assert positions == sorted(positions)
    assert "satisfies: True" in out and "brute force agrees: SATISFIABLE" in out
    assert solve(read_dimacs(BUILTIN_DIMACS)) is not None


def test_tour_on_a_given_unsatisfiable_formula(tmp_path, capsys):
    p = tmp_path / "u.cnf"
    p.write_text(write_dimacs(unsatisfiable_kcnf(6, 12, 3, seed=0)))
    assert main(["tour", str(p), "--quick"]) == 0
    out = capsys.readouterr().out
    assert "no orthogonal pair: UNSATISFIABLE" in out and "brute force agrees: UNSATISFIABLE" in out


def test_module_entry_point_runs(formula):
    f, p = formula
    r = subprocess.run([sys.executable, "-m", "reductions", "decide", str(p)], capture_output=True, text=True)
    assert r.returncode == 0
    assert parse_solver_output(r.stdout)[0] == (solve(f) is not None)
