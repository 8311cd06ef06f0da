"""Fuzz targets of the other mechanisms: tensor attention (forward, VJP), poly-attention, the transformer.

Oracles: the mpmath softmax of :mod:`tests.fuzz.oracles` over the keys
``K1[j1] ∘ K2[j2]`` (tensor), over all tuples ``(l_2, ..., l_t)`` with the
logit ``h`` (poly-attention, Def. 2.2 of Chakrabarti, Pitassi & Alman), over
the keys ``j <= i`` (a causal head); the tensor VJP against the matrix VJP
reference on ``(Q, K1 ⊘ K2, V1 ⊘ V2)`` pulled back to ``K1, K2, V1, V2``.
The transformer network has no independent oracle here: its outputs must be
finite and of the right shape.
"""

from __future__ import annotations

import itertools

import mpmath
import numpy as np
from hypothesis import strategies as st

from algorithms.poly_attention import AttentionPolynomial, poly_attention_bruteforce, poly_attention_exact
from algorithms.poly_attention.fast import poly_attention_fast
from algorithms.tensor_attention import (
    tensor_attention,
    tensor_attention_vjp,
    tensor_attention_vjp_error_bound,
    tensor_attention_vjp_fast,
)
from algorithms.transformer.head import head_forward
from algorithms.transformer.model import TransformerConfig, init_params
from algorithms.transformer.network import forward
from tests.fuzz.matrix_targets import check_shapes
from tests.fuzz.oracles import (
    as_float_matrix,
    attention_vjp_reference,
    column_kron_keys,
    mp_rows,
    softmax_reference,
)
from tests.fuzz.targets import MODES, Target, bound_param, eps_param, operands

__all__ = ["TARGETS"]

_TENSOR = ("Q", "K1", "K2", "V1", "V2")
_FAST = ("eps", "bound", "precision", "max_seconds", "max_memory")


# ---------------------------------------------------------------------------- tensor attention
@st.composite
def _tensor_cases(draw, fast: bool = False, vjp: bool = False) -> dict:
    mode = draw(st.sampled_from(MODES))
    n, n1, n2, d, dv = (draw(st.integers(1, hi)) for hi in (4, 4, 4, 3, 2))
    shapes = {"Q": (n, d), "K1": (n1, d), "K2": (n2, d), "V1": (n1, dv), "V2": (n2, dv)}
    shapes |= {"dO": (n, dv)} if vjp else {}
    case = {"mode": mode, **draw(operands(shapes, mode, scale=draw(st.sampled_from([0.5, 1.0]))))}
    if fast:
        case["eps"], case["bound"] = draw(eps_param(mode)), draw(bound_param(mode))
    return case


def _tensor_valid(case: dict, vjp: bool = False):
    arrays = check_shapes(case, _TENSOR, vjp=vjp)
    if isinstance(arrays, str):
        return arrays
    Q, K1, K2, V1, V2 = arrays[:5]
    d, dv = Q.shape[1], V1.shape[1]
    if (K1.shape[1], K2.shape[1], V2.shape[1], V1.shape[0], V2.shape[0]) != (d, d, dv, K1.shape[0], K2.shape[0]):
        return "returned an answer for mismatched shapes " + " ".join(f"{k}{a.shape}" for k, a in zip(_TENSOR, arrays))
    if vjp and arrays[5].shape != (Q.shape[0], dv):
        return f"returned an answer for dO of shape {arrays[5].shape}"
    return arrays


def _check_tensor(case: dict, out, bound=0.0) -> str | None:
    valid = _tensor_valid(case)
    if isinstance(valid, str):
        return valid
    Q, K1, K2, V1, V2 = valid
    ref_keys, ref_vals = column_kron_keys(K1, K2), column_kron_keys(V1, V2)
    with mpmath.workprec(256):
        Qm = mp_rows(Q)
        logits = [[mpmath.fsum(a * b for a, b in zip(q, k)) / Q.shape[1] for k in ref_keys] for q in Qm]
        mags = [[mpmath.fsum(abs(a * b) for a, b in zip(q, k)) / Q.shape[1] for k in ref_keys] for q in Qm]
    with np.errstate(over="ignore"):
        amplify = 1 + float(np.max(np.abs(V1))) + float(np.max(np.abs(V2)))
    return softmax_reference(logits, mags, ref_vals, 2 * Q.shape[1], amplify).mismatch(out, bound)


def _kron_rows(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.einsum("al,bl->abl", A, B).reshape(A.shape[0] * B.shape[0], A.shape[1])


def _check_tensor_vjp(case: dict, grads, bounds=None) -> str | None:
    valid = _tensor_valid(case, vjp=True)
    if isinstance(valid, str):
        return valid
    Q, K1, K2, V1, V2, dO = valid
    for name, g, a in zip(("dQ", "dK1", "dK2", "dV1", "dV2"), grads, valid):
        if np.shape(g) != a.shape:
            return f"{name} has shape {np.shape(g)}, expected {a.shape}"
    with np.errstate(over="ignore", invalid="ignore"):
        K, V = _kron_rows(K1, K2), _kron_rows(V1, V2)
    if not (np.all(np.isfinite(K)) and np.all(np.isfinite(V))):
        return None  # no float64 reference: only shapes and finiteness are checked
    ref = attention_vjp_reference(Q, K, V, dO)
    if ref is None:
        return None
    (dQ, tQ), (dK, tK), (dV, tV) = ref
    n1, n2 = K1.shape[0], K2.shape[0]
    dKr, tKr, dVr, tVr = (X.reshape(n1, n2, -1) for X in (dK, tK, dV, tV))
    expect = [(dQ, tQ), (np.einsum("abl,bl->al", dKr, K2), np.einsum("abl,bl->al", tKr, np.abs(K2))),
              (np.einsum("abl,al->bl", dKr, K1), np.einsum("abl,al->bl", tKr, np.abs(K1))),
              (np.einsum("abl,bl->al", dVr, V2), np.einsum("abl,bl->al", tVr, np.abs(V2))),
              (np.einsum("abl,al->bl", dVr, V1), np.einsum("abl,al->bl", tVr, np.abs(V1)))]
    top = {k: float(np.max(np.abs(X))) for k, X in zip(("Q", "K1", "K2", "V1", "V2", "dO"), valid)}
    count = 16 * (Q.shape[0] + 1) * (n1 + 1) * (n2 + 1) * (V1.shape[1] + 1) * 2.0**-1074
    # float64 underflow: a subnormal intermediate (K1 ∘ K2, dO ∘ V1, a weight ...) is off by 2^-1074, times
    # every factor it is multiplied by afterwards: the product of (1 + max|X|) over the gradient's factors
    factors = {"dQ": ("dO", "V1", "V2", "K1", "K2"), "dK1": ("dO", "V1", "V2", "Q", "K2"),
               "dK2": ("dO", "V1", "V2", "Q", "K1"), "dV1": ("dO", "V2"), "dV2": ("dO", "V1")}
    with np.errstate(over="ignore"):
        floors = [count * float(np.prod([1 + top[k] for k in factors[g]])) for g in factors]
    for name, g, (value, tol), extra, floor in zip(("dQ", "dK1", "dK2", "dV1", "dV2"), grads, expect,
                                                   bounds or [0.0] * 5, floors):
        err = np.abs(np.asarray(g, dtype=float) - value)
        slack = 64 * 2.0**-53 * np.abs(value) + floor  # the pull-back's own rounding
        bad = err > tol + extra + slack
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            return f"{name}{list(i)} = {g[i]!r}, reference {value[i]!r}, error {err[i]:.3g}"
    return None


def _run_tensor_vjp_fast(c):
    args = [c[k] for k in _TENSOR + ("dO",)]
    return (tensor_attention_vjp_fast(*args, c["eps"], c["bound"]),
            tensor_attention_vjp_error_bound(*args, c["eps"], c["bound"]))


# ---------------------------------------------------------------------------- poly-attention
@st.composite
def _polynomials(draw) -> str:
    t = draw(st.integers(2, 4))
    candidates = [m for size in (2, 3) for m in itertools.combinations(range(1, t + 1), size)]
    monos = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=4, unique=True))
    used = set(itertools.chain.from_iterable(monos))
    for v in range(1, t + 1):  # every variable used, x1 in some monomial
        if v not in used or (v == 1 and 1 not in used):
            monos.append((1, v) if v != 1 else (1, 2))
            used |= set(monos[-1])
    return " + ".join("".join(f"x{v}" for v in m) for m in dict.fromkeys(monos))


@st.composite
def _poly_cases(draw, fast: bool = False) -> dict:
    mode = draw(st.sampled_from(MODES))
    h = draw(_polynomials())
    t = AttentionPolynomial.parse(h).t
    n, d, dv = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    shapes = {f"X{j}": (n, d) for j in range(1, t + 1)} | {f"V{j}": (n, dv) for j in range(2, t + 1)}
    case = {"mode": mode, "h": h, **draw(operands(shapes, mode, scale=draw(st.sampled_from([0.5, 1.0]))))}
    if fast:
        case["eps"], case["bound"] = draw(eps_param(mode)), draw(bound_param(mode))
    return case


def _poly_args(c):
    h = AttentionPolynomial.parse(c["h"])
    return h, [c[f"X{j}"] for j in range(1, h.t + 1)], [c[f"V{j}"] for j in range(2, h.t + 1)]


def _check_poly(case: dict, out, bound=0.0) -> str | None:
    h, Xs, Vs = _poly_args(case)
    Xs, Vs = [as_float_matrix(X) for X in Xs], [as_float_matrix(V) for V in Vs]
    if any(a is None for a in Xs + Vs) or len({a.shape[0] for a in Xs + Vs}) != 1 or len(
            {a.shape[1] for a in Xs}) != 1 or len({a.shape[1] for a in Vs}) != 1:
        return "returned an answer for malformed or mismatched Xs/Vs"
    n, d = Xs[0].shape
    with mpmath.workprec(256):
        X, V = [mp_rows(A) for A in Xs], [mp_rows(A) for A in Vs]
        tuples = list(itertools.product(range(n), repeat=h.t - 1))
        logits, mags, values = [], [], []
        for i in range(n):
            row, mag = [], []
            for tup in tuples:
                pos = (i, *tup)
                terms = [[X[a - 1][pos[a - 1]][lc] for a in mono] for mono in h.monomials for lc in range(d)]
                row.append(mpmath.fsum(mpmath.fprod(t) for t in terms) / d)
                mag.append(mpmath.fsum(abs(mpmath.fprod(t)) for t in terms) / d)
            logits.append(row)
            mags.append(mag)
        for tup in tuples:
            values.append([mpmath.fprod(V[j][tup[j]][c] for j in range(h.t - 1)) for c in range(Vs[0].shape[1])])
    with np.errstate(over="ignore"):
        amplify = float(np.prod([1 + float(np.max(np.abs(V))) for V in Vs]))
    return softmax_reference(logits, mags, values, (h.degree + 1) * d * len(h.monomials), amplify).mismatch(out, bound)


@st.composite
def _parse_cases(draw) -> dict:
    text = draw(st.one_of(_polynomials(), st.text(alphabet="x0123456789+* ", max_size=20),
                          st.text(max_size=12), st.sampled_from(["", "x1", "x1x1", "x2x3", "x1x2+x1x2", "x1x01",
                                                                  "x1x٣", "x1x2 + x1x" + "9" * 40])))
    return {"mode": "params", "text": text}


def _check_parse(case: dict, h) -> str | None:
    again = AttentionPolynomial.parse(str(h))
    return None if again.monomials == h.monomials and again.t == h.t else f"str(h) = {str(h)!r} reads back differently"


# ---------------------------------------------------------------------------- transformer
@st.composite
def _head_cases(draw) -> dict:
    mode = draw(st.sampled_from(MODES))
    n, dh = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    case = {"mode": mode, **draw(operands({"Q": (n, dh), "K": (n, dh), "V": (n, dh)}, mode))}
    case["causal"] = draw(st.booleans())
    case["block"] = draw(st.sampled_from([1, 2, 128] + ([0, -1, 2.5, True] if mode == "params" else [])))
    return case


def _check_head(case: dict, result) -> str | None:
    out, _ = result
    arrays = check_shapes(case)
    if isinstance(arrays, str):
        return arrays
    Q, K, V = arrays
    if not (Q.shape == K.shape and V.shape[0] == Q.shape[0]):
        return f"returned an answer for Q{Q.shape}, K{K.shape}, V{V.shape}"
    b = case["block"]
    if isinstance(b, bool) or not isinstance(b, int) or b < 1:
        return f"returned an answer for block={b!r}"
    n, d = Q.shape
    with mpmath.workprec(256):
        Qm, Km, Vm = mp_rows(Q), mp_rows(K), mp_rows(V)
        logits = [[mpmath.fsum(a * c for a, c in zip(Qm[i], Km[j])) / d if j <= i or not case["causal"] else
                   mpmath.ninf for j in range(n)] for i in range(n)]
        mags = [[mpmath.fsum(abs(a * c) for a, c in zip(Qm[i], Km[j])) / d for j in range(n)] for i in range(n)]
    return softmax_reference(logits, mags, Vm, d).mismatch(out)


@st.composite
def _network_cases(draw) -> dict:
    mode = draw(st.sampled_from(("valid", "magnitude", "hostile", "params")))
    sizes = {k: draw(st.integers(1, 4)) for k in ("d", "heads", "d_head", "d_ff", "layers", "d_out")}
    config = dict(sizes, causal=draw(st.booleans()), layer_norm=draw(st.booleans()),
                  bound=draw(st.sampled_from([0.5, 1.0, 2.0])))
    if mode == "params":
        key = draw(st.sampled_from(sorted(config)))
        config[key] = draw(st.sampled_from([0, -1, 2.5, True, None, "2", float("nan"), float("inf")]))
    n = draw(st.integers(1, 6))
    X = draw(operands({"X": (n, sizes["d"])}, mode if mode != "params" else "valid"))["X"]
    return {"mode": mode, "config": config, "X": X, "method": draw(st.sampled_from(["exact", "fast"])),
            "eps": draw(eps_param(mode)), "seed": draw(st.integers(0, 2**32))}


def _run_network(c):
    params = init_params(TransformerConfig(**c["config"]), np.random.default_rng(c["seed"]))
    return forward(params, c["X"], method=c["method"], eps=c["eps"])


def _check_network(case: dict, result) -> str | None:
    Y, _ = result
    X = as_float_matrix(case["X"])
    if X is None or X.shape[1] != case["config"]["d"]:
        return "returned an answer for a malformed X"
    if np.shape(Y) != (X.shape[0], case["config"]["d_out"]):
        return f"Y has shape {np.shape(Y)}"
    return None


def _finite_inputs(case: dict, names) -> bool:
    return case["mode"] in ("valid", "magnitude", "dtype") and all(as_float_matrix(case[k]) is not None for k in names)


TARGETS = [
    Target("tensor_attention", _tensor_cases(), lambda c: tensor_attention(*(c[k] for k in _TENSOR)), _check_tensor,
           _TENSOR + ("max_seconds", "max_memory"), weight=2,
           must_answer=lambda c: _finite_inputs(c, _TENSOR) and not isinstance(_tensor_valid(c), str), infinite_ok=True),
    Target("tensor_attention[fast]", _tensor_cases(fast=True),
           lambda c: tensor_attention(*(c[k] for k in _TENSOR), method="fast", eps=c["eps"], bound=c["bound"]),
           lambda c, r: _check_tensor(c, r.output, r.error_bound), _TENSOR + _FAST, weight=2, infinite_ok=True),
    Target("tensor_attention_vjp", _tensor_cases(vjp=True),
           lambda c: tensor_attention_vjp(*(c[k] for k in _TENSOR + ("dO",))), _check_tensor_vjp,
           _TENSOR + ("dO", "max_seconds", "max_memory"), infinite_ok=True),
    Target("tensor_attention_vjp_fast", _tensor_cases(fast=True, vjp=True), _run_tensor_vjp_fast,
           lambda c, r: _check_tensor_vjp(c, *r), _TENSOR + ("dO",) + _FAST, infinite_ok=True),
    Target("AttentionPolynomial.parse", _parse_cases(), lambda c: AttentionPolynomial.parse(c["text"]), _check_parse,
           ("text", "monomial", "variable", "max_variables", "x1", "h")),
    Target("poly_attention_exact", _poly_cases(), lambda c: poly_attention_exact(*_poly_args(c)).output,
           _check_poly, ("Xs", "Vs", "h", "max_seconds", "max_memory"), weight=2, infinite_ok=True),
    Target("poly_attention_bruteforce", _poly_cases(), lambda c: poly_attention_bruteforce(*_poly_args(c)),
           _check_poly, ("Xs", "Vs", "h", "max_seconds", "max_memory"), infinite_ok=True),
    Target("poly_attention_fast", _poly_cases(fast=True),
           lambda c: poly_attention_fast(*_poly_args(c), eps=c["eps"], bound=c["bound"]),
           lambda c, r: _check_poly(c, r.output, r.error_bound), ("Xs", "Vs", "h") + _FAST, weight=2, infinite_ok=True),
    Target("head_forward", _head_cases(),
           lambda c: head_forward(c["Q"], c["K"], c["V"], causal=c["causal"], block=c["block"]), _check_head,
           ("Q", "K", "V", "block")),
    Target("transformer.forward", _network_cases(), _run_network, _check_network,
           ("X", "d", "heads", "d_head", "d_ff", "layers", "d_out", "causal", "layer_norm", "bound", "eps",
            "method", "max_seconds", "max_memory")),
]
