"""The mechanism table of poly-attention agrees with the polynomials it names."""

from algorithms.poly_attention.table import MECHANISMS, markdown_table


def test_mechanism_table_rows_agree_with_the_code():
    expected = {  # name: (exponent of n for exact elimination, degree k of the entry threshold)
        "self-attention": (2, 2),
        "3-tensor attention": (3, 3),
        "Strassen attention": (3, 2),
        "tree attention (path h_r)": (2, 2),
        "general h (t variables, degree k)": (3, 3),
    }
    assert {row.name: (row.h.cost_exponent, row.h.degree) for row in MECHANISMS} == expected
    assert markdown_table().count("\n") == len(MECHANISMS) + 1
