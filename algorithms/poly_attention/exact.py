"""Exact poly-attention: the definition by brute force, and variable elimination.

Definition 2.2 of Chakrabarti, Pitassi & Alman (arXiv 2602.02422), with the
``1/d`` scaling of matrix attention (docs/poly-attention.md): for query position ``l_1``,

    Att^(h)[l_1] = sum_{l_2..l_t} exp(h(l)/d) (V^(2)[l_2] o ... o V^(t)[l_t])
                   / sum_{l_2..l_t} exp(h(l)/d),

    h(l) = sum_{monomials M} sum_c prod_{j in M} Q^(j)[l_j, c],

one softmax over all ``n^(t-1)`` tuples jointly.  ``d`` is the number of
columns of the ``Q^(j)``.  Scaling convention: we and the paper (as
summarised) divide the whole ``h`` by ``d``; the authors' tree-attention code
divides each edge score by ``2 sqrt(d)`` instead and clamps it to ``[-20, 20]``
(an implementation choice).  With ``1/d``, ``h = x1x2`` is exactly
:func:`algorithms.attention.attention` (``exp(Q K^T / d)``) and ``h = x1x2x3``
is :func:`algorithms.tensor_attention.tensor_attention` with ``Q = Q^(1)``,
``K1 = Q^(2)``, ``K2 = Q^(3)``, ``V1 = V^(2)``, ``V2 = V^(3)``.

Variable elimination (a derivation, not the paper's; docs/poly-attention.md).
Each monomial is a factor ``exp(<...>/d)`` on its variables and each value
matrix a factor on its variable.  Summing ``x_v`` out joins the factors
that mention ``v`` into one table over ``{v} + neighbours`` and leaves a factor
on the neighbours: ``n^(w+1)`` work for an order of induced width ``w``.  Every
factor is kept as a pair ``(L, M)``: ``L`` the log of its partition sum and
``M`` (with a value axis) the conditional mean of the value product given the
remaining variables.  Summing out ``v`` is then a log-sum-exp for ``L`` and a
softmax-weighted average for ``M``::

    L' = logsumexp_v (sum_i L_i),     M' = sum_v softmax_v(sum_i L_i) prod_i M_i.

No exponential is taken of anything but ``L - max L`` (the row-max rule), every
``M`` is an average of value products, so nothing overflows or underflows to a
0/0 whatever the logits; at the end ``Att = prod M`` over the factors left on
``x_1``.  The logits themselves (products of entries up to ``1.8e308``) can
exceed float64 before any maximum is subtracted: when a table is not finite,
the whole computation is redone with ``L`` held as wide-exponent pairs
(:mod:`algorithms._xfloat`; monomial logits are then float64 inner products
with an unbounded exponent range), as the streaming softmax does
(:mod:`algorithms.softmax`, where the saturated regime, a softmax that is
uniform on the ties of the maximum, is described).  For a tree this is the paper's leaf-to-root ``O(n^2 d)`` message
passing (each step a ``n x n`` times ``n x d_v`` product); for Strassen
attention it is ``n^3`` (the ``n^omega`` of Kozachinskiy et al. needs fast
matrix multiplication, not used by numpy); for a ``k``-hyperedge ``n^k``.

References
----------
.. [1] P. Chakrabarti, T. Pitassi, J. Alman. Poly-attention. arXiv:2602.02422,
   Def. 2.2, Thms 3.1, 3.4, 3.5.
.. [2] A. Kozachinskiy et al. Strassen attention. arXiv:2501.19215, Thm 4.1.
.. [3] R. Dechter. Bucket elimination: a unifying framework for reasoning.
   Artificial Intelligence 113 (1999) (elimination orders and induced width).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from algorithms import _xfloat as xf
from algorithms._checks import as_fast_matrices, as_matrix, check_same_rows
from algorithms._display import short_repr
from algorithms.budget import check_budget, pow2

from .attention_polynomial import AttentionPolynomial, elimination_cost

__all__ = [
    "check_poly_inputs",
    "monomial_logits",
    "poly_attention_bruteforce",
    "poly_attention_exact",
    "ExactResult",
]

_BRUTE_MAX_ENTRIES = 2 * 10**7
_LETTERS = string.ascii_letters.replace("z", "")  # 'z' is the value axis


class ExactResult(NamedTuple):
    """Output of :func:`poly_attention_exact`."""

    output: np.ndarray
    """(n, d_v) array ``Att^(h)``."""
    cost_exponent: int
    """``w + 1``: the largest table had ``n^(w+1)`` entries (times ``d_v``)."""
    order: tuple[int, ...]
    """The elimination order of ``x_2..x_t`` used."""

    def __repr__(self) -> str:
        return short_repr("ExactResult", output=self.output, cost_exponent=self.cost_exponent, order=self.order)


def check_poly_inputs(h: AttentionPolynomial, Xs: Sequence, Vs: Sequence, *, fast: bool = False):
    """Validate ``Xs = [Q^(1)..Q^(t)]`` and ``Vs = [V^(2)..V^(t)]``.

    Returns ``(Xs, Vs)`` as lists of finite float64 arrays; with ``fast=True``
    as arrays of the caller's namespace, float32 kept
    (:func:`algorithms._checks.as_fast_matrices`: one library, one dtype).

    Raises
    ------
    ValueError
        ``h`` not an :class:`AttentionPolynomial`; ``len(Xs) != t`` or
        ``len(Vs) != t - 1``; an array not finite/2-d; row counts differ
        (all variables range over the same ``n`` positions); the ``Q^(j)``
        differ in width ``d`` or the ``V^(j)`` in width ``d_v``; with
        ``fast=True`` also arrays of different libraries.
    """
    if not isinstance(h, AttentionPolynomial):
        raise ValueError(f"h must be an AttentionPolynomial, got {type(h).__name__}")
    if not isinstance(Xs, (list, tuple)) or len(Xs) != h.t:
        raise ValueError(f"Xs must be a list of t={h.t} matrices Q^(1)..Q^({h.t})")
    if not isinstance(Vs, (list, tuple)) or len(Vs) != h.t - 1:
        raise ValueError(f"Vs must be a list of t-1={h.t - 1} matrices V^(2)..V^({h.t})")
    names = [f"Xs[{j}] (Q^({j + 1}))" for j in range(len(Xs))] + [f"Vs[{j}] (V^({j + 2}))" for j in range(len(Vs))]
    if fast:
        arrays = as_fast_matrices(*zip(names, list(Xs) + list(Vs)))[1]
    else:
        arrays = [as_matrix(name, A) for name, A in zip(names, list(Xs) + list(Vs))]
    Xs, Vs = arrays[: h.t], arrays[h.t :]
    check_same_rows(**{f"Xs[{j}]": X for j, X in enumerate(Xs)}, **{f"Vs[{j}]": V for j, V in enumerate(Vs)})
    for name, arrays in (("Xs", Xs), ("Vs", Vs)):
        widths = {a.shape[1] for a in arrays}
        if len(widths) != 1:
            raise ValueError(f"all matrices in {name} must have the same number of columns, got {sorted(widths)}")
    return Xs, Vs


def monomial_logits(h: AttentionPolynomial, Xs: Sequence[np.ndarray], i: int) -> np.ndarray:
    """The table ``<Q^(a)[l_a], ..., Q^(c)[l_c]> / d`` of monomial ``i``: shape ``(n,) * |M|``."""
    mono = h.monomials[i]
    d = Xs[0].shape[1]
    subs = ",".join(_LETTERS[a] + "z" for a in range(len(mono))) + "->" + _LETTERS[: len(mono)]
    return np.einsum(subs, *(Xs[j - 1] for j in mono), optimize=True) / d


def poly_attention_bruteforce(h: AttentionPolynomial, Xs: Sequence, Vs: Sequence) -> np.ndarray:
    """Definition 2.2 evaluated on the full ``n^t`` table of ``h`` (tiny ``n`` only).

    The ground truth for tests: one table of every ``h(l)/d``, the row maximum
    (over ``l_2..l_t``, per query ``l_1``) subtracted before ``exp``, times the
    table of value products, summed.

    Parameters
    ----------
    h : AttentionPolynomial
    Xs : list of ``t`` arrays (n, d): ``Q^(1)..Q^(t)``
    Vs : list of ``t - 1`` arrays (n, d_v): ``V^(2)..V^(t)``

    Returns
    -------
    (n, d_v) array.

    Raises
    ------
    ValueError
        Bad inputs (see :func:`check_poly_inputs`), or ``n^t d_v`` above 2e7.

    Examples
    --------
    >>> from algorithms.poly_attention import self_attention
    >>> Q = np.zeros((2, 1)); V = np.array([[1.0], [3.0]])
    >>> poly_attention_bruteforce(self_attention(), [Q, Q], [V])
    array([[2.],
           [2.]])
    """
    Xs, Vs = check_poly_inputs(h, Xs, Vs)
    n, t, dv = Xs[0].shape[0], h.t, Vs[0].shape[1]
    if n**t * dv > _BRUTE_MAX_ENTRIES:
        raise ValueError(f"n^t d_v = {n}^{t}*{dv} is too large for brute force (limit {_BRUTE_MAX_ENTRIES})")
    entries = float(n) ** t
    check_budget(f"poly-attention brute force, n^t = {n}^{t}", entries * (h.num_monomials * Xs[0].shape[1] + dv) * 2e-9,
                 entries * 8 * (4 + dv))
    with np.errstate(over="ignore", invalid="ignore"):
        H = np.zeros((n,) * t)
        for i, mono in enumerate(h.monomials):
            shape = [n if j in mono else 1 for j in range(1, t + 1)]
            H = H + monomial_logits(h, Xs, i).reshape(shape)
    if np.all(np.isfinite(H)):
        H = H - H.reshape(n, -1).max(axis=1).reshape((n,) + (1,) * (t - 1))
    else:  # logits beyond float64: the same sum with a wide exponent
        H = _wide_logit_table(h, Xs)
        top = xf.amax((H[0].reshape(n, -1), H[1].reshape(n, -1)), axis=1)
        H = xf.sub_to_float(H, (top[0].reshape((n,) + (1,) * (t - 1)), top[1].reshape((n,) + (1,) * (t - 1))))
    W = np.exp(H)
    P = np.ones((1,) * (t - 1) + (dv,))
    for j in range(2, t + 1):
        shape = [1] * (t - 1) + [dv]
        shape[j - 2] = n
        P = P * Vs[j - 2].reshape(shape)
    num = np.tensordot(W, P, axes=(list(range(1, t)), list(range(t - 1))))
    return num / W.reshape(n, -1).sum(axis=1)[:, None]


def _wide_logit_table(h: AttentionPolynomial, Xs: Sequence[np.ndarray]) -> xf.XFloat:
    """The table of ``h(l)/d`` over all ``n^t`` tuples, as wide-exponent pairs."""
    n, t, d = Xs[0].shape[0], h.t, Xs[0].shape[1]
    H = xf.split(np.zeros((n,) * t))
    for mono in h.monomials:
        shape = [n if j in mono else 1 for j in range(1, t + 1)]
        m, e = xf.multilinear([Xs[j - 1] for j in mono], 1.0 / d)
        H = xf.add(H, (m.reshape(shape), e.reshape(shape)))
    return H


# --------------------------------------------------------------- elimination
_BLOCK_ENTRIES = 1 << 22  # weights per block of an elimination step (32 MB of float64)


class _Overflow(Exception):
    """A float64 table of the elimination is not finite: redo it with a wide exponent."""


class _Factor(NamedTuple):
    scope: tuple[int, ...]  # sorted variables
    L: np.ndarray | xf.XFloat | None  # log partition sum, (n,) * len(scope) (a pair if wide); None: lazy monomial
    M: np.ndarray | None  # conditional mean of the value product, (n,) * len(scope) + (d_v,)
    X: tuple | None = None  # a monomial's matrices Q^(j), j in scope: its logits are built per block


def _restrict(f: _Factor, u0, block: slice, wide: bool):
    """``(L, M)`` of ``f`` with variable ``u0`` restricted to ``block`` (monomial logits built here)."""
    if f.X is not None:
        mats = [X[block] if j == u0 else X for j, X in zip(f.scope, f.X)]
        if wide:
            hi = xf.multilinear(mats, 1.0 / mats[0].shape[1])
            return (hi, np.zeros(hi[0].shape)), None
        subs = ",".join(_LETTERS[a] + "z" for a in range(len(mats))) + "->" + _LETTERS[: len(mats)]
        with np.errstate(over="ignore", invalid="ignore"):
            return np.einsum(subs, *mats, optimize=True) / mats[0].shape[1], None
    if u0 not in f.scope:
        return f.L, f.M
    idx = tuple(block if u == u0 else slice(None) for u in f.scope)
    L = ((f.L[0][0][idx], f.L[0][1][idx]), f.L[1][idx]) if wide else f.L[idx]
    return L, (None if f.M is None else f.M[idx])


def _sum_out(v: int, factors: list[_Factor], n: int, dv: int, wide: bool = False) -> _Factor:
    """Join ``factors`` (all mention ``v``) and sum ``v`` out, in the ``(L, M)`` form.

    Streams over blocks of the first remaining variable ``u0``, so at most
    ``_BLOCK_ENTRIES`` weights exist at a time (``n^|union|`` work in all).
    ``wide``: ``L`` is held as ``(hi, lo)``, ``hi`` a wide-exponent table (sums
    of logits and of row maxima) and ``lo`` a float64 one (the ``log`` of the
    partition sums, kept apart so that a huge ``hi`` does not round it away:
    it counts the ties); otherwise a table that is not finite raises
    :class:`_Overflow`.
    """
    union = tuple(sorted(set().union(*(f.scope for f in factors))))
    rest = tuple(u for u in union if u != v)
    axis = union.index(v)
    u0 = rest[0] if rest else None
    rows = max(1, _BLOCK_ENTRIES // n ** (len(union) - 1)) if rest else n
    L_new = np.empty((n,) * len(rest))
    E_new = np.empty((n,) * len(rest), dtype=np.int64)
    lo_new = np.empty((n,) * len(rest))
    with_values = any(f.M is not None for f in factors)
    M_new = np.empty((n,) * len(rest) + (dv,)) if with_values else None
    letter = {u: _LETTERS[i] for i, u in enumerate(union)}
    for lo in range(0, n, rows):
        block = slice(lo, min(n, lo + rows))
        size = {u: (block.stop - block.start if u == u0 else n) for u in union}
        L, Ms, subs = ((xf.split(0.0), 0.0) if wide else 0.0), [], []
        for f in factors:
            Lf, Mf = _restrict(f, u0, block, wide)
            shape = [size[u] if u in f.scope else 1 for u in union]
            if wide:
                (hi, lo), ((m, e), lo_f) = L, Lf
                L = (xf.add(hi, (m.reshape(shape), e.reshape(shape))), lo + lo_f.reshape(shape))
            else:
                with np.errstate(over="ignore", invalid="ignore"):
                    L = L + Lf.reshape(shape)
            if Mf is not None:
                Ms.append(Mf)
                subs.append("".join(letter[u] for u in f.scope) + "z")
        full = tuple(size[u] for u in union)
        out_idx = (block,) if rest else ()
        if wide:
            (hi, lo) = L
            hi = (np.broadcast_to(hi[0], full), np.broadcast_to(hi[1], full))
            top_hi = xf.amax(hi, axis=axis)
            W = xf.sub_to_float(hi, top_hi) + lo  # <= 0 + lo; -inf far below the maximum
            top = W.max(axis=axis, keepdims=True)
            W -= top
            np.exp(W, out=W)
        else:
            L = np.broadcast_to(L, full)
            if not np.all(np.isfinite(L)):
                raise _Overflow
            top = L.max(axis=axis, keepdims=True)
            W = L - top  # exp and normalise in place: the only table of this size
            np.exp(W, out=W)
        S = W.sum(axis=axis, keepdims=True)
        W /= S
        if wide:
            L_new[out_idx], E_new[out_idx] = top_hi[0].squeeze(axis=axis), top_hi[1].squeeze(axis=axis)
            lo_new[out_idx] = (top + np.log(S)).squeeze(axis=axis)
        else:
            L_new[out_idx] = (top + np.log(S)).squeeze(axis=axis)
            if not np.all(np.isfinite(L_new[out_idx])):
                raise _Overflow
        if with_values:
            expr = ",".join(["".join(letter[u] for u in union)] + subs)
            expr += "->" + "".join(letter[u] for u in rest) + "z"
            M_new[out_idx] = np.einsum(expr, W, *Ms, optimize=True)
    return _Factor(rest, ((L_new, E_new), lo_new) if wide else L_new, M_new)


def _eliminate(h: AttentionPolynomial, Xs, Vs, order, wide: bool) -> list[_Factor]:
    """Sum ``x_v`` out for ``v`` in ``order``; return the factors left (scopes ``()`` or ``(1,)``)."""
    n, dv = Xs[0].shape[0], Vs[0].shape[1]
    zero = (xf.split(np.zeros(n)), np.zeros(n)) if wide else np.zeros(n)
    factors = [_Factor(m, None, None, tuple(Xs[j - 1] for j in m)) for m in h.monomials]
    factors += [_Factor((j,), zero, Vs[j - 2]) for j in range(2, h.t + 1)]
    for v in order:
        touching = [f for f in factors if v in f.scope]
        factors = [f for f in factors if v not in f.scope] + [_sum_out(v, touching, n, dv, wide)]
    return factors


def poly_attention_exact(
    h: AttentionPolynomial, Xs: Sequence, Vs: Sequence, order: Sequence[int] | None = None
) -> ExactResult:
    """Exact poly-attention by variable elimination, in ``O(n^(w+1) d_v)`` time.

    Parameters
    ----------
    h : AttentionPolynomial
    Xs : list of ``t`` arrays (n, d): ``Q^(1)..Q^(t)`` (``Xs[j-1]`` is ``Q^(j)``)
    Vs : list of ``t - 1`` arrays (n, d_v): ``V^(2)..V^(t)``
    order : elimination order of ``2..t``; default :attr:`h.elimination_order`
        (exhaustively optimal for ``t <= 8``).

    Returns
    -------
    ExactResult
        ``(output, cost_exponent, order)``; ``output`` is (n, d_v).

    Raises
    ------
    ValueError
        Bad inputs (see :func:`check_poly_inputs`) or ``order`` not a
        permutation of ``2..t``.

    Examples
    --------
    >>> from algorithms.poly_attention import path_attention
    >>> rng = np.random.default_rng(0)
    >>> h = path_attention(2)  # x1x2 + x2x3
    >>> Xs = [rng.normal(size=(5, 2)) for _ in range(3)]
    >>> Vs = [rng.normal(size=(5, 2)) for _ in range(2)]
    >>> res = poly_attention_exact(h, Xs, Vs)
    >>> res.cost_exponent
    2
    >>> bool(np.allclose(res.output, poly_attention_bruteforce(h, Xs, Vs)))
    True

    Notes
    -----
    Cost: per eliminated variable ``v``, the logits of the monomials at ``v``
    (``n^|union| d``), one table of ``n^|union|`` weights and an einsum with
    the value means: ``O(n^(w+1) (d + d_v))`` in all, ``w + 1 = cost_exponent``.
    Memory: each step streams over blocks of one remaining variable, so at
    most ``max(2^22, n^w)`` weights exist at a time, plus the messages
    (``n^w d_v``); monomial tables are never stored whole.  For a tree that is
    ``O(n d_v)`` per message and blocks of ``2^22 / n`` rows.  Trees: ``w = 1``
    (the paper's Thms 3.1/3.4/3.5, ``O(t n^2 d)``; its ``O(r^3 n^2)`` for the
    path is not improved on here, just not reproduced: see the package notes).
    """
    Xs, Vs = check_poly_inputs(h, Xs, Vs)
    order = h.elimination_order if order is None else tuple(order)
    exponent = elimination_cost(h, order)  # also validates the order
    n = Xs[0].shape[0]
    dv = Vs[0].shape[1]
    work = h.t * pow2(exponent * np.log2(n))  # n^(w+1) per step, at most t - 1 steps
    check_budget(f"exact poly-attention, n = {n}, t = {h.t}, cost exponent {exponent}",
                 work * (h.num_monomials * Xs[0].shape[1] + dv) * 2e-9,
                 (min(pow2(exponent * np.log2(n)), _BLOCK_ENTRIES) * 4 + pow2((exponent - 1) * np.log2(n)) * dv) * 8)
    try:
        factors = _eliminate(h, Xs, Vs, order, wide=False)
    except _Overflow:  # some logit is beyond float64: redo everything with a wide exponent
        factors = _eliminate(h, Xs, Vs, order, wide=True)
    out = np.ones((n, Vs[0].shape[1]))
    for f in factors:  # scopes are now () or (1,)
        if f.M is not None:
            out = out * f.M
    return ExactResult(out, exponent, order)
