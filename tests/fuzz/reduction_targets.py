"""Fuzz targets of the reductions: DIMACS, CNF, SAT -> OV -> attention, the gap reductions, ``python -m reductions``.

Oracles: the required outcome of each DIMACS text (:func:`dimacs_cases`: the
formula, or a ``ValueError``), the round trip ``read(write(f)) == f``; brute
force over assignments (SAT), pairs (OV) and tuples (gap max-IP, Hamming,
3-max-IP) from :mod:`tests.fuzz.oracles`.  Every answer of a reduction is
checked against the brute-force answer of its source instance, and every
witness it returns is checked to be one.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
from hypothesis import strategies as st

from algorithms.attention import attention, attention_fast
from algorithms.tensor_attention import tensor_attention
from reductions.cnf import CNF, planted_kcnf, read_dimacs, write_dimacs
from reductions.gap import HammingGapInstance
from reductions.gap_to_attention import gap3_to_tensor_attention, gap_to_attention, hamming_to_attention
from reductions.ov import planted_ov
from reductions.ov_to_attention import ov_to_attention
from reductions.pipeline import decide_sat
from reductions.sat_to_ov import sat_to_ov
from reductions.testing.strategies import (
    cnfs,
    dimacs_cases,
    gap_instances,
    hostile_arrays,
    labelled,
    ov_instances,
    seeds,
)
from tests.fuzz.matrix_targets import cli_check, run_cli
from tests.fuzz.oracles import has_orthogonal_pair, max_inner_product, satisfiable, satisfies
from tests.fuzz.targets import Target

__all__ = ["TARGETS"]


# ---------------------------------------------------------------------------- DIMACS and CNF
def _check_read(case: dict, f) -> str | None:
    want = case["case"].formula
    if want is None:
        return f"accepted a text with the defect {case['case'].defect!r}"
    return None if f == want else f"read {f!r}, expected {want!r}"


@st.composite
def _path_cases(draw) -> dict:
    kind = draw(st.sampled_from(["file", "file", "missing", "directory", "long name", "binary"]))
    return {"mode": "valid" if kind == "file" else "params", "kind": kind, "case": draw(dimacs_cases()),
            "as_path": draw(st.booleans())}


def _run_read_path(c):
    """``read_dimacs`` on a file (``str`` or ``Path``): the DIMACS case written out, or a path that cannot be read."""
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = {"file": os.path.join(tmp, "f.cnf"), "missing": os.path.join(tmp, "no", "f.cnf"), "directory": tmp,
                "long name": os.path.join(tmp, "f" * 300), "binary": os.path.join(tmp, "b.cnf")}[c["kind"]]
        c["names"] = (path, repr(path), os.path.basename(path))
        if c["kind"] == "file":
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(c["case"].text)
        if c["kind"] == "binary":
            with open(path, "wb") as fh:
                fh.write(b"p cnf 1 1\n\xff\xfe 1 0\n")
        return read_dimacs(Path(path) if c["as_path"] else path)


def _check_read_path(case: dict, f) -> str | None:
    if case["kind"] != "file":
        return f"read {f!r} from a {case['kind']} path"
    return _check_read(case, f)


def _run_round_trip(c):
    f = c["cnf"]
    return read_dimacs(write_dimacs(f, c["comments"]))


@st.composite
def _cnf_args(draw) -> dict:
    if draw(st.booleans()):
        f = draw(cnfs(max_vars=8, max_clauses=6))
        return {"mode": "valid", "num_vars": f.num_vars, "clauses": [list(c) for c in f.clauses]}
    junk = st.sampled_from([0, -1, 2**31, 2**31 - 1, 1.5, True, None, "3", np.int64(3), np.uint8(200), 1e300])
    return {"mode": "params", "num_vars": draw(junk | st.integers(-5, 10)),
            "clauses": draw(st.lists(st.lists(junk | st.integers(-12, 12), max_size=3), max_size=3)
                            | st.sampled_from([None, 5, "1 2 0", [[1, 2]], [[0]]]))}


def _check_cnf(case: dict, f) -> str | None:
    n, clauses = case["num_vars"], case["clauses"]
    ok = (isinstance(n, (int, np.integer)) and not isinstance(n, bool) and 0 <= n <= 2**31 - 1
          and all(isinstance(lit, (int, np.integer)) and not isinstance(lit, bool) and lit != 0 and abs(lit) <= n
                  for c in clauses for lit in c))
    if not ok:
        return f"accepted num_vars={n!r}, clauses={clauses!r}"
    return None if f.clauses == tuple(tuple(int(v) for v in c) for c in clauses) else f"clauses became {f.clauses}"


# ---------------------------------------------------------------------------- generators
_SIZES = st.integers(-2, 9) | st.sampled_from([1.5, True, None, "3", np.int64(4), 2**70, 2**31 - 1, 10**6])


@st.composite
def _generator_cases(draw) -> dict:
    mode = draw(st.sampled_from(["valid", "params"]))
    if mode == "valid":
        n = draw(st.integers(1, 8))
        sizes = (n, draw(st.integers(0, 12)), draw(st.integers(1, n)))
        seed = draw(seeds())
    else:
        sizes = (draw(_SIZES), draw(_SIZES), draw(_SIZES))
        seed = draw(labelled(seeds).map(lambda t: t[0]))
    return {"mode": mode, "which": draw(st.sampled_from(["planted_kcnf", "planted_ov"])), "sizes": sizes,
            "seed": seed, "orthogonal": draw(st.booleans())}


def _run_generator(c):
    n, M, k = c["sizes"]
    if c["which"] == "planted_kcnf":
        return planted_kcnf(n, M, k, seed=c["seed"])
    return planted_ov(n, M, c["orthogonal"], seed=c["seed"])


def _check_generator(case: dict, result) -> str | None:
    n, M, k = case["sizes"]
    ints = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
               for v in ((n, M, k) if case["which"] == "planted_kcnf" else (n, M)))
    if case["which"] == "planted_kcnf":
        if not (ints and n >= 1 and M >= 0 and 1 <= k <= n):
            return f"returned a formula for num_vars={n!r}, num_clauses={M!r}, k={k!r}"
        f, x = result
        if (f.num_vars, f.num_clauses) != (n, M) or any(len(set(map(abs, c))) != k for c in f.clauses):
            return f"sizes {f.num_vars}, {f.num_clauses} or clause widths differ from {n}, {M}, k={k}"
        return None if f.satisfies(x) else "the planted assignment does not satisfy the formula"
    if not (ints and n >= 1 and M >= 1):
        return f"returned an instance for N={n!r}, m={M!r}"
    inst, pair = result
    if has_orthogonal_pair(inst.A, inst.B) != case["orthogonal"]:
        return f"orthogonal={case['orthogonal']} but the instance says otherwise"
    return None if pair is None or int(np.asarray(inst.A)[pair[0]] @ np.asarray(inst.B)[pair[1]]) == 0 else \
        f"the planted pair {pair} is not orthogonal"


# ---------------------------------------------------------------------------- SAT -> OV -> attention
@st.composite
def _decide_cases(draw) -> dict:
    via = draw(st.sampled_from(["attention", "tensor_attention", "gradient", "attention"]))
    algorithm = draw(st.sampled_from(["exact", "exact", "fast"]))
    return {"mode": "valid", "cnf": draw(cnfs(max_vars=8, max_clauses=10)), "via": via, "algorithm": algorithm,
            "eps": draw(st.sampled_from([1e-6, 1e-3, 0.1]))}


def _check_decide(case: dict, result) -> str | None:
    f = case["cnf"]
    sat, x, _ = result
    truth = satisfiable(f.num_vars, f.clauses)
    if sat != truth:
        return f"answered {sat} for a formula that is {'' if truth else 'un'}satisfiable"
    if sat and not satisfies(f.num_vars, f.clauses, [None] + [x[v] for v in range(1, f.num_vars + 1)]):
        return f"the assignment {x} does not satisfy the formula"
    return None


def _check_sat_to_ov(case: dict, result) -> str | None:
    f = case["cnf"]
    inst, decode = result
    truth = satisfiable(f.num_vars, f.clauses)
    if has_orthogonal_pair(inst.A, inst.B) != truth:
        return f"OV has {'no ' if truth else 'an '}orthogonal pair for a {'' if truth else 'un'}satisfiable formula"
    for i, a in enumerate(np.asarray(inst.A)):
        for j, b in enumerate(np.asarray(inst.B)):
            if not np.any(a.astype(bool) & b.astype(bool)):
                x = decode((i, j))
                if not satisfies(f.num_vars, f.clauses, [None] + [x[v] for v in range(1, f.num_vars + 1)]):
                    return f"decode({(i, j)}) = {x} does not satisfy the formula"
                return None
    return None


@st.composite
def _ov_cases(draw) -> dict:
    if draw(st.integers(0, 3)) == 0:
        return {"mode": "hostile", "A": draw(hostile_arrays()), "B": draw(hostile_arrays())}
    inst = draw(ov_instances(max_n=5, max_m=6))
    return {"mode": "valid", "A": inst.A, "B": inst.B}


def _run_ov(c):
    inst, decode = ov_to_attention(c["A"], c["B"])
    return decode(attention(inst.Q, inst.K, inst.V))


def _binary(X) -> np.ndarray | None:
    try:
        A = np.asarray(X)
    except (TypeError, ValueError):
        return None
    if A.ndim != 2 or A.dtype.kind not in "biuf" or not np.all(np.isin(A, (0, 1))):
        return None
    return A.astype(np.int64)


def _check_ov(case: dict, pair) -> str | None:
    A, B = _binary(case["A"]), _binary(case["B"])
    if A is None or B is None or A.shape[1] != B.shape[1] or A.shape[0] == 0 or B.shape[0] == 0:
        return "returned an answer for A, B that are not non-empty 0/1 matrices of one width"
    truth = has_orthogonal_pair(A, B)
    if (pair is not None) != truth:
        return f"decoded {pair} but an orthogonal pair {'exists' if truth else 'does not exist'}"
    if pair is not None and int(A[pair[0]] @ B[pair[1]]) != 0:
        return f"decoded {pair}, not orthogonal"
    return None


# ---------------------------------------------------------------------------- gap reductions
@st.composite
def _gap_cases(draw) -> dict:
    form = draw(st.sampled_from(["max-ip", "hamming", "tensor"]))
    margin = draw(st.sampled_from([4.0, 2.0, 1e3]) | st.sampled_from([1.0, 0.5, float("nan"), "4", -3.0, 1 + 1e-17]))
    return {"mode": "valid", "instance": draw(gap_instances(form=form, max_n=4, max_m=6)), "margin": margin,
            "algorithm": draw(st.sampled_from(["exact", "exact", "fast"])) if form == "max-ip" else "exact"}


def _run_gap(c):
    inst = c["instance"]
    if isinstance(inst, HammingGapInstance):
        ti, _ = hamming_to_attention(inst, margin=c["margin"])
        return ti.decide(attention(ti.Q, ti.K, ti.V))
    if hasattr(inst, "C"):
        ti, _ = gap3_to_tensor_attention(inst, margin=c["margin"])
        return ti.decide(tensor_attention(ti.Q, ti.K1, ti.K2, ti.V1, ti.V2))
    ti, decode = gap_to_attention(inst, margin=c["margin"])
    out = attention(ti.Q, ti.K, ti.V) if c["algorithm"] == "exact" else attention_fast(ti.Q, ti.K, ti.V, ti.eps)
    return ti.decide(out)


def _check_gap(case: dict, answer) -> str | None:
    inst, margin = case["instance"], case["margin"]
    if not (isinstance(margin, float) and margin > 1):
        return f"accepted margin={margin!r}"
    if isinstance(inst, HammingGapInstance):
        A, B = inst.A.astype(np.int64), inst.B.astype(np.int64)
        dist = int((A.sum(1)[:, None] + B.sum(1)[None, :] - 2 * A @ B.T).min())
        truth = dist <= inst.t_near
    else:
        sets = (inst.A, inst.B, inst.C) if hasattr(inst, "C") else (inst.A, inst.B)
        truth = max_inner_product(*sets) >= inst.t_hi
    return None if answer == truth else f"answered {answer}, brute force says {truth}"


# ---------------------------------------------------------------------------- the command line
@st.composite
def _cli_cases(draw) -> dict:
    command = draw(st.sampled_from(["decide", "decide", "sat-to-ov", "tour", "bogus"]))
    text = draw(st.one_of(dimacs_cases().map(lambda c: c.text), st.just("p cnf 3 2\n1 -2 0\n2 3 0\n")))
    argv = [command, draw(st.sampled_from(["FILE", "FILE", "FILE", "/nonexistent/f.cnf", "-", ""]))]
    if command == "tour":
        argv = [command] + (["FILE"] if draw(st.booleans()) else []) + ["--quick"]
    if command == "sat-to-ov":
        argv += ["-o", "OUT"] + draw(st.sampled_from([[], ["-k", "3"], ["-k", "1"], ["-k", "x"]]))
    if command == "decide":
        argv += draw(st.sampled_from([[], ["--via", "tensor_attention"], ["--via", "gradient"], ["--via", "nope"]]))
        argv += draw(st.sampled_from([[], ["--algorithm", "fast"], ["--eps", "0"], ["--eps", "1e-3"]]))
    argv += draw(st.sampled_from([[], ["--max-seconds", "0.001"], ["--max-memory", "10"], ["--max-seconds", "-1"]]))
    return {"mode": "params", "argv": argv, "text": text}


def _run_reductions_cli(c):
    from reductions.__main__ import main

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "f.cnf")
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(c["text"])
        argv = [path if a == "FILE" else os.path.join(tmp, "out") if a == "OUT" else a for a in c["argv"]]
        return run_cli(main, argv)


TARGETS = [
    Target("read_dimacs", dimacs_cases().map(lambda dc: {"mode": "valid" if dc.valid else "params", "case": dc}),
           lambda c: read_dimacs(c["case"].text), _check_read,
           ("text_or_path", "line", "header", "clause", "literal", "variable", "DIMACS", "p cnf", "number"),
           weight=2, oserror=True, must_answer=lambda c: c["case"].valid),
    Target("read_dimacs(path)", _path_cases(), _run_read_path, _check_read_path,
           ("text_or_path", "line", "header", "clause", "literal", "variable", "DIMACS", "p cnf", "number", "UTF-8"),
           oserror=True, must_answer=lambda c: c["kind"] == "file" and c["case"].valid),
    Target("write_dimacs+read_dimacs",
           st.fixed_dictionaries({"mode": st.just("valid"), "cnf": cnfs(max_vars=12, max_clauses=8),
                                  "comments": st.lists(st.text(max_size=8), max_size=2)}),
           _run_round_trip, lambda c, f: None if f == c["cnf"] else f"round trip gave {f!r}",
           ("comments", "cnf"), must_answer=lambda c: not any(
               ch in "".join(c["comments"]) for ch in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")),
    Target("CNF", _cnf_args(), lambda c: CNF(c["num_vars"], c["clauses"]), _check_cnf,
           ("num_vars", "clauses", "literal")),
    Target("planted_kcnf/planted_ov", _generator_cases(), _run_generator, _check_generator,
           ("num_vars", "num_clauses", "k", "N", "m", "p", "rng", "seed", "max_seconds", "max_memory")),
    Target("decide_sat", _decide_cases(),
           lambda c: decide_sat(c["cnf"], c["via"], c["algorithm"], eps=c["eps"], progress=False), _check_decide,
           ("eps", "max_rank", "max_seconds", "max_memory", "B", "rank", "fast"), weight=2),
    Target("sat_to_ov", st.fixed_dictionaries({"mode": st.just("valid"), "cnf": cnfs(max_vars=8, max_clauses=8)}),
           lambda c: sat_to_ov(c["cnf"]), _check_sat_to_ov, ("cnf", "max_seconds", "max_memory")),
    Target("ov_to_attention", _ov_cases(), _run_ov, _check_ov, ("A", "B")),
    Target("gap_to_attention", _gap_cases(), _run_gap, _check_gap,
           ("margin", "t_lo", "t_hi", "t_near", "t_far", "beta", "eps", "bound", "float64"), weight=2),
    Target("cli:reductions", _cli_cases(), _run_reductions_cli, cli_check, ()),
]
