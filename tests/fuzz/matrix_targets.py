"""Fuzz targets of matrix attention: forward, VJP and training gradient, exact and fast, the exp approximation, the CLI.

Oracles: :func:`tests.fuzz.oracles.attention_reference` (mpmath softmax from
the definition) for every forward output, fast outputs within their own
certified ``error_bound`` of it; :func:`tests.fuzz.oracles.attention_vjp_reference`
for the exact VJP, the fast VJP within :func:`attention_vjp_error_bound`, and
the training gradient ``dL/dX = A1^T dQ`` (at ``dO = Att - E``) within
:func:`attention_loss_grad_error_bound` for the fast one;
mpmath ``exp`` at random points for :func:`exp_approximation`.
"""

from __future__ import annotations

import contextlib
import io
import math

import mpmath
import numpy as np
from hypothesis import strategies as st

from algorithms.attention import (
    attention,
    attention_error_bound,
    attention_fast,
    attention_loss_grad,
    attention_loss_grad_error_bound,
    attention_loss_grad_fast,
    attention_vjp,
    attention_vjp_error_bound,
    attention_vjp_fast,
    low_rank_attention,
)
from algorithms.error_bounds import rounding_output_error
from algorithms.polynomial_method import exp_approximation
from algorithms.polynomial_method.exp_approximation import chebyshev_truncation_error
from reductions.testing.strategies import block_sizes, hostile_floats, labelled
from tests.fuzz.oracles import as_float_matrix, attention_reference, attention_vjp_reference, mp_rows
from tests.fuzz.targets import MODES, Target, bound_param, eps_param, operands

__all__ = ["TARGETS", "qkv_cases", "check_shapes", "cli_check"]

_ARRAYS = ("Q", "K", "V")
_FAST_PARAMS = ("eps", "bound", "precision", "max_seconds", "max_memory")


@st.composite
def qkv_cases(draw, fast: bool = False, vjp: bool = False, max_n: int = 6) -> dict:
    """``Q (n x d), K (m x d), V (m x d_v)`` (and ``dO (n x d_v)``), with ``eps``/``bound`` for fast paths."""
    mode = draw(st.sampled_from(MODES))
    n, m, d, dv = (draw(st.integers(1, hi)) for hi in (max_n, max_n, 4, 3))
    shapes = {"Q": (n, d), "K": (m, d), "V": (m, dv)} | ({"dO": (n, dv)} if vjp else {})
    case = {"mode": mode, **draw(operands(shapes, mode, scale=draw(st.sampled_from([0.5, 1.0, 1.5]))))}
    if fast:
        case["eps"], case["bound"] = draw(eps_param(mode)), draw(bound_param(mode))
    else:
        case["block_size"] = draw(st.one_of(st.none(), labelled(block_sizes).map(lambda t: t[0]))
                                  if mode == "params" else st.one_of(st.none(), st.integers(1, 4)))
    return case


def check_shapes(case: dict, names=_ARRAYS, vjp: bool = False) -> list | str:
    """The float64 arrays of ``case`` if they form a valid input, else the reason they do not."""
    arrays = [as_float_matrix(case[k]) for k in names + (("dO",) if vjp else ())]
    if any(a is None for a in arrays):
        bad = names[[a is None for a in arrays].index(True)] if None in arrays[:len(names)] else "dO"
        return f"returned an answer for {bad} that is not a finite non-empty real matrix"
    return arrays


def _qkv_valid(case: dict, vjp: bool = False) -> str | tuple:
    arrays = check_shapes(case, vjp=vjp)
    if isinstance(arrays, str):
        return arrays
    Q, K, V = arrays[:3]
    if K.shape[1] != Q.shape[1] or V.shape[0] != K.shape[0] or (vjp and arrays[3].shape != (Q.shape[0], V.shape[1])):
        return f"returned an answer for mismatched shapes Q{Q.shape} K{K.shape} V{V.shape}"
    if "block_size" in case:
        b = case["block_size"]
        if b is not None and (isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1):
            return f"returned an answer for block_size={b!r}"
    return tuple(arrays)


def _reference(Q, K, V):
    return attention_reference(Q, mp_rows(K), V, 1.0 / Q.shape[1], Q.shape[1])


def _check_exact(case: dict, out) -> str | None:
    valid = _qkv_valid(case)
    return valid if isinstance(valid, str) else _reference(*valid).mismatch(out)


def _check_fast_output(case: dict, out, bound) -> str | None:
    valid = _qkv_valid(case)
    if isinstance(valid, str):
        return valid
    return _reference(*valid).mismatch(out, bound)


def _must_answer_exact(case: dict) -> bool:
    return case["mode"] in ("valid", "magnitude", "dtype") and not isinstance(_qkv_valid(case), str)


# ---------------------------------------------------------------------------- forward
def _run_fast_result(c):
    return attention(c["Q"], c["K"], c["V"], method="fast", eps=c["eps"], bound=c["bound"])


def _bound(P, V) -> np.ndarray:
    """(E1) plus the rounding of numerator and normaliser (a few ulps of ``max|V|``, docs/polynomial-method.md)."""
    vmax = np.max(np.abs(np.asarray(V, dtype=float)), axis=0)
    u = 2.0**-24 if P.dtype == "float32" else 2.0**-53
    return attention_error_bound(P.entry_error, V) + rounding_output_error(
        P.entry_error, P.approximation.sampled_error, vmax, u)


def _run_low_rank(c):
    P = low_rank_attention(c["Q"], c["K"], c["eps"], c["bound"])
    return P.apply(c["V"]), _bound(P, c["V"])


def _run_attention_fast(c):
    out = attention_fast(c["Q"], c["K"], c["V"], c["eps"], c["bound"])
    P = low_rank_attention(c["Q"], c["K"], c["eps"], c["bound"])  # the same certified operator: its bound
    return out, _bound(P, c["V"])


# ---------------------------------------------------------------------------- VJP
def _check_vjp(case: dict, out, bounds=None) -> str | None:
    valid = _qkv_valid(case, vjp=True)
    if isinstance(valid, str):
        return valid
    ref = attention_vjp_reference(*valid)
    for name, got, (value, tol), extra in zip(("dQ", "dK", "dV"), out, ref or [(None, None)] * 3,
                                              bounds or (0.0, 0.0, 0.0)):
        if np.shape(got) != np.shape(valid[("dQ", "dK", "dV").index(name)]):
            return f"{name} has shape {np.shape(got)}"
        if value is None:
            continue
        err = np.abs(np.asarray(got, dtype=float) - value)
        bad = err > tol + extra
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            return f"{name}{list(i)} = {got[i]!r}, reference {value[i]!r}, error {err[i]:.3g} > {(tol + extra)[i]:.3g}"
    return None


def _run_vjp_fast(c):
    grads = attention_vjp_fast(c["Q"], c["K"], c["V"], c["dO"], c["eps"], c["bound"])
    return grads, attention_vjp_error_bound(c["Q"], c["K"], c["V"], c["dO"], c["eps"], c["bound"])


# ---------------------------------------------------------------------------- the training gradient dL/dX
_LOSS = ("A1", "A2", "A3", "E", "X", "Y")


@st.composite
def _loss_cases(draw, fast: bool = False) -> dict:
    mode = draw(st.sampled_from(MODES))
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    shapes = {"A1": (n, d), "A2": (n, d), "A3": (n, d), "E": (n, d), "X": (d, d), "Y": (d, d)}
    case = {"mode": mode, **draw(operands(shapes, mode, scale=draw(st.sampled_from([0.5, 1.0]))))}
    if fast:
        case["eps"], case["bound"] = draw(eps_param(mode)), draw(bound_param(mode))
    return case


def _check_loss_grad(case: dict, G, bound=0.0) -> str | None:
    """``dL/dX = A1^T dQ`` with ``dQ`` the VJP of attention at ``(A1 X, A2, A3 Y)`` and ``dO = Att - E`` (AS24a C.7)."""
    arrays = check_shapes(case, _LOSS)
    if isinstance(arrays, str):
        return arrays
    A1, A2, A3, E, X, Y = arrays
    n, d = A1.shape
    if any(a.shape != (n, d) for a in (A2, A3, E)) or X.shape != (d, d) or Y.shape != (d, d):
        return "returned an answer for mismatched shapes " + " ".join(f"{k}{a.shape}" for k, a in zip(_LOSS, arrays))
    if np.shape(G) != (d, d):
        return f"dL/dX has shape {np.shape(G)}"
    with np.errstate(over="ignore", invalid="ignore"):
        Q, V = A1 @ X, A3 @ Y
    if not (np.all(np.isfinite(Q)) and np.all(np.isfinite(V))):
        return None  # A1 X or A3 Y overflows float64: no float64 reference, only the shape is checked
    out = _reference(Q, A2, V).value
    with np.errstate(over="ignore", invalid="ignore"):
        c = out - E
    ref = attention_vjp_reference(Q, A2, V, c) if np.all(np.isfinite(c)) else None
    if ref is None:
        return None
    (dQ, tol), _, _ = ref
    with np.errstate(over="ignore", invalid="ignore"):
        want = A1.T @ dQ
        tol = np.abs(A1).T @ (tol + 16 * 2.0**-53 * (d + 4) * np.abs(dQ)) + 8 * n * 2.0**-53 * (np.abs(A1).T @ np.abs(dQ))
    err = np.abs(np.asarray(G, dtype=float) - want)
    bad = err > tol + bound + 1e-300
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        return f"dL/dX{list(i)} = {G[i]!r}, reference {want[i]!r}, error {err[i]:.3g} > {(tol + bound)[i]:.3g}"
    return None


def _run_loss_grad_fast(c):
    args = [c[k] for k in _LOSS]
    return (attention_loss_grad_fast(*args, c["eps"], c["bound"]),
            attention_loss_grad_error_bound(*args, c["eps"], c["bound"]))


# ---------------------------------------------------------------------------- exp approximation
@st.composite
def _interval_cases(draw) -> dict:
    mode = draw(st.sampled_from(("valid", "valid", "params")))
    if mode == "params":
        return {"mode": mode, "lo": draw(hostile_floats()), "hi": draw(hostile_floats()),
                "eps": draw(eps_param("params"))}
    lo = draw(st.floats(-30, 30))
    return {"mode": mode, "lo": lo, "hi": lo + draw(st.floats(1e-6, 20)), "eps": draw(eps_param("valid"))}


def _check_exp(case: dict, P) -> str | None:
    lo, hi, eps = case["lo"], case["hi"], case["eps"]
    if not (isinstance(lo, float) and isinstance(hi, float) and math.isfinite(lo) and math.isfinite(hi) and lo < hi
            and isinstance(eps, float) and 0 < eps < 1):
        return f"returned an approximation for lo={lo!r}, hi={hi!r}, eps={eps!r}"
    xs = np.linspace(lo, hi, 61)
    with mpmath.workprec(128):
        worst = max(abs(mpmath.mpf(float(v)) / mpmath.exp(mpmath.mpf(float(x))) - 1) for x, v in zip(xs, P(xs)))
    if worst > eps * (1 + 1e-9):
        return f"relative error {float(worst):.3g} > eps={eps:g} on [{lo!r}, {hi!r}] (degree {P.degree})"
    return None


@st.composite
def _truncation_cases(draw) -> dict:
    if draw(st.booleans()):
        return {"mode": "valid", "half_width": draw(st.floats(1e-3, 700)), "degree": draw(st.integers(0, 200))}
    return {"mode": "params", "half_width": draw(hostile_floats() | st.sampled_from([True, "1", None])),
            "degree": draw(st.sampled_from([-1, 1.5, True, None, "3", 10**6]) | st.integers())}


def _check_truncation(case: dict, err) -> str | None:
    h, g = case["half_width"], case["degree"]
    if not (isinstance(h, float) and 0 < h <= 709 and isinstance(g, int) and not isinstance(g, bool) and g >= 0):
        return f"returned {err!r} for half_width={h!r}, degree={g!r}"
    if g > 10**4:
        return None
    with mpmath.workprec(int(h / math.log(2)) + 1200):  # e^h = I_0(h) + 2 sum_k I_k(h): the tail by difference
        ref = mpmath.exp(h) - mpmath.besseli(0, h) - 2 * mpmath.fsum(mpmath.besseli(k, h) for k in range(1, g + 1))
    if not abs(err - float(ref)) <= 1e-6 * float(ref) + 1e-300:
        return f"E_{g}({h!r}) = {err!r}, mpmath {float(ref)!r}"
    return None


# ---------------------------------------------------------------------------- the command line
@st.composite
def _cli_cases(draw) -> dict:
    flags = {"--n": st.integers(-2, 300).map(str) | st.sampled_from(["0", "1e3", "x", "", "10000000000"]),
             "--d": st.integers(-1, 8).map(str) | st.sampled_from(["40", "2.5"]),
             "--B": st.floats(0.05, 3).map(repr) | st.sampled_from(["0", "-1", "inf", "nan", "1e300", "5"]),
             "--eps": st.sampled_from(["1e-3", "1e-6", "0.5", "0", "1", "2", "nan", "-1e-9"]),
             "--seed": st.integers(-3, 2**64).map(str) | st.just("1.5"),
             "--max-seconds": st.sampled_from(["0", "-1", "1", "5", "inf", "x"]),
             "--max-memory": st.sampled_from(["0", "1", "1e9", "2147483648", "inf", "-5", "1 GiB"]),
             "--bogus": st.just("1")}
    chosen = draw(st.lists(st.sampled_from(sorted(flags)), unique=True, max_size=4))
    argv = []
    for flag in chosen:
        argv += [flag, draw(flags[flag])]
    if "--n" not in chosen:
        argv += ["--n", str(draw(st.integers(1, 300)))]
    return {"mode": "params", "argv": argv}


def run_cli(main, argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` in this process: ``(status, stdout, stderr)`` (argparse's ``SystemExit`` read as its status)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv, prog="fuzz")
        except SystemExit as exc:
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def cli_check(case: dict, result) -> str | None:
    """Exit 0 with output, or exit 2 with one line on stderr and no traceback (the tour may have printed stages)."""
    status, out, err = result
    if status == 0:
        return None if out else "exit 0 without output"
    if status != 2:
        return f"exit status {status!r}: {err.strip()[-200:]}"
    if "Traceback" in err or err.count("\n") != 1:
        return f"exit 2 but not one line on stderr: {err[-300:]!r}"
    return None


def _run_cli(c):
    from algorithms.__main__ import main
    return run_cli(main, c["argv"])


TARGETS = [
    Target("attention", qkv_cases(), lambda c: attention(c["Q"], c["K"], c["V"], block_size=c["block_size"]),
           _check_exact, _ARRAYS + ("block_size", "max_seconds", "max_memory"), weight=3,
           must_answer=_must_answer_exact),
    Target("attention[fast]", qkv_cases(fast=True), _run_fast_result,
           lambda c, r: _check_fast_output(c, r.output, r.error_bound), _ARRAYS + _FAST_PARAMS, weight=3),
    Target("attention_fast", qkv_cases(fast=True), _run_attention_fast,
           lambda c, r: _check_fast_output(c, *r), _ARRAYS + _FAST_PARAMS, weight=2),
    Target("low_rank_attention.apply", qkv_cases(fast=True), _run_low_rank,
           lambda c, r: _check_fast_output(c, *r), _ARRAYS + _FAST_PARAMS, weight=2),
    Target("attention_vjp", qkv_cases(vjp=True),
           lambda c: attention_vjp(c["Q"], c["K"], c["V"], c["dO"], block_size=c["block_size"]),
           _check_vjp, _ARRAYS + ("dO", "block_size", "max_seconds", "max_memory"), weight=2,
           must_answer=lambda c: c["mode"] in ("valid", "magnitude", "dtype") and not isinstance(
               _qkv_valid(c, vjp=True), str), infinite_ok=True),
    Target("attention_vjp_fast", qkv_cases(fast=True, vjp=True), _run_vjp_fast,
           lambda c, r: _check_vjp(c, r[0], r[1]), _ARRAYS + ("dO",) + _FAST_PARAMS, weight=2, infinite_ok=True),
    Target("attention_loss_grad", _loss_cases(), lambda c: attention_loss_grad(*(c[k] for k in _LOSS)),
           _check_loss_grad, _LOSS + ("A1 X", "A3 Y", "max_seconds", "max_memory"), infinite_ok=True),
    Target("attention_loss_grad_fast", _loss_cases(fast=True), _run_loss_grad_fast,
           lambda c, r: _check_loss_grad(c, *r), _LOSS + ("A1 X", "A3 Y") + _FAST_PARAMS, infinite_ok=True),
    Target("exp_approximation", _interval_cases(), lambda c: exp_approximation(c["lo"], c["hi"], c["eps"]),
           _check_exp, ("lo", "hi", "eps", "interval", "half-width", "float64")),
    Target("chebyshev_truncation_error", _truncation_cases(),
           lambda c: chebyshev_truncation_error(c["half_width"], c["degree"]), _check_truncation,
           ("half_width", "degree")),
    Target("cli:algorithms", _cli_cases(), _run_cli, cli_check, ()),
]
