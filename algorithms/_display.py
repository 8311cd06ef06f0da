"""Short reprs and HTML tables for result objects shown in notebooks.

A result object's ``repr`` should fit in a few lines: arrays are shown by
dtype and shape, never by their entries, and long sequences are cut.
:func:`short_repr` builds such a repr from named fields; :func:`html_table`
renders rows as an HTML table for ``_repr_html_``.

Examples
--------
>>> import numpy as np
>>> describe(np.zeros((64, 4)))
'float64 (64, 4)'
>>> describe((np.zeros((3, 2)), np.ones(5, dtype=int)))
'(float64 (3, 2), int64 (5,))'
>>> short_repr("Thing", n=64, A=np.eye(3), eps=1e-6, name="x")
"Thing(n=64, A=float64 (3, 3), eps=1e-06, name='x')"
>>> print(html_table(["a", "b"], [[1, "<x>"]]))
<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>&lt;x&gt;</td></tr></tbody></table>
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["describe", "short_repr", "html_table", "cut"]

#: Longest text :func:`describe` keeps of a value's own ``repr`` before cutting it.
MAX_FIELD = 60


def cut(text: str, limit: int = MAX_FIELD) -> str:
    """``text`` on one line, cut to ``limit`` characters with ``...`` if longer."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: Any, limit: int = MAX_FIELD) -> str:
    """A few characters saying what ``value`` is: arrays by dtype and shape, floats to 4 digits."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} {tuple(value.shape)}"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (tuple, list)) and any(isinstance(v, np.ndarray) for v in value):
        inner = ", ".join(describe(v) for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) else f"[{inner}]"
    return cut(repr(value), limit)


def short_repr(type_name: str, /, **fields: Any) -> str:
    """``type_name(field=description, ...)`` with every value passed through :func:`describe`."""
    return f"{type_name}(" + ", ".join(f"{k}={describe(v)}" for k, v in fields.items()) + ")"


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], caption: str | None = None) -> str:
    """An HTML ``<table>`` of ``rows`` under ``headers`` (every cell escaped; floats to 4 digits)."""

    def cell(v: Any) -> str:
        return html.escape(f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v))

    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
