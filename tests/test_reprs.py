"""Notebook-friendly objects: every public result object's repr fits in a few lines (issue 14).

A repr shows shapes and certificates, never arrays.  Tables (the threshold
table, degree certificates, threshold maps, pipeline traces, transformer
parameters) also render as HTML.  Objects whose module another helper owns
are listed as expected failures (``strict=False``): they pass once their repr
is shortened there.
"""

from __future__ import annotations

import numpy as np
import pytest

LIMIT = 400  # characters: "a few lines"
RNG = np.random.default_rng(0)
Q, K, V = (RNG.uniform(-1, 1, (64, 4)) for _ in range(3))


def _low_rank():
    from algorithms.attention import low_rank_attention

    return low_rank_attention(Q, K, eps=1e-6, bound=1.0)


def _tensor_low_rank():
    from algorithms.tensor_attention import low_rank_tensor_attention

    return low_rank_tensor_attention(Q, K, K, 1e-6, 1.0)


def _fast_result():
    from algorithms.attention import attention

    return attention(Q, K, V, method="fast", eps=1e-6, bound=1.0)


def _threshold_map():
    from algorithms.threshold import threshold_map

    return threshold_map([1e3, 1e6], [0.5, 1.0, 4.0], d=8, eps=1e-3)


def _threshold_table():
    import sympy as sp

    from algorithms.bounds.table import ThresholdRow, ThresholdTable

    n = sp.Symbol("n")
    row = ThresholdRow("matrix", 2, sp.sqrt(sp.log(n)) / sp.log(sp.log(n)), sp.Integer(1), sp.sqrt(sp.log(n)),
                       sp.Rational(1, 2), (1 + sp.log(4), 2 + sp.log(4)), 1.5, sp.Integer(2), sp.Integer(2))
    return ThresholdTable([row, row, row])


def _degree_table():
    from algorithms.degree_certificates import degree_certificates

    return degree_certificates([1.0, 2.0], [1e-2, 1e-6], points=101)


def _params():
    from algorithms.transformer import TransformerConfig, init_params

    cfg = TransformerConfig(d=64, heads=8, d_head=8, d_ff=256, layers=6, d_out=64, causal=True, layer_norm=True)
    return init_params(cfg, 0)


def _trace():
    from reductions.cnf import random_kcnf
    from reductions.pipeline import decide_sat

    return decide_sat(random_kcnf(6, 14, 3, rng=155), via="attention")[2]


def _cnf():
    from reductions.cnf import random_kcnf

    return random_kcnf(40, 170, 3, rng=0)


def _ov():
    from reductions.ov import random_ov

    return random_ov(200, 30, rng=0)


def _kov():
    from reductions.ov import random_kov

    return random_kov(3, 50, 20, rng=0)


def _gap():
    from reductions.gap import planted_gap_instance

    return planted_gap_instance(64, 24, 6, 3, 6, yes=True, rng=1)[0]


def _gap3():
    from reductions.gap import planted_gap3_instance

    return planted_gap3_instance(5, 24, 6, 1, 5, yes=True, rng=0)[0]


def _readout():
    from algorithms import explorer
    from algorithms.threshold import threshold_map

    explorer.seed_cache(threshold_map([1e3, 1e6], [0.5, 1.0], d=8, eps=1e-3))
    try:
        return explorer.readout(1e3, 1.0, 8, 1e-3)
    finally:
        explorer.seed_cache(None)


def _attention_instance():
    from reductions.ov import random_ov
    from reductions.ov_to_attention import ov_to_attention

    ov = random_ov(30, 12, rng=0)
    return ov_to_attention(ov.A, ov.B)[0]


def _poly_exact():
    from algorithms.poly_attention import path_attention_polynomial, poly_attention_exact

    h = path_attention_polynomial(2)
    return poly_attention_exact(h, [Q[:, :2]] * 3, [V[:, :2]] * 2)


def _forward_cache():
    from algorithms.transformer import TransformerConfig, forward, init_params

    cfg = TransformerConfig(d=8, heads=2, d_head=4, d_ff=16, layers=2, d_out=8)
    return forward(init_params(cfg, 0), RNG.uniform(-1, 1, (16, 8)))[1]


def _exp_approximation():
    from algorithms.polynomial_method import approximate_exp

    return approximate_exp(2.0, 2, 1e-6)


OURS = {
    "LowRankOperator": _low_rank,
    "LowRankOperator (tensor)": _tensor_low_rank,
    "FastResult": _fast_result,
    "ThresholdMap": _threshold_map,
    "ThresholdTable": _threshold_table,
    "DegreeTable": _degree_table,
    "Params": _params,
    "Trace": _trace,
    "CNF": _cnf,
    "OVInstance": _ov,
    "KOVInstance": _kov,
    "GapInstance": _gap,
    "Gap3Instance": _gap3,
    "Readout": _readout,
}
OWNED_ELSEWHERE = {  # reductions/ov_to_attention.py, poly_attention/exact.py, transformer/network.py, exp_approximation.py
    "AttentionInstance": _attention_instance,
    "ExactResult": _poly_exact,
    "ForwardCache": _forward_cache,
    "ExpApproximation (degree 15)": _exp_approximation,
}
HTML = ("ThresholdMap", "ThresholdTable", "DegreeTable", "Params", "Trace")


@pytest.mark.parametrize("name", sorted(OURS))
def test_repr_fits_in_a_few_lines(name):
    text = repr(OURS[name]())
    assert len(text) < LIMIT, f"{name}: {len(text)} characters"
    assert "array(" not in text and text.count("\n") <= 4


@pytest.mark.parametrize("name", sorted(OWNED_ELSEWHERE))
def test_repr_elsewhere_fits_in_a_few_lines(name):
    assert len(repr(OWNED_ELSEWHERE[name]())) < LIMIT


@pytest.mark.parametrize("name", HTML)
def test_tables_render_as_html(name):
    html = OURS[name]()._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") >= 2 and "array(" not in html


def test_reprs_say_what_matters():
    assert "rank r=330" in repr(_low_rank()) and "degree g=7" in repr(_low_rank())
    params = repr(_params())
    assert "6 layers x 8 heads" in params and "weights" in params
    assert repr(_cnf()).startswith("CNF(num_vars=40, 170 clauses of width 3: (")
    assert repr(_gap()) == "GapInstance(N_a=64, N_b=64, m=24, t_lo=3, t_hi=6)"
    trace = _trace()
    assert trace.names[0] in repr(trace) and str(trace).startswith("decide_sat via=attention")  # str() keeps the table
    table = _threshold_table()
    assert isinstance(table, list) and "$" in table._repr_markdown_() and len(table) == 3
