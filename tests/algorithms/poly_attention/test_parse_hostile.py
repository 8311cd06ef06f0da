"""AttentionPolynomial.parse on hostile text (issue 13, item 10): ASCII digits, a variable limit, short messages."""

import time

import pytest

from algorithms.poly_attention import AttentionPolynomial


@pytest.mark.parametrize("text", ["x1x1000000000", "x1x10000000", "x1x" + "9" * 100_000])
def test_huge_indices_are_refused_fast_with_a_short_message(text):
    start = time.perf_counter()
    with pytest.raises(ValueError, match="above max_variables=1000") as err:
        AttentionPolynomial.parse(text)
    assert time.perf_counter() - start < 0.5 and len(str(err.value)) < 200


@pytest.mark.parametrize("text", ["x1x\u0661", "x1x2 + x\uff12x3", "x1x1_0", "x1x+2", "x1 x2 x-3", "x1x²"])
def test_only_ascii_digits(text):
    with pytest.raises(ValueError, match="cannot read the monomial"):
        AttentionPolynomial.parse(text)


def test_max_variables_can_be_raised_and_is_checked():
    h = AttentionPolynomial.parse(" + ".join(f"x1x{j}" for j in range(2, 1201)), max_variables=1200)
    assert h.t == 1200
    for bad in (1, 2.5, True, "10"):
        with pytest.raises(ValueError, match="max_variables must be an integer"):
            AttentionPolynomial.parse("x1x2", max_variables=bad)


def test_unused_variables_of_a_huge_t_are_reported_briefly():
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"999999998 of the variables x1..x1000000000 occur in no monomial") as err:
        AttentionPolynomial(10**9, [(1, 2)])
    assert time.perf_counter() - start < 0.5 and len(str(err.value)) < 200
    with pytest.raises(ValueError, match=r"the first: \[3, 4\]"):
        AttentionPolynomial(4, [(1, 2)])


def test_long_monomials_are_quoted_briefly():
    with pytest.raises(ValueError) as err:
        AttentionPolynomial.parse("x1x2 + " + "y" * 10_000)
    assert len(str(err.value)) < 200


@pytest.mark.parametrize("text", ["x1", "x1x1", "x2x3"])
def test_a_text_that_is_no_attention_polynomial_is_named(text):
    """``parse("x1")`` said only "t (number of variables) must be ... >= 2", naming no argument (fuzz suite)."""
    with pytest.raises(ValueError, match=rf"text '{text}' is not an attention polynomial"):
        AttentionPolynomial.parse(text)
