"""The streaming softmax: any split into query and key blocks gives the dense softmax, and no overflow."""

import numpy as np
import pytest

from algorithms._blocks import row_blocks
from algorithms.softmax import online_softmax, softmax_blocks


def _dense(S, V):
    A = np.exp(S - S.max(axis=1, keepdims=True))
    return (A / A.sum(axis=1, keepdims=True)) @ V


@pytest.mark.parametrize("query_block,key_block", [(1, 1), (3, 2), (4, 7), (50, 50)])
def test_online_softmax_equals_the_dense_one_for_any_blocks(query_block, key_block):
    rng = np.random.default_rng(query_block + key_block)
    S, V = 30 * rng.normal(size=(11, 13)), rng.normal(size=(13, 2))  # logits up to ~100: exp overflows nowhere

    def logits(qs, ks):
        return S[qs, ks].copy()

    keys = list(row_blocks(13, key_block))
    out, lse = online_softmax(logits, lambda W, qs, ks: W @ V[ks], 11, 2, query_block=query_block,
                              key_blocks=lambda qs: keys)
    np.testing.assert_allclose(out, _dense(S, V), rtol=1e-12, atol=1e-14)
    top = S.max(axis=1)
    np.testing.assert_allclose(lse, top + np.log(np.exp(S - top[:, None]).sum(axis=1)), rtol=1e-14)
    f = np.zeros_like(S)
    for qs, ks, block in softmax_blocks(logits, lse, 11, query_block=query_block, key_blocks=lambda qs: keys):
        f[qs, ks] = block
    np.testing.assert_allclose(f.sum(axis=1), 1.0, rtol=1e-13)
    np.testing.assert_allclose(f @ V, out, rtol=1e-12, atol=1e-14)


def test_masked_logits_and_huge_logits_stay_finite():
    S = np.array([[1e5, -np.inf, -np.inf], [0.0, 1e5 + 1.0, -np.inf]])
    out, lse = online_softmax(lambda qs, ks: S[qs, ks].copy(), lambda W, qs, ks: W @ np.eye(3)[ks], 2, 3,
                              query_block=1, key_blocks=lambda qs: [slice(0, 1), slice(1, 3)])
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(lse))
    np.testing.assert_allclose(out, [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], atol=1e-300)
