"""The pytest plugin in a user's project, and the guarded imports.

A subprocess runs ``pytest`` on a throw-away project (``tmp_path``) whose one
test file uses the fixture, as a user's would; the plugin is loaded the way
the ``pytest11`` entry point loads it (or with ``-p`` where this environment's
install predates the entry point).  ``test_fresh_venv_install`` repeats the
whole story from a new virtual environment with only
``bounded-entries[testing]`` installed (slow: ``BOUNDED_ENTRIES_SLOW=1``).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

USER_TEST = textwrap.dedent('''
    """A user's project: their own reduction, checked with the bounded-entries fixture."""
    import pytest

    from reductions.cnf import CNF, solve
    from reductions.sat_to_ov import sat_to_ov
    from reductions.testing import ReductionError
    from reductions.testing.adapters import solve_ov
    from reductions.testing.strategies import cnfs


    def my_sat_to_ov(f):
        return sat_to_ov(f)


    def my_broken_sat_to_ov(f):  # forgets the last clause
        return sat_to_ov(CNF(f.num_vars, f.clauses[:-1]))


    def test_mine_passes(check_reduction, reduction_examples):
        report = check_reduction(my_sat_to_ov, solve, solve_ov, cnfs(max_vars=5))
        assert report.tried == (reduction_examples or 200)
        print("REPORT", report)


    def test_broken_is_caught(check_reduction):
        with pytest.raises(ReductionError) as err:
            check_reduction(my_broken_sat_to_ov, solve, solve_ov, cnfs(max_vars=5))
        assert err.value.direction in ("no -> no", "certificate") and err.value.instance.num_vars == 1
''')


def _entry_point_installed() -> bool:
    return any(ep.value == "reductions.testing.plugin" for ep in importlib.metadata.entry_points(group="pytest11"))


def _user_project(tmp_path: Path) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "test_my_reduction.py").write_text(USER_TEST)
    return tmp_path


def _pytest(python: str, cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    plugin = [] if _entry_point_installed() or env is not None else ["-p", "reductions.testing.plugin"]
    env = env if env is not None else {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", "-s", *plugin, *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def test_plugin_option_header_and_fixture_in_a_user_project(tmp_path):
    result = _pytest(sys.executable, _user_project(tmp_path), "--reduction-examples", "30")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bounded-entries reduction checks: 30 examples per check" in result.stdout
    assert "REPORT my_sat_to_ov: 30 instances" in result.stdout and "2 passed" in result.stdout


def test_plugin_refuses_a_non_positive_example_count(tmp_path):
    result = _pytest(sys.executable, _user_project(tmp_path), "--reduction-examples", "0")
    assert result.returncode == 4 and "--reduction-examples must be a positive integer" in result.stderr


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)


def test_the_core_packages_import_without_pytest_and_hypothesis():
    code = textwrap.dedent('''
        import importlib, pkgutil, sys
        sys.modules["pytest"] = sys.modules["hypothesis"] = None  # as if not installed
        import algorithms, reductions
        names = [m.name for p in (algorithms, reductions) for m in pkgutil.walk_packages(p.__path__, p.__name__ + ".")
                 if not m.name.startswith("reductions.testing")]
        for name in names:
            importlib.import_module(name)
        print("imported", len(names))
        try:
            from reductions.testing import check_reduction
        except ImportError as exc:
            print("REFUSED", exc)
        try:
            import reductions.testing.strategies
        except ImportError as exc:
            print("REFUSED", exc)
    ''')
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split("imported ")[1].split()[0]) > 30
    assert result.stdout.count("REFUSED reductions.testing needs hypothesis") == 2
    assert "pip install 'bounded-entries[testing]'" in result.stdout


def test_the_plugin_loads_without_hypothesis_and_fails_clearly_on_use():
    code = textwrap.dedent('''
        import sys
        sys.modules["hypothesis"] = None
        import reductions.testing.plugin as plugin
        try:
            plugin._bound("check_reduction", None)
        except ImportError as exc:
            print("REFUSED", exc)
    ''')
    result = _python(code)
    assert result.returncode == 0 and "REFUSED" in result.stdout and "bounded-entries[testing]" in result.stdout


@pytest.mark.skipif(os.environ.get("BOUNDED_ENTRIES_SLOW") != "1", reason="slow (~40 s, needs the package index): "
                    "set BOUNDED_ENTRIES_SLOW=1")
def test_fresh_venv_install(tmp_path):
    """``python3 -m venv`` + ``pip install '<repo>[testing]'``, then ``pytest`` in a user project finds the plugin."""
    venv, source = tmp_path / "venv", tmp_path / "source"
    # a copy, so that pip's in-tree build leaves no build/ or egg-info (whose entry points pytest would see) here
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                                                ".hypothesis", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"{source}[testing]"], capture_output=True,
                         text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-2000:]
    project = _user_project(tmp_path / "project")  # outside the repository: only the installed package is seen
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    result = _pytest(str(venv / "bin" / "python"), project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "plugins: bounded-entries" in result.stdout and "REPORT my_sat_to_ov: 200 instances" in result.stdout


def test_every_public_name_loads_on_first_use():
    import reductions.testing as toolkit

    assert set(toolkit.__all__) == set(toolkit._HOME) <= set(dir(toolkit))
    assert all(callable(getattr(toolkit, name)) for name in toolkit.__all__)
    with pytest.raises(AttributeError):
        toolkit.no_such_name
