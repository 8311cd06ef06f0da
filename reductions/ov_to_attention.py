"""OV -> exact attention, and 3-OV -> exact tensor attention (large entries, B = Theta(log n)).

The "easy" hardness of attention (Keles, Wijewardena & Hegde 2023; Backurs,
Indyk & Schmidt 2017; see docs/matrix-attention.md): an orthogonal pair
becomes a heavy attention weight.  For ``A`` (``N_a x m``) and ``B``
(``N_b x m``) over ``{0, 1}``::

    Q = -s A,      K = [s B ; 0],      V = e_{dummy}  (1 on the appended zero key),

so the logit of query ``i`` and key ``j`` is ``<q_i, k_j>/d = -beta <a_i, b_j>``
with ``beta = s^2 / m``, the appended zero key has logit ``0`` (weight 1), and
the only output column is

    y_i = 1 / (1 + S_i),       S_i = sum_j exp(-beta <a_i, b_j>).

An orthogonal partner contributes ``e^0 = 1`` to ``S_i``; every other key at
most ``e^{-beta}``.  With ``beta = ln(2 N_b) + 1`` the non-orthogonal mass is
``<= N_b e^{-beta} = 1/(2e)``, so

    a_i has an orthogonal partner  =>  y_i <= 1/2,
    a_i has none                   =>  y_i >= 2e / (2e + 1) ~ 0.845.

The decoder flags the rows below the midpoint and tests them against ``B``
(``O(N_b m)`` per flagged row).  It tolerates any additive error below
``(2e/(2e+1) - 1/2)/2 ~ 0.172`` on ``y``.

Tensor (3-OV; see docs/tensor-attention.md): ``Q = -s A``, ``K1 = [s B; 0]``,
``K2 = [s C; 0]``, ``V1 = V2 = e_{dummy}``.  The logit of the pair
``(j, k)`` is ``-beta <a_i, b_j, c_k>`` with ``beta = s^3 / m`` and
``<a, b, c> = sum_l a_l b_l c_l``; the ``N_b + N_c + 1`` pairs that touch a
dummy have logit 0 and only ``(dummy, dummy)`` has value 1, so

    y_i = 1 / (S_i + N_b + N_c + 1),     S_i = sum_{j,k} exp(-beta <a_i, b_j, c_k>),

and ``beta = ln(2 N_b N_c) + 1`` separates ``S_i >= 1`` from ``S_i <= 1/(2e)``.

Blow-up (a test checks each): matrix ``n = max(N_a, N_b + 1)`` tokens
(``N_a`` queries, ``N_b + 1`` keys), ``d = m``, ``B = s = sqrt(m (ln(2 N_b) + 1))``,
which is ``Theta(log n)`` for ``m = Theta(log n)``; tensor ``n = max(N_a,
N_b + 1, N_c + 1)``, ``d = m``, ``B = (m (ln(2 N_b N_c) + 1))^{1/3}``.  Time
``O(n m)`` to build.  (``m = 0`` is padded to one zero coordinate.)

Why these entries are "large": the polynomial method needs ``B = o(sqrt(log n))``;
here ``B^2 = Theta(log^2 n)``, so the instance sits far above the threshold,
and an exact ``n^{2-q}`` algorithm for it would refute SETH through
Williams' reduction (:mod:`reductions.sat_to_ov`).

References
----------
.. [1] F. D. Keles, P. M. Wijewardena, C. Hegde. On the computational complexity
   of self-attention. ALT 2023, arXiv:2209.04881.
.. [2] A. Backurs, P. Indyk, L. Schmidt. On the fine-grained complexity of
   empirical risk minimization. NeurIPS 2017, arXiv:1704.02958.
.. [3] J. Alman, Z. Song. Fast attention requires bounded entries. NeurIPS 2023,
   arXiv:2302.13214.
.. [4] J. Alman, Z. Song. How to capture higher-order correlations? ICLR 2024,
   arXiv:2310.04064 (3-OV to tensor attention).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from algorithms._checks import as_matrix, max_norm
from algorithms._display import short_repr
from reductions.ov import as_binary

__all__ = [
    "AttentionInstance",
    "TensorAttentionInstance",
    "ov_to_attention",
    "kov_to_tensor_attention",
    "ov_beta",
    "kov_beta",
]

_NO_PARTNER_MASS = 1 / (2 * math.e)  # the largest S_i of a row with no orthogonal partner


@dataclass(frozen=True)
class AttentionInstance:
    """An attention instance ``Att(Q, K, V) = D^{-1} exp(Q K^T / d) V`` built by a reduction.

    Attributes
    ----------
    Q : (n_queries, d) array
    K, V : (n_keys, d) and (n_keys, d_v) arrays
    n : sequence length ``max(n_queries, n_keys)``
    d : head dimension
    B : max-norm of ``Q`` and ``K`` (the entry bound of AAttC)
    beta : logit scale per unit of inner product
    threshold : rows with ``y_i < threshold`` are flagged by the decoder
    tolerance : additive error on the output the decoder tolerates
    """

    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    n: int
    d: int
    B: float
    beta: float
    threshold: float
    tolerance: float

    def __repr__(self) -> str:
        return short_repr(type(self).__name__, Q=self.Q, K=self.K, V=self.V, n=self.n, d=self.d, B=self.B,
                          beta=self.beta, threshold=self.threshold, tolerance=self.tolerance)


@dataclass(frozen=True)
class TensorAttentionInstance:
    """A tensor-attention instance ``D^{-1} exp(Q (K1 ⊘ K2)^T / d) (V1 ⊘ V2)``.

    Attributes as :class:`AttentionInstance`, with ``K1, K2, V1, V2`` and
    ``B`` the max-norm of ``Q, K1, K2``.
    """

    Q: np.ndarray
    K1: np.ndarray
    K2: np.ndarray
    V1: np.ndarray
    V2: np.ndarray
    n: int
    d: int
    B: float
    beta: float
    threshold: float
    tolerance: float


def ov_beta(N_b: int) -> float:
    """``beta = ln(2 N_b) + 1``: ``N_b`` non-orthogonal keys carry mass ``<= 1/(2e)``.

    Examples
    --------
    >>> round(ov_beta(4), 4)
    3.0794
    """
    return math.log(2 * N_b) + 1.0


def kov_beta(N_b: int, N_c: int) -> float:
    """``beta = ln(2 N_b N_c) + 1``: the ``N_b N_c`` real pairs carry mass ``<= 1/(2e)``."""
    return math.log(2 * N_b * N_c) + 1.0


def _padded(X: np.ndarray) -> np.ndarray:
    """Float copy with at least one column (``m = 0``: one zero coordinate, nothing changes)."""
    X = X.astype(float)
    return X if X.shape[1] else np.zeros((X.shape[0], 1))


def _with_dummy(X: np.ndarray) -> np.ndarray:
    return np.vstack([X, np.zeros((1, X.shape[1]))])


def _indicator(rows: int) -> np.ndarray:
    """Value column: 1 on the last (dummy) row only."""
    V = np.zeros((rows, 1))
    V[-1, 0] = 1.0
    return V


def _check_output(output, rows: int) -> np.ndarray:
    Y = as_matrix("output", output)
    if Y.shape[0] != rows:
        raise ValueError(f"output must have {rows} rows (one per query), got shape {Y.shape}")
    return Y[:, 0]


def ov_to_attention(A, B) -> tuple[AttentionInstance, Callable[[np.ndarray], tuple[int, int] | None]]:
    """Reduce OV to exact attention: one output entry per query reveals an orthogonal partner.

    Parameters
    ----------
    A : (N_a, m) array_like of 0/1
    B : (N_b, m) array_like of 0/1

    Returns
    -------
    instance : AttentionInstance
        ``Q = -s A`` (``N_a x d``), ``K = [s B; 0]`` and ``V = e_dummy``
        (``(N_b + 1) x 1``), ``d = max(m, 1)``, ``beta = ln(2 N_b) + 1``,
        ``s = B = sqrt(beta d)``.
    decode : callable
        ``decode(output)`` takes the ``N_a x 1`` attention output (exact, or
        within ``instance.tolerance``) and returns an orthogonal pair
        ``(i, j)`` -- the first flagged row ``i`` (``y_i < 0.672``) that has a
        partner in ``B``, and its first partner ``j`` -- or ``None``.

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not a 2-d 0/1 array or their dimensions differ;
        ``decode`` raises it if ``output`` has the wrong number of rows or a
        non-finite entry.

    Examples
    --------
    >>> from algorithms.attention import attention
    >>> inst, decode = ov_to_attention([[1, 0], [1, 1]], [[1, 1], [0, 1]])
    >>> (inst.n, inst.d, round(inst.B, 3))
    (3, 2, 2.185)
    >>> decode(attention(inst.Q, inst.K, inst.V))
    (0, 1)
    >>> no, decode_no = ov_to_attention([[1, 1]], [[1, 0], [0, 1]])
    >>> decode_no(attention(no.Q, no.K, no.V)) is None
    True

    Notes
    -----
    Correctness: a partner gives ``S_i >= 1``, hence ``y_i <= 1/2``; no partner
    gives ``S_i <= N_b e^{-beta} = 1/(2e)``, hence ``y_i >= 2e/(2e+1)``.
    Blow-up: ``n = max(N_a, N_b + 1)``, ``d = m``,
    ``B = sqrt(m (ln(2 N_b) + 1)) = Theta(log n)`` for ``m = Theta(log n)``.
    Cost: ``O(n m)`` to build; decoding ``O(N_a + F N_b m)`` for ``F`` flagged rows.

    References
    ----------
    .. [1] Keles, Wijewardena, Hegde, arXiv:2209.04881 (OV -> attention).
    .. [2] Alman & Song, arXiv:2302.13214, Sec. 4.
    """
    A = as_binary("A", A)
    Bv = as_binary("B", B, cols=A.shape[1])
    N_a, N_b = A.shape[0], Bv.shape[0]
    Af, Bf = _padded(A), _padded(Bv)
    d = Af.shape[1]
    beta = ov_beta(N_b)
    s = math.sqrt(beta * d)
    Q, K = -s * Af, _with_dummy(s * Bf)
    y_yes, y_no = 0.5, 1.0 / (1.0 + _NO_PARTNER_MASS)
    instance = AttentionInstance(
        Q=Q, K=K, V=_indicator(N_b + 1), n=max(N_a, N_b + 1), d=d, B=max_norm(Q, K), beta=beta,
        threshold=(y_yes + y_no) / 2, tolerance=(y_no - y_yes) / 2,
    )

    def decode(output) -> tuple[int, int] | None:
        y = _check_output(output, N_a)
        for i in np.flatnonzero(y < instance.threshold):
            partners = np.flatnonzero(Bf @ Af[i] == 0)
            if partners.size:
                return int(i), int(partners[0])
        return None

    return instance, decode


def kov_to_tensor_attention(
    A, B, C
) -> tuple[TensorAttentionInstance, Callable[[np.ndarray], tuple[int, int, int] | None]]:
    """Reduce 3-OV to exact tensor attention (see docs/tensor-attention.md).

    Parameters
    ----------
    A, B, C : (N_a, m), (N_b, m), (N_c, m) array_like of 0/1

    Returns
    -------
    instance : TensorAttentionInstance
        ``Q = -s A``, ``K1 = [s B; 0]``, ``K2 = [s C; 0]``, ``V1 = V2 =
        e_dummy``; ``beta = ln(2 N_b N_c) + 1``, ``s = B = (beta d)^{1/3}``.
    decode : callable
        ``decode(output)`` maps the ``N_a x 1`` output to an orthogonal triple
        ``(i, j, k)`` (``sum_l a_il b_jl c_kl = 0``), tested against ``B`` and
        ``C`` for the flagged rows only, or ``None``.

    Raises
    ------
    ValueError
        If an input is not a 2-d 0/1 array or the dimensions differ; ``decode``
        raises it for a malformed ``output``.

    Examples
    --------
    >>> from algorithms.tensor_attention import tensor_attention
    >>> inst, decode = kov_to_tensor_attention([[1, 1], [1, 0]], [[1, 1]], [[1, 1], [0, 1]])
    >>> (inst.n, inst.d)
    (3, 2)
    >>> decode(tensor_attention(inst.Q, inst.K1, inst.K2, inst.V1, inst.V2))
    (1, 0, 1)

    Notes
    -----
    ``y_i = 1/(S_i + N_b + N_c + 1)``; a triple gives ``S_i >= 1``, none gives
    ``S_i <= N_b N_c e^{-beta} = 1/(2e)``.  Blow-up: ``n = max(N_a, N_b + 1,
    N_c + 1)``, ``d = m``, ``B = (m (ln(2 N_b N_c) + 1))^{1/3}``.  Cost
    ``O(n m)`` to build, ``O(N_a + F N_b N_c m)`` to decode ``F`` flagged rows.

    References
    ----------
    .. [1] Alman & Song, arXiv:2310.04064 (tensor attention, 3-OV).
    """
    A = as_binary("A", A)
    Bv = as_binary("B", B, cols=A.shape[1])
    Cv = as_binary("C", C, cols=A.shape[1])
    N_a, N_b, N_c = A.shape[0], Bv.shape[0], Cv.shape[0]
    Af, Bf, Cf = _padded(A), _padded(Bv), _padded(Cv)
    d = Af.shape[1]
    beta = kov_beta(N_b, N_c)
    s = (beta * d) ** (1.0 / 3.0)
    Q, K1, K2 = -s * Af, _with_dummy(s * Bf), _with_dummy(s * Cf)
    base = N_b + N_c + 1  # pairs touching a dummy: logit 0, weight 1
    y_yes, y_no = 1.0 / (base + 1.0), 1.0 / (base + _NO_PARTNER_MASS)
    instance = TensorAttentionInstance(
        Q=Q, K1=K1, K2=K2, V1=_indicator(N_b + 1), V2=_indicator(N_c + 1),
        n=max(N_a, N_b + 1, N_c + 1), d=d, B=max_norm(Q, K1, K2), beta=beta,
        threshold=(y_yes + y_no) / 2, tolerance=(y_no - y_yes) / 2,
    )

    def decode(output) -> tuple[int, int, int] | None:
        y = _check_output(output, N_a)
        for i in np.flatnonzero(y < instance.threshold):
            j, k = np.nonzero((Bf * Af[i]) @ Cf.T == 0)
            if j.size:
                return int(i), int(j[0]), int(k[0])
        return None

    return instance, decode
