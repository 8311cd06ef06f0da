"""Gap max-IP decided by polylog gradient-oracle calls (the repaired interpolation proof of AS24a Thm E.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.attention import attention, attention_loss, attention_loss_grad
from algorithms.tensor_attention import tensor_attention, tensor_attention_loss_grad
from reductions.gap import gap_answer, planted_gap3_instance, planted_gap_instance
from reductions.gap_to_gradient import gap_via_gradient


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

