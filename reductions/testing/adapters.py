"""Adapters: the project's reductions, solvers and verifiers in the shapes the checker takes.

:func:`~reductions.testing.check_reduction` wants ``reduce(source) -> (target,
decode)`` with ``decode(target certificate) -> source certificate``, and
solvers ``instance -> certificate or None``.  Most of the project's
reductions already have that shape (``sat_to_ov``, ``ov_to_gap``,
``kov_to_gap3``; ``functools.partial(sat_to_kov, k=3)``).  The attention
reductions take matrices and decode the attention *output*; here they take
the source instance and decode an :class:`AttentionCertificate` -- the
flagged rows together with the output -- which :func:`solve_attention`
returns for the threshold problem "some output entry is on the yes side of
``threshold``".  The gradient reductions get the blockwise form of
:func:`~reductions.testing.check_function_reduction`.

Solvers are brute force (``O(N^k m)``); verifiers check a certificate against
the definition, independently of any reduction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np

from reductions.cnf import CNF
from reductions.gap import (
    Gap3Instance,
    GapInstance,
    HammingGapInstance,
    max_inner_product,
    max_inner_product3,
    min_hamming_distance,
)
from reductions.ov import KOVInstance, OVInstance, find_orthogonal_pair, find_orthogonal_tuple

__all__ = [
    "verify_sat", "verify_ov", "verify_kov", "verify_gap", "default_verify",
    "solve_ov", "solve_kov", "solve_gap",
    "AttentionCertificate", "solve_attention", "certificate_decoder",
    "ov_to_attention", "kov_to_tensor_attention", "gap_to_attention", "hamming_to_attention",
    "gap3_to_tensor_attention",
    "attention_to_gradient", "tensor_attention_to_gradient", "gradients", "as_target", "gap_answer_via_gradient",
]


# ---------------------------------------------------------------------------- verifiers
def _indices(certificate, sizes: tuple[int, ...]) -> tuple[int, ...] | None:
    """``certificate`` as a tuple of in-range indices, or ``None`` if it is not one."""
    try:
        t = tuple(certificate)
    except TypeError:
        return None
    if len(t) != len(sizes) or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in t):
        return None
    return tuple(int(i) for i in t) if all(0 <= i < N for i, N in zip(t, sizes)) else None


def verify_sat(formula: CNF, assignment) -> bool:
    """``assignment`` (``{variable: bool}`` covering ``1..n``) satisfies ``formula``.

    Examples
    --------
    >>> verify_sat(CNF(2, [(1, -2)]), {1: False, 2: False}), verify_sat(CNF(1, [(1,)]), {})
    (True, False)
    """
    if not isinstance(assignment, Mapping) or not all(isinstance(assignment.get(v), bool)
                                                      for v in range(1, formula.num_vars + 1)):
        return False
    return formula.satisfies(assignment)


def verify_ov(instance: OVInstance, pair) -> bool:
    """``pair = (i, j)`` indexes an orthogonal pair: ``<a_i, b_j> = 0``.

    Examples
    --------
    >>> verify_ov(OVInstance([[1, 0]], [[0, 1], [1, 1]]), (0, 0)), verify_ov(OVInstance([[1]], [[1]]), (0, 0))
    (True, False)
    """
    t = _indices(pair, (instance.N_a, instance.N_b))
    return t is not None and int(instance.A[t[0]].astype(np.int64) @ instance.B[t[1]]) == 0


def verify_kov(instance: KOVInstance, indices) -> bool:
    """``indices`` is a k-tuple with no coordinate where all its vectors are 1."""
    t = _indices(indices, instance.sizes)
    return t is not None and not np.any(np.all([X[i] for X, i in zip(instance.sets, t)], axis=0))


def verify_gap(instance: GapInstance | HammingGapInstance | Gap3Instance, indices) -> bool:
    """``indices`` is a pair with ``<a, b> >= t_hi`` (Hamming: ``h(a, b) <= t_near``), or a triple with ``<a, b, c> >= t_hi``.

    Examples
    --------
    >>> verify_gap(GapInstance([[1, 1]], [[1, 1]], 1, 2), (0, 0))
    True
    """
    sets = [instance.A, instance.B] + ([instance.C] if isinstance(instance, Gap3Instance) else [])
    t = _indices(indices, tuple(X.shape[0] for X in sets))
    if t is None:
        return False
    rows = [X[i].astype(np.int64) for X, i in zip(sets, t)]
    if isinstance(instance, HammingGapInstance):
        return int(np.sum(rows[0] != rows[1])) <= instance.t_near
    return int(np.sum(np.prod(rows, axis=0))) >= instance.t_hi


_VERIFIERS = {CNF: verify_sat, OVInstance: verify_ov, KOVInstance: verify_kov, GapInstance: verify_gap,
              HammingGapInstance: verify_gap, Gap3Instance: verify_gap}


def default_verify(source) -> Callable | None:
    """The verifier of ``source``'s type (CNF, OV, k-OV, the three gap forms), or ``None`` for another type.

    Examples
    --------
    >>> default_verify(CNF(1, [])).__name__, default_verify(3.0)
    ('verify_sat', None)
    """
    for cls, verify in _VERIFIERS.items():
        if isinstance(source, cls):
            return verify
    return None


# ---------------------------------------------------------------------------- brute-force solvers
def solve_ov(instance: OVInstance) -> tuple[int, int] | None:
    """Brute force OV: the first orthogonal pair, or ``None`` (:func:`reductions.ov.find_orthogonal_pair`)."""
    return find_orthogonal_pair(instance.A, instance.B)


def solve_kov(instance: KOVInstance) -> tuple[int, ...] | None:
    """Brute force k-OV: the first orthogonal tuple, or ``None`` (:func:`reductions.ov.find_orthogonal_tuple`)."""
    return find_orthogonal_tuple(instance.sets)


def solve_gap(instance: GapInstance | HammingGapInstance | Gap3Instance) -> tuple[int, ...] | None:
    """Brute force gap problem: an optimal pair (triple) on the yes side, ``None`` on the no side.

    Raises
    ------
    ValueError
        If the instance breaks its promise (the optimum lies strictly inside the gap).

    Examples
    --------
    >>> solve_gap(GapInstance([[1, 1], [1, 0]], [[1, 1]], 1, 2)), solve_gap(GapInstance([[1, 0]], [[0, 1]], 0, 1))
    ((0, 0), None)
    """
    if isinstance(instance, HammingGapInstance):
        h, i, j = min_hamming_distance(instance.A, instance.B)
        yes, no, best = h <= instance.t_near, h >= instance.t_far, (i, j)
    else:
        if isinstance(instance, Gap3Instance):
            v, *best = max_inner_product3(instance.A, instance.B, instance.C)
        else:
            v, *best = max_inner_product(instance.A, instance.B)
        yes, no = v >= instance.t_hi, v <= instance.t_lo
    if not (yes or no):
        raise ValueError("the instance breaks the gap promise: its optimum lies strictly inside the gap")
    return tuple(best) if yes else None


# ---------------------------------------------------------------------------- attention in certificate form
class AttentionCertificate(NamedTuple):
    """The rows an attention output flags (the threshold problem's certificate) and the output itself."""

    rows: tuple[int, ...]
    output: np.ndarray


def _output(instance, attention: Callable | None) -> np.ndarray:
    K2 = getattr(instance, "K2", None)
    if K2 is not None:  # TensorAttentionInstance or TensorThresholdInstance
        from algorithms.tensor_attention import tensor_attention

        return (attention or tensor_attention)(instance.Q, instance.K1, K2, instance.V1, instance.V2)
    from algorithms.attention import attention as exact

    return (attention or exact)(instance.Q, instance.K, instance.V)


def solve_attention(instance, *, attention: Callable | None = None) -> AttentionCertificate | None:
    """The threshold problem on a reduction's attention instance: the flagged rows and the output, or ``None``.

    A row is flagged when its first output entry is below ``instance.threshold``
    (above it for the Hamming form, ``instance.form == "hamming"``).

    Parameters
    ----------
    instance : an ``AttentionInstance``, ``TensorAttentionInstance``,
        ``ThresholdInstance`` or ``TensorThresholdInstance``.
    attention : the routine computing the output from ``(Q, K, V)`` (tensor:
        ``(Q, K1, K2, V1, V2)``); default exact attention.

    Examples
    --------
    >>> from reductions.ov_to_attention import ov_to_attention as reduce
    >>> inst, _ = reduce([[1, 0]], [[0, 1]])
    >>> solve_attention(inst).rows
    (0,)
    """
    Y = np.asarray(_output(instance, attention), dtype=float)
    y = Y[:, 0]
    flagged = y > instance.threshold if getattr(instance, "form", None) == "hamming" else y < instance.threshold
    rows = tuple(int(i) for i in np.flatnonzero(flagged))
    return AttentionCertificate(rows, Y) if rows else None


def certificate_decoder(decode: Callable[[np.ndarray], object]) -> Callable[[AttentionCertificate], object]:
    """Turn a decoder of the attention output into a decoder of an :class:`AttentionCertificate`."""

    def decode_certificate(certificate: AttentionCertificate):
        return decode(certificate.output)

    decode_certificate.__doc__ = f"``{getattr(decode, '__qualname__', 'decode')}`` applied to the certificate's output."
    return decode_certificate


def ov_to_attention(instance: OVInstance):
    """:func:`reductions.ov_to_attention.ov_to_attention` on an :class:`~reductions.ov.OVInstance`, decoding certificates.

    Examples
    --------
    >>> inst, decode = ov_to_attention(OVInstance([[1, 0]], [[1, 1], [0, 1]]))
    >>> decode(solve_attention(inst))
    (0, 1)
    """
    from reductions.ov_to_attention import ov_to_attention as reduce

    target, decode = reduce(instance.A, instance.B)
    return target, certificate_decoder(decode)


def kov_to_tensor_attention(instance: KOVInstance):
    """:func:`reductions.ov_to_attention.kov_to_tensor_attention` on a 3-OV :class:`~reductions.ov.KOVInstance`."""
    from reductions.ov_to_attention import kov_to_tensor_attention as reduce

    if instance.k != 3:
        raise ValueError(f"kov_to_tensor_attention needs k = 3, got k={instance.k}")
    target, decode = reduce(*instance.sets)
    return target, certificate_decoder(decode)


def gap_to_attention(instance: GapInstance, *, margin: float = 4.0):
    """:func:`reductions.gap_to_attention.gap_to_attention`, decoding certificates."""
    from reductions.gap_to_attention import gap_to_attention as reduce

    target, decode = reduce(instance, margin=margin)
    return target, certificate_decoder(decode)


def hamming_to_attention(instance: HammingGapInstance, *, margin: float = 4.0):
    """:func:`reductions.gap_to_attention.hamming_to_attention`, decoding certificates."""
    from reductions.gap_to_attention import hamming_to_attention as reduce

    target, decode = reduce(instance, margin=margin)
    return target, certificate_decoder(decode)


def gap3_to_tensor_attention(instance: Gap3Instance, *, margin: float = 4.0):
    """:func:`reductions.gap_to_attention.gap3_to_tensor_attention`, decoding certificates."""
    from reductions.gap_to_attention import gap3_to_tensor_attention as reduce

    target, decode = reduce(instance, margin=margin)
    return target, certificate_decoder(decode)


# ---------------------------------------------------------------------------- function reductions
def _blocks(n: int, block: int) -> list[slice]:
    return [slice(start, min(n, start + block)) for start in range(0, n, block)]


def attention_to_gradient(source, *, block: int | None = None):
    """Forward attention ``(Q, K, V)`` -> one gradient instance per block of ``block`` query rows (default ``d``).

    The blockwise form of :func:`reductions.attention_to_gradient.attention_via_gradient`:
    the targets are the :class:`~reductions.attention_to_gradient.GradientInstance`
    objects, ``decode`` stacks each block's exact read-out (R) of its gradient.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Q, K, V = rng.normal(size=(5, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    >>> targets, decode = attention_to_gradient((Q, K, V))
    >>> len(targets), decode(gradients(targets)).shape
    (3, (5, 2))
    """
    from reductions.attention_to_gradient import attention_gradient_instance

    Q, K, V = source
    Q = np.asarray(Q)
    pairs = [attention_gradient_instance(Q, K, V, rows) for rows in _blocks(Q.shape[0], block or Q.shape[1])]
    return tuple(p[0] for p in pairs), _stacker([p[1] for p in pairs])


def tensor_attention_to_gradient(source, *, block: int | None = None):
    """Tensor attention ``(Q, K1, K2, V1, V2)`` -> one tensor-gradient instance per block (default ``d`` rows)."""
    from reductions.attention_to_gradient import tensor_attention_gradient_instance

    Q, K1, K2, V1, V2 = source
    Q = np.asarray(Q)
    pairs = [tensor_attention_gradient_instance(Q, K1, K2, V1, V2, rows)
             for rows in _blocks(Q.shape[0], block or Q.shape[1])]
    return tuple(p[0] for p in pairs), _stacker([p[1] for p in pairs])


def _stacker(decoders: list[Callable]) -> Callable:
    def decode(grads) -> np.ndarray:
        grads = list(grads)
        if len(grads) != len(decoders):
            raise ValueError(f"expected {len(decoders)} gradients (one per block), got {len(grads)}")
        return np.vstack([dec(G) for dec, G in zip(decoders, grads)])

    return decode


def gradients(targets, grad: Callable | None = None) -> list[np.ndarray]:
    """``dL/dX`` of every gradient instance: ``grad(*t.args)``, default the exact loss gradient of its kind."""
    from algorithms.attention import attention_loss_grad
    from algorithms.tensor_attention import tensor_attention_loss_grad
    from reductions.attention_to_gradient import TensorGradientInstance

    return [(grad or (tensor_attention_loss_grad if isinstance(t, TensorGradientInstance) else attention_loss_grad))(
        *t.args) for t in targets]


def as_target(source):
    """The identity reduction ``source -> (source, identity)``: for a ``target_value`` that runs a whole routine.

    E.g. ``check_function_reduction(as_target, lambda s: attention(*s), lambda s: attention_via_gradient(*s), ...)``.
    """
    return source, _identity


def _identity(value):
    return value


def gap_answer_via_gradient(instance, grad: Callable | None = None) -> bool:
    """:func:`reductions.gap_to_gradient.gap_via_gradient`'s answer, refused unless its quadrature is certified.

    Raises
    ------
    ValueError
        If the trace is not certified (the proven error bound exceeds half the tolerance).
    """
    from reductions.gap_to_gradient import gap_via_gradient

    answer, trace = gap_via_gradient(instance, grad)
    if not trace.certified:
        raise ValueError(f"gap_via_gradient ran {trace.points} points without a certified answer "
                         f"(error bound {trace.error_bound:.3g} > tolerance/2 = {trace.tolerance / 2:.3g})")
    return answer
