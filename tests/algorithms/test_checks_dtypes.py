"""One shared input check (issue 13, item 4): real numbers only, never a silent cast of complex input."""

import numpy as np
import pytest

from algorithms._checks import as_matrix
from algorithms.attention import attention, attention_fast, attention_vjp
from algorithms.tensor_attention import tensor_attention


@pytest.mark.parametrize("bad, dtype", [
    (np.array([[1j]]), "complex128"),
    ([[1 + 0j]], "complex128"),
    (np.array([[1.0]], dtype=object), "object"),
    ([["1.5"]], "<U3"),
    (np.array([["2020-01-01"]], dtype="datetime64[D]"), "datetime64"),
])
def test_complex_object_and_strings_are_refused_naming_the_parameter(bad, dtype):
    one = np.array([[1.0]])
    with pytest.raises(ValueError, match=rf"Q must be a real 2-d array \(bool, integer or float entries\), got dtype "
                                         rf"{dtype[:8]}"):
        attention(bad, one, one)
    with pytest.raises(ValueError, match="V must be a real 2-d array"):
        attention(one, one, bad)
    with pytest.raises(ValueError, match="K must be a real 2-d array"):
        attention_fast(one, bad, one)
    with pytest.raises(ValueError, match="dO must be a real 2-d array"):
        attention_vjp(one, one, one, bad)
    with pytest.raises(ValueError, match="K2 must be a real 2-d array"):
        tensor_attention(one, one, bad, one, one)


def test_issue_reproducer_no_longer_drops_the_imaginary_part():
    with pytest.raises(ValueError, match="complex"):
        attention(np.array([[1j]]), np.array([[1.0]]), np.array([[1.0]]))


@pytest.mark.parametrize("good", [[[True, False]], np.array([[1, 2]], dtype=np.int8), np.array([[3, 4]], dtype=np.uint64),
                                  np.array([[0.5, 1]], dtype=np.float16), [[1, 2.5]]])
def test_bools_and_integers_are_numbers(good):
    A = as_matrix("X", good)
    assert A.dtype == np.float64 and A.shape == (1, 2)
    np.testing.assert_array_equal(A, np.asarray(good, dtype=float))


def test_ragged_and_float128_overflow():
    with pytest.raises(ValueError, match="X must be a real 2-d array"):
        as_matrix("X", [[1.0], [1.0, 2.0]])
    if np.finfo(np.longdouble).max > 1e308:
        with pytest.raises(ValueError, match="X must be finite"):
            as_matrix("X", np.array([[np.longdouble("1e400")]]))


def test_power_of_two_factors_are_summed_before_they_are_applied():
    """``scale(x, -996, 995)`` is ``x / 2``: applied one at a time, ``x 2^-996`` underflowed first (fuzz suite)."""
    from algorithms._scaling import scale

    assert scale(np.array([3.0]), -996, 995)[0] == 1.5
    assert scale(np.array([1e300]), 1000, 1000)[0] == np.inf  # the answer itself overflows
