"""Executable fine-grained reductions: k-SAT (DIMACS) -> OV / k-OV -> attention, gap max-IP -> attention, forward -> gradient.

Each reduction is a pure function ``source instance -> (target instance,
decode)`` whose docstring states the parameter blow-up (``n``, ``d``, ``B`` as
functions of the source size) and the mathematics it relies on; the docs page
is docs/reductions.md.

Modules
-------
cnf
    CNF formulas, the DIMACS format, random / planted / unsatisfiable k-CNFs,
    brute-force solving and model counting.
ov
    Orthogonal Vectors and k-OV: instances, brute force, generators.
sat_to_ov
    Williams' split-and-list reduction k-CNF-SAT -> OV (and -> k-OV).
ov_to_attention
    OV -> exact attention and 3-OV -> exact tensor attention (entries
    ``B = Theta(log n)``; Keles, Wijewardena & Hegde 2023).
gap
    Gap max-IP, gap 3-max-IP and gap Hamming closest pair: instances, brute
    force, planted generators.
gap_to_attention
    Gap max-IP -> attention at ``B = Theta(sqrt(log n))`` (max-IP and
    Hamming forms), gap 3-max-IP -> tensor attention at ``Theta((log n)^{1/3})``
    (Alman & Song 2023 Thm 1.4; 2024).
threshold_instance
    What a gap reduction hands its decoder: the instance, a threshold on its
    output, and a tolerance computed in log space, refused with a
    ``ValueError`` where float64 cannot tell yes from no.
gap_threshold
    The entry bound at which those constructions separate (exact:
    ``minimal_bound``; simple: ``sufficient_bound``), and the degree and rank
    the polynomial method needs there.
attention_to_gradient
    Forward attention read off the training-loss gradient ``dL/dX``, exactly
    (matrix and tensor; AS24a Lemma C.7).
gap_to_gradient
    Gap max-IP decided by polylog gradient-oracle calls: the repaired
    interpolation proof of AS24a Thm E.5, with a proven quadrature bound
    setting the number of calls.
finite_field, ov_to_gap
    OV (k-OV) -> gap max-IP (gap 3-max-IP) by the Merlin-Arthur protocol for
    set disjointness over a prime field (Aaronson-Wigderson; as used by
    Abboud-Rubinstein-Williams 2017), a family of ``q^{2T-2}`` instances.
sat_via_gap
    SAT -> OV -> gap family -> attention, with its size estimate and refusal.
pipeline
    ``decide_sat``: the whole chain SAT -> OV -> attention (or tensor attention,
    or the gradient) -> answer, traced stage by stage.
tour, __main__
    The command line ``python -m reductions {sat-to-ov, decide, tour}``.

The package namespace holds the public entry points (``__all__``), except the
four functions named like their module -- ``sat_to_ov``, ``ov_to_attention``,
``gap_to_attention``, ``ov_to_gap`` -- which would hide the module ``reductions.sat_to_ov``
(etc.) behind the function; import those from their module, e.g. ``from
reductions.sat_to_ov import sat_to_ov``.
"""

from reductions.attention_to_gradient import (
    attention_via_gradient,
    tensor_attention_via_gradient,
)
from reductions.cnf import (
    CNF,
    count_models,
    planted_kcnf,
    random_kcnf,
    read_dimacs,
    solve,
    write_dimacs,
)
from reductions.gap import (
    Gap3Instance,
    GapInstance,
    HammingGapInstance,
    gap_answer,
    planted_gap3_instance,
    planted_gap_instance,
    to_hamming,
)
from reductions.gap_threshold import (
    minimal_bound,
    minimal_bound_tensor,
    polynomial_method_rank,
    sufficient_bound,
)
from reductions.gap_to_attention import (
    ThresholdInstance,
    gap3_to_tensor_attention,
    hamming_to_attention,
)
from reductions.gap_to_gradient import gap_via_gradient, quadrature_points
from reductions.ov import (
    KOVInstance,
    OVInstance,
    find_orthogonal_pair,
    find_orthogonal_tuple,
    planted_ov,
)
from reductions.ov_to_attention import (
    AttentionInstance,
    kov_to_tensor_attention,
)
from reductions.ov_to_gap import kov_to_gap3
from reductions.pipeline import FastPathRefused, Trace, decide_sat
from reductions.sat_to_ov import sat_to_kov
from reductions.sat_via_gap import decide_ov_via_gap, decide_sat_via_gap

__version__ = "0.2.0"

__all__ = [
    "__version__",
    # formulas and source problems
    "CNF",
    "read_dimacs",
    "write_dimacs",
    "random_kcnf",
    "planted_kcnf",
    "solve",
    "count_models",
    "OVInstance",
    "KOVInstance",
    "find_orthogonal_pair",
    "find_orthogonal_tuple",
    "planted_ov",
    "GapInstance",
    "Gap3Instance",
    "HammingGapInstance",
    "gap_answer",
    "planted_gap_instance",
    "planted_gap3_instance",
    "to_hamming",
    # reductions
    "sat_to_kov",
    "AttentionInstance",
    "kov_to_tensor_attention",
    "ThresholdInstance",
    "hamming_to_attention",
    "gap3_to_tensor_attention",
    "minimal_bound",
    "minimal_bound_tensor",
    "sufficient_bound",
    "polynomial_method_rank",
    "attention_via_gradient",
    "tensor_attention_via_gradient",
    "gap_via_gradient",
    "quadrature_points",
    "kov_to_gap3",
    "decide_ov_via_gap",
    "decide_sat_via_gap",
    # the chain
    "decide_sat",
    "Trace",
    "FastPathRefused",
]
