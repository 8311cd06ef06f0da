"""The committed notebooks: no outputs, exercises with checked solutions, timings only from committed results.

``make test`` runs the notebooks themselves (nbmake); these checks are about
what is committed: a notebook with outputs would make every diff noisy and
could show numbers that its code no longer produces (``make html`` renders
executed copies into ``build/html``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TEACHING = [p for p in NOTEBOOKS if re.match(r"0[1-6]_", p.name)]


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_notebooks():
    assert len(TEACHING) == 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    dirty = [i for i, c in enumerate(cells(path)) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them (e.g. jupyter nbconvert --clear-output --inplace)"


@pytest.mark.parametrize("path", TEACHING, ids=lambda p: p.name)
def test_every_notebook_has_exercises_with_checked_solutions(path):
    cs = cells(path)
    solutions = [c for c in cs if c["cell_type"] == "markdown" and "<details>" in source(c) and "Solution" in source(c)]
    checks = [c for c in cs if c["cell_type"] == "code" and "solution" in c.get("metadata", {}).get("tags", [])]
    assert solutions and len(checks) >= len(solutions) >= 1, path.name
    for c in checks:  # hidden in JupyterLab, run by make test, and they check something
        assert c["metadata"].get("jupyter", {}).get("source_hidden") is True
        assert "assert" in source(c)


@pytest.mark.parametrize("path", TEACHING, ids=lambda p: p.name)
def test_no_notebook_times_anything(path):
    code = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "code")
    assert not re.search(r"perf_counter|process_time|timeit|time\.time\(", code), \
        f"{path.name} times code: draw timing figures from bench/results/*.json instead"


@pytest.mark.parametrize("path", TEACHING, ids=lambda p: p.name)
def test_the_results_a_notebook_reads_are_written_by_a_bench_script(path):
    code = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "code")
    for name in re.findall(r"bench_results\.load\(\"(\w+)\"\)", code):
        assert (ROOT / "bench" / "results" / f"{name}.json").exists(), name
        script = (ROOT / "bench" / f"{name}.py").read_text(encoding="utf-8")
        assert "save_results(" in script and re.search(rf"['\"]{name}['\"]", script), name


def anchors(md: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown file (notebooks/build_html.py renders the same ids)."""
    return {re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", line.lstrip("#").strip().lower()))
            for line in md.read_text(encoding="utf-8").splitlines() if line.startswith("#")}


@pytest.mark.parametrize("path", TEACHING + [ROOT / "docs" / "lecture.md", ROOT / "docs" / "README.md"],
                         ids=lambda p: p.name)
def test_links_to_docs_resolve(path):
    text = path.read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(((?:\.\./)?[\w./-]+\.(?:md|ipynb))(?:#([\w-]+))?\)", text):
        dest = (path.parent / target).resolve()
        assert dest.exists(), f"{path.name} links to missing {target}"
        if anchor and dest.suffix == ".md":
            assert anchor in anchors(dest), f"{path.name} links to {target}#{anchor}, which has no such heading"
