"""Issue 12: the autograd Functions' gradients against torch autograd of *exact* attention, within the certified bounds."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from algorithms.attention import attention_vjp_error_bound  # noqa: E402
from algorithms.tensor_attention import tensor_attention_vjp_error_bound  # noqa: E402
from algorithms.torch_autograd import fast_attention, fast_tensor_attention  # noqa: E402


def _leaves(rng, shapes, dtype=torch.float64):
    return [torch.asarray(rng.uniform(-1, 1, s), dtype=dtype).requires_grad_(True) for s in shapes]


def _exact_attention(Q, K, V):
    return torch.softmax(Q @ K.T / Q.shape[1], dim=1) @ V


def _exact_tensor_attention(Q, K1, K2, V1, V2):
    n1, n2, d = K1.shape[0], K2.shape[0], Q.shape[1]
    K12 = (K1[:, None, :] * K2[None, :, :]).reshape(n1 * n2, d)
    V12 = (V1[:, None, :] * V2[None, :, :]).reshape(n1 * n2, -1)
    return torch.softmax(Q @ K12.T / d, dim=1) @ V12


def _grads(f, inputs, G):
    for X in inputs:
        X.grad = None
    (f(*inputs) * G).sum().backward()
    return [X.grad.clone() for X in inputs]


def test_fast_attention_gradients_are_exact_autograd_within_the_certified_bound():
    rng = np.random.default_rng(0)
    Q, K, V = _leaves(rng, [(400, 4), (300, 4), (300, 3)])
    G = torch.asarray(rng.uniform(-1, 1, (400, 3)))
    out = fast_attention(Q, K, V, eps=1e-6)
    assert out.requires_grad and out.dtype == torch.float64
    assert torch.max(torch.abs(out - _exact_attention(Q, K, V))) < 1e-6
    fast, exact = _grads(fast_attention, [Q, K, V], G), _grads(_exact_attention, [Q, K, V], G)
    bounds = attention_vjp_error_bound(Q.detach(), K.detach(), V.detach(), G)
    worst = 0.0
    for f, e, b in zip(fast, exact, bounds):
        assert torch.all(torch.abs(f - e) <= b)
        worst = max(worst, float(torch.max(torch.abs(f - e))))
    assert worst < 1e-7  # measured about 1e-8, bound about 5e-7


def test_fast_tensor_attention_gradients_are_exact_autograd_within_the_certified_bound():
    rng = np.random.default_rng(1)
    Q, K1, K2, V1, V2 = _leaves(rng, [(50, 3), (40, 3), (30, 3), (40, 2), (30, 2)])
    G = torch.asarray(rng.uniform(-1, 1, (50, 2)))
    fast = _grads(fast_tensor_attention, [Q, K1, K2, V1, V2], G)
    exact = _grads(_exact_tensor_attention, [Q, K1, K2, V1, V2], G)
    bounds = tensor_attention_vjp_error_bound(*(X.detach() for X in (Q, K1, K2, V1, V2)), G)
    for f, e, b in zip(fast, exact, bounds):
        assert torch.all(torch.abs(f - e) <= b)


def test_training_with_the_fast_gradient_lowers_the_loss_float32():
    rng = np.random.default_rng(2)
    X = torch.asarray(rng.uniform(-1, 1, (256, 4)), dtype=torch.float32)
    target = torch.asarray(rng.uniform(-1, 1, (256, 4)), dtype=torch.float32)
    W = torch.asarray(0.3 * rng.standard_normal((4, 4)), dtype=torch.float32).requires_grad_(True)
    losses = []
    for _ in range(15):
        out = fast_attention(X @ W, X, X, eps=1e-2, bound=2.0)
        loss = ((out - target) ** 2).mean()
        W.grad = None
        loss.backward()
        assert W.grad.dtype == torch.float32
        with torch.no_grad():
            W -= 2.0 * W.grad
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_gradients_match_cpu():
    rng = np.random.default_rng(3)
    cpu = _leaves(rng, [(2000, 4)] * 3)
    gpu = [X.detach().cuda().requires_grad_(True) for X in cpu]
    G = torch.asarray(rng.uniform(-1, 1, (2000, 4)))
    for a, b in zip(_grads(fast_attention, cpu, G), _grads(fast_attention, gpu, G.cuda())):
        torch.testing.assert_close(b.cpu(), a, rtol=1e-9, atol=1e-12)
