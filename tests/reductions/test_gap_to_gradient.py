"""Gap max-IP decided by polylog gradient-oracle calls (the repaired interpolation proof of AS24a Thm E.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.attention import attention, attention_loss, attention_loss_grad
from algorithms.tensor_attention import tensor_attention, tensor_attention_loss_grad
from reductions.gap import (
    GapInstance,
    gap_answer,
    max_inner_product,
    planted_gap3_instance,
    planted_gap_instance,
)
from reductions.gap_to_gradient import (
    gap_via_gradient,
    quadrature_error_bound,
    quadrature_points,
)


def _recording(grad):
    calls = []

    def wrapped(*args):
        calls.append(args)
        return grad(*args)

    return wrapped, calls


@pytest.mark.parametrize("yes", [True, False])
def test_gap_via_gradient_decides_planted_instances_with_polylog_calls(yes):
    for seed in range(6):
        src, _ = planted_gap_instance(24, 32, 6, 3, 6, yes=yes, seed=seed)
        grad, calls = _recording(attention_loss_grad)
        answer, trace = gap_via_gradient(src, grad, points=32)
        assert answer is yes is gap_answer(src)
        assert len(calls) == trace.points == 32
        Q, K, A3 = calls[0][:3]
        exact = float(np.sum(attention(Q, K, A3) ** 2))  # ||Att_1||_F^2, the quantity interpolated
        assert abs(trace.f1 - exact) < 1e-8 < trace.tolerance
        assert (exact > 0.9) if yes else (exact < 1 / 16)
        assert trace.B == pytest.approx(math.sqrt(trace.beta * trace.d))
        assert max(np.max(np.abs(Q)), np.max(np.abs(K))) <= trace.B + 1e-12


@pytest.mark.parametrize("yes", [True, False])
def test_gap3_via_tensor_gradient_decides_planted_instances(yes):
    for seed in range(3):
        src, _ = planted_gap3_instance(6, 24, 6, 1, 5, yes=yes, seed=seed)
        grad, calls = _recording(tensor_attention_loss_grad)
        answer, trace = gap_via_gradient(src, grad, points=24)
        assert answer is yes is gap_answer(src)
        Q, K1, K2, A4, A5 = calls[0][:5]
        exact = float(np.sum(tensor_attention(Q, K1, K2, A4[:, :1], A5[:, :1]) ** 2))
        assert abs(trace.f1 - exact) < 1e-8 < trace.tolerance
        assert trace.B == pytest.approx((trace.beta * trace.d) ** (1 / 3))


def test_gap_via_gradient_uses_the_derivative_identity():
    """f'(lam) = 2 <grad L(lam X0), X0> against a central difference of 2 L(lam X0)."""
    src, _ = planted_gap_instance(8, 16, 4, 1, 4, yes=True, seed=1)
    grad, calls = _recording(attention_loss_grad)
    gap_via_gradient(src, grad, points=4)
    A1, A2, A3, E, X, Y = calls[1]
    lam = X[0, 0]
    X0 = np.eye(X.shape[0])
    h = 1e-6
    fd = (attention_loss(A1, A2, A3, E, (lam + h) * X0, Y) - attention_loss(A1, A2, A3, E, (lam - h) * X0, Y)) / h
    analytic = 2 * float(np.sum(attention_loss_grad(A1, A2, A3, E, X, Y) * X0))
    assert abs(fd - analytic) <= 1e-6 * max(1.0, abs(analytic))


@pytest.mark.parametrize(
    "kwargs, match",
    [({"points": 0}, "points must be a positive integer"), ({"margin": 1.0}, "margin must be"),
     ({"instance": "cnf"}, "instance must be a GapInstance")],
)
def test_gap_via_gradient_rejects_bad_input(kwargs, match):
    src, _ = planted_gap_instance(4, 12, 3, 1, 3, yes=True, seed=0)
    args = {"instance": src, **kwargs}
    with pytest.raises(ValueError, match=match):
        gap_via_gradient(**args)


def test_gap_via_gradient_is_re_exported_from_attention_to_gradient():
    import reductions.attention_to_gradient as a2g
    import reductions.gap_to_gradient as g2g

    assert a2g.gap_via_gradient is g2g.gap_via_gradient and a2g.InterpolationTrace is g2g.InterpolationTrace



# ---------------------------------------------------------------------------- the quadrature bound sets the calls
DOCUMENTED = dict(N=128, m=40, w=12, t_lo=10, t_hi=12)  # the instance of issue 10 on which 16 points fail


def _exact_f1(calls):
    Q, K, A3 = calls[0][:3]
    return float(np.sum(attention(Q, K, A3) ** 2))


@pytest.mark.parametrize("yes", [True, False])
def test_documented_instance_fails_with_16_points_and_passes_with_the_bounds_count(yes):
    src, _ = planted_gap_instance(**DOCUMENTED, yes=yes, seed=0)
    grad, calls = _recording(attention_loss_grad)
    answer16, trace16 = gap_via_gradient(src, grad, points=16)
    exact = _exact_f1(calls)
    assert abs(trace16.f1 - exact) > trace16.tolerance and not trace16.certified  # 16 points: error ~3 > 0.47
    assert not yes or answer16 is False  # the yes-instance comes back "no"
    calls.clear()
    answer, trace = gap_via_gradient(src, grad)
    assert answer is yes is gap_answer(src) and trace.certified
    assert len(calls) == trace.points == quadrature_points(trace.logit_range, DOCUMENTED["N"], trace.tolerance)
    assert abs(trace.f1 - exact) <= trace.error_bound <= trace.tolerance / 2
    assert trace.logit_range == pytest.approx(trace.beta * DOCUMENTED["w"])  # beta max(t_mid, w), w = 12 > 11
    assert 100 < trace.points < 300  # 181


def test_the_error_bound_holds_for_every_number_of_points():
    """Measured error <= proven bound at 8..64 nodes (on the documented instance and a small one)."""
    for src, _ in (planted_gap_instance(**DOCUMENTED, yes=True, seed=1), planted_gap_instance(24, 32, 6, 3, 6, yes=False, seed=2)):
        grad, calls = _recording(attention_loss_grad)
        _, trace = gap_via_gradient(src, grad, points=2)
        exact = _exact_f1(calls)
        for p in (4, 8, 16, 24, 32, 48, 64):
            _, trace = gap_via_gradient(src, points=p)
            assert abs(trace.f1 - exact) <= trace.error_bound
            assert trace.error_bound == quadrature_error_bound(p, trace.logit_range, src.A.shape[0])


def test_the_bounds_count_decides_every_planted_instance_of_these_tests():
    cases = [(planted_gap_instance, (24, 32, 6, 3, 6), range(6)), (planted_gap_instance, (8, 16, 4, 1, 4), range(4)),
             (planted_gap_instance, (6, 16, 4, 1, 4), range(4)), (planted_gap3_instance, (6, 24, 6, 1, 5), range(3))]
    for make, args, seeds in cases:
        for seed in seeds:
            for yes in (True, False):
                src, _ = make(*args, yes=yes, seed=seed)
                answer, trace = gap_via_gradient(src)
                assert answer is yes is gap_answer(src) and trace.certified


def test_the_bounds_count_decides_random_instances_in_both_directions():
    rng = np.random.default_rng(8)
    seen = {True: 0, False: 0}
    for _ in range(40):
        m = int(rng.integers(6, 30))
        A, B = rng.integers(0, 2, (int(rng.integers(1, 8)), m)), rng.integers(0, 2, (int(rng.integers(1, 20)), m))
        v = max_inner_product(A, B)[0]
        t_lo, t_hi = (v - 1, v) if rng.random() < 0.5 else (v, v + 1)
        if t_lo < 0 or t_hi > m:
            continue
        src = GapInstance(A, B, t_lo, t_hi)
        grad, calls = _recording(attention_loss_grad)
        answer, trace = gap_via_gradient(src, grad)
        assert answer is gap_answer(src) and trace.certified
        assert abs(trace.f1 - _exact_f1(calls)) <= trace.error_bound
        seen[answer] += 1
    assert min(seen.values()) >= 10


def test_the_count_grows_like_log_squared_at_the_threshold():
    """m = 2 log2 N, t_lo, t_hi = m/4, m/2: R = Theta(log N), points = O(log^2 N) (64, 162, 458, 1435)."""
    counts = []
    for L in (8, 16, 32, 64):
        N, m = 2**L, 2 * L
        t_lo, t_hi = m // 4, m // 2
        t_mid = (t_lo + t_hi) / 2
        beta = (math.log(4 * N) + 0.5 * math.log(N)) / (t_mid - t_lo)
        counts.append((L, quadrature_points(beta * max(t_mid, t_hi), N, 0.46)))
    per_log = [p / L for L, p in counts]
    assert all(p <= L**2 for L, p in counts)  # polylog: at most log2(N)^2 calls
    assert per_log == sorted(per_log)  # and more than linear in log N: R log(N R), R = Theta(log N)


def test_a_count_above_max_points_is_refused_before_any_call():
    src, _ = planted_gap_instance(**DOCUMENTED, yes=True, seed=0)

    def never(*args):
        raise AssertionError("the oracle must not be called")

    with pytest.raises(ValueError, match=r"points=181 gradient calls .* above max_points=100"):
        gap_via_gradient(src, never, max_points=100)
    rng = np.random.default_rng(0)
    A, B = (rng.random((1000, 200)) < 0.575).astype(int), (rng.random((1000, 200)) < 0.575).astype(int)
    with pytest.raises(ValueError, match=r"above max_points=4096"):
        gap_via_gradient(GapInstance(A, B, 99, 100), never)  # the t_lo/t_hi = 99/100 reproducer
