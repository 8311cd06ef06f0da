"""The DIMACS CNF text format: reading a file or a string, parsing, writing that reads back.

:func:`reductions.cnf.read_dimacs` and :func:`reductions.cnf.write_dimacs` are
the public entry points (they build and take :class:`~reductions.cnf.CNF`);
this module holds the text side, with the decisions it makes on hostile input:

* **Text or path.**  A ``str`` is DIMACS *text* if it contains a line break
  or, after leading whitespace, is empty or starts with ``c`` or ``p``
  followed by whitespace (or ends there): ``"p cnf 0 0"``, ``"c note"``.
  Any other ``str`` (``"formula.cnf"``, ``"cnf/f"``, ``"/tmp"``) is a *path*,
  like a :class:`os.PathLike`: a missing file raises ``FileNotFoundError``
  and a directory ``IsADirectoryError`` (both ``OSError``, naming the path),
  never "clause before the header".
* **Encoding.**  Files are read as UTF-8; a file that is not (a binary file)
  raises :class:`DimacsError` naming the file and the offending byte.
* **Numbers.**  Only ASCII ``[-]digits``: ``1_0``, ``+1``, ``１`` (full width)
  or Arabic-Indic digits, all accepted by Python's ``int``, are not DIMACS
  and raise :class:`DimacsError`.  ``V`` and ``C`` in the header are at most
  :data:`MAX_INDEX` ``= 2^31 - 1`` (the 32-bit range of DIMACS solvers).
* **Writing.**  Every comment is split at line breaks (Python's
  :meth:`str.splitlines`, the same split the reader uses) into ``c`` lines,
  so ``read(write(f, comments)) == f`` for every formula and every comment
  text; a single ``str`` is one comment (not one per character).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DimacsError", "MAX_INDEX", "read_text", "parse_dimacs", "format_dimacs"]

MAX_INDEX = 2**31 - 1
_INT = re.compile(r"-?[0-9]+")
_NAT = re.compile(r"[0-9]+")
_TEXT_START = re.compile(r"\s*(?:[cp](?:\s|$)|$)")


class DimacsError(ValueError):
    """Malformed DIMACS input; ``line`` is the 1-based line number of the fault (0: the whole file)."""

    def __init__(self, line: int, message: str, source: str | None = None) -> None:
        where = f"{source}: " if source else ""
        super().__init__(f"{where}DIMACS line {line}: {message}" if line else f"{where}{message}")
        self.line = line


def is_text(s: str) -> bool:
    """Whether a ``str`` argument is DIMACS text rather than a path (module docstring)."""
    return "\n" in s or "\r" in s or bool(_TEXT_START.match(s))


def read_text(text_or_path: str | os.PathLike) -> tuple[str, str | None]:
    """``(text, source)``: the DIMACS text, and the file it came from (``None`` for a string)."""
    if isinstance(text_or_path, str) and is_text(text_or_path):
        return text_or_path, None
    if not isinstance(text_or_path, (str, os.PathLike)):
        raise ValueError(f"text_or_path must be a str or a path, got {type(text_or_path).__name__}")
    path = Path(text_or_path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory, not a DIMACS file")
    if not path.exists():
        raise FileNotFoundError(f"no such DIMACS file: {str(path)!r} (No such file or directory)")
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), str(path)
    except UnicodeDecodeError as exc:
        raise DimacsError(
            0, f"not a DIMACS text file (byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8)", str(path)
        ) from None


def _number(tok: str, pattern: re.Pattern, line: int, what: str, source) -> int:
    if not pattern.fullmatch(tok):
        raise DimacsError(line, f"expected {what}, got {_quote(tok)}", source)
    if len(tok.lstrip("-").lstrip("0")) > 10:  # beyond MAX_INDEX: no int() of a huge digit string
        return MAX_INDEX + 1 if not tok.startswith("-") else -(MAX_INDEX + 1)
    return int(tok)


def _quote(tok: str) -> str:
    return repr(tok) if len(tok) <= 30 else repr(tok[:20]) + f"...({len(tok)} characters)"


def _parse_header(tokens: list[str], line: int, source) -> tuple[int, int]:
    if len(tokens) != 4 or tokens[1] != "cnf":
        raise DimacsError(line, f"bad header {_quote(' '.join(tokens))}; expected 'p cnf V C'", source)
    if not all(_NAT.fullmatch(t) for t in tokens[2:]):
        if all(_INT.fullmatch(t) for t in tokens[2:]):
            raise DimacsError(line, f"bad header {_quote(' '.join(tokens))}: V and C must be non-negative", source)
        raise DimacsError(line, f"bad header {_quote(' '.join(tokens))}; V and C must be integers (ASCII digits)",
                          source)
    V, C = (_number(t, _NAT, line, "an integer", source) for t in tokens[2:])
    if V > MAX_INDEX or C > MAX_INDEX:
        raise DimacsError(line, f"bad header {_quote(' '.join(tokens))}: V and C must be at most {MAX_INDEX}", source)
    return V, C


def parse_dimacs(text: str, source: str | None = None) -> tuple[int, tuple[tuple[int, ...], ...]]:
    """``(V, clauses)`` of DIMACS ``text``; :class:`DimacsError` naming the line (and ``source``) on a fault."""
    header: tuple[int, int] | None = None
    header_line = 0
    clauses: list[tuple[int, ...]] = []
    current: list[int] = []
    current_line = 0
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, start=1):
        tokens = raw.split()
        if not tokens or tokens[0].startswith("c"):
            continue
        if tokens[0] == "%":
            break
        if tokens[0] == "p":
            if header is not None:
                raise DimacsError(lineno, f"second header; the first is on line {header_line}", source)
            header, header_line = _parse_header(tokens, lineno, source), lineno
            continue
        if header is None:
            raise DimacsError(lineno, "clause before the 'p cnf V C' header", source)
        for tok in tokens:
            lit = _number(tok, _INT, lineno, "an integer literal (ASCII [-]digits)", source)
            if lit == 0:
                clauses.append(tuple(current))
                current = []
            elif abs(lit) > header[0]:
                shown = lit if abs(lit) <= MAX_INDEX else _quote(tok)
                raise DimacsError(lineno, f"literal {shown} out of range; variables are 1..{header[0]}", source)
            else:
                if not current:
                    current_line = lineno
                current.append(lit)
    if header is None:
        raise DimacsError(max(1, len(lines)), "no 'p cnf V C' header", source)
    if current:
        raise DimacsError(current_line, f"clause {current[:8]}{'...' if len(current) > 8 else ''} is missing its "
                          "final 0", source)
    if len(clauses) != header[1]:
        raise DimacsError(header_line, f"header declares {header[1]} clauses, found {len(clauses)}", source)
    return header[0], tuple(clauses)


def format_dimacs(num_vars: int, clauses: Sequence[Sequence[int]], comments: str | Sequence[str] = ()) -> str:
    """The DIMACS text: comment lines, the header, one clause per line (module docstring)."""
    if isinstance(comments, str):
        comments = [comments]
    elif not isinstance(comments, (list, tuple)):
        raise ValueError(f"comments must be a str or a list of str, got {type(comments).__name__}")
    lines = []
    for i, c in enumerate(comments):
        if not isinstance(c, str):
            raise ValueError(f"comments[{i}] must be a str, got {type(c).__name__}")
        lines += [f"c {piece}" if piece else "c" for piece in (c.splitlines() or [""])]
    lines.append(f"p cnf {num_vars} {len(clauses)}")
    lines += [" ".join([*map(str, clause), "0"]) for clause in clauses]
    return "\n".join(lines) + "\n"
