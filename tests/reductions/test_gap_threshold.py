"""The entry bound at which the gap constructions separate, and the rank the polynomial method needs there."""

from __future__ import annotations

import math

import numpy as np
import pytest

from algorithms.attention import attention
from reductions.gap import GapInstance
from reductions.gap_threshold import (
    minimal_bound,
    minimal_bound_tensor,
    polynomial_method_rank,
)
from reductions.gap_to_attention import gap_to_attention


def _worst_pair(N, m, gap):
    """A no-row with all N keys at inner product t_lo = m - gap, a yes-row with one key at t_hi = m."""
    no_row = np.ones((1, m), int)
    keys = np.zeros((N, m), int)
    keys[:, : m - gap] = 1
    yes_keys = np.zeros((N, m), int)
    yes_keys[0] = 1
    return no_row, keys, yes_keys


@pytest.mark.parametrize("N, m, gap", [(16, 40, 4), (40, 30, 3)])
def test_minimal_bound_is_the_smallest_correct_bound(N, m, gap):
    """Just above minimal_bound the worst no-row has less mass than the weakest yes-row; just below, more."""
    B_min = minimal_bound(N, m, gap)
    no_row, keys, yes_keys = _worst_pair(N, m, gap)
    for factor, separated in [(1.02, True), (0.98, False)]:
        s = factor * B_min
        Q = s * no_row.astype(float)
        y_no = attention(Q, np.vstack([s * keys, np.zeros((1, m))]), np.eye(N + 1)[:, -1:])[0, 0]
        y_yes = attention(Q, np.vstack([s * yes_keys, np.zeros((1, m))]), np.eye(N + 1)[:, -1:])[0, 0]
        assert bool(y_yes < y_no) is separated


def test_threshold_grows_like_sqrt_log_n_and_cube_root_for_tensors():
    """m = 2 log2 N, gap m/4: B/sqrt(ln N) and B_tensor/(ln N)^(1/3) stay flat as N grows 256-fold."""
    matrix, tensor = [], []
    for N in [2**4, 2**8, 2**12]:
        m = int(2 * math.log2(N))
        src = GapInstance(np.ones((1, m), int), np.ones((N, m), int), m - m // 4, m)
        inst, _ = gap_to_attention(src)
        matrix.append(inst.B / math.sqrt(math.log(N)))
        tensor.append(minimal_bound_tensor(N, m, m // 4) / math.log(N) ** (1 / 3))
        assert inst.B > minimal_bound(N, m, m // 4)
    assert max(matrix) / min(matrix) < 1.2 and max(tensor) / min(tensor) < 1.2


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: minimal_bound(10, 5, 0), "gap > 0"),
        (lambda: minimal_bound(10, 5, 2, form="cosine"), "form"),
        (lambda: minimal_bound_tensor(0, 5, 2), "n >= 1"),
        (lambda: polynomial_method_rank(1.0, 3, 1.5), "0 < eps < 1"),
    ],
)
def test_bad_input_raises_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()
