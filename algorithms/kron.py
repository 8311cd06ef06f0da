"""Kronecker products of matrices and the identities the fast algorithms rest on.

Two products of an ``(n1, d)`` and an ``(n2, d)`` (resp. two ``n``-row) matrices:

* the column-wise Kronecker (Khatri-Rao) product ``A ⊘ B``, row ``(j1, j2)``
  (stored at ``j1 * n2 + j2``) equal to ``A[j1] ∘ B[j2]``: the key pairs of
  tensor attention (Alman & Song, ICLR 2024);
* the row-wise Kronecker product ``A ⊗_row B``, row ``i`` equal to
  ``numpy.kron(A[i], B[i])``: it turns an entrywise product of low-rank
  matrices into one low-rank product (Alman & Song 2024, Fact A.2), which is
  why ``f ∘ q`` has rank ``r d`` in every fast gradient (matrix and tensor).

Identities, with ``⊗`` the ordinary Kronecker product (checked in the tests):

- (I1) ``(K1 ⊘ K2)^T (V1 ⊘ V2) = (K1^T V1) ∘ (K2^T V2)``;
- (I2) ``(A2 X2) ⊘ (A3 X3) = (A2 ⊗ A3)(X2 ⊘ X3)``;
- (I3) ``(U1 V1^T) ∘ (U2 V2^T) = (U1 ⊗_row U2)(V1 ⊗_row V2)^T``;
- (I4) ``(Ub ⊘ Uc)^T (A2 ⊗ A3) = (Ub^T A2) ⊗_row (Uc^T A3)``.

References
----------
.. [1] J. Alman, Z. Song. How to capture higher-order correlations? Generalizing
   matrix softmax attention to Kronecker computation. ICLR 2024, arXiv:2310.04064.
.. [2] J. Alman, Z. Song. The fine-grained complexity of gradient computation for
   training large language models. NeurIPS 2024, arXiv:2402.04497, Fact A.2.
.. [3] Y. Liang, Z. Shi, Z. Song, Y. Zhou. Tensor attention training: provably
   efficient learning of higher-order transformers. arXiv:2405.16411,
   Facts 5.4-5.5, Lemma 5.6.
"""

from __future__ import annotations

import numpy as np

from algorithms._checks import as_matrix

__all__ = ["column_kron", "row_kron"]


def column_kron(A, B) -> np.ndarray:
    """Column-wise Kronecker product ``A ⊘ B`` (Khatri-Rao): row ``j1 * n2 + j2`` is ``A[j1] ∘ B[j2]``.

    Parameters
    ----------
    A : (n1, d) array
    B : (n2, d) array

    Returns
    -------
    (n1 * n2, d) array; column ``l`` is ``numpy.kron(A[:, l], B[:, l])``.

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array or the column counts differ.

    Examples
    --------
    >>> column_kron(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 10.0], [2.0, 20.0]]))
    array([[ 1., 20.],
           [ 2., 40.],
           [ 3., 40.],
           [ 6., 80.]])

    Notes
    -----
    Materialises ``n1 n2 d`` numbers: for tests and teaching.  The algorithms
    never call it on large inputs; they use the identities (I1)-(I4) of the
    module docstring instead.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064 (definition of ⊘).
    .. [2] Liang, Shi, Song, Zhou, arXiv:2405.16411 (I2, I4; Facts 5.4-5.5, Lemma 5.6).
    """
    A = as_matrix("A", A)
    B = as_matrix("B", B, cols=A.shape[1])
    return _column_kron(A, B)


def row_kron(A, B) -> np.ndarray:
    """Row-wise Kronecker product ``A ⊗_row B``: row ``i`` is ``numpy.kron(A[i], B[i])``.

    Parameters
    ----------
    A : (n, a) array
    B : (n, b) array

    Returns
    -------
    (n, a * b) array (the ⊘ of AS24a Fact A.2, with ``A``'s index slow).

    Raises
    ------
    ValueError
        If an input is not a finite 2-d array or the row counts differ.

    Examples
    --------
    >>> row_kron(np.array([[1.0, 2.0]]), np.array([[3.0, 4.0]]))
    array([[3., 4., 6., 8.]])

    Notes
    -----
    ``O(n a b)``.  It turns an entrywise product of low-rank matrices into one
    low-rank product, (I3): this is why ``f ∘ q`` has rank ``r d`` in the fast
    gradient.

    References
    ----------
    .. [1] Alman & Song, arXiv:2402.04497, Fact A.2.
    """
    A = as_matrix("A", A)
    B = as_matrix("B", B, rows=A.shape[0])
    return _row_kron(A, B)


def _column_kron(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """:func:`column_kron` without the input checks (for validated arrays)."""
    return (A[:, None, :] * B[None, :, :]).reshape(-1, A.shape[1])


def _row_kron(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """:func:`row_kron` without the input checks (for validated arrays)."""
    return (A[:, :, None] * B[:, None, :]).reshape(A.shape[0], -1)
