"""algorithms.bench_results (what the notebooks read) and algorithms._display (short reprs, HTML tables)."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from algorithms import bench_results  # noqa: E402
from algorithms._display import cut, describe, html_table, short_repr  # noqa: E402


def test_load_reads_the_committed_json_and_names_the_command_when_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_results, "RESULTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"python bench/nothing\.py"):
        bench_results.load("nothing")
    (tmp_path / "x.json").write_text(json.dumps({"date": "2026-01-02", "command": "python bench/x.py --quick",
                                                 "quick": True, "machine": {"cpus": 2}, "data": {"a": 1}}))
    record = bench_results.load("x")
    assert record["data"] == {"a": 1}
    text = bench_results.caption(record)
    assert "2026-01-02" in text and "python bench/x.py --quick" in text and "QUICK" in text and "2 CPUs" in text


def test_loglog_slope_recovers_a_power_law_and_refuses_bad_input():
    ns = np.array([256, 512, 1024, 4096])
    assert bench_results.loglog_slope(ns, 3e-9 * ns**2.0) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="two positive"):
        bench_results.loglog_slope([1], [1])
    with pytest.raises(ValueError, match="two positive"):
        bench_results.loglog_slope([1, 2], [1, -1])


def test_log2_axis_labels_each_power_of_two_once():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([2**8, 2**20], [1, 2])
    bench_results.log2_axis(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(lab.startswith("$2^{") for lab in labels) and len(labels) == len(set(labels)) <= 13
    assert not [t for t in ax.xaxis.get_minorticklabels() if t.get_text()]
    plt.close(fig)


@pytest.mark.parametrize("name", ["tensor_attention", "transformer", "poly_attention", "cost_model"])
def test_every_results_file_the_notebooks_read_is_committed_with_its_machine(name):
    record = bench_results.load(name)
    assert {"machine", "date", "command", "data"} <= set(record) and f"bench/{name}.py" in record["command"]


def test_describe_never_prints_an_array():
    assert describe(np.zeros((1000, 4))) == "float64 (1000, 4)"
    assert describe([np.zeros(3)] * 6).endswith(", ...]")
    assert describe((np.ones((2, 2)),)) == "(float64 (2, 2),)"
    assert describe(1e-7) == "1e-07" and describe(True) == "True" and describe(np.int64(3)) == "3"
    assert len(describe("x" * 500)) == 60 and cut("a\n  b") == "a b"
    assert short_repr("T", a=np.eye(2), b="y") == "T(a=float64 (2, 2), b='y')"


def test_html_table_escapes_cells():
    html = html_table(["<h>"], [["<script>"], [0.123456789]], caption="a & b")
    assert "<script>" not in html and "&lt;script&gt;" in html and "0.1235" in html and "a &amp; b" in html
