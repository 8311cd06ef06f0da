"""Shared test references, independent of the code under test.

Fixtures and helpers here are written straight from the papers' definitions
(dense, small inputs only), so a test can compare the library against a
computation that does not share its code.  Import them as
``from tests.conftest import reference_attention, central_difference``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def reference_attention(Q, K, V, *, causal: bool = False) -> np.ndarray:
    """``D^{-1} (M o exp(Q K^T / d)) V`` formed densely (Alman & Song 2023, Def. 1.1).

    ``M`` is all ones, or the causal mask ``M_ij = [i >= j]`` (Liang et al.
    2024).  The row maximum is subtracted before ``exp`` (it cancels in the
    ratio), so large logits do not overflow.
    """
    S = Q @ K.T / Q.shape[1]
    if causal:
        S = np.where(np.tril(np.ones_like(S)) > 0, S, -np.inf)
    A = np.exp(S - S.max(axis=1, keepdims=True))
    return (A / A.sum(axis=1, keepdims=True)) @ V


def reference_tensor_attention(Q, K1, K2, V1, V2) -> np.ndarray:
    """``D^{-1} exp(Q (K1 ⊘ K2)^T / d) (V1 ⊘ V2)`` by one einsum over all ``(i, j1, j2)`` (Alman & Song 2024)."""
    S = np.einsum("il,jl,kl->ijk", Q, K1, K2) / Q.shape[1]
    A = np.exp(S - S.max(axis=(1, 2), keepdims=True))
    return np.einsum("ijk,jl,kl->il", A, V1, V2) / A.sum(axis=(1, 2))[:, None]


def central_difference(f: Callable[[np.ndarray], float], X: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """``(f(X + h e_idx) - f(X - h e_idx)) / (2 h)`` for every entry ``idx`` of ``X``: a gradient of ``f``."""
    G = np.empty_like(X, dtype=float)
    for idx in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[idx] += h
        Xm[idx] -= h
        G[idx] = (f(Xp) - f(Xm)) / (2 * h)
    return G
