"""CNF, DIMACS and brute-force SAT: round trips, every malformed-input error, solver correctness."""

from __future__ import annotations

import doctest
import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reductions.cnf
from reductions.cnf import (
    CNF,
    DimacsError,
    count_models,
    planted_kcnf,
    random_kcnf,
    read_dimacs,
    solve,
    unsatisfiable_kcnf,
    write_dimacs,
)


def reference_models(f: CNF) -> list[dict[int, bool]]:
    """Independent brute force: itertools over all assignments, pure Python."""
    out = []
    for values in itertools.product([False, True], repeat=f.num_vars):
        x = {v + 1: b for v, b in enumerate(values)}
        if all(any(x[abs(lit)] == (lit > 0) for lit in c) for c in f.clauses):
            out.append(x)
    return out


@st.composite
def cnfs(draw, max_vars: int = 8, max_clauses: int = 12) -> CNF:
    n = draw(st.integers(1, max_vars))
    lit = st.integers(1, n).flatmap(lambda v: st.sampled_from([v, -v]))
    clauses = draw(st.lists(st.lists(lit, min_size=1, max_size=4).map(tuple), max_size=max_clauses))
    return CNF(n, tuple(clauses))


def test_docstring_examples_run():
    assert doctest.testmod(reductions.cnf).failed == 0


# ----- DIMACS round trip --------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(cnfs(), st.lists(st.text(alphabet="abc xyz0123", max_size=10), max_size=3))
def test_dimacs_round_trip(f, comments):
    assert read_dimacs(write_dimacs(f, comments)) == f


@settings(max_examples=150, deadline=None)
@given(cnfs(), st.randoms(use_true_random=False))
def test_dimacs_reads_clauses_split_across_lines(f, rnd):
    """Any re-wrapping of the literal stream (clauses across lines, several per line) parses the same."""
    tokens = [str(t) for c in f.clauses for t in (*c, 0)]
    lines, cur = [], []
    for t in tokens:
        cur.append(t)
        if rnd.random() < 0.3:
            lines.append(" " * rnd.randint(0, 2) + "  ".join(cur))
            cur = []
    lines.append(" ".join(cur))
    text = "c header next\n" + f"p cnf {f.num_vars} {f.num_clauses}\n" + "\nc mid\n".join(lines) + "\n"
    assert read_dimacs(text) == f


def test_dimacs_satlib_percent_terminator_and_empty_clause():
    assert read_dimacs("p cnf 2 1\n1 -2 0\n%\n0\n") == CNF(2, ((1, -2),))
    f = read_dimacs("p cnf 1 1\n0\n")
    assert f.clauses == ((),) and solve(f) is None


def test_dimacs_reads_a_path_and_a_path_string(tmp_path: Path):
    f = random_kcnf(6, 10, 3, seed=3)
    p = tmp_path / "f.cnf"
    p.write_text(write_dimacs(f))
    assert read_dimacs(p) == f
    assert read_dimacs(str(p)) == f


def test_missing_files_and_wrong_types_are_reported(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        read_dimacs(tmp_path / "missing.cnf")
    with pytest.raises(FileNotFoundError, match="no such DIMACS file"):
        read_dimacs(str(tmp_path / "missing.cnf"))
    with pytest.raises(ValueError, match="text_or_path must be a str or a path"):
        read_dimacs(b"p cnf 1 1\n1 0\n")


# ----- malformed DIMACS: every error names its line ----------------------------------

GOOD = "c comment\np cnf 3 2\n1 -2 0\n2 3 0\n"


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("c x\np cnf 3\n1 0\n", 2, "bad header"),
        ("p dnf 3 1\n1 0\n", 1, "bad header"),
        ("p cnf three 1\n1 0\n", 1, "must be integers"),
        ("p cnf -1 0\n", 1, "non-negative"),
        ("1 2 0\np cnf 2 1\n", 1, "before the 'p cnf V C' header"),
        ("p cnf 2 1\np cnf 2 1\n1 0\n", 2, "second header"),
        ("c only comments\n", 1, "no 'p cnf V C' header"),
        ("p cnf 3 2\n1 -2 0\n2 x 0\n", 3, "integer literal"),
        ("p cnf 3 2\n1 -2 0\n2 1.5 0\n", 3, "integer literal"),
        ("p cnf 3 2\n1 -2 0\n\n2 4 0\n", 4, "out of range"),
        ("p cnf 3 2\n1 -2 0\n-7 0\n", 3, "out of range"),
        ("c\np cnf 3 3\n1 -2 0\n2 3 0\n", 2, "declares 3 clauses, found 2"),
        ("p cnf 3 1\n1 -2 0\n2 3 0\n", 1, "declares 1 clauses, found 2"),
        ("p cnf 3 2\n1 -2 0\n2\n3\n", 3, "missing its final 0"),
    ],
)
def test_malformed_dimacs_raises_dimacs_error_naming_the_line(text, line, fragment):
    with pytest.raises(DimacsError, match=fragment) as info:
        read_dimacs(text)
    assert info.value.line == line
    assert f"line {line}" in str(info.value)
    assert isinstance(info.value, ValueError)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 5),
    st.lists(st.text(alphabet="pcnf0123456789-x. ", min_size=1, max_size=6).filter(lambda t: t.strip()), max_size=5),
)
def test_any_bad_header_is_reported_on_its_line(comments, tokens):
    header = " ".join(["p", *tokens])
    parts = header.split()
    well_formed = len(parts) == 4 and parts[1] == "cnf" and all(_is_int(t) and int(t) >= 0 for t in parts[2:])
    text = "c\n" * comments + header + "\n"
    if well_formed:
        return
    with pytest.raises(DimacsError, match="bad header") as info:
        read_dimacs(text)
    assert info.value.line == comments + 1


@settings(max_examples=150, deadline=None)
@given(cnfs(max_clauses=8).filter(lambda f: f.num_clauses > 0), st.data())
def test_out_of_range_literal_is_reported_on_its_line(f, data):
    lines = write_dimacs(f).splitlines()  # line 1 is the header, clause c is on line c + 2
    c = data.draw(st.integers(0, f.num_clauses - 1))
    bad = data.draw(st.integers(f.num_vars + 1, 10**6)) * data.draw(st.sampled_from([1, -1]))
    lines[c + 1] = f"{bad} " + lines[c + 1]
    with pytest.raises(DimacsError, match="out of range") as info:
        read_dimacs("\n".join(lines))
    assert info.value.line == c + 2


@settings(max_examples=150, deadline=None)
@given(cnfs(max_clauses=8).filter(lambda f: f.num_clauses > 0), st.data())
def test_non_integer_token_is_reported_on_its_line(f, data):
    lines = write_dimacs(f).splitlines()
    c = data.draw(st.integers(0, f.num_clauses - 1))
    junk = data.draw(st.text(alphabet="abxyz.-+e", min_size=1, max_size=4).filter(lambda s: not _is_int(s)))
    lines[c + 1] = junk + " " + lines[c + 1]
    with pytest.raises(DimacsError, match="integer literal") as info:
        read_dimacs("\n".join(lines))
    assert info.value.line == c + 2


def _is_int(s: str) -> bool:
    try:
        int(s)
    except ValueError:
        return False
    return True


@settings(max_examples=100, deadline=None)
@given(cnfs(), st.integers(-3, 3).filter(lambda x: x != 0))
def test_clause_count_mismatch_is_reported_at_the_header(f, delta):
    declared = f.num_clauses + delta
    if declared < 0:
        return
    text = "c x\n" + write_dimacs(f).replace(f"p cnf {f.num_vars} {f.num_clauses}", f"p cnf {f.num_vars} {declared}")
    with pytest.raises(DimacsError, match="declares") as info:
        read_dimacs(text)
    assert info.value.line == 2


@settings(max_examples=100, deadline=None)
@given(cnfs(max_clauses=8).filter(lambda f: f.num_clauses > 0 and len(f.clauses[-1]) > 0))
def test_missing_final_zero_is_reported_at_the_last_clause(f):
    text = write_dimacs(f)
    assert text.endswith(" 0\n")
    with pytest.raises(DimacsError, match="final 0") as info:
        read_dimacs(text[: -len(" 0\n")] + "\n")
    assert info.value.line == f.num_clauses + 1


# ----- the CNF value type ---------------------------------------------------------------


@pytest.mark.parametrize(
    "num_vars, clauses, fragment",
    [
        (-1, (), "num_vars must be >= 0"),
        (2.0, (), "num_vars must be an integer"),
        (2, ((1, 0),), "non-zero"),
        (2, ((3,),), "num_vars = 2"),
        (2, (("1",),), "non-integer"),
        (2, ((1.0,),), "non-integer"),
    ],
)
def test_cnf_rejects_bad_literals(num_vars, clauses, fragment):
    with pytest.raises(ValueError, match=fragment):
        CNF(num_vars, clauses)


def test_satisfies_needs_every_variable():
    with pytest.raises(ValueError, match="misses variable"):
        CNF(2, ((1, 2),)).satisfies({1: True})


# ----- generators -----------------------------------------------------------------------


@pytest.mark.parametrize("k", [3, 4])
def test_random_kcnf_has_k_distinct_variables_per_clause(k):
    f = random_kcnf(9, 40, k, seed=k)
    assert f.num_vars == 9 and f.num_clauses == 40
    assert all(len({abs(lit) for lit in c}) == k for c in f.clauses)
    assert f == random_kcnf(9, 40, k, seed=k)  # reproducible


def test_random_kcnf_signs_are_balanced():
    f = random_kcnf(20, 2000, 3, seed=0)
    positive = sum(lit > 0 for c in f.clauses for lit in c) / 6000
    assert 0.45 < positive < 0.55


@pytest.mark.parametrize("seed", range(20))
def test_planted_kcnf_is_satisfied_by_its_hidden_assignment(seed):
    f, x = planted_kcnf(10, 60, 3 + seed % 2, seed=seed)
    assert f.num_clauses == 60 and f.satisfies(x)


@pytest.mark.parametrize("seed", range(20))
def test_unsatisfiable_kcnf_has_no_model(seed):
    f = unsatisfiable_kcnf(9, 30, 3 + seed % 2, seed=seed)
    assert f.num_clauses == 30 and reference_models(f) == []


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: random_kcnf(0, 3, 1), "num_vars"),
        (lambda: random_kcnf(3, -1, 2), "num_clauses"),
        (lambda: random_kcnf(3, 5, 4), "k must lie"),
        (lambda: planted_kcnf(3, 5, 0), "k must lie"),
        (lambda: unsatisfiable_kcnf(5, 7, 3), "2\\*\\*k = 8"),
    ],
)
def test_generators_reject_bad_sizes(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()


# ----- brute-force solver -----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(cnfs())
def test_solve_and_count_agree_with_itertools(f):
    models = reference_models(f)
    x = solve(f)
    assert (x is None) == (not models)
    if x is not None:
        def as_int(y):
            return sum(int(b) << (v - 1) for v, b in y.items())

        assert f.satisfies(x) and as_int(x) == min(map(as_int, models))  # the smallest model as an integer
    assert count_models(f) == len(models)


def test_solver_crosses_chunk_boundaries():
    """n = 17 spans two chunks of 2^16 assignments; the only models set x17."""
    f = CNF(17, ((17,), (-16, 17)))
    assert count_models(f) == 2**16
    x = solve(f)
    assert x[17] and not any(x[v] for v in range(1, 17))


@pytest.mark.parametrize("clauses", [5, None, "1 2 0", [[1, 2], 3]])
def test_clauses_that_are_not_sequences_are_a_value_error_naming_clauses(clauses):
    """``CNF(3, 5)`` used to raise ``TypeError: 'int' object is not iterable`` (found by the fuzz suite)."""
    with pytest.raises(ValueError, match=r"clauses(\[1\])? must be a sequence"):
        CNF(3, clauses)


@pytest.mark.parametrize(("args", "fragment"), [
    ((None, 3, 2), "num_vars must be a positive integer, got None"),
    (("3", 3, 2), "num_vars must be a positive integer, got '3'"),
    ((3, 2.0, 2), "num_clauses must be an integer >= 0"),
    ((3, 3, "2"), "k must lie in 1..num_vars=3"),
    ((2**70, 1, 1), "num_vars must be at most 2^31 - 1"),
    ((2**31 - 1, 3, 3), "above the limit"),  # 2^31 random keys per clause: refused before allocating 144 GiB
])
def test_generators_refuse_non_integer_and_huge_sizes(args, fragment):
    """Found by the fuzz suite: ``None`` or ``"3"`` raised ``TypeError``, ``2**31 - 1`` variables a ``MemoryError``."""
    with pytest.raises(ValueError, match=re.escape(fragment)):
        planted_kcnf(*args, seed=0)


def test_a_million_clauses_are_estimated_before_they_are_built():
    """``planted_kcnf(9, 10**6, 4)`` ran 3-10 s inside a 2 s limit: the estimate now counts the literals (fuzz)."""
    from algorithms.budget import BudgetExceeded, limits

    with limits(max_seconds=2), pytest.raises(BudgetExceeded, match="max_seconds"):
        planted_kcnf(9, 10**6, 4, seed=0)
