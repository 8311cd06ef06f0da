"""Gap max-IP -> attention at the threshold, and why the fast algorithm stops there."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.attention import (
    attention,
    attention_error_bound,
    attention_fast,
    low_rank_attention,
)
from algorithms.tensor_attention import tensor_attention, tensor_attention_fast
from reductions.gap import (
    Gap3Instance,
    GapInstance,
    gap_answer,
    max_inner_product,
    planted_gap3_instance,
    planted_gap_instance,
    separated_gap_instance,
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
    return separated_gap_instance(N, m, w, yes=yes, seed=seed)


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


# ---------------------------------------------------------------------------- the point of the threshold
@pytest.mark.parametrize("yes", [True, False])
def test_fast_attention_fails_at_the_threshold_where_exact_attention_decodes(yes):
    """At B = Theta(sqrt(log n)) the polynomial method refuses at the decoder's eps (or would decode wrongly)."""
    for seed in range(1):
        src, _ = planted_gap_instance(**AT, yes=yes, seed=seed)
        inst, decode = gap_to_attention(src)
        assert _correct_pair(src, decode(attention(inst.Q, inst.K, inst.V)), yes)
        try:
            out = attention_fast(inst.Q, inst.K, inst.V, eps=inst.eps)
        except ValueError as exc:
            assert f"B={inst.B:.4g}" in str(exc)
        else:  # pragma: no cover - the float64 polynomial cannot reach eps at B^2 ~ 30
            assert not _correct_pair(src, decode(out), yes)
        g, r = polynomial_method_rank(inst.B**2, inst.d, inst.eps)
        assert r > inst.n**2  # even in exact arithmetic, slower than exact attention


@pytest.mark.parametrize("yes", [True, False])
def test_fast_attention_decodes_below_the_threshold(yes):
    for seed in range(4):
        src = _split_instance(N=6, m=6, w=3, yes=yes, seed=seed)
        inst, decode = gap_to_attention(src, margin=2.0)
        assert inst.B**2 < 5  # far below the B^2 ~ 30 of the instances above
        P = low_rank_attention(inst.Q, inst.K, eps=inst.eps)
        out = P.apply(inst.V)
        bound = attention_error_bound(P.entry_error, inst.V)
        assert bound <= inst.tolerance
        assert np.max(np.abs(out - attention(inst.Q, inst.K, inst.V))) <= bound
        assert inst.decide(out) is yes is gap_answer(src)
        assert _correct_pair(src, decode(out), yes)


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
def test_fast_tensor_attention_fails_at_the_cube_root_threshold(yes):
    src, _ = planted_gap3_instance(**AT3, yes=yes, seed=1)
    inst, decode = gap3_to_tensor_attention(src)
    args = (inst.Q, inst.K1, inst.K2, inst.V1, inst.V2)
    assert _correct_triple(src, decode(tensor_attention(*args)), yes)
    try:
        out = tensor_attention_fast(*args, eps=inst.eps)
    except ValueError as exc:
        assert f"B={inst.B:.4g}" in str(exc)
    else:  # pragma: no cover
        assert not _correct_triple(src, decode(out), yes)
    assert polynomial_method_rank(inst.B**3, inst.d, inst.eps)[1] > inst.n**3


@pytest.mark.parametrize("yes", [True, False])
def test_fast_tensor_attention_decodes_below_the_threshold(yes):
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
    assert inst.B**3 < 6
    out = tensor_attention_fast(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2, eps=inst.eps)
    assert np.max(np.abs(out - tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2))) <= inst.tolerance
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

