"""Binary relation composition by one Strassen head.

``n = m^2`` tokens ``(i, j)`` holding ``(A_ij, B_ij)``, answer ``(B o A)_ij``
(Kozachinskiy et al., arXiv 2501.19215, §3.2.3).  One Strassen head solves it
(:func:`relation_composition_weights`, their Thm 4.2 by our own weights); one
standard layer needs size ``n^{Omega(1)}`` (their Thm 3.2), and the natural
one-head lookups decide a different relation
(:func:`self_attention_relation_lookup`, a demonstration).

The weights are our own reconstruction, proved in the docstring (see
docs/poly-attention.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..attention_polynomial import (
    self_attention_polynomial,
    strassen_attention_polynomial,
)
from ..exact import poly_attention_exact

__all__ = [
    "RelationInstance",
    "random_relations",
    "relation_composition_weights",
    "solve_relation_composition",
    "self_attention_relation_lookup",
]


@dataclass(frozen=True)
class RelationInstance:
    """Two relations ``A, B in {0,1}^{m x m}`` listed as ``n = m^2`` tokens.

    Token ``l = i m + j`` holds ``(A_ij, B_ij)``; its answer is
    ``(B o A)_ij = 1`` iff ``A_ik = B_kj = 1`` for some ``k`` (Kozachinskiy et
    al., arXiv 2501.19215, §3.2.3).

    Examples
    --------
    >>> inst = RelationInstance(np.array([[0, 1], [0, 0]]), np.array([[0, 0], [1, 0]]))
    >>> inst.answers.astype(int).tolist()  # 0 -A-> 1 -B-> 0
    [[1, 0], [0, 0]]
    """

    A: np.ndarray
    B: np.ndarray

    def __post_init__(self) -> None:
        for name in ("A", "B"):
            R = np.asarray(getattr(self, name))
            if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] < 1:
                raise ValueError(f"{name} must be a square (m, m) 0/1 matrix, got shape {R.shape}")
            if not np.isin(R, (0, 1)).all():
                raise ValueError(f"{name} must have entries in {{0, 1}}")
            object.__setattr__(self, name, R.astype(np.int64))
        if self.A.shape != self.B.shape:
            raise ValueError(f"A and B must have the same shape, got {self.A.shape} and {self.B.shape}")

    @property
    def m(self) -> int:
        return self.A.shape[0]

    @property
    def answers(self) -> np.ndarray:
        """``(B o A)_ij = [exists k: A_ik B_kj = 1]``, an (m, m) bool array (``A B > 0``)."""
        return (self.A @ self.B) > 0

    @property
    def labels(self) -> np.ndarray:
        """The answers in token order ``l = i m + j`` (shape ``(m^2,)``)."""
        return self.answers.reshape(-1)


def random_relations(
    m: int, density: float = 0.325, rng: np.random.Generator | None = None, same: bool = False
) -> RelationInstance:
    """Bernoulli(``density``) relations; ``same=True`` gives ``A = B = R`` (the Strassen paper's experiment).

    The default ``density = 0.325`` is that experiment's (App. C.1.2): for
    ``m = 6`` about half the answers are 1.
    """
    if not isinstance(m, int) or m < 1:
        raise ValueError(f"m must be a positive integer, got {m!r}")
    if not 0 <= density <= 1:
        raise ValueError(f"density must lie in [0, 1], got {density!r}")
    rng = np.random.default_rng(rng)
    A = (rng.random((m, m)) < density).astype(np.int64)
    B = A if same else (rng.random((m, m)) < density).astype(np.int64)
    return RelationInstance(A, B)


def _grid(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column ``(i, j)`` of each token ``l = i m + j``, as floats."""
    tokens = np.arange(m * m)
    return (tokens // m).astype(float), (tokens % m).astype(float)


def relation_composition_weights(inst: RelationInstance):
    """One Strassen head whose output at token ``(i, j)`` is ``> 3/4`` if ``(B o A)_ij = 1``, else ``< 1/4``.

    Parameters
    ----------
    inst : RelationInstance

    Returns
    -------
    (h, Xs, Vs) with ``h = strassen_attention_polynomial()``, ``n = m^2``, ``d = 11``, ``d_v = 1``.

    Notes
    -----
    Construction.  The query ``x1`` is the token ``(i, j)``, ``x2`` a token
    ``(c, e)``, ``x3`` a token ``(k, l)``.  After the ``1/d`` the logit is
    ``G s`` with ``G = ln(4 n^2)`` and

        s = -3 (i - c)^2 + A_ce  -  3 (e - k)^2 + B_kl  -  3 (l - j)^2,

    one group per edge of the triangle: edge ``(1,2)`` carries ``-3(i-c)^2``
    with ``A_ce`` folded in (a column that is 1 on the query side),
    edge ``(2,3)`` carries ``-3(e-k)^2 + B_kl``, edge ``(3,1)`` carries
    ``-3(l-j)^2``; each edge has its own columns (4 + 4 + 3), zero in the
    third variable's matrix.  Every row of every ``Q^(j)`` is a fixed linear
    map of the token embedding ``(i^2, i, j^2, j, 1, A_ij, B_ij)`` (``G``
    depends on ``n`` only).  Values ``V^(2) = A_ce``, ``V^(3) = B_kl``: the
    Hadamard product is ``P = A_ce B_kl in {0, 1}`` and the output is the
    softmax mass on tuples with ``P = 1``.

    Proof.  The penalty ``3[(i-c)^2 + (e-k)^2 + (l-j)^2]`` is 0 or ``>= 3``.
    *If* ``(B o A)_ij = 1`` with witness ``k*``: the tuple ``(i, k*), (k*, j)``
    has ``s = 2`` and ``P = 1``; every tuple with ``P = 0`` has ``s <= 1``
    (penalty 0 and ``A + B <= 1``, or penalty ``>= 3``).  So the ``< n^2``
    tuples with ``P = 0`` carry at most ``n^2 e^{-G} = 1/4`` of the mass of
    that one tuple: output ``>= 3/4``.  *If* ``(B o A)_ij = 0``: a tuple with
    ``P = 1`` and penalty 0 would be a witness, so every ``P = 1`` tuple has
    ``s <= 2 - 3 = -1``, while ``(i, 0), (0, j)`` has penalty 0 and ``s >= 0``:
    output ``<= n^2 e^{-G} = 1/4``.  Threshold ``1/2``.  Ties are harmless:
    all tuples of the top score have the same ``P`` (``s = 2`` forces
    ``P = 1``; in the no case the top score is ``>= 0 > -1``), so no
    tie-break is needed.  The Strassen paper's construction (its App. B.4,
    formulas lost in our copy; see docs/poly-attention.md) instead scores
    ``-(i-c)^2 - (e-k)^2 - (l-j)^2 + A_ce + B_kl`` plus a unique-ifying
    ``(c m^3 + e m^2 + k m + l)/m^5``, scaled by ``n^4``, and reads whether the
    top score's integer part is 2; with penalty weight 1 a tuple of penalty 1
    and ``A = B = 1`` ties in integer part with a witness-free penalty-0
    tuple, which is why we weight the penalty by 3 and read ``P`` instead.

    Cost and regime: entries reach ``d G 3 (m - 1)^2 = Theta(n log n)``, far
    above the ``sqrt(log n)`` threshold of the fast algorithm (Thm 3.6 of
    arXiv 2602.02422): this is the exact, ``n^3`` (``n^omega``) regime.

    Examples
    --------
    >>> inst = random_relations(4, rng=0)
    >>> h, Xs, Vs = relation_composition_weights(inst)
    >>> str(h), Xs[0].shape
    ('x1x2 + x2x3 + x1x3', (16, 11))
    """
    m = inst.m
    n = m * m
    i, j = _grid(m)
    A, B = inst.A.reshape(-1).astype(float), inst.B.reshape(-1).astype(float)
    one = np.ones(n)
    d = 11
    gd = d * float(np.log(4 * n * n))
    X1, X2, X3 = (np.zeros((n, d)) for _ in range(3))
    # edge (1,2): -3(i-c)^2 + A_ce          (query (i, j), second token (c, e))
    X1[:, 0:4] = np.column_stack([i * i, i, one, one])
    X2[:, 0:4] = gd * np.column_stack([-3 * one, 6 * i, -3 * i * i, A])
    # edge (2,3): -3(e-k)^2 + B_kl          (second (c, e), third (k, l))
    X2[:, 4:8] = np.column_stack([j * j, j, one, one])
    X3[:, 4:8] = gd * np.column_stack([-3 * one, 6 * i, -3 * i * i, B])
    # edge (3,1): -3(l-j)^2
    X3[:, 8:11] = np.column_stack([j * j, j, one])
    X1[:, 8:11] = gd * np.column_stack([-3 * one, 6 * j, -3 * j * j])
    return strassen_attention_polynomial(), [X1, X2, X3], [A[:, None], B[:, None]]


def solve_relation_composition(inst: RelationInstance) -> tuple[np.ndarray, np.ndarray]:
    """Run the Strassen head exactly; return ``(predicted labels, raw outputs)`` in token order."""
    h, Xs, Vs = relation_composition_weights(inst)
    raw = poly_attention_exact(h, Xs, Vs).output[:, 0]
    return raw > 0.5, raw


def self_attention_relation_lookup(inst: RelationInstance, side: str = "row") -> np.ndarray:
    """The natural one-head self-attention attempt at ``B o A``: a single lookup.

    ``side="row"``: token ``(i, j)`` attends, with the score
    ``G[-3(i - c)^2 + A_ce + B_ce]`` of :func:`relation_composition_weights`
    reduced to one key, to the tokens ``(i, e)`` of its row and reads
    ``A_ie B_ie``: it decides ``exists e: A_ie = B_ie = 1`` (same proof, margin
    1/4).  ``side="column"`` reads column ``j``: ``exists c: A_cj = B_cj = 1``.
    The true answer needs two tokens ``(i, k)`` and ``(k, j)`` that agree on
    ``k``, and a score of one (query, key) pair cannot look at both.  A
    demonstration that the natural constructions fail on a fraction of random
    instances, not a lower bound (that is Thm 3.2 with the split-VC dimension
    in Kozachinskiy et al., arXiv 2501.19215: size ``n^{Omega(1)}``).

    Returns the predicted labels in token order.
    """
    if side not in ("row", "column"):
        raise ValueError(f"side must be 'row' or 'column', got {side!r}")
    m = inst.m
    n = m * m
    i, j = _grid(m)
    u = i if side == "row" else j
    A, B = inst.A.reshape(-1).astype(float), inst.B.reshape(-1).astype(float)
    one = np.ones(n)
    gd = 4 * float(np.log(4 * n))
    Q = np.column_stack([u * u, u, one, one])
    K = gd * np.column_stack([-3 * one, 6 * u, -3 * u * u, A + B])
    out = poly_attention_exact(self_attention_polynomial(), [Q, K], [(A * B)[:, None]]).output[:, 0]
    return out > 0.5
