"""DIMACS text, valid and malformed, for parser fuzzing (re-exported by :mod:`reductions.testing.strategies`).

A :class:`DimacsCase` holds the text and what a correct parser must do with
it: ``formula`` is the :class:`~reductions.cnf.CNF` it must return, or
``None`` when it must raise a ``ValueError`` (``defect`` says why).  Valid
texts exercise what the format allows (see :mod:`reductions.cnf`): comments
with odd characters anywhere between lines, blank lines, tabs and runs of
spaces, clauses split across lines or several on one line, ``\\r\\n`` line
ends, a SATLIB ``%`` trailer, no final newline.  Malformed texts carry exactly
one defect from :data:`DEFECTS`, placed before any ``%``.

Comments never contain a character that ``str.splitlines`` treats as a line
break (``\\r``, ``\\x0b``, ``\\x0c``, ``\\x1c``-``\\x1e``, ``\\x85``,
``\\u2028``, ``\\u2029``): whether such a character ends a DIMACS line is not
settled by the format, so no case depends on it.
"""

from __future__ import annotations

from typing import NamedTuple

from reductions.testing._require import TESTING_EXTRA

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - the testing extra is missing
    raise ImportError(TESTING_EXTRA) from exc

from reductions.cnf import CNF

__all__ = ["DimacsCase", "DEFECTS", "dimacs_texts", "malformed_dimacs", "dimacs_cases"]

LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
FOREIGN_DIGITS = ("٠١٢٣٤٥٦٧٨٩", "０１２３４５６７８９", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯")  # Arabic-Indic, full-width, ...
DEFECTS = ("missing header", "bad header", "second header", "clause before header", "non-ASCII digit",
           "underscore in a number", "huge number", "missing final 0", "literal out of range",
           "clause count mismatch", "non-integer token", "empty text")


class DimacsCase(NamedTuple):
    """A DIMACS text and the parser's required outcome.

    Attributes
    ----------
    text : the DIMACS text.
    formula : the CNF a correct parser returns, or ``None`` if it must raise ``ValueError``.
    defect : ``None`` for a valid text, else one of :data:`DEFECTS`.
    """

    text: str
    formula: CNF | None
    defect: str | None

    @property
    def valid(self) -> bool:
        return self.formula is not None


def _comment_text() -> st.SearchStrategy[str]:
    return st.text(st.characters(blacklist_characters=LINE_BREAKS, blacklist_categories=("Cs",)), max_size=12)


def _formulas() -> st.SearchStrategy[CNF]:
    from reductions.testing.strategies import cnfs  # late: strategies imports this module

    return cnfs(max_vars=12, max_clauses=8)


def _clause_tokens(clauses) -> list[list[str]]:
    return [[str(lit) for lit in c] + ["0"] for c in clauses]


@st.composite
def _layout(draw, header: list[str], clauses: list[list[str]], comments: bool = True) -> list[str]:
    """Lines: comments, the header, then the clause tokens laid out over lines with odd whitespace."""
    space = st.sampled_from([" ", "  ", "\t", " \t "])
    lines = ["c" + (" " + t if t else "") for t in draw(st.lists(_comment_text(), max_size=2))] if comments else []
    lines.append(draw(space).join(header))
    line: list[str] = []
    for tok in (tok for c in clauses for tok in c):
        line.append(tok)
        if draw(st.integers(0, 3)) == 0:  # end the line here (a clause may go on on the next one)
            lines.append(draw(space).join(line))
            line = []
            extra = draw(st.sampled_from(["", "", "", "blank", "comment"])) if comments else ""
            if extra == "blank":
                lines.append(draw(st.sampled_from(["", " ", "\t"])))
            elif extra == "comment":
                lines.append("c " + draw(_comment_text()))
    if line:
        lines.append(" ".join(line))
    return lines


@st.composite
def _valid(draw, formulas: st.SearchStrategy[CNF] | None) -> DimacsCase:
    f = draw(formulas if formulas is not None else _formulas())
    lines = draw(_layout(["p", "cnf", str(f.num_vars), str(f.num_clauses)], _clause_tokens(f.clauses)))
    if draw(st.booleans()):
        lines += ["%", "0"]
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(lines) + (end if draw(st.booleans()) else "")
    return DimacsCase(text, f, None)


def dimacs_texts(formulas: st.SearchStrategy[CNF] | None = None) -> st.SearchStrategy[DimacsCase]:
    """Valid DIMACS texts and the formula each must parse to.

    Parameters
    ----------
    formulas : strategy for the formulas (default ``cnfs(max_vars=12, max_clauses=8)``).

    Examples
    --------
    >>> from reductions.cnf import read_dimacs
    >>> from reductions.testing.strategies import example
    >>> case = example(dimacs_texts(), seed=5)
    >>> case.valid, read_dimacs(case.text) == case.formula
    (True, True)
    """
    return _valid(formulas)


def _underscored(value: int) -> str:
    digits = str(value)
    return digits[0] + "_" + digits[1:]


@st.composite
def _malformed(draw, defect: str | None) -> DimacsCase:
    defect = defect or draw(st.sampled_from(DEFECTS))
    f = draw(_formulas())
    V, clauses = f.num_vars, [list(c) for c in f.clauses]
    header = ["p", "cnf", str(V), str(len(clauses))]
    body = _clause_tokens(clauses)
    before: list[str] = []
    second = None
    if defect == "empty text":
        return DimacsCase(draw(st.sampled_from(["", "\n", "c only a comment\n", "%\n"])), None, defect)
    if defect == "missing header":
        header = []
    elif defect == "bad header":
        header = draw(st.sampled_from([
            ["p", "cnf"], ["p", "cnf", str(V)], ["p", "dnf", str(V), str(len(clauses))],
            ["p", "cnf", str(V), str(len(clauses)), "7"], ["p", "cnf", "x", str(len(clauses))],
            ["p", "cnf", str(V), "-1"], ["p", "cnf", "-1", str(len(clauses))], ["p", "cnf", f"{V}.0", str(len(clauses))],
            ["p"],
        ]))
    elif defect == "second header":
        second = " ".join(header)
    elif defect == "clause before header":
        before = [str(draw(st.integers(1, V))), "0"]
        header[3] = str(len(clauses) + 1)
    elif defect == "non-ASCII digit":
        table = str.maketrans("0123456789", draw(st.sampled_from(FOREIGN_DIGITS)))
        where = draw(st.sampled_from(["V", "C"] + (["literal"] if clauses and any(clauses) else [])))
        if where == "literal":
            c = draw(st.sampled_from([i for i, cl in enumerate(clauses) if cl]))
            body[c][0] = body[c][0].translate(table)
        else:
            header[2 if where == "V" else 3] = header[2 if where == "V" else 3].translate(table)
    elif defect == "underscore in a number":
        header[2] = _underscored(V + 10)
    elif defect == "huge number":
        huge = draw(st.integers(2**63, 10**30))
        where = draw(st.sampled_from(["V", "C", "literal"]))
        if where == "literal":
            header[2] = str(huge)
            body.append([str(-huge if draw(st.booleans()) else huge), "0"])
            header[3] = str(len(clauses) + 1)
        else:
            header[2 if where == "V" else 3] = str(huge)
    elif defect == "missing final 0":
        if not body or body[-1] == ["0"]:
            body.append(["1", "0"])
            header[3] = str(len(body))
        body[-1] = body[-1][:-1]
    elif defect == "literal out of range":
        body.append([str((V + draw(st.integers(1, 3))) * draw(st.sampled_from([1, -1]))), "0"])
        header[3] = str(len(body))
    elif defect == "clause count mismatch":
        shift = draw(st.integers(1, 3))
        header[3] = str(len(clauses) + shift if draw(st.booleans()) or len(clauses) < shift else len(clauses) - shift)
    elif defect == "non-integer token":
        body.append([draw(st.sampled_from(["1.5", "0x1", "one", "--1", "1e3", "NaN", "∞", "1,", "½"])), "0"])
        header[3] = str(len(body))
    if not header:
        lines = [" ".join(tokens) for tokens in body]
    else:
        lines = draw(_layout(header, body, comments=False))
        if second is not None:
            lines.insert(draw(st.integers(1, len(lines))), second)
        if before:
            lines.insert(0, " ".join(before))
    return DimacsCase("\n".join(lines) + "\n", None, defect)


def malformed_dimacs(defect: str | None = None) -> st.SearchStrategy[DimacsCase]:
    """DIMACS texts with exactly one defect, which a parser must refuse with a ``ValueError``.

    Parameters
    ----------
    defect : one of :data:`DEFECTS` (``None``: any): a missing, malformed or
        repeated header; a clause before the header; a non-ASCII digit
        (Arabic-Indic, full-width, Devanagari, Bengali) in the header or a
        literal; an underscore in a number (``1_3``); a number ``>= 2**63``;
        a last clause without its ``0``; a literal above ``V``; a header
        count that differs from the clauses; a token that is not an integer
        (``1.5``, ``0x1``, ``1e3``, ...); an empty text.

    Examples
    --------
    >>> from reductions.testing.strategies import example
    >>> case = example(malformed_dimacs("underscore in a number"), seed=0)
    >>> case.valid, case.defect, "_" in case.text
    (False, 'underscore in a number', True)
    """
    if defect is not None and defect not in DEFECTS:
        raise ValueError(f"defect must be one of {DEFECTS}, got {defect!r}")
    return _malformed(defect)


def dimacs_cases() -> st.SearchStrategy[DimacsCase]:
    """Valid and malformed texts, about half each.

    Examples
    --------
    >>> from reductions.testing.strategies import example
    >>> isinstance(example(dimacs_cases(), seed=1), DimacsCase)
    True
    """
    return st.one_of(dimacs_texts(), malformed_dimacs())
