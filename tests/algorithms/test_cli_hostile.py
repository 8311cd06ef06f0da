"""``python -m algorithms`` / ``bounded-entries`` on bad flags (issue 13, item 14): one line, exit 2."""

import subprocess
import sys

import pytest

from algorithms import _cli
from algorithms.__main__ import build_parser, main

BAD_FLAGS = {
    "--B 5": "the fast path refuses entries bounded by B=5 at eps=1e-06 (a limit of float64 arithmetic",
    "--n 0": "argument --n: expected a positive integer, got '0'",
    "--B inf": "argument --B: expected a positive finite number, got 'inf'",
    "--B -1": "argument --B: expected a positive finite number",
    "--d 40": "the demonstration at n = 4096, d = 40 (degree g = 7, rank r = 62891499): estimated",
    "--d 64": "above --max-memory 2 GiB",
    "--eps 2": "argument --eps: expected a number strictly between 0 and 1, got '2'",
    "--eps nan": "argument --eps: expected a number strictly between 0 and 1",
    "--seed -1": "argument --seed: expected a non-negative integer, got '-1'",
    "--n 1e3": "argument --n: expected a positive integer",
    "--n 100000000": "rerun with --max-memory",
    "--max-seconds 0": "argument --max-seconds: expected a positive number of seconds",
    "--bogus": "unrecognized arguments: --bogus",
}


@pytest.mark.parametrize("flags", list(BAD_FLAGS))
def test_every_user_error_is_one_line_and_exit_2(flags, capsys):
    try:
        status = main(flags.split(), prog="bounded-entries")
    except SystemExit as exc:  # a bad option: argparse exits (with our one-line message)
        status = exc.code
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert BAD_FLAGS[flags] in captured.err


def test_the_module_run_prints_no_traceback_and_names_itself():
    done = subprocess.run([sys.executable, "-m", "algorithms", "--B", "5"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: the fast path refuses") and done.stderr.count("\n") == 1
    usage = subprocess.run([sys.executable, "-m", "algorithms", "--n", "0"], capture_output=True, text=True,
                           timeout=120)
    assert usage.returncode == 2 and usage.stderr.startswith("python -m algorithms: error: argument --n")


def test_help_text_for_every_option_and_no_double_backquotes():
    for prog in ("bounded-entries", "python -m algorithms"):
        parser = build_parser(prog)
        text = parser.format_help()
        assert text.startswith(f"usage: {prog} ") and "``" not in text
        for action in parser._actions:
            assert action.help, action.option_strings


def test_prog_name_as_invoked(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/bounded-entries", "--n", "5"])
    assert _cli.prog_name("algorithms") == "bounded-entries"
    monkeypatch.setattr(sys, "argv", ["/x/algorithms/__main__.py"])
    assert _cli.prog_name("algorithms") == "python -m algorithms"


def test_a_small_run_still_works(capsys):
    assert main(["--n", "64", "--d", "2"]) == 0
    assert "within the bound" in capsys.readouterr().out
