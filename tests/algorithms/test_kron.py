"""The Kronecker products ⊘ and ⊗_row and the identities (I1)-(I4) the fast algorithms rest on."""

import itertools

import numpy as np
import pytest

from algorithms.kron import column_kron, row_kron


def uniform(rng, shape, B=1.0):
    return rng.uniform(-B, B, shape)


def test_column_kron_row_j1_n2_plus_j2_is_entrywise_product():
    rng = np.random.default_rng(0)
    A, B = uniform(rng, (3, 4)), uniform(rng, (5, 4))
    C = column_kron(A, B)
    assert C.shape == (15, 4)
    for j1, j2 in itertools.product(range(3), range(5)):
        assert np.array_equal(C[j1 * 5 + j2], A[j1] * B[j2])
    for c in range(4):
        assert np.array_equal(C[:, c], np.kron(A[:, c], B[:, c]))


def test_row_kron_row_i_is_kron_of_rows():
    rng = np.random.default_rng(1)
    A, B = uniform(rng, (4, 2)), uniform(rng, (4, 3))
    R = row_kron(A, B)
    for i in range(4):
        assert np.array_equal(R[i], np.kron(A[i], B[i]))


def test_identity_I1_values_factor_through_column_kron():
    rng = np.random.default_rng(2)
    K1, K2, V1, V2 = uniform(rng, (5, 3)), uniform(rng, (4, 3)), uniform(rng, (5, 3)), uniform(rng, (4, 3))
    lhs = column_kron(K1, K2).T @ column_kron(V1, V2)
    assert np.allclose(lhs, (K1.T @ V1) * (K2.T @ V2), atol=1e-14)


def test_identity_I2_weights_factor_out_of_column_kron():
    rng = np.random.default_rng(3)
    A2, A3, X2, X3 = uniform(rng, (5, 3)), uniform(rng, (4, 3)), uniform(rng, (3, 2)), uniform(rng, (3, 2))
    lhs = column_kron(A2 @ X2, A3 @ X3)
    assert np.allclose(lhs, np.kron(A2, A3) @ column_kron(X2, X3), atol=1e-14)


def test_identity_I3_hadamard_of_low_rank_is_row_kron():
    rng = np.random.default_rng(4)
    U1, V1, U2, V2 = uniform(rng, (6, 2)), uniform(rng, (7, 2)), uniform(rng, (6, 3)), uniform(rng, (7, 3))
    lhs = (U1 @ V1.T) * (U2 @ V2.T)
    assert np.allclose(lhs, row_kron(U1, U2) @ row_kron(V1, V2).T, atol=1e-14)


def test_identity_I4_column_kron_against_kron_needs_no_n_squared():
    rng = np.random.default_rng(5)
    Ub, Uc, A2, A3 = uniform(rng, (5, 4)), uniform(rng, (6, 4)), uniform(rng, (5, 3)), uniform(rng, (6, 3))
    lhs = column_kron(Ub, Uc).T @ np.kron(A2, A3)
    assert np.allclose(lhs, row_kron(Ub.T @ A2, Uc.T @ A3), atol=1e-14)


def test_swap_rule_keeps_value_factor_in_column_kron_form():
    """``(U2 ⊘ U3) ⊗_row (V1 ⊘ V2) = (U2 ⊗_row V1) ⊘ (U3 ⊗_row V2)``: f∘q stays in ⊘ form."""
    rng = np.random.default_rng(6)
    U2, U3, V1, V2 = uniform(rng, (4, 3)), uniform(rng, (5, 3)), uniform(rng, (4, 2)), uniform(rng, (5, 2))
    lhs = row_kron(column_kron(U2, U3), column_kron(V1, V2))
    rhs = column_kron(row_kron(U2, V1), row_kron(U3, V2))
    assert np.allclose(lhs, rhs, atol=1e-15)


def test_kron_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="B must have 2 columns"):
        column_kron(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="B must have 2 rows"):
        row_kron(np.ones((2, 2)), np.ones((3, 2)))
