"""Forward attention from a gradient oracle: AttC -> AttLGC, and TAttC -> the tensor training gradient.

Alman & Song (NeurIPS 2024, arXiv 2402.04497, Thm E.5) show the training
gradient ``dL/dX`` of ``L(X) = 1/2 ||D^{-1} exp(A1 X A2^T / d) A3 Y - E||_F^2``
is as hard as forward attention, by an interpolation whose published proof is
a sketch (repaired in :mod:`reductions.gap_to_gradient`).  Here is a *direct*
and *exact* reduction, which recovers every entry of the forward output with
no interpolation and no error beyond float64 rounding.

The identity it rests on (AS24a Lemma C.7, ``1/d`` restored)::

    dL/dX = (1/D) A1^T p A2,   p_ij = f_ij (q_ij - sum_k f_ik q_ik),   q = c h^T,  c = f h - E,

with ``f`` the softmax, ``h = A3 Y`` the values and ``D`` the gradient
instance's head dimension.  With ``E = 0``, ``c_i = o_i`` is the instance's own
forward output, so ``p_ij = f_ij (<o_i, h_j> - <o_i, o_i>)``.  Add *dummy keys*
that all share one logit (so one softmax weight ``w_i``) and carry the values
``+e_l`` and ``-e_l``: then

    p_{i, l+} - p_{i, l-} = w_i (<o_i, e_l> - <o_i, -e_l>) = 2 w_i o_il,

the ``<o_i, o_i>`` term and the unknown normaliser cancel.  The dummies' values
cancel in pairs, so ``o_il = W_i Att_il`` with ``W_i`` the real keys' total
weight, and one extra value channel that is 1 on real keys (0 on dummies)
gives ``o_i,ind = W_i``.  Hence

    Att_il = (p_{i,l+} - p_{i,l-}) / (p_{i,ind+} - p_{i,ind-}).            (R)

Reading single entries of ``p`` out of ``dL/dX``: one coordinate per dummy
key in ``A2`` (1 on that dummy, 0 elsewhere) and one coordinate per query row
of the block in ``A1`` (an indicator); ``X`` is zero on these coordinates, so
they change no logit, and ``dL/dX[row r, dummy k] = p_{r,k} / D``.  The
dummies' key is the mean key ``k_bar``, so their logit is the row's mean logit
and, by Jensen, ``w_i <= 1/(m + 2 p)``: the real keys keep most of the weight
(``W_i >= m / (m + 2 p)``) and nothing underflows unless a row's logits spread
over more than ~700.

Instance (matrix), for a block of ``b`` query rows, ``p = d_v + 1`` value
channels, ``M = 2p`` dummies, ``D = d + M + b``, ``sigma = sqrt(D / d)``::

    A1 = [sigma Q_block | 0 | I_b]           (b x D)
    A2 = [sigma K | 0 | 0 ; sigma k_bar | I_M | 0]   ((m + M) x D)
    A3 = [V | 1 | 0 ; +-e_l]                  ((m + M) x D),   X = diag(I_d, 0),  Y = I_D,  E = 0.

The logits are ``sigma^2 <q, k> / D = <q, k> / d``: the forward instance's.
Blow-up: ``ceil(n / b)`` oracle calls, each on ``b`` queries, ``m + 2(d_v + 1)``
keys, head dimension ``D = d + 2(d_v + 1) + b``; entries ``||A1 X||_inf =
sqrt(D/d) ||Q||_inf``, ``||A2||_inf = max(sqrt(D/d) ||K||_inf, 1)``.  With the
default ``b = d`` (and ``d_v <= d``) that is a constant factor ``<= 2.3`` on
the entries, and ``n/d`` calls of cost ``O(d m d)`` each with the exact
oracle: ``O(n m d)`` in all, the cost of attention itself.

Tensor (Liang, Shi, Song, Zhou, arXiv 2405.16411, Thm 6.3's setting): the
same with pairs.  ``2p`` dummy rows in ``K1`` (key ``k_bar1``) and one in ``K2``
(key ``k_bar2``), so every pair ``(dummy_j, dummy_k)`` has the mean trilinear
logit ``<q, k_bar1 o k_bar2>/d``; the values ``h = (A4 ⊗ A5) Y`` use separate
coordinates for real and dummy rows and a ``Y`` with no cross terms, so
``h_(j,k) = V1[j] o V2[k]`` on real pairs, ``+-e_l`` on the reading pairs and
``0`` on mixed (real, dummy) pairs.  ``X[l, (l, l)] = 1`` for ``l < d``
(``X = I ⊘ I``), ``sigma = (D / d)^{1/3}``.  Pairs of one real and one dummy
row take some weight but carry value 0, so (R) holds unchanged.

Why not only this.  (R) recovers ``n d_v`` numbers from ``n / b`` gradients
of ``D^2 >= b^2`` numbers each: a gradient oracle in time ``T = n^{2-q}`` gives
forward attention in ``(n / b) T = n^{3-q}/d`` (with ``b = d``), *not* a
contradiction with a quadratic lower bound.  The hardness statement needs the
``O(polylog n)`` calls of the interpolation proof,
:func:`reductions.gap_to_gradient.gap_via_gradient`, re-exported here (with
:class:`~reductions.gap_to_gradient.InterpolationTrace`) so that ``from
reductions.attention_to_gradient import gap_via_gradient`` keeps working.

References
----------
.. [1] J. Alman, Z. Song. The fine-grained complexity of gradient computation
   for training large language models. NeurIPS 2024, arXiv:2402.04497,
   Lemma C.7 and Thm E.5.
.. [2] Y. Liang, Z. Shi, Z. Song, Y. Zhou. Tensor attention training: provably
   efficient learning of higher-order transformers. arXiv:2405.16411, Lemma 4.1
   and Thm 6.3.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from algorithms._checks import as_matrix, check_positive_int
from reductions.gap_to_gradient import InterpolationTrace, gap_via_gradient

__all__ = [
    "GradientInstance",
    "TensorGradientInstance",
    "attention_gradient_instance",
    "tensor_attention_gradient_instance",
    "attention_via_gradient",
    "tensor_attention_via_gradient",
    # re-exported from reductions.gap_to_gradient
    "InterpolationTrace",
    "gap_via_gradient",
]


@dataclass(frozen=True)
class GradientInstance:
    """Arguments ``(A1, A2, A3, E, X, Y)`` of ``attention_loss_grad`` built for one block of query rows."""

    A1: np.ndarray
    A2: np.ndarray
    A3: np.ndarray
    E: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    rows: slice

    @property
    def args(self) -> tuple[np.ndarray, ...]:
        return self.A1, self.A2, self.A3, self.E, self.X, self.Y

    @property
    def D(self) -> int:
        """Head dimension of the gradient instance."""
        return self.A1.shape[1]


@dataclass(frozen=True)
class TensorGradientInstance:
    """Arguments ``(A1, A2, A3, A4, A5, E, X, Y)`` of ``tensor_attention_loss_grad`` for one block."""

    A1: np.ndarray
    A2: np.ndarray
    A3: np.ndarray
    A4: np.ndarray
    A5: np.ndarray
    E: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    rows: slice

    @property
    def args(self) -> tuple[np.ndarray, ...]:
        return self.A1, self.A2, self.A3, self.A4, self.A5, self.E, self.X, self.Y

    @property
    def D(self) -> int:
        return self.A1.shape[1]


def _check_rows(rows: slice, n: int) -> slice:
    if not isinstance(rows, slice):
        raise ValueError(f"rows must be a slice of query rows, got {rows!r}")
    start, stop, step = rows.indices(n)
    if step != 1 or stop <= start:
        raise ValueError(f"rows must select a non-empty contiguous range of the {n} query rows, got {rows!r}")
    return slice(start, stop)


def _check_block(block: int | None, d: int) -> int:
    if block is None:
        return d
    return check_positive_int("block", block)


def _signed_units(p: int) -> np.ndarray:
    """Values ``+e_0, -e_0, +e_1, -e_1, ...``: a ``(2p, p)`` array."""
    return np.kron(np.eye(p), np.array([[1.0], [-1.0]]))


def _read(G: np.ndarray, row_coords: np.ndarray, dummy_cols: np.ndarray, p: int) -> np.ndarray:
    """Apply (R): ``Att = (G[., l+] - G[., l-]) / (G[., ind+] - G[., ind-])``."""
    P = G[np.ix_(row_coords, dummy_cols)]
    diff = P[:, 0::2] - P[:, 1::2]  # (b, p): 2 w_i o_il / D
    if np.any(diff[:, p - 1] <= 0):
        raise ValueError(
            "G (the gradient) has a non-positive indicator channel 2 w_i W_i / D <= 0 for some row: "
            "it is not the gradient of this instance"
        )
    return diff[:, : p - 1] / diff[:, p - 1 : p]


def attention_gradient_instance(Q, K, V, rows: slice) -> tuple[GradientInstance, Callable[[np.ndarray], np.ndarray]]:
    """One gradient instance whose ``dL/dX`` reveals ``Att(Q, K, V)[rows]`` exactly, via (R).

    Parameters
    ----------
    Q : (n, d) array
    K : (m, d) array
    V : (m, d_v) array
    rows : slice of query rows (the block, ``b`` rows)

    Returns
    -------
    instance : GradientInstance
        ``A1 (b x D)``, ``A2, A3 ((m + 2(d_v+1)) x D)``, ``E (b x D)``, ``X, Y (D x D)``
        with ``D = d + 2(d_v + 1) + b``.
    decode : callable
        ``decode(G)`` maps the ``(D, D)`` gradient ``dL/dX`` to the ``(b, d_v)`` block of the output.

    Raises
    ------
    ValueError
        Malformed ``Q, K, V`` (shapes, non-finite entries), an empty or strided
        ``rows``; ``decode`` on a gradient of the wrong shape or non-finite.

    Examples
    --------
    >>> from algorithms.attention import attention, attention_loss_grad
    >>> rng = np.random.default_rng(0)
    >>> Q, K, V = rng.normal(size=(5, 3)), rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    >>> inst, decode = attention_gradient_instance(Q, K, V, slice(1, 3))
    >>> inst.A1.shape, inst.A2.shape, inst.D
    ((2, 11), (13, 11), 11)
    >>> bool(np.allclose(decode(attention_loss_grad(*inst.args)), attention(Q, K, V)[1:3], atol=1e-12))
    True
    """
    Q = as_matrix("Q", Q)
    K = as_matrix("K", K, cols=Q.shape[1])
    V = as_matrix("V", V, rows=K.shape[0])
    rows = _check_rows(rows, Q.shape[0])
    d, (m, d_v) = Q.shape[1], V.shape
    b, p = rows.stop - rows.start, d_v + 1
    M = 2 * p
    D = d + M + b
    sigma = math.sqrt(D / d)
    A1 = np.zeros((b, D))
    A1[:, :d] = sigma * Q[rows]
    A1[:, d + M :] = np.eye(b)
    A2 = np.zeros((m + M, D))
    A2[:m, :d] = sigma * K
    A2[m:, :d] = sigma * K.mean(axis=0)
    A2[m:, d : d + M] = np.eye(M)
    A3 = np.zeros((m + M, D))
    A3[:m, :d_v] = V
    A3[:m, d_v] = 1.0
    A3[m:, :p] = _signed_units(p)
    X = np.zeros((D, D))
    X[:d, :d] = np.eye(d)
    instance = GradientInstance(A1, A2, A3, np.zeros((b, D)), X, np.eye(D), rows)
    row_coords, dummy_cols = np.arange(d + M, D), np.arange(d, d + M)

    def decode(G) -> np.ndarray:
        G = as_matrix("G (the gradient)", G, rows=D, cols=D)
        return _read(G, row_coords, dummy_cols, p)

    return instance, decode


def attention_via_gradient(Q, K, V, grad: Callable | None = None, *, block: int | None = None) -> np.ndarray:
    """Forward attention ``D^{-1} exp(Q K^T / d) V`` decoded from gradient-oracle calls.

    Parameters
    ----------
    Q, K, V : (n, d), (m, d), (m, d_v) arrays
    grad : any routine ``grad(A1, A2, A3, E, X, Y) -> dL/dX`` (default
        :func:`algorithms.attention.attention_loss_grad`; the fast
        :func:`~algorithms.attention.attention_loss_grad_fast` works too).
    block : query rows per oracle call, ``b`` (default ``d``: entries grow by
        at most ``sqrt((2d + 2 d_v + 2)/d)``).

    Returns
    -------
    (n, d_v) array, equal to :func:`algorithms.attention.attention` up to
    float64 rounding when ``grad`` is exact.

    Raises
    ------
    ValueError
        Malformed inputs or ``block``; a gradient of the wrong shape.

    Examples
    --------
    >>> from algorithms.attention import attention
    >>> rng = np.random.default_rng(1)
    >>> Q, K, V = rng.normal(size=(6, 2)), rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
    >>> bool(np.allclose(attention_via_gradient(Q, K, V), attention(Q, K, V), atol=1e-12))
    True

    Notes
    -----
    ``ceil(n / b)`` oracle calls (see the module docstring for each
    instance's size and the proof of (R)).

    References
    ----------
    .. [1] Alman & Song, arXiv:2402.04497, Lemma C.7 (the gradient identity used).
    """
    if grad is None:
        from algorithms.attention import attention_loss_grad as grad
    Q = as_matrix("Q", Q)
    b = _check_block(block, Q.shape[1])
    out = []
    for start in range(0, Q.shape[0], b):
        instance, decode = attention_gradient_instance(Q, K, V, slice(start, start + b))
        out.append(decode(grad(*instance.args)))
    return np.vstack(out)


def tensor_attention_gradient_instance(
    Q, K1, K2, V1, V2, rows: slice
) -> tuple[TensorGradientInstance, Callable[[np.ndarray], np.ndarray]]:
    """One tensor-gradient instance whose ``dL/dX`` reveals ``TAtt(Q, K1, K2, V1, V2)[rows]``.

    Parameters
    ----------
    Q : (n, d) array
    K1, V1 : (n1, d) and (n1, d_v) arrays
    K2, V2 : (n2, d) and (n2, d_v) arrays
    rows : slice of query rows (``b`` rows)

    Returns
    -------
    instance : TensorGradientInstance
        ``A1 (b x D)``, ``A2, A4 ((n1 + 2p) x D)``, ``A3, A5 ((n2 + 1) x D)``,
        ``E (b x p)``, ``X (D x D^2)``, ``Y (D^2 x p)``, ``p = d_v + 1``,
        ``D = max(d + 2p + 1 + b, 3p + 1)``.
    decode : callable
        ``decode(G)``: the ``(D, D^2)`` gradient -> the ``(b, d_v)`` output block.

    Raises
    ------
    ValueError
        Malformed inputs or ``rows``; ``decode`` on a malformed gradient.

    Examples
    --------
    >>> from algorithms.tensor_attention import tensor_attention, tensor_attention_loss_grad
    >>> rng = np.random.default_rng(0)
    >>> Q, K1, K2 = rng.normal(size=(3, 2)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    >>> V1, V2 = rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    >>> inst, decode = tensor_attention_gradient_instance(Q, K1, K2, V1, V2, slice(0, 2))
    >>> inst.X.shape, inst.Y.shape
    ((11, 121), (121, 3))
    >>> G = tensor_attention_loss_grad(*inst.args)
    >>> bool(np.allclose(decode(G), tensor_attention(Q, K1, K2, V1, V2)[:2], atol=1e-12))
    True
    """
    Q = as_matrix("Q", Q)
    d = Q.shape[1]
    K1 = as_matrix("K1", K1, cols=d)
    K2 = as_matrix("K2", K2, cols=d)
    V1 = as_matrix("V1", V1, rows=K1.shape[0])
    V2 = as_matrix("V2", V2, rows=K2.shape[0], cols=V1.shape[1])
    rows = _check_rows(rows, Q.shape[0])
    (n1, d_v), n2 = V1.shape, K2.shape[0]
    b, p = rows.stop - rows.start, d_v + 1
    M = 2 * p
    D = max(d + M + 1 + b, 3 * p + 1)
    sigma = (D / d) ** (1.0 / 3.0)
    y_j, y_k, z = d, d + M, d + M + 1  # reading coordinates: j-dummies, the k-dummy, block rows
    A1 = np.zeros((b, D))
    A1[:, :d] = sigma * Q[rows]
    A1[:, z : z + b] = np.eye(b)
    A2 = np.zeros((n1 + M, D))
    A2[:n1, :d] = sigma * K1
    A2[n1:, :d] = sigma * K1.mean(axis=0)
    A2[n1:, y_j : y_j + M] = np.eye(M)
    A3 = np.zeros((n2 + 1, D))
    A3[:n2, :d] = sigma * K2
    A3[n2, :d] = sigma * K2.mean(axis=0)
    A3[n2, y_k] = 1.0
    # Values: real rows use coordinates < p, dummies coordinates p (k) and p+1.. (j).
    A4 = np.zeros((n1 + M, D))
    A4[:n1, :d_v], A4[:n1, d_v] = V1, 1.0
    A4[n1:, p + 1 : p + 1 + M] = np.eye(M)
    A5 = np.zeros((n2 + 1, D))
    A5[:n2, :d_v], A5[:n2, d_v] = V2, 1.0
    A5[n2, p] = 1.0
    Y = np.zeros((D * D, p))
    for c in range(p):
        Y[c * D + c, c] = 1.0  # real pair: V1[j, l] V2[k, l]; channel d_v: 1 * 1
    signs = _signed_units(p)
    for t in range(M):
        Y[(p + 1 + t) * D + p] = signs[t]  # (dummy j_t, dummy k): +-e_l
    X = np.zeros((D, D * D))
    X[np.arange(d), np.arange(d) * D + np.arange(d)] = 1.0  # X = I ⊘ I on the key coordinates
    instance = TensorGradientInstance(A1, A2, A3, A4, A5, np.zeros((b, p)), X, Y, rows)
    row_coords, dummy_cols = np.arange(z, z + b), (y_j + np.arange(M)) * D + y_k

    def decode(G) -> np.ndarray:
        G = as_matrix("G (the gradient)", G, rows=D, cols=D * D)
        return _read(G, row_coords, dummy_cols, p)

    return instance, decode


def tensor_attention_via_gradient(Q, K1, K2, V1, V2, grad: Callable | None = None, *,
                                  block: int | None = None) -> np.ndarray:
    """Tensor attention ``D^{-1} exp(Q (K1 ⊘ K2)^T / d) (V1 ⊘ V2)`` decoded from gradient-oracle calls.

    Parameters
    ----------
    Q, K1, K2, V1, V2 : as in :func:`algorithms.tensor_attention.tensor_attention`.
    grad : any routine ``grad(A1, A2, A3, A4, A5, E, X, Y) -> dL/dX`` (default
        :func:`algorithms.tensor_attention.tensor_attention_loss_grad`).
    block : query rows per oracle call (default ``d``).

    Returns
    -------
    (n, d_v) array.

    Raises
    ------
    ValueError
        Malformed inputs or ``block``; a gradient of the wrong shape.

    Examples
    --------
    >>> from algorithms.tensor_attention import tensor_attention
    >>> rng = np.random.default_rng(2)
    >>> Q, K1, K2, V1, V2 = (rng.normal(size=(4, 2)) for _ in range(5))
    >>> T = tensor_attention_via_gradient(Q, K1, K2, V1, V2)
    >>> bool(np.allclose(T, tensor_attention(Q, K1, K2, V1, V2), atol=1e-12))
    True

    Notes
    -----
    ``ceil(n / b)`` oracle calls on ``b`` queries, ``n1 + 2(d_v + 1)`` and
    ``n2 + 1`` keys, head dimension ``D = max(d + 2 d_v + 3 + b, 3 d_v + 4)``.

    References
    ----------
    .. [1] Liang, Shi, Song, Zhou, arXiv:2405.16411, Lemma 4.1 (the gradient identity used).
    """
    if grad is None:
        from algorithms.tensor_attention import tensor_attention_loss_grad as grad
    Q = as_matrix("Q", Q)
    b = _check_block(block, Q.shape[1])
    out = []
    for start in range(0, Q.shape[0], b):
        instance, decode = tensor_attention_gradient_instance(Q, K1, K2, V1, V2, slice(start, start + b))
        out.append(decode(grad(*instance.args)))
    return np.vstack(out)
