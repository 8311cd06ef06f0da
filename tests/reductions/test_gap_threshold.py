"""The entry bound at which the gap constructions separate, and the rank the polynomial method needs there."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from algorithms.attention import attention
from reductions.gap import GapInstance
from reductions.gap_threshold import (
    minimal_bound,
    polynomial_method_rank,
    sufficient_bound,
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
    B_min = minimal_bound(N, m, m - gap, m)
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
        tensor.append(sufficient_bound(N, m, m // 4, form="tensor") / math.log(N) ** (1 / 3))
        assert inst.B > sufficient_bound(N, m, m // 4)
    assert max(matrix) / min(matrix) < 1.2 and max(tensor) / min(tensor) < 1.2


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: sufficient_bound(10, 5, 0), "gap > 0"),
        (lambda: sufficient_bound(10, 5, 2, form="cosine"), "form"),
        (lambda: sufficient_bound(0, 5, 2, form="tensor"), "n >= 1"),
        (lambda: polynomial_method_rank(1.0, 3, 1.5), "0 < eps < 1"),
    ],
)
def test_bad_input_raises_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------------------- minimal_bound, exactly
def _all_rows(m: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=m)), dtype=np.int64)


def _brute_force_separating_bounds(n, m, t_lo, t_hi, form, grid):
    """For each B of ``grid``: does one threshold on the output separate every yes- from every no-instance?

    Enumerates every single-query instance (a query row, ``n`` keys; ``n`` and ``n`` key rows for the
    tensor form) in dimension ``m``, computes each row mass from the definition (a sum of exponentials
    of the logits), and compares the weakest yes-row with the strongest no-row.  A query row decides an
    instance with several rows alike (min or max over rows), so single rows suffice.
    """
    rows = _all_rows(m)
    if form == "tensor":
        T = np.einsum("al,bl,cl->abc", rows, rows, rows)  # <a, b, c> for all triples of rows
        keys = list(itertools.product(range(len(rows)), repeat=n))
        idx = np.array([[(j, k) for j in js for k in ks] for js in keys for ks in keys])  # (key sets, n^2, 2)
        values = T[:, idx[..., 0], idx[..., 1]].reshape(-1, n * n)  # (instances, n^2 pairs)
        best = values.max(axis=1)
        yes, no = best >= t_hi, best <= t_lo
        power = 3
    else:
        keysets = np.array(list(itertools.product(range(len(rows)), repeat=n)))
        if form == "hamming":
            H = np.abs(rows[:, None, :] - rows[None, :, :]).sum(-1)
            values = H[:, keysets].reshape(-1, n)  # distances
            best = values.min(axis=1)
            yes, no = best <= t_lo, best >= t_hi  # (t_lo, t_hi) = (t_near, t_far)
            values = m - values  # <a', b'> = m - h: the logit per unit of beta
        else:
            values = (rows @ rows.T)[:, keysets].reshape(-1, n)
            best = values.max(axis=1)
            yes, no = best >= t_hi, best <= t_lo
        power = 2
    assert yes.any() and no.any()
    # the row mass depends only on the multiset of a row's values: keep one row per multiset (and its side)
    keep = np.unique(np.column_stack([np.sort(values, axis=1), yes, no]), axis=0)
    values, yes, no = keep[:, :-2], keep[:, -2].astype(bool), keep[:, -1].astype(bool)
    dims = 2 * m if form == "hamming" else m
    separated = []
    for B in grid:
        beta = B**power / dims
        mass = np.exp(beta * values).sum(axis=1)  # row mass S (or R): every output is monotone in it
        separated.append(bool(mass[yes].min() > mass[no].max()))
    return np.array(separated)


@pytest.mark.parametrize(
    "n, m, t_lo, t_hi, form",
    [(3, 4, 0, 1, "max-ip"), (3, 4, 0, 2, "max-ip"), (3, 4, 1, 2, "max-ip"), (3, 4, 1, 3, "max-ip"),
     (3, 4, 2, 3, "max-ip"), (3, 4, 2, 4, "max-ip"), (3, 4, 3, 4, "max-ip"), (2, 4, 1, 2, "max-ip"),
     (3, 4, 0, 1, "hamming"), (3, 4, 1, 2, "hamming"), (3, 4, 1, 3, "hamming"), (3, 4, 2, 4, "hamming"),
     (2, 3, 0, 1, "tensor"), (2, 3, 1, 2, "tensor"), (2, 3, 1, 3, "tensor"), (2, 3, 2, 3, "tensor")],
)
def test_minimal_bound_matches_a_brute_force_search_over_B(n, m, t_lo, t_hi, form):
    """Every instance of the size, every B on a grid: separated exactly for B > minimal_bound."""
    B_min = minimal_bound(n, m, t_lo, t_hi, form)
    top = 1.5 * sufficient_bound(n, m, t_hi - t_lo, form) + 0.5
    grid = np.linspace(top / 600, top, 600)
    step = grid[1] - grid[0]
    separated = _brute_force_separating_bounds(n, m, t_lo, t_hi, form, grid)
    assert separated[-1]
    first = grid[np.argmax(separated)]
    assert np.all(separated[grid > first - step / 2])  # good entries form an interval (B*, infinity)
    if B_min == 0.0:
        assert np.all(separated)  # every B > 0 works: at t_lo = 0, or when t_hi >= n t_lo
    else:
        assert B_min < first <= B_min + step  # the first good grid point is the one just above B*
    assert B_min <= sufficient_bound(n, m, t_hi - t_lo, form) + 1e-12


def test_minimal_bound_is_zero_at_t_lo_zero_and_approaches_the_sufficient_bound():
    assert minimal_bound(1000, 200, 0, 1) == 0.0 and minimal_bound(8, 24, 0, 6, "tensor") == 0.0
    assert minimal_bound(8, 24, 2, 20) == 0.0  # t_hi >= n t_lo: the weakest yes-row already wins at B -> 0
    gaps = [minimal_bound(64, 400, t_lo, t_lo + 4) for t_lo in (8, 40, 200)]
    assert gaps[0] < gaps[1] < gaps[2] <= sufficient_bound(64, 400, 4)
    assert gaps[2] == pytest.approx(sufficient_bound(64, 400, 4), rel=1e-12)
