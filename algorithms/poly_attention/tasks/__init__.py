"""Polyadic tasks that separate attention mechanisms, with explicit one-layer weights.

Modules
-------
composition
    **r-fold function composition** (Peng, Narayanan & Papadimitriou 2024,
    arXiv 2402.08164; Chakrabarti, Pitassi & Alman, arXiv 2602.02422,
    Thms 3.1, 3.3, 3.4): one tree-attention head along the path ``h_r``.
match3
    **Match3** (Sanford, Hsu & Telgarsky 2023, arXiv 2306.02896): two
    Strassen heads, or two 3-tensor heads through ``tensor_form``.
relation_composition
    **Binary relation composition** (Kozachinskiy et al., arXiv 2501.19215,
    §3.2.3): one Strassen head; the natural self-attention lookups decide a
    different relation.
root_finding
    **Polynomial root-finding** (Chakrabarti, Pitassi & Alman, Thm 3.7): one
    head whose ``h`` is read off the support of ``p^2``.
integer_polynomial
    Integer polynomials ``p(y)`` as ``{exponent: coefficient}``, used by
    root-finding.

Each task has an instance class with its brute-force answer, a random
generator, the explicit weights ``(h, Xs, Vs)`` and a ``solve_*`` that runs
them with :func:`~algorithms.poly_attention.exact.poly_attention_exact`.  The
weights are our own reconstructions (the paper's own constructions were not
readable to us; see docs/poly-attention.md), each with its proof in its
docstring.  Their entries are ``poly(n)``: far above the ``(log n)^{1/k}``
threshold of the fast algorithm, as the paper's expressiveness/entry-size
trade-off predicts.  They are evaluated with the exact algorithm, whose
log-domain elimination handles logits of size ``10^5`` without overflow.
"""

from .composition import (
    CompositionInstance,
    composition_weights,
    random_composition,
    self_attention_one_hop,
    solve_composition,
)
from .integer_polynomial import evaluate_polynomial, parse_polynomial
from .match3 import Match3Instance, match3_weights, random_match3, solve_match3
from .relation_composition import (
    RelationInstance,
    random_relations,
    relation_composition_weights,
    self_attention_relation_lookup,
    solve_relation_composition,
)
from .root_finding import (
    RootFindingInstance,
    random_root_finding,
    root_finding_polynomial,
    root_finding_weights,
    solve_root_finding,
)

__all__ = [
    "CompositionInstance",
    "Match3Instance",
    "RelationInstance",
    "RootFindingInstance",
    "composition_weights",
    "evaluate_polynomial",
    "match3_weights",
    "parse_polynomial",
    "random_composition",
    "random_match3",
    "random_relations",
    "random_root_finding",
    "relation_composition_weights",
    "root_finding_polynomial",
    "root_finding_weights",
    "self_attention_one_hop",
    "self_attention_relation_lookup",
    "solve_composition",
    "solve_match3",
    "solve_relation_composition",
    "solve_root_finding",
]
