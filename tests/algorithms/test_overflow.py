"""Logits beyond float64 (issue 13, item 1): exact attention and its gradients stay finite and right.

Oracle: mpmath at high precision, independent of the code under test (the
softmax written out from its definition; gradients by central differences).
Inputs are small integers times ``2^E``, so every logit is an exact multiple of
``2^(2E)/d`` and float64 with an unbounded exponent computes it exactly: the
saturated regime, where the answer is the average over the row's ties.
"""

import mpmath as mp
import numpy as np
import pytest

from algorithms import _xfloat as xf
from algorithms.attention import attention, attention_vjp
from algorithms.poly_attention import (
    AttentionPolynomial,
    path_attention,
    poly_attention_bruteforce,
    poly_attention_exact,
    strassen_attention,
)
from algorithms.softmax import ProductLogits, online_softmax, softmax_blocks
from algorithms.tensor_attention import tensor_attention, tensor_attention_vjp

DPS = 450  # enough digits for a step of 1e-30 / 2^802 on entries of 2^400 (and 1e-30 / 2^601 on 2^600)


def mp_attention(mats, values, d):
    """``sum_J softmax_J(<q_i, prod k>/d) prod_t V_t[j_t]`` in mpmath, mats = [Q, K1, ...], values = [V1, ...]."""
    import itertools

    n = len(mats[0])
    out = []
    for i in range(n):
        keys = list(itertools.product(*(range(len(K)) for K in mats[1:])))
        logits = []
        for J in keys:
            total = mp.mpf(0)
            for col in range(d):
                term = mats[0][i][col]
                for K, j in zip(mats[1:], J):
                    term *= K[j][col]
                total += term
            logits.append(total / d)
        top = max(logits)
        w = [mp.exp(L - top) for L in logits]
        z = sum(w)
        row = []
        for c in range(len(values[0][0])):
            acc = mp.mpf(0)
            for wj, J in zip(w, keys):
                prod = mp.mpf(1)
                for V, j in zip(values, J):
                    prod *= V[j][c]
                acc += wj * prod
            row.append(acc / z)
        out.append(row)
    return out


def to_mp(A):
    return [[mp.mpf(float(x)) for x in row] for row in np.asarray(A)]


def saturated(rng, shape, E):
    return rng.integers(-2, 3, size=shape) * 2.0**E


def test_issue_reproducers_are_finite_and_right():
    out = attention(np.full((1, 1), 1e200), np.full((2, 1), 1e200), np.array([[1.0], [2.0]]))
    assert out.tolist() == [[1.5]]  # a tie of two logits 1e400: the mean
    q, k = np.full((1, 1), 1e110), np.full((2, 1), 1e110)
    V1, V2 = np.array([[1.0], [2.0]]), np.array([[1.0], [3.0]])
    assert tensor_attention(q, k, k, V1, V2).tolist() == [[3.0]]  # four tied 1e330 logits
    for grads in (attention_vjp(np.full((1, 1), 1e200), np.full((2, 1), 1e200), V1, np.ones((1, 1))),
                  tensor_attention_vjp(q, k, k, V1, V2, np.ones((1, 1)))):
        assert all(np.all(np.isfinite(g)) for g in grads)


@pytest.mark.parametrize("seed", range(4))
def test_attention_matches_mpmath_beyond_float64(seed):
    rng = np.random.default_rng(seed)
    d = 2
    Q, K = saturated(rng, (3, d), 600), saturated(rng, (4, d), 600)
    K[1] = K[0]  # at least one tie in every row
    V = rng.normal(size=(4, 2))
    with np.errstate(all="raise"):  # no silent overflow anywhere on the way
        ours = attention(Q, K, V)
    with mp.workdps(60):
        ref = np.array(mp_attention([to_mp(Q), to_mp(K)], [to_mp(V)], d), dtype=float)
    np.testing.assert_allclose(ours, ref, rtol=1e-14, atol=1e-15)


def test_tensor_attention_matches_mpmath_beyond_float64():
    rng = np.random.default_rng(7)
    d = 2
    Q, K1, K2 = saturated(rng, (2, d), 400), saturated(rng, (3, d), 400), saturated(rng, (2, d), 400)
    V1, V2 = rng.normal(size=(3, 2)), rng.normal(size=(2, 2))
    ours = tensor_attention(Q, K1, K2, V1, V2)
    with mp.workdps(60):
        ref = np.array(mp_attention([to_mp(Q), to_mp(K1), to_mp(K2)], [to_mp(V1), to_mp(V2)], d), dtype=float)
    np.testing.assert_allclose(ours, ref, rtol=1e-14, atol=1e-15)


def central_differences(f, arrays, steps):
    """d f / d arrays[a][i, j] in mpmath by central differences with step ``steps[a]``.

    The step must move the logits by far less than 1: ``1e-30`` divided by the
    size of the logit's derivative in that entry (the product of the other
    factors' scales).
    """
    grads = []
    for a, A in enumerate(arrays):
        G = np.zeros((len(A), len(A[0])))
        h = mp.mpf(steps[a])
        for idx in np.ndindex(G.shape):
            plus = [[row[:] for row in X] for X in arrays]
            minus = [[row[:] for row in X] for X in arrays]
            plus[a][idx[0]][idx[1]] += h
            minus[a][idx[0]][idx[1]] -= h
            G[idx] = float((f(plus) - f(minus)) / (2 * h))
        grads.append(G)
    return grads


def test_attention_vjp_matches_mpmath_differences_beyond_float64():
    """The gradient in the saturated regime is the derivative at the tie: ``P`` uniform on the ties."""
    rng = np.random.default_rng(11)
    d = 2
    Q, K = saturated(rng, (2, d), 600), saturated(rng, (3, d), 600)
    K[2] = K[0] + np.array([0.0, 2.0**600]) * (1 if Q[0, 1] == 0 else 0)  # keep ties and non-ties
    K[1, 0] = K[0, 0]
    V, dO = rng.normal(size=(3, 2)), rng.normal(size=(2, 2))
    ours = attention_vjp(Q, K, V, dO)
    with mp.workdps(DPS):
        dOm = to_mp(dO)

        def f(arrs):
            out = mp_attention([arrs[0], arrs[1]], [arrs[2]], d)
            return sum(out[i][c] * dOm[i][c] for i in range(2) for c in range(2))

        tiny = mp.mpf("1e-30") / mp.mpf(2) ** 601
        ref = central_differences(f, [to_mp(Q), to_mp(K), to_mp(V)], [tiny, tiny, mp.mpf("1e-30")])
    for g, r in zip(ours, ref):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9 * max(1.0, np.max(np.abs(r))))


def test_tensor_attention_vjp_matches_mpmath_differences_beyond_float64():
    rng = np.random.default_rng(12)
    d = 2
    Q, K1, K2 = saturated(rng, (1, d), 400), saturated(rng, (2, d), 400), saturated(rng, (2, d), 400)
    K1[1] = K1[0]
    V1, V2, dO = rng.normal(size=(2, 1)), rng.normal(size=(2, 1)), rng.normal(size=(1, 1))
    ours = tensor_attention_vjp(Q, K1, K2, V1, V2, dO)
    with mp.workdps(DPS):
        dOm = to_mp(dO)

        def f(arrs):
            out = mp_attention(arrs[:3], arrs[3:], d)
            return out[0][0] * dOm[0][0]

        tiny = mp.mpf("1e-30") / mp.mpf(2) ** 802
        ref = central_differences(f, [to_mp(A) for A in (Q, K1, K2, V1, V2)], [tiny] * 3 + [mp.mpf("1e-30")] * 2)
    for g, r in zip(ours, ref):
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9 * max(1.0, np.max(np.abs(r))))


@pytest.mark.parametrize("text", ["x1x2", "x1x2x3", "x1x2 + x2x3 + x3x1", "x1x2 + x2x3 + x3x4", "x1x2 + x2x3x4 + x4x1"])
def test_poly_attention_matches_mpmath_beyond_float64(text):
    import itertools

    h = AttentionPolynomial.parse(text)
    rng = np.random.default_rng(len(text))
    E = 600 if h.degree == 2 else 400
    n, d = 2, 2
    Xs = [saturated(rng, (n, d), E) for _ in range(h.t)]
    Vs = [rng.normal(size=(n, 1)) for _ in range(h.t - 1)]
    with mp.workdps(60):
        X = [to_mp(A) for A in Xs]
        ref = []
        for i in range(n):
            tuples = list(itertools.product(range(n), repeat=h.t - 1))
            logits = []
            for rest in tuples:
                ell = (i,) + rest
                logits.append(sum(sum(mp.fprod(X[j - 1][ell[j - 1]][c] for j in mono) for c in range(d))
                                  for mono in h.monomials) / d)
            top = max(logits)
            w = [mp.exp(L - top) for L in logits]
            ref.append(float(sum(wj * mp.fprod(mp.mpf(float(Vs[j][r[j], 0])) for j in range(h.t - 1))
                                 for wj, r in zip(w, tuples)) / sum(w)))
    ref = np.array(ref)[:, None]
    with np.errstate(all="raise"):
        exact = poly_attention_exact(h, Xs, Vs).output
        brute = poly_attention_bruteforce(h, Xs, Vs)
    np.testing.assert_allclose(exact, ref, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(brute, ref, rtol=1e-13, atol=1e-14)


def test_poly_attention_counts_ties_through_the_elimination():
    # the message of x3 ties twice for every x2: the log of the count must survive a logit of 2^1200
    h, rng = path_attention(3), np.random.default_rng(3)
    Xs = [saturated(rng, (3, 2), 600) for _ in range(h.t)]
    Vs = [rng.normal(size=(3, 2)) for _ in range(h.t - 1)]
    np.testing.assert_allclose(poly_attention_exact(h, Xs, Vs).output, poly_attention_bruteforce(h, Xs, Vs),
                               rtol=1e-13, atol=1e-14)
    h = strassen_attention()
    Xs = [saturated(rng, (3, 2), 600) for _ in range(h.t)]
    np.testing.assert_allclose(poly_attention_exact(h, Xs, Vs[:2]).output,
                               poly_attention_bruteforce(h, Xs, Vs[:2]), rtol=1e-13, atol=1e-14)


def test_wide_rows_replay_the_same_weights_and_mix_with_plain_ones():
    # one query block overflows, the other does not; blocks of one row each
    Q = np.array([[1e200, 0.0], [0.0, 2.0]])
    K = np.array([[1e200, 0.0], [1e200, 1.0], [-1e200, 3.0], [0.5, 0.5]])
    V = np.arange(8.0).reshape(4, 2)
    S = ProductLogits(0.5, Q, K)
    out, lse = online_softmax(S, lambda W, q, k: W @ V[k], 2, 2, query_block=1,
                              key_blocks=lambda q: [slice(0, 2), slice(2, 4)])
    assert np.isnan(lse[0]) and np.isfinite(lse[1])
    np.testing.assert_allclose(out[0], V[:2].mean(axis=0))  # keys 0 and 1 tie at 5e399
    dense = Q[1] @ K.T / 2
    w = np.exp(dense - dense.max())
    np.testing.assert_allclose(out[1], w @ V / w.sum(), rtol=1e-14)
    f = np.zeros((2, 4))
    for qs, ks, block in softmax_blocks(S, lse, 2, query_block=1, key_blocks=lambda q: [slice(0, 2), slice(2, 4)]):
        f[qs, ks] = block
    np.testing.assert_allclose(f.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(f @ V, out, rtol=1e-14)


def test_huge_negative_rows_and_plain_logits_that_overflow():
    # every logit of the row is about -1e400: float64 says -inf everywhere, the wide form keeps the order
    Q, K = np.array([[1e200]]), np.array([[-1e200], [-2e200]])
    assert attention(Q, K, np.array([[1.0], [2.0]])).tolist() == [[1.0]]
    S = np.array([[np.inf, 0.0]])
    with pytest.raises(ValueError, match="overflow float64"):
        online_softmax(lambda q, k: S[q, k].copy(), lambda W, q, k: W @ np.ones((2, 1))[k], 1, 1,
                       query_block=1, key_blocks=lambda q: [slice(0, 2)])


def test_xfloat_operations():
    a = xf.split(np.array([1e300, -3.0, 0.0]))
    big = xf.multilinear([np.array([[1e300]]), np.array([[1e300]])])  # 1e600
    assert xf.to_float(big).tolist() == [[np.inf]]
    assert xf.to_float(xf.add(a, a)).tolist() == [2e300, -6.0, 0.0]
    twice = xf.add(big, big)
    assert xf.sub_to_float(twice, big).tolist() == [[np.inf]] and xf.sub_to_float(big, big).tolist() == [[0.0]]
    assert xf.to_float(xf.multilinear([np.array([[1e300, -1e300]]), np.array([[1e300, 1e300]])])).tolist() == [[0.0]]
    top = xf.amax(xf.split(np.array([[-5.0, -1e300, -4.0], [0.0, -1.0, 2.0]])), axis=1)
    assert xf.to_float(top).ravel().tolist() == [-4.0, 2.0]
    assert xf.sub_to_float(big, xf.split(np.array([[-1e300]]))).tolist() == [[np.inf]]


def test_replay_of_a_huge_finite_tie_sums_to_one():
    # logits 1e200 (finite): lse = m + log 2 rounds to m; the replay must still give 1/2 each
    Q, K, V, dO = np.full((1, 1), 1e100), np.full((2, 1), 1e100), np.array([[1.0], [3.0]]), np.ones((1, 1))
    dQ, dK, dV = attention_vjp(Q, K, V, dO)
    assert dV.tolist() == [[0.5], [0.5]]
    assert dQ.tolist() == [[0.0]] and np.all(np.isfinite(dK))
