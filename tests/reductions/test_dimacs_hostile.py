"""DIMACS on hostile input (issue 13, items 7-9): ASCII numbers only, writing that reads back, paths vs text."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reductions.cnf import CNF, DimacsError, count_models, models_mask, read_dimacs, solve, write_dimacs
from reductions.dimacs import MAX_INDEX


@st.composite
def any_cnf(draw):
    n = draw(st.integers(0, 40))
    if n == 0:
        return CNF(0, tuple(() for _ in range(draw(st.integers(0, 3)))))
    lit = st.integers(1, n).flatmap(lambda v: st.sampled_from([v, -v]))
    return CNF(n, tuple(draw(st.lists(st.lists(lit, max_size=6).map(tuple), max_size=10))))


comment_texts = st.text(max_size=30)  # any unicode: line breaks of every kind, NUL, surrogates excluded by hypothesis


@settings(max_examples=300, deadline=None)
@given(any_cnf(), st.one_of(comment_texts, st.lists(comment_texts, max_size=4)))
def test_write_then_read_is_the_identity_for_any_formula_and_comments(f, comments):
    assert read_dimacs(write_dimacs(f, comments)) == f


def test_comment_with_a_newline_and_a_single_string():
    f = CNF(2, [(1, -2)])
    assert write_dimacs(f, "hi").splitlines()[0] == "c hi"
    assert write_dimacs(f, ["a\nb", "x\x0cy\u2028z", ""]).splitlines()[:6] == ["c a", "c b", "c x", "c y", "c z", "c"]
    assert read_dimacs(write_dimacs(f, ["p cnf 9 9\n1 0"])) == f


@pytest.mark.parametrize("bad", ["p cnf 2 1\n1 0\n", (1, 2), None])
def test_write_refuses_what_is_not_a_cnf(bad):
    with pytest.raises(ValueError, match="cnf must be a CNF"):
        write_dimacs(bad)
    with pytest.raises(ValueError, match="comments"):
        write_dimacs(CNF(1, []), comments=[1])


@pytest.mark.parametrize("token", ["1_0", "\u0661", "\uff11", "+1", "1e0", "0x1", "\u00b9", "1\u0660"])
def test_only_ascii_integers_are_literals(token):
    with pytest.raises(DimacsError, match="integer literal") as err:
        read_dimacs(f"p cnf 20 1\n{token} 0\n")
    assert err.value.line == 2


@pytest.mark.parametrize("header", ["p cnf 1_0 1", "p cnf \u0663 1", "p cnf 3 \uff11", "p cnf +3 1",
                                    "p cnf 99999999999999999999 1", f"p cnf {MAX_INDEX + 1} 0", "p cnf 3 -1"])
def test_only_ascii_numbers_in_range_in_the_header(header):
    with pytest.raises(DimacsError, match="bad header") as err:
        read_dimacs(header + "\n")
    assert err.value.line == 1


def test_huge_literals_and_variable_counts():
    assert read_dimacs(f"p cnf {MAX_INDEX} 1\n-{MAX_INDEX} 0\n").clauses == ((-MAX_INDEX,),)
    with pytest.raises(DimacsError, match="out of range"):
        read_dimacs("p cnf 3 1\n" + "9" * 5000 + " 0\n")
    for n in (MAX_INDEX + 1, 10**20):
        with pytest.raises(ValueError, match="num_vars must be at most"):
            CNF(n, [(1,)])


def test_strings_that_are_not_text_are_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing"):
        read_dimacs("missing")
    with pytest.raises(IsADirectoryError, match=str(tmp_path)):
        read_dimacs(str(tmp_path))
    with pytest.raises(IsADirectoryError):
        read_dimacs(tmp_path)
    (tmp_path / "f").write_text("p cnf 1 1\n1 0\n")
    assert read_dimacs("f") == read_dimacs(tmp_path / "f") == CNF(1, [(1,)])
    # text: a line break, or a first token c / p
    assert read_dimacs("p cnf 0 0") == CNF(0, [])
    assert read_dimacs("  p cnf 1 0") == CNF(1, [])
    with pytest.raises(DimacsError, match="no 'p cnf V C' header"):
        read_dimacs("c just a comment")


def test_a_binary_file_is_named(tmp_path):
    path = tmp_path / "g.cnf"
    path.write_bytes(b"p cnf 1 1\n\xff\xfe\x00 0\n")
    with pytest.raises(DimacsError, match=r"g.cnf: not a DIMACS text file \(byte 0xff at offset 10"):
        read_dimacs(path)
    with pytest.raises(DimacsError, match="g.cnf"):
        read_dimacs(str(path))


# ----- brute force: refused before allocating, not a MemoryError ------------------------------------
@pytest.mark.parametrize("fn", [solve, count_models, models_mask])
def test_brute_force_refuses_huge_formulas_at_once(fn):
    with pytest.raises(ValueError, match="above 62"):
        fn(CNF(64, [(1,)]))
    with pytest.raises(ValueError, match="max_seconds|max_memory"):
        fn(CNF(45, [(1,)]))
    assert fn(CNF(3, [(1,)]), max_seconds=math.inf) is not None


def test_brute_force_budget_names_the_limit_and_can_be_raised():
    f = CNF(30, [(1, 2, 3)] * 100)
    with pytest.raises(ValueError, match=r"above the limit max_memory=2 GiB; to run it anyway raise it: max_memory="):
        models_mask(f)
    with pytest.raises(ValueError, match=r"above the limit max_seconds=60 s; to run it anyway raise it: max_seconds="):
        solve(CNF(34, [(1, 2, 3)] * 140))
    assert models_mask(f, 1, 8).all() and not models_mask(f, 0, 1).any()
    with pytest.raises(ValueError, match="start"):
        models_mask(f, 5, 2)
    assert np.array_equal(models_mask(CNF(2, [(1,)]), 1, 3), [True, False])
