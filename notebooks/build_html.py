"""``make html``: execute every notebook, export it to HTML, render the docs, and write an index page.

Usage: ``python notebooks/build_html.py [--out build/html] [--only 01_matrix_attention ...]``.

Each notebook runs top to bottom through ``jupyter nbconvert --to html --execute``
(``BOUNDED_ENTRIES_EXPLORER=static``, so the threshold explorer draws a static
figure; no progress bars, no widget state; the input of the hidden solution-check
cells is left out, their output kept).  ``docs/*.md`` and the README are rendered with mistune (nbconvert's
Markdown renderer), and links between notebooks, docs and README are rewritten
to the HTML files, so the whole material can be read without Python.  The
committed notebooks stay without outputs; the HTML lives in ``build/`` (ignored
by git).

Examples
--------
>>> slug("Output error (E1)")
'output-error-e1'
>>> relink('<a href="../docs/threshold.md#honest-families">', "notebooks/04_threshold.ipynb")
'<a href="docs/threshold.html#honest-families">'
"""

from __future__ import annotations

import argparse
import html
import os
import posixpath
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STYLE = ("<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.5}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}code{background:#f4f4f4}"
         "pre{background:#f4f4f4;padding:.5em;overflow-x:auto}</style>")
MATHJAX = '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js" async></script>'


def slug(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", html.unescape(text)).strip().lower()
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", text))


def output_path(repo_path: str) -> str | None:
    """Where a repository file lands under the HTML root (None: not rendered)."""
    if repo_path.endswith(".ipynb") and repo_path.startswith("notebooks/"):
        return posixpath.basename(repo_path)[: -len(".ipynb")] + ".html"
    if repo_path.endswith(".md") and (repo_path.startswith("docs/") or repo_path == "README.md"):
        return repo_path[: -len(".md")] + ".html"
    return None


def relink(page: str, repo_path: str) -> str:
    """Rewrite relative ``href``s of a page rendered from ``repo_path`` to the HTML files they become."""
    here = posixpath.dirname(output_path(repo_path) or repo_path)

    def fix(match: re.Match) -> str:
        target, anchor = match.group(1), match.group(2) or ""
        if re.match(r"[a-z]+:|#", target):
            return match.group(0)
        dest = output_path(posixpath.normpath(posixpath.join(posixpath.dirname(repo_path), target)))
        return match.group(0) if dest is None else f'href="{posixpath.relpath(dest, here or ".")}{anchor}"'

    return re.sub(r'href="([^"#]*)(#[^"]*)?"', fix, page)


def markdown_page(repo_path: str, out: Path) -> str:
    """Render a Markdown file to ``out``; return its title."""
    import mistune

    class Renderer(mistune.HTMLRenderer):
        def heading(self, text, level, **attrs):
            return f'<h{level} id="{slug(text)}">{text}</h{level}>\n'

    text = (ROOT / repo_path).read_text(encoding="utf-8")
    title = next((line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("# ")), repo_path)
    body = mistune.create_markdown(renderer=Renderer(escape=False), plugins=["table", "strikethrough"])(text)
    target = out / output_path(repo_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"<!doctype html><meta charset='utf-8'><title>{html.escape(title)}</title>{STYLE}{MATHJAX}"
                      + relink(body, repo_path), encoding="utf-8")
    return title


def notebook_page(path: Path, out: Path) -> str:
    """Execute ``path``, export it to ``out`` as HTML; return its title (first heading)."""
    import json

    env = dict(os.environ, BOUNDED_ENTRIES_EXPLORER="static", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               TQDM_DISABLE="1")  # progress bars would be widgets: megabytes of widget state in the HTML
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute",
                    "--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.store_widget_state=False",
                    "--TagRemovePreprocessor.enabled=True",
                    "--TagRemovePreprocessor.remove_input_tags=solution", "--output-dir", str(out), str(path)],
                   check=True, env=env)
    page = out / (path.stem + ".html")
    page.write_text(relink(page.read_text(encoding="utf-8"), f"notebooks/{path.name}"), encoding="utf-8")
    first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    return first.splitlines()[0].lstrip("# ").strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "html"))
    parser.add_argument("--only", nargs="*", help="notebook stems to build (default: all)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    notebooks = [p for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")) if not args.only or p.stem in args.only]
    items = [(p.stem + ".html", notebook_page(p, out)) for p in notebooks]
    docs = [(output_path(f"docs/{p.name}"), markdown_page(f"docs/{p.name}", out))
            for p in sorted((ROOT / "docs").glob("*.md"))]
    markdown_page("README.md", out)
    lecture = [d for d in docs if d[0] == "docs/lecture.html"]

    def links(pairs):
        return "".join(f'<li><a href="{href}">{html.escape(title)}</a></li>' for href, title in pairs)

    (out / "index.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>bounded-entries: teaching material</title>{STYLE}"
        "<h1>bounded-entries: teaching material</h1><p>The notebooks below were executed by <code>make html</code> "
        "(timing figures are drawn from the committed <code>bench/results/*.json</code>); the solutions to the "
        "exercises are in the collapsible blocks.</p>"
        + (f"<h2>Lecture path</h2><ul>{links(lecture)}</ul>" if lecture else "")
        + f"<h2>Notebooks</h2><ol>{links(items)}</ol><h2>The mathematics (docs)</h2><ul>{links(docs)}</ul>"
        '<p><a href="README.html">Project README</a></p>', encoding="utf-8")
    print(f"wrote {out / 'index.html'}: {len(items)} notebooks, {len(docs)} docs pages")


if __name__ == "__main__":
    main()
