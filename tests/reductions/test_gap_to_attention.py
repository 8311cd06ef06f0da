"""Gap max-IP -> attention at the threshold, and why the fast algorithm stops there."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.attention import (
    attention,
    attention_error_bound,
    attention_fast,
)
from algorithms.polynomial_method import CostExceedsExact, Float64Limit, exp_approximation, logit_bounds
from algorithms.tensor_attention import tensor_attention, tensor_attention_fast
from reductions.gap import (
    Gap3Instance,
    GapInstance,
    disjoint_gap_instance,
    gap_answer,
    max_inner_product,
    planted_gap3_instance,
    planted_gap_instance,
    to_hamming,
)
from reductions.gap_threshold import (
    polynomial_method_rank,
    sufficient_bound,
)
from reductions.gap_to_attention import (
    gap3_to_tensor_attention,
    gap_to_attention,
    hamming_to_attention,
)

# At the threshold: m = 32, gap 3 = m / 10.7, N = 24 vectors per side.
AT = dict(N=24, m=32, w=6, t_lo=3, t_hi=6)
AT3 = dict(N=6, m=24, w=6, t_lo=1, t_hi=5)


def _correct_pair(src, pair, yes):
    if not yes:
        return pair is None
    return pair is not None and int(src.A[pair[0]] @ src.B[pair[1]]) >= src.t_hi


def _correct_triple(src, triple, yes):
    if not yes:
        return triple is None
    if triple is None:
        return False
    i, j, k = triple
    return int(np.sum(src.A[i] * src.B[j] * src.C[k])) >= src.t_hi


def _split_instance(N, m, w, yes, seed):
    return disjoint_gap_instance(N, m, w, yes=yes, seed=seed)


# ---------------------------------------------------------------------------- max-IP form
@pytest.mark.parametrize("yes", [True, False])
def test_gap_to_attention_decides_planted_instances(yes):
    for seed in range(20):
        src, _ = planted_gap_instance(**AT, yes=yes, seed=seed)
        inst, decode = gap_to_attention(src)
        y = attention(inst.Q, inst.K, inst.V)
        assert inst.decide(y) is yes is gap_answer(src)
        assert _correct_pair(src, decode(y), yes)


def test_gap_to_attention_on_random_instances_that_meet_the_promise():
    rng = np.random.default_rng(5)
    checked = {True: 0, False: 0}
    for _ in range(200):
        A, B = rng.integers(0, 2, (6, 8)), rng.integers(0, 2, (7, 8))
        value = max_inner_product(A, B)[0]
        t_lo, t_hi = (value - 1, value) if rng.random() < 0.5 else (value, value + 1)
        if t_lo < 0 or t_hi > 8:
            continue
        src = GapInstance(A, B, t_lo, t_hi)
        inst, decode = gap_to_attention(src)
        y = attention(inst.Q, inst.K, inst.V)
        yes = gap_answer(src)
        assert inst.decide(y) is yes
        assert _correct_pair(src, decode(y), yes)
        checked[yes] += 1
    assert min(checked.values()) > 50


def test_gap_output_is_one_over_one_plus_row_mass():
    src, _ = planted_gap_instance(**AT, yes=True, seed=1)
    inst, _ = gap_to_attention(src)
    S = np.exp(inst.beta * (src.A @ src.B.T)).sum(axis=1)
    np.testing.assert_allclose(attention(inst.Q, inst.K, inst.V)[:, 0], 1 / (1 + S), rtol=1e-11)


def test_gap_decoder_survives_adversarial_error_below_tolerance():
    for seed in range(10):
        yes = seed % 2 == 0
        src, _ = planted_gap_instance(**AT, yes=yes, seed=seed)
        inst, decode = gap_to_attention(src)
        y = attention(inst.Q, inst.K, inst.V)
        y = y + np.where(y < inst.threshold, 1.0, -1.0) * 0.99 * inst.tolerance
        assert inst.decide(y) is yes
        assert _correct_pair(src, decode(y), yes)


def test_gap_blow_up_matches_docstring():
    src, _ = planted_gap_instance(**AT, yes=True, seed=2)
    for margin in (1.5, 4.0):
        inst, _ = gap_to_attention(src, margin=margin)
        N, m, gap = AT["N"], AT["m"], AT["t_hi"] - AT["t_lo"]
        assert inst.Q.shape == (N, m) and inst.K.shape == (N + 1, m) and inst.V.shape == (N + 1, 1)
        assert (inst.n, inst.d) == (N + 1, m)
        assert inst.beta == pytest.approx(math.log(margin * N) / gap)
        assert inst.B == pytest.approx(math.sqrt(m * math.log(margin * N) / gap))
        y_yes, y_no = 1 / (1 + math.exp(inst.beta * AT["t_hi"])), 1 / (1 + N * math.exp(inst.beta * AT["t_lo"]))
        assert inst.tolerance == pytest.approx((y_no - y_yes) / 2)
        assert attention_error_bound(inst.eps, inst.V) == pytest.approx(inst.tolerance)


# ---------------------------------------------------------------------------- the fast path at the threshold
@pytest.mark.parametrize("yes", [True, False])
def test_at_the_threshold_the_fast_path_refuses_for_cost_not_float64(yes):
    """N = 24, m = 32, gap 3: logits certified in [0, 9.13] (not [-48.7, 48.7]); float64 certifies degree 13
    there, but rank C(32 + g, g) costs more flops than exact attention, in any precision."""
    src, _ = planted_gap_instance(**AT, yes=yes, seed=0)
    inst, decode = gap_to_attention(src)
    assert _correct_pair(src, decode(attention(inst.Q, inst.K, inst.V)), yes)
    b = logit_bounds(inst.Q, [inst.K])
    assert b.lo == 0.0 and b.hi == pytest.approx(inst.beta * AT["w"]) and b.hi == pytest.approx(9.13, abs=0.01)
    assert inst.B**2 == pytest.approx(48.7, abs=0.05)
    assert exp_approximation(b.lo, b.hi, inst.eps).degree == 13  # float64 can evaluate this polynomial ...
    for precision in ("float64", "mpmath"):  # ... but its rank is the obstacle, whatever the arithmetic
        with pytest.raises(CostExceedsExact) as info:
            attention_fast(inst.Q, inst.K, inst.V, eps=inst.eps, precision=precision)
        assert not isinstance(info.value, Float64Limit)
        assert info.value.fast_flops > 1e5 * info.value.exact_flops and info.value.rank > inst.n**2
    g, r = polynomial_method_rank(inst.B**2, inst.d, inst.eps)  # the worst-case interval, for comparison
    assert r > inst.n**2


@pytest.mark.parametrize("yes", [True, False])
def test_at_the_threshold_shape_at_toy_size_the_fast_path_runs_and_decodes(yes):
    """t_lo = 0 on disjoint supports: B^2 = 2 ln(2N), logit range ln(2N) -- the threshold's scale, not below it."""
    for seed in range(4):
        src = _split_instance(N=6, m=6, w=3, yes=yes, seed=seed)
        inst, decode = gap_to_attention(src, margin=2.0)
        assert inst.B**2 == pytest.approx(2 * math.log(12))
        exact = attention(inst.Q, inst.K, inst.V)
        for precision in ("float64", "mpmath"):
            res = attention(inst.Q, inst.K, inst.V, method="fast", eps=inst.eps, precision=precision)
            assert res.max_error_bound <= inst.tolerance
            assert np.max(np.abs(res.output - exact)) <= res.max_error_bound
            assert inst.decide(res.output) is yes is gap_answer(src)
            assert _correct_pair(src, decode(res.output), yes)


def _ov_instance(cnf):
    from reductions.ov_to_attention import ov_to_attention
    from reductions.sat_to_ov import sat_to_ov

    ov, decode_ov = sat_to_ov(cnf)
    inst, decode = ov_to_attention(ov.A, ov.B)
    return inst, decode, decode_ov


@pytest.mark.parametrize("satisfiable", [True, False])
def test_beyond_the_threshold_mpmath_runs_where_float64_refuses_and_decides_sat(satisfiable):
    """SAT -> OV -> attention (B = Theta(log N)) on four variables: logits certified in [-9.24, 0];
    float64 cannot evaluate the polynomial there (Float64Limit, with the digits), mpmath can, and decides."""
    from reductions.cnf import CNF, solve

    cnf = CNF(4, ((1, 2, 3), (-1, -4), (-2, 4), (-3,))) if satisfiable else CNF(4, ((1, 2, 3), (-1,), (-2,), (-3,)))
    assert (solve(cnf) is not None) is satisfiable
    inst, decode, decode_ov = _ov_instance(cnf)
    with pytest.raises(Float64Limit, match="significant digits") as info:
        attention_fast(inst.Q, inst.K, inst.V, eps=1e-6)
    assert not isinstance(info.value, CostExceedsExact) and info.value.digits > 16
    res = attention(inst.Q, inst.K, inst.V, method="fast", eps=1e-6, precision="mpmath")
    exact = attention(inst.Q, inst.K, inst.V)
    assert np.max(np.abs(res.output - exact)) <= res.max_error_bound <= 1e-6
    pair = decode(res.output)
    assert pair == decode(exact) and (pair is not None) is satisfiable
    if satisfiable:
        assert cnf.satisfies(decode_ov(pair))


# ---------------------------------------------------------------------------- Hamming form
@pytest.mark.parametrize("yes", [True, False])
def test_hamming_form_decides_planted_instances(yes):
    for seed in range(10):
        src, _ = planted_gap_instance(**AT, yes=yes, seed=seed)
        ham = to_hamming(src)
        inst, decode = hamming_to_attention(ham)
        y = attention(inst.Q, inst.K, inst.V)
        assert inst.decide(y) is yes
        pair = decode(y)
        assert (pair is not None) is yes
        if yes:
            assert np.sum(ham.A[pair[0]] != ham.B[pair[1]]) <= ham.t_near
        noisy = y + np.where(y > inst.threshold, -1.0, 1.0) * 0.99 * inst.tolerance
        assert inst.decide(noisy) is yes


def test_hamming_form_meets_the_constraints_of_as23_lemma_4_7():
    """Raw logits in [0, B'], at least half of each row at B', V in {0,1}; n = 2N, d = 2m."""
    src, _ = planted_gap_instance(**AT, yes=True, seed=4)
    inst, _ = hamming_to_attention(to_hamming(src))
    N, m = AT["N"], AT["m"]
    raw = inst.Q @ inst.K.T
    top = raw.max()
    assert raw.min() >= -1e-9 and top == pytest.approx(inst.B**2 * m)
    assert np.all(np.sum(np.isclose(raw, top), axis=1) >= N)
    assert set(np.unique(inst.V)) == {0.0, 1.0}
    assert (inst.n, inst.d, inst.K.shape) == (2 * N, 2 * m, (2 * N, 2 * m))
    gap = 2 * (AT["t_hi"] - AT["t_lo"])
    assert inst.B == pytest.approx(math.sqrt(2 * m * math.log(4 * N) / gap))
    assert sufficient_bound(N, m, gap, form="hamming") == pytest.approx(math.sqrt(2 * m * math.log(N) / gap))


# ---------------------------------------------------------------------------- tensor
@pytest.mark.parametrize("yes", [True, False])
def test_gap3_to_tensor_attention_decides_planted_instances(yes):
    for seed in range(8):
        src, _ = planted_gap3_instance(**AT3, yes=yes, seed=seed)
        inst, decode = gap3_to_tensor_attention(src)
        y = tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)
        assert inst.decide(y) is yes is gap_answer(src)
        assert _correct_triple(src, decode(y), yes)
        S = np.exp(inst.beta * np.einsum("il,jl,kl->ijk", src.A, src.B, src.C)).sum(axis=(1, 2))
        np.testing.assert_allclose(y[:, 0], 1 / (S + 2 * AT3["N"] + 1), rtol=1e-10)


def test_gap3_blow_up_matches_docstring():
    src, _ = planted_gap3_instance(**AT3, yes=True, seed=0)
    inst, _ = gap3_to_tensor_attention(src)
    N, m, gap = AT3["N"], AT3["m"], AT3["t_hi"] - AT3["t_lo"]
    assert (inst.n, inst.d) == (N + 1, m)
    assert inst.K1.shape == inst.K2.shape == (N + 1, m)
    assert inst.B == pytest.approx((m * math.log(4 * N * N) / gap) ** (1 / 3))
    assert sufficient_bound(N, m, gap, form="tensor") == pytest.approx((m * math.log(N * N) / gap) ** (1 / 3))


@pytest.mark.parametrize("yes", [True, False])
def test_fast_tensor_attention_at_the_cube_root_threshold_refuses_for_cost(yes):
    src, _ = planted_gap3_instance(**AT3, yes=yes, seed=1)
    inst, decode = gap3_to_tensor_attention(src)
    args = (inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)
    assert _correct_triple(src, decode(tensor_attention(*args)), yes)
    b = logit_bounds(inst.Q, [inst.K1, inst.K2])  # Hoelder: |q|_2 |k1|_2 max|k2| / d = beta w
    assert b.lo == 0.0 and b.hi == pytest.approx(inst.beta * AT3["w"]) and b.hi < inst.B**3 / 3
    for precision in ("float64", "mpmath"):
        with pytest.raises(CostExceedsExact) as info:
            tensor_attention_fast(*args, eps=inst.eps, precision=precision)
        assert info.value.fast_flops > info.value.exact_flops
    assert polynomial_method_rank(inst.B**3, inst.d, inst.eps)[1] > inst.n**3


@pytest.mark.parametrize("yes", [True, False])
def test_fast_tensor_attention_decodes_at_the_threshold_shape_at_toy_size(yes):
    rng = np.random.default_rng(7)
    src2 = _split_instance(N=3, m=4, w=2, yes=False, seed=int(yes))
    C = np.zeros((3, 4), int)
    for r in range(3):
        C[r, rng.permutation(4)[:2]] = 1
    A, B = src2.A, src2.B
    if yes:
        B[1], C[2] = A[0], A[0]
    src = Gap3Instance(A, B, C, 0, 2)
    inst, decode = gap3_to_tensor_attention(src, margin=2.0)
    exact = tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)
    for precision in ("float64", "mpmath"):
        out = tensor_attention_fast(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2, eps=inst.eps, precision=precision)
        assert np.max(np.abs(out - exact)) <= inst.tolerance
        assert inst.decide(out) is yes is gap_answer(src)
        assert _correct_triple(src, decode(out), yes)


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: gap_to_attention(GapInstance([[1, 0]], [[1, 0]], 0, 1), margin=1.0), "margin"),
    ],
)
def test_bad_input_raises_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_decoders_reject_malformed_output():
    src, _ = planted_gap_instance(4, 12, 3, 1, 3, yes=True, seed=0)
    for build in (gap_to_attention, lambda s: hamming_to_attention(to_hamming(s))):
        inst, decode = build(src)
        with pytest.raises(ValueError, match="output must have 4 rows"):
            decode(np.zeros((5, 1)))
        with pytest.raises(ValueError, match="output must be finite"):
            inst.decide(np.full((4, 1), np.inf))
    src3, _ = planted_gap3_instance(3, 12, 3, 0, 2, yes=True, seed=0)
    _, decode3 = gap3_to_tensor_attention(src3)
    with pytest.raises(ValueError, match="output must have 3 rows"):
        decode3(np.zeros((2, 1)))


def test_moved_names_are_re_exported_unchanged():
    """Notebook 03 and older code import the source problems and bounds from gap_to_attention."""
    import reductions.gap
    import reductions.gap_threshold
    import reductions.gap_to_attention as g2a

    for module in (reductions.gap, reductions.gap_threshold):
        for name in module.__all__:
            assert getattr(g2a, name) is getattr(module, name) and name in g2a.__all__

