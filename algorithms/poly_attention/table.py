"""The cost/threshold/task table of poly-attention mechanisms, as data.

Each row records what the papers state (with the theorem and the hypothesis)
next to what this package measures, and names the test or bench that checks
the part code can check.  Sources: Chakrabarti, Pitassi & Alman (arXiv
2602.02422; statements read through secondary summaries, see
docs/poly-attention.md: treat their wording as unconfirmed), Alman & Song (arXiv 2302.13214,
2310.04064), Kozachinskiy et al. (arXiv 2501.19215), Sanford, Hsu & Telgarsky
(arXiv 2306.02896), Peng, Narayanan & Papadimitriou (arXiv 2402.08164).
"ours" in a task column names a construction of
:mod:`algorithms.poly_attention.tasks` proved in its docstring and tested at
100% on random instances; "(demo)" marks a failure shown on random instances,
not a lower bound.

"ours" is the exponent of ``n`` of :func:`~algorithms.poly_attention.exact.poly_attention_exact`
(``h.cost_exponent``): numpy has no fast matrix multiplication, so Strassen
attention costs ``n^3`` here, not ``n^omega``.  The entry threshold is
``B = o((log n)^{1/k})`` with ``k = h.degree`` (Thm 3.6); below it
:func:`~algorithms.poly_attention.fast.poly_attention_fast` runs in
``n^{1+o(1)}``.

Examples
--------
>>> [row.name for row in MECHANISMS][:3]
['self-attention', '3-tensor attention', 'Strassen attention']
>>> print(markdown_table().splitlines()[0][:40])
| mechanism | h | exact time (upper) | e
"""

from __future__ import annotations

from dataclasses import dataclass

from .attention_polynomial import (
    AttentionPolynomial,
    path_attention_polynomial,
    self_attention_polynomial,
    strassen_attention_polynomial,
    tensor_attention_polynomial,
)

__all__ = ["MechanismRow", "MECHANISMS", "markdown_table"]


@dataclass(frozen=True)
class MechanismRow:
    name: str
    h: AttentionPolynomial
    exact_upper: str
    exact_lower: str
    approx: str
    composition2: str
    composition_r: str
    match3: str
    relation_composition: str
    root_finding: str
    checked_by: str


MECHANISMS: tuple[MechanismRow, ...] = (
    MechanismRow(
        "self-attention", self_attention_polynomial(),
        "n^2 d", "n^{2-o(1)} (SETH, at B = Θ(√log n); AS23)",
        "n^{1+o(1)} iff B = o(√log n) (AS23)",
        "no (Peng et al. 2024, once n log n > H(d+1)p)", "no", "no (Sanford et al. 2023)",
        "no: size n^{Ω(1)} (Kozachinskiy et al. Thm 3.2 and its applications, Thms 3.4-3.7)",
        "not at size n^{o(1)} for p = y1+y2+y3-Σ (our inference: two such heads decide Match3)",
        "exponent: bench slope; fails composition: test_one_hop_self_attention_is_a_lookup_but_not_a_composition (demo);"
        " fails relation composition: test_one_head_self_attention_lookups_decide_the_wrong_relation (demo)",
    ),
    MechanismRow(
        "3-tensor attention", tensor_attention_polynomial(3),
        "n^3 d", "n^{3-o(1)} (SETH; AS24b)",
        "n^{1+o(1)} iff B = o((log n)^{1/3}) (AS24b)",
        "yes", "no: r = 3 needs n^{1-o(1)} heads (Thm 3.3)", "yes (Sanford et al.; here 2 heads)",
        "yes, 1 head (ours: the Strassen head through tensor_form, width 33)",
        "yes for every p in 3 variables (ours: 1 head, e.g. y1y2-y3)",
        "exponent: bench slope; Match3: test_two_tensor_heads_solve_match3;"
        " tasks: test_three_variable_task_heads_run_as_one_3_tensor_head",
    ),
    MechanismRow(
        "Strassen attention", strassen_attention_polynomial(),
        "n^ω d (Kozachinskiy et al. Thm 4.1); n^3 here", "n^{ω-o(1)} (Max-2SAT conjecture; poly paper)",
        "n^{1+o(1)} iff B = o(√log n) (Thm 3.6)",
        "yes (Kozachinskiy et al. Thm 4.2)", "no: r = 3 needs n^{1-o(1)} heads (Thm 3.3)", "yes (Thm 4.2; here 2 heads)",
        "yes, 1 head (Kozachinskiy et al. Thm 4.2; ours: d = 11)",
        "yes when the maximal supports of p^2 are pairs, e.g. y1+y2+y3-Σ (ours: 1 head)",
        "exponent: bench slope; Match3: test_two_strassen_heads_solve_match3;"
        " relation composition: test_one_strassen_head_solves_binary_relation_composition",
    ),
    MechanismRow(
        "tree attention (path h_r)", path_attention_polynomial(3),
        "n^2 d (Thms 3.1, 3.4, 3.5)", "n^{2-o(1)} (SETH; contains self-attention)",
        "n^{1+o(1)} iff B = o(√log n) (Thm 3.6)",
        "yes (Thm 3.1)", "yes, one head (Thm 3.4)", "not stated (open here)",
        "not stated (open here)", "only p whose h (supp p^2) is a tree, e.g. y1-2y2 (ours)",
        "exponent: bench slope; composition: test_path_attention_solves_r_fold_composition",
    ),
    MechanismRow(
        "general h (t variables, degree k)", AttentionPolynomial.parse("x1x2 + x2x3x4 + x4x1"),
        "n^t d; n^{w+1} d by elimination (ours)", "super-quadratic unless h is a tree (SETH / Max-2SAT)",
        "n^{1+o(1)} iff B = o((log n)^{1/k}) (Thm 3.6)",
        "depends on h", "depends on h", "depends on h",
        "depends on h",
        "any fixed p: Thm 3.7 (2 heads, per summaries); ours: 1 head, h = maximal supports of p^2",
        "exact == brute force: test_exact_equals_bruteforce_on_random_polynomials;"
        " root-finding: test_one_head_solves_polynomial_root_finding",
    ),
)


def markdown_table() -> str:
    """The table as markdown, with the exponent and degree computed from each ``h``."""
    head = (
        "| mechanism | h | exact time (upper) | exact lower bound (hypothesis) | ours: n^(w+1) |"
        " approximation (d = O(log n)) | k | 2-fold comp. | r-fold comp. | Match3 |"
        " binary relation comp. | root-finding p(y) = 0 |"
    )
    lines = [head, "|" + "---|" * 12]
    for row in MECHANISMS:
        lines.append(
            f"| {row.name} | {row.h} | {row.exact_upper} | {row.exact_lower} | n^{row.h.cost_exponent} |"
            f" {row.approx} | {row.h.degree} | {row.composition2} | {row.composition_r} | {row.match3} |"
            f" {row.relation_composition} | {row.root_finding} |"
        )
    return "\n".join(lines)
