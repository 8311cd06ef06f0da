"""Forward attention decoded from gradient-oracle calls equals attention, exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.attention import (
    attention,
    attention_loss,
    attention_loss_grad,
    attention_loss_grad_error_bound,
    attention_loss_grad_fast,
)
from algorithms.tensor_attention import (
    tensor_attention,
    tensor_attention_loss,
    tensor_attention_loss_grad,
)
from reductions.attention_to_gradient import (
    attention_gradient_instance,
    attention_via_gradient,
    tensor_attention_gradient_instance,
    tensor_attention_via_gradient,
)


def _qkv(rng, n, m, d, d_v, scale=1.0):
    return scale * rng.normal(size=(n, d)), scale * rng.normal(size=(m, d)), rng.normal(size=(m, d_v))


@pytest.mark.parametrize("block", [None, 1, 3, 100])
def test_attention_via_gradient_equals_attention(block):
    rng = np.random.default_rng(0)
    for n, m, d, d_v in [(7, 5, 3, 2), (10, 12, 2, 4), (1, 1, 1, 1), (9, 20, 4, 1)]:
        Q, K, V = _qkv(rng, n, m, d, d_v)
        got = attention_via_gradient(Q, K, V, block=block)
        np.testing.assert_allclose(got, attention(Q, K, V), rtol=1e-10, atol=1e-12)


def test_attention_via_gradient_with_large_logits():
    """Logits spread over ~100: the mean-logit dummies keep every weight representable."""
    rng = np.random.default_rng(1)
    Q, K, V = _qkv(rng, 8, 16, 2, 3, scale=7.0)
    S = Q @ K.T / 2
    assert np.max(S.max(1) - S.min(1)) > 50
    np.testing.assert_allclose(attention_via_gradient(Q, K, V), attention(Q, K, V), rtol=1e-8, atol=1e-9)


def test_gradient_entries_read_by_the_decoder_match_finite_differences():
    """(R) applied to central differences of the loss itself (not the library gradient) gives attention."""
    rng = np.random.default_rng(2)
    Q, K, V = _qkv(rng, 3, 4, 2, 2)
    inst, decode = attention_gradient_instance(Q, K, V, slice(0, 3))
    A1, A2, A3, E, X, Y = inst.args
    D, M = inst.D, 2 * (V.shape[1] + 1)
    G = np.zeros((D, D))
    h = 1e-5
    for r in range(D - 3, D):  # block-row coordinates
        for k in range(2, 2 + M):  # dummy reading coordinates (d = 2)
            Xp, Xm = X.copy(), X.copy()
            Xp[r, k] += h
            Xm[r, k] -= h
            G[r, k] = (attention_loss(A1, A2, A3, E, Xp, Y) - attention_loss(A1, A2, A3, E, Xm, Y)) / (2 * h)
    exact = attention_loss_grad(*inst.args)
    rel = np.max(np.abs(G[D - 3 :, 2 : 2 + M] - exact[D - 3 :, 2 : 2 + M])) / np.max(np.abs(exact))
    assert rel < 1e-6
    np.testing.assert_allclose(decode(G), attention(Q, K, V), rtol=1e-5, atol=1e-6)


def test_attention_via_the_fast_gradient_within_the_propagated_bound():
    """Any oracle works: with attention_loss_grad_fast the error obeys the bound (R) inherits."""
    rng = np.random.default_rng(3)
    Q, K, V = _qkv(rng, 4, 5, 1, 1, scale=0.2)  # head dimension D = 6 keeps the rank C(D + g, g) small
    exact = attention(Q, K, V)
    for start in range(4):
        inst, decode = attention_gradient_instance(Q, K, V, slice(start, start + 1))
        G = attention_loss_grad_fast(*inst.args, eps=1e-8)
        delta = float(np.max(attention_loss_grad_error_bound(*inst.args, eps=1e-8)))
        got = decode(G)
        # |a~/c~ - a/c| <= 2 delta (1 + |a~/c~|) / (|c~| - 2 delta), c the indicator channel
        P = G[inst.D - 1, 1:5]
        c = P[2] - P[3]
        bound = 2 * delta * (1 + np.abs(got)) / (abs(c) - 2 * delta)
        assert np.all(np.abs(got - exact[start]) <= bound)
        assert np.max(np.abs(got - exact[start])) < 1e-5


def test_gradient_instance_blow_up_matches_docstring():
    rng = np.random.default_rng(4)
    n, m, d, d_v, b = 8, 5, 4, 3, 4
    Q, K, V = _qkv(rng, n, m, d, d_v)
    inst, _ = attention_gradient_instance(Q, K, V, slice(0, b))
    D = d + 2 * (d_v + 1) + b
    assert inst.D == D and inst.A1.shape == (b, D) and inst.A2.shape == inst.A3.shape == (m + 2 * (d_v + 1), D)
    assert inst.X.shape == inst.Y.shape == (D, D) and inst.E.shape == (b, D)
    sigma = math.sqrt(D / d)
    assert np.max(np.abs(inst.A1 @ inst.X)) == pytest.approx(sigma * np.max(np.abs(Q[:b])))
    assert np.max(np.abs(inst.A2)) == pytest.approx(max(sigma * np.max(np.abs(K)), 1.0))
    assert sigma <= 2.3  # default block b = d with d_v <= d: a constant factor on the entries
    # the logits of real keys are the forward instance's
    np.testing.assert_allclose((inst.A1 @ inst.X @ inst.A2[:m].T) / D, Q[:b] @ K.T / d, atol=1e-12)


def test_default_block_makes_ceil_n_over_d_calls():
    rng = np.random.default_rng(5)
    Q, K, V = _qkv(rng, 10, 6, 3, 2)
    calls = []

    def counting(*args):
        calls.append(args[0].shape[0])
        return attention_loss_grad(*args)

    attention_via_gradient(Q, K, V, grad=counting)
    assert calls == [3, 3, 3, 1]


def test_dummy_keys_take_little_weight():
    """Mean-logit dummies: each has weight w_i <= 1/(m + M) (Jensen), the real keys >= m/(m + M)."""
    rng = np.random.default_rng(6)
    Q, K, V = _qkv(rng, 5, 9, 3, 2, scale=2.0)
    inst, _ = attention_gradient_instance(Q, K, V, slice(0, 5))
    logits = inst.A1 @ inst.X @ inst.A2.T / inst.D
    f = np.exp(logits - logits.max(1, keepdims=True))
    f /= f.sum(1, keepdims=True)
    M = 2 * (V.shape[1] + 1)
    assert np.all(f[:, 9:] <= 1 / (9 + M) + 1e-15)
    assert np.allclose(f[:, 9:], f[:, 9:10])  # one shared weight w_i per row


def test_decoder_rejects_a_gradient_that_is_not_the_instances():
    rng = np.random.default_rng(7)
    Q, K, V = _qkv(rng, 4, 4, 2, 1)
    inst, decode = attention_gradient_instance(Q, K, V, slice(0, 2))
    with pytest.raises(ValueError, match="not the gradient of this instance"):
        decode(np.zeros((inst.D, inst.D)))
    with pytest.raises(ValueError, match=r"G \(the gradient\) must have"):
        decode(np.zeros((inst.D + 1, inst.D)))
    with pytest.raises(ValueError, match=r"G \(the gradient\) must be finite"):
        decode(np.full((inst.D, inst.D), np.nan))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda Q, K, V: attention_via_gradient(Q, K[:, :1], V), "K must have 2 columns"),
        (lambda Q, K, V: attention_via_gradient(Q, K, V[:2]), "V must have 4 rows"),
        (lambda Q, K, V: attention_via_gradient(Q * np.inf, K, V), "Q must be finite"),
        (lambda Q, K, V: attention_via_gradient(Q, K, V, block=0), "block must be a positive integer"),
        (lambda Q, K, V: attention_via_gradient(Q, K, V, block=1.5), "block must be a positive integer"),
        (lambda Q, K, V: attention_gradient_instance(Q, K, V, slice(2, 2)), "non-empty contiguous"),
        (lambda Q, K, V: attention_gradient_instance(Q, K, V, slice(0, 4, 2)), "non-empty contiguous"),
        (lambda Q, K, V: attention_gradient_instance(Q, K, V, [0, 1]), "rows must be a slice"),
        (lambda Q, K, V: tensor_attention_via_gradient(Q, K, K[:3], V, V), "V2 must have 3 rows"),
        (lambda Q, K, V: tensor_attention_via_gradient(Q, K, K, V, V, block=-1), "block must be"),
    ],
)
def test_bad_input_raises_value_error(call, match):
    rng = np.random.default_rng(8)
    Q, K, V = _qkv(rng, 4, 4, 2, 2)
    with pytest.raises(ValueError, match=match):
        call(Q, K, V)


# ---------------------------------------------------------------------------- tensor
@pytest.mark.parametrize("block", [None, 1, 5])
def test_tensor_attention_via_gradient_equals_tensor_attention(block):
    rng = np.random.default_rng(9)
    for n, n1, n2, d, d_v in [(5, 4, 3, 2, 2), (3, 2, 5, 3, 1), (1, 1, 1, 1, 1)]:
        Q, K1, K2 = rng.normal(size=(n, d)), rng.normal(size=(n1, d)), rng.normal(size=(n2, d))
        V1, V2 = rng.normal(size=(n1, d_v)), rng.normal(size=(n2, d_v))
        got = tensor_attention_via_gradient(Q, K1, K2, V1, V2, block=block)
        np.testing.assert_allclose(got, tensor_attention(Q, K1, K2, V1, V2), rtol=1e-10, atol=1e-12)


def test_tensor_gradient_entries_read_by_the_decoder_match_finite_differences():
    rng = np.random.default_rng(10)
    Q, K1, K2 = rng.normal(size=(2, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    V1, V2 = rng.normal(size=(3, 1)), rng.normal(size=(3, 1))
    inst, decode = tensor_attention_gradient_instance(Q, K1, K2, V1, V2, slice(0, 2))
    A1, A2, A3, A4, A5, E, X, Y = inst.args
    D, M = inst.D, 4
    G = np.zeros((D, D * D))
    h = 1e-5
    z, y_k = 2 + M + 1, 2 + M
    for r in range(z, z + 2):
        for t in range(M):
            col = (2 + t) * D + y_k
            Xp, Xm = X.copy(), X.copy()
            Xp[r, col] += h
            Xm[r, col] -= h
            lp = tensor_attention_loss(A1, A2, A3, A4, A5, E, Xp, Y)
            lm = tensor_attention_loss(A1, A2, A3, A4, A5, E, Xm, Y)
            G[r, col] = (lp - lm) / (2 * h)
    exact = tensor_attention_loss_grad(*inst.args)
    read = [(r, (2 + t) * D + y_k) for r in range(z, z + 2) for t in range(M)]
    fd, ex = np.array([G[i] for i in read]), np.array([exact[i] for i in read])
    assert np.max(np.abs(fd - ex)) / np.max(np.abs(ex)) < 1e-6
    np.testing.assert_allclose(decode(G), tensor_attention(Q, K1, K2, V1, V2), rtol=1e-5, atol=1e-6)


def test_tensor_gradient_instance_blow_up_matches_docstring():
    rng = np.random.default_rng(11)
    n, n1, n2, d, d_v, b = 4, 3, 5, 2, 2, 2
    Q, K1, K2 = rng.normal(size=(n, d)), rng.normal(size=(n1, d)), rng.normal(size=(n2, d))
    V1, V2 = rng.normal(size=(n1, d_v)), rng.normal(size=(n2, d_v))
    inst, _ = tensor_attention_gradient_instance(Q, K1, K2, V1, V2, slice(0, b))
    p = d_v + 1
    D = max(d + 2 * p + 1 + b, 3 * p + 1)
    assert inst.D == D
    assert inst.A2.shape == inst.A4.shape == (n1 + 2 * p, D)
    assert inst.A3.shape == inst.A5.shape == (n2 + 1, D)
    assert inst.X.shape == (D, D * D) and inst.Y.shape == (D * D, p) and inst.E.shape == (b, p)
    sigma = (D / d) ** (1 / 3)
    assert np.max(np.abs(inst.A1 @ inst.X)) <= sigma * np.max(np.abs(Q)) + 1e-12
    # real-pair logits A1 X (A2 ⊗ A3)^T / D are the forward instance's trilinear logits
    logits = (inst.A1 @ inst.X @ np.kron(inst.A2, inst.A3).T / D).reshape(b, n1 + 2 * p, n2 + 1)
    np.testing.assert_allclose(logits[:, :n1, :n2], np.einsum("il,jl,kl->ijk", Q[:b], K1, K2) / d, atol=1e-12)
    # every (dummy, dummy) pair has the mean trilinear logit
    np.testing.assert_allclose(logits[:, n1:, n2], np.einsum("il,jl,kl->ijk", Q[:b], K1, K2).mean(axis=(1, 2))[:, None] / d * np.ones((1, 2 * p)), atol=1e-12)
