"""The one low-rank operator A~ = U1 (U2 ⊘ ... ⊘ Uk)^T: every product against its dense form, for k = 2, 3, 4."""

import numpy as np
import pytest

from algorithms.kron import column_kron
from algorithms.polynomial_method import LowRankOperator, approximate_exp, block_rows


def _operator(rng, k, n=23, m=(19, 17, 13), d=3, B=1.0, eps=1e-6):
    Q = rng.uniform(-B, B, (n, d))
    keys = tuple(rng.uniform(-B, B, (m[j], d)) for j in range(k - 1))
    return LowRankOperator(Q, keys, approximate_exp(B, k, eps), bound=B)


def _dense_keys(op):
    """Rows (j2, ..., jk) of K2 ⊘ ... ⊘ Kk and of U2 ⊘ ... ⊘ Uk."""
    K, U = op.keys[0], op.psi(1)
    for which in range(2, op.k):
        K, U = column_kron(K, op.keys[which - 1]), column_kron(U, op.psi(which))
    return K, U


@pytest.mark.parametrize("k", [2, 3, 4])
def test_operator_is_the_polynomial_of_the_k_way_logits_entrywise(k):
    op = _operator(np.random.default_rng(k), k)
    K, U = _dense_keys(op)
    logits = op.Q @ K.T * op.scale
    np.testing.assert_allclose(op.U1 @ U.T, op.approximation(logits), rtol=1e-11)
    assert np.max(np.abs(op.U1 @ U.T / np.exp(logits) - 1)) <= op.entry_error


@pytest.mark.parametrize("k", [2, 3, 4])
def test_apply_and_marginals_equal_the_dense_normalised_matrix(k):
    rng = np.random.default_rng(10 + k)
    op = _operator(rng, k)
    f = op.dense()
    Vs = [rng.normal(size=(K.shape[0], 2)) for K in op.keys]
    values = Vs[0]
    for V in Vs[1:]:
        values = column_kron(values, V)
    np.testing.assert_allclose(op.apply(*Vs), f @ values, rtol=1e-10, atol=1e-12)
    Y = rng.normal(size=(op.n, 3))
    mass = (f.T @ Y).reshape(*(K.shape[0] for K in op.keys), 3)
    for s, marginal in enumerate(op.marginals(Y)):
        axes = tuple(a for a in range(k - 1) if a != s)
        np.testing.assert_allclose(marginal, mass.sum(axis=axes), rtol=1e-10, atol=1e-12)


def test_pair_products_and_row_blocks():
    rng = np.random.default_rng(3)
    op = _operator(rng, 2, n=40, m=(35,))
    A = op.U1 @ op.U2.T
    Y, Z = rng.normal(size=(35, 2)), rng.normal(size=(40, 2))
    np.testing.assert_allclose(op.product(Y), A @ Y, rtol=1e-11)
    np.testing.assert_allclose(op.product(Z, transpose=True), A.T @ Z, rtol=1e-11)
    np.testing.assert_allclose(op.matmul(Y), (A / A.sum(1, keepdims=True)) @ Y, rtol=1e-11)
    np.testing.assert_allclose(op.rmatmul(Z), (A / A.sum(1, keepdims=True)).T @ Z, rtol=1e-11)
    np.testing.assert_array_equal(np.vstack([op.u1(0, 7), op.u1(7, 40)]), op.U1)
    np.testing.assert_array_equal(op.u2(3, 9), op.U2[3:9])


def test_streaming_in_blocks_changes_nothing(monkeypatch):
    import algorithms.polynomial_method.low_rank as low_rank

    rng = np.random.default_rng(4)
    op = _operator(rng, 3, n=50, m=(40, 30))
    V1, V2 = rng.normal(size=(40, 2)), rng.normal(size=(30, 2))
    whole = op.apply(V1, V2)
    monkeypatch.setattr(low_rank, "_MAX_BLOCK", 8)
    monkeypatch.setattr(low_rank, "_MIN_BLOCK", 8)
    assert low_rank.block_rows(op.rank) == 8
    np.testing.assert_allclose(op.apply(V1, V2), whole, rtol=1e-12, atol=1e-14)


def test_block_policy_is_a_power_of_two_within_its_limits():
    for r in (1, 10, 35, 330, 1001, 5005, 10**6):
        b = block_rows(r)
        assert 64 <= b <= 2048 and b & (b - 1) == 0


def test_pair_only_methods_refuse_k_above_two():
    op = _operator(np.random.default_rng(5), 3)
    for call in (lambda: op.matmul(np.ones((19, 1))), lambda: op.product(np.ones((19, 1)))):
        with pytest.raises(ValueError, match="k = 2"):
            call()
    with pytest.raises(ValueError, match="apply needs 2 value matrices"):
        op.apply(np.ones((19, 1)))
